"""What a run's own pairs cannot see: how far the machine's state over a run moves a ratio
(docs/verdicts.md § From run to run). A scenario's log ratio in one run is its truth, plus an
effect shared by the whole run (sd `run`), plus one of the minutes its block ran in (sd
`block`), plus the cycles' noise. The first two are estimated from repeated runs of one machine
(`fdbench spread`) and added to every interval a cost verdict reads: more cycles narrow an
interval down to that floor, never below."""
import json
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import FdbenchError
from ..paths import VAR
from .ratios import pooled

FILE = VAR / "run-spread.json"
MIN_RUNS = 3


@dataclass(frozen=True)
class RunSpread:
    block: float     # sd of one scenario block's effect, log scale
    run: float       # sd of the effect the whole run shares, log scale
    runs: int        # runs it was estimated from
    source: str
    df_scenario: float | None = None   # degrees of freedom of a scenario's added variance
    df_overall: float | None = None    # ... and of the overall one's (None: runs - 1)

    def extra(self, runs: dict) -> tuple[dict, float]:
        """Variances added to each scenario's log ratio and to the overall one (their equally
        weighted mean), scenario s measured in runs[s] runs: a block's effect averages over the
        runs its scenario ran in, the run's over the fewest any scenario had."""
        count = max(len(runs), 1)
        per = {s: (self.block ** 2 + self.run ** 2) / max(n, 1) for s, n in runs.items()}
        overall = (sum(self.block ** 2 / max(n, 1) for n in runs.values()) / count ** 2
                   + self.run ** 2 / max(min(runs.values(), default=1), 1))
        return per, overall

    def dfs(self) -> tuple[float, float]:
        base = float(max(self.runs - 1, 1))
        return self.df_scenario or base, self.df_overall or base


# The dev VM's (2-core Firecracker VM, AMD EPYC, 2026-12-03): `fdbench spread` on nine default
# runs, 20261203-095456/100731/101602/102923/111707/112933/113952/115324/120343-vm.
DEFAULT = RunSpread(block=0.0206, run=0.0108, runs=9,
                    source="the dev VM's nine default runs of 2026-12-03",
                    df_scenario=8.9, df_overall=3.5)


def recorded(meta: dict) -> RunSpread:
    """The components a run recorded (run.json `run_spread`), or the default for a run that
    predates them."""
    data = meta.get("run_spread")
    return RunSpread(**data) if data else DEFAULT


def widest(spreads) -> RunSpread:
    """Several runs judged together: each component at its largest and its degrees of freedom
    at their fewest (never narrower than any run's own)."""
    spreads = list(spreads) or [DEFAULT]
    if len(set(spreads)) == 1:
        return spreads[0]
    dfs = [s.dfs() for s in spreads]
    return RunSpread(max(s.block for s in spreads), max(s.run for s in spreads),
                     min(s.runs for s in spreads), "the widest of the runs' own",
                     min(d[0] for d in dfs), min(d[1] for d in dfs))


def for_host(host: str) -> RunSpread:
    """This machine's, from var/run-spread.json when `fdbench spread` measured it here."""
    try:
        data = json.loads(FILE.read_text())
    except (OSError, ValueError):
        return DEFAULT
    if data.get("host") != host:
        return DEFAULT
    return RunSpread(**{k: v for k, v in data.items() if k != "host"})


def save(spread: RunSpread, host: str) -> None:
    FILE.parent.mkdir(parents=True, exist_ok=True)
    FILE.write_text(json.dumps(asdict(spread) | {"host": host}, indent=2) + "\n")


def _between(means, ses) -> float:
    """The variance of the runs' estimates beyond what their own standard errors explain: the
    moment estimate var(means) - mean(se²), unbiased (inverse-variance weights from estimated
    standard errors are not), not truncated: the components are solved for first."""
    return float(np.var(means, ddof=1) - np.mean(np.square(ses)))


def _df(variance: float, its_variance: float, fallback: float) -> float:
    """Satterthwaite's degrees of freedom of an estimated variance: 2 v² / Var(v)."""
    if variance <= 0 or its_variance <= 0:
        return fallback
    return max(2 * variance ** 2 / its_variance, 1.0)


def estimate(families, source: str) -> RunSpread:
    """The two components from one Family per run (Django/Flask, unwidened): over the scenarios
    every run has, the between-run variance is block² + run² per scenario and block²/S + run²
    for their mean; solved for both, a negative one set to 0. Each added variance gets the
    degrees of freedom its moment estimate has (a sample variance of R runs varies by
    2 var² / (R - 1))."""
    families = [f for f in families if f.overall is not None and f.overall.se]
    if len(families) < MIN_RUNS:
        raise FdbenchError(f"the run-to-run spread needs at least {MIN_RUNS} runs with an "
                           f"overall interval, got {len(families)}")
    common = sorted(set.intersection(*({s for s, r in f.scenarios.items() if r.se}
                                       for f in families)))
    if not common:
        raise FdbenchError("the runs share no scenario with an interval")
    k, n = len(common), len(families)
    means = {s: [f.scenarios[s].mean for f in families] for s in common}
    spread_of = [np.var(means[s], ddof=1) for s in common]
    per_scenario = np.mean([_between(means[s], [f.scenarios[s].se for f in families])
                            for s in common])
    overalls = [pooled([f.scenarios[s] for s in common]) for f in families]
    overall = _between([o.mean for o in overalls], [o.se for o in overalls])
    block2 = max((per_scenario - overall) * k / (k - 1), 0.0) if k > 1 else 0.0
    run2 = max(overall - block2 / k, 0.0) if k > 1 else max(per_scenario, 0.0)

    def its(var):   # the variance of a sample variance of n runs
        return 2 * var ** 2 / (n - 1)

    df_scenario = _df(block2 + run2, sum(its(v) for v in spread_of) / k ** 2, n - 1)
    df_overall = _df(block2 / k + run2, its(np.var([o.mean for o in overalls], ddof=1)), n - 1)
    return RunSpread(round(float(np.sqrt(block2)), 4), round(float(np.sqrt(run2)), 4), n, source,
                     round(float(df_scenario), 1), round(float(df_overall), 1))
