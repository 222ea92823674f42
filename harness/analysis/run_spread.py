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

FILE = VAR / "run-spread.json"
MIN_RUNS = 3


@dataclass(frozen=True)
class RunSpread:
    block: float     # sd of one scenario block's effect, log scale
    run: float       # sd of the effect the whole run shares, log scale
    runs: int        # runs it was estimated from: runs - 1 degrees of freedom
    source: str

    def extra(self, scenarios: int, runs: int = 1) -> tuple[float, float]:
        """Variances added to a scenario's log ratio and to the overall one (the mean of
        `scenarios` scenarios) when `runs` runs are judged together."""
        runs = max(runs, 1)
        return ((self.block ** 2 + self.run ** 2) / runs,
                (self.block ** 2 / max(scenarios, 1) + self.run ** 2) / runs)

    @property
    def df(self) -> float:
        return max(self.runs - 1, 1)


# The dev VM's (2-core Firecracker VM, AMD EPYC, 2026-12-03): `fdbench spread` on nine default
# runs, 20261203-095456/100731/101602/102923/111707/112933/113952/115324/120343-vm.
DEFAULT = RunSpread(block=0.0206, run=0.0108, runs=9,
                    source="the dev VM's nine default runs of 2026-12-03")


def recorded(meta: dict) -> RunSpread:
    """The components a run recorded (run.json `run_spread`), or the default for a run that
    predates them."""
    data = meta.get("run_spread")
    return RunSpread(**data) if data else DEFAULT


def widest(spreads) -> RunSpread:
    """Several runs judged together: the largest of their components (never narrower)."""
    return max(list(spreads) or [DEFAULT], key=lambda s: s.block ** 2 + s.run ** 2)


def for_host(host: str) -> RunSpread:
    """This machine's, from var/run-spread.json when `fdbench spread` measured it here."""
    try:
        data = json.loads(FILE.read_text())
    except (OSError, ValueError):
        return DEFAULT
    if data.get("host") != host:
        return DEFAULT
    return RunSpread(**{k: data[k] for k in ("block", "run", "runs", "source")})


def save(spread: RunSpread, host: str) -> None:
    FILE.parent.mkdir(parents=True, exist_ok=True)
    FILE.write_text(json.dumps(asdict(spread) | {"host": host}, indent=2) + "\n")


def _between(means, ses) -> float:
    """The variance of the runs' estimates beyond what their own standard errors explain: the
    moment estimate var(means) - mean(se²), unbiased (inverse-variance weights from estimated
    standard errors are not), not truncated: the components are solved for first."""
    return float(np.var(means, ddof=1) - np.mean(np.square(ses)))


def estimate(families, source: str) -> RunSpread:
    """The two components from one Family per run (Django/Flask, unwidened): per scenario the
    between-run variance is block² + run², overall block²/S + run²; solved for both, a negative
    one set to 0. Scenarios without an interval in every run are left out."""
    families = [f for f in families if f.overall is not None and f.overall.se]
    if len(families) < MIN_RUNS:
        raise FdbenchError(f"the run-to-run spread needs at least {MIN_RUNS} runs with an "
                           f"overall interval, got {len(families)}")
    common = set.intersection(*({s for s, r in f.scenarios.items() if r.se} for f in families))
    if not common:
        raise FdbenchError("the runs share no scenario with an interval")
    per_scenario = np.mean([_between([f.scenarios[s].mean for f in families],
                                     [f.scenarios[s].se for f in families]) for s in common])
    overall = _between([f.overall.mean for f in families], [f.overall.se for f in families])
    k = len(common)
    block2 = max((per_scenario - overall) * k / (k - 1), 0.0) if k > 1 else 0.0
    run2 = max(overall - block2 / k, 0.0) if k > 1 else max(per_scenario, 0.0)
    return RunSpread(round(float(np.sqrt(block2)), 4), round(float(np.sqrt(run2)), 4),
                     len(families), source)
