"""Paired cost ratios as the verdicts read them (docs/verdicts.md § Estimands): the log of a/b
per cycle, whose mean is the log of the geometric-mean ratio. Everything is said on the log
scale because the machine's noise multiplies a slice's cost (its speed moves in modes about
1.8x apart), so log ratios are near-symmetric and a t-interval on them holds its coverage at
the n a run has (checked by simulation in tests/test_verdict_simulation.py).

Three levels, each with a Student-t interval that carries the cycles' noise all the way up:
a case (a scenario at one load level: its pairs), a scenario (its levels, each weighted
equally) and the whole family (its scenarios, each weighted equally). Pooled standard errors
get Welch-Satterthwaite degrees of freedom; nothing is a t-interval over fixed medians. Given
the machine's run-to-run spread (run_spread.py), the scenario and overall intervals carry it
too, as a floor the cycles cannot narrow."""
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as sps

from .stats import COST, Estimate, paired

CONFIDENCE = 0.95


@dataclass(frozen=True)
class LogRatio:
    """The mean of log(a/b) with its standard error, degrees of freedom and pairs behind it."""
    mean: float
    se: float | None      # None: fewer than two pairs, no spread to say how sure
    df: float
    n: int
    floor: float = 0.0    # the part of se that more pairs would not shrink (the run's spread)
    floor_df: float = float("inf")   # the degrees of freedom that part was estimated on
    runs: int = 1         # the runs its pairs came from

    @property
    def ratio(self) -> float:
        return float(np.exp(self.mean))

    def interval(self, confidence=CONFIDENCE) -> tuple[float, float] | None:
        """The two-sided t-interval of the ratio, or None without a standard error."""
        if self.se is None:
            return None
        if self.se == 0:
            return self.ratio, self.ratio
        half = float(sps.t.ppf(0.5 + confidence / 2, self.df)) * self.se
        return float(np.exp(self.mean - half)), float(np.exp(self.mean + half))

    def estimate(self, confidence=CONFIDENCE) -> Estimate:
        low, high = self.interval(confidence) or (None, None)
        return Estimate(self.ratio, low, high, self.n)

    def p_value(self) -> float | None:
        """Two-sided p of 'the ratio is 1'."""
        if self.se is None:
            return None
        if self.se == 0:
            return 0.0 if self.mean else 1.0
        return float(2 * sps.t.sf(abs(self.mean) / self.se, self.df))

    def pairs_for(self, half_width: float, confidence=CONFIDENCE) -> int | None:
        """Pairs the interval would need for a half-width of `half_width` (on the log scale,
        e.g. log(1.03)) at this spread: what to plan more cycles with."""
        if self.se is None or self.n < 2:
            return None
        sd = self.se * np.sqrt(self.n)
        z = float(sps.norm.ppf(0.5 + confidence / 2))
        return int(np.ceil((z * sd / half_width) ** 2))


def from_logs(logs) -> LogRatio | None:
    x = np.asarray([v for v in logs if np.isfinite(v)], dtype=float)
    if x.size == 0:
        return None
    if x.size < 2:
        return LogRatio(float(x.mean()), None, 0.0, 1)
    return LogRatio(float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size)), x.size - 1.0,
                    int(x.size))


def unpaired(a_logs, b_logs) -> LogRatio | None:
    """log(a/b) from two independent samples of logs (measured at different moments, so no
    pair cancels the machine's drift): Welch's standard error and degrees of freedom."""
    a = np.asarray([v for v in a_logs if np.isfinite(v)], dtype=float)
    b = np.asarray([v for v in b_logs if np.isfinite(v)], dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1)) if va + vb > 0 else a.size + b.size - 2.0
    return LogRatio(float(a.mean() - b.mean()), float(np.sqrt(va + vb)), float(df),
                    int(min(a.size, b.size)))


def pooled(parts) -> LogRatio | None:
    """The equally weighted mean of several LogRatios: its standard error from theirs, its
    degrees of freedom by Welch-Satterthwaite. Parts without a standard error are left out."""
    parts = [p for p in parts if p is not None and p.se is not None]
    if not parts:
        return None
    k = len(parts)
    var = np.array([p.se ** 2 for p in parts])
    dfs = np.array([p.df for p in parts])
    mean = float(np.mean([p.mean for p in parts]))
    se = float(np.sqrt(var.sum()) / k)
    df = float(var.sum() ** 2 / np.sum(var ** 2 / dfs)) if var.sum() > 0 else float(dfs.sum())
    return LogRatio(mean, se, df, int(sum(p.n for p in parts)), runs=max(p.runs for p in parts))


def widened(r: LogRatio, extra_var: float, extra_df: float) -> LogRatio:
    """r with a variance its pairs cannot see added (estimated on extra_df degrees of freedom):
    Welch-Satterthwaite degrees of freedom for the sum."""
    if r.se is None or extra_var <= 0:
        return r
    var = r.se ** 2 + extra_var
    df = var ** 2 / (r.se ** 4 / r.df + extra_var ** 2 / extra_df)
    return replace(r, se=float(np.sqrt(var)), df=float(df),
                   floor=float(np.sqrt(r.floor ** 2 + extra_var)), floor_df=float(extra_df))


def case_ratio(df, case, a, b, metric=COST) -> LogRatio | None:
    p = paired(df, case, a, b, metric)
    p = p[(p["a"] > 0) & (p["b"] > 0)]
    r = from_logs(np.log(p["a"].to_numpy(float) / p["b"].to_numpy(float)))
    return r and replace(r, runs=max(p.index.get_level_values("run_id").nunique(), 1))


def paired_ratio(df, case, a, b, metric=COST) -> Estimate | None:
    """a/b in one case: the geometric mean over its cycles with a 95% t-interval (None: no pair)."""
    r = case_ratio(df, case, a, b, metric)
    return r and r.estimate()


def scenario_of(case: str) -> str:
    """'json @ 75%' -> 'json'; a case without a level is its own scenario."""
    return case.split(" @ ", 1)[0]


def level_of(case: str) -> str | None:
    return case.split(" @ ", 1)[1] if " @ " in case else None


@dataclass(frozen=True)
class Family:
    """A ratio a/b over a family of scenarios: per case, per scenario and overall."""
    a: str
    b: str
    cases: dict        # case -> LogRatio (None-free)
    scenarios: dict    # scenario -> LogRatio, levels pooled
    overall: LogRatio | None

    @property
    def size(self) -> int:
        return len(self.scenarios)

    def family_confidence(self, confidence=CONFIDENCE) -> float:
        """Bonferroni: each scenario's interval at 1 - alpha/S, so that all S cover together
        with at least `confidence` (docs/verdicts.md § Multiplicity)."""
        return 1 - (1 - confidence) / max(self.size, 1)

    def scenario_interval(self, scenario, confidence=CONFIDENCE):
        return self.scenarios[scenario].interval(self.family_confidence(confidence))


def family(df: pd.DataFrame, cases, a: str, b: str, metric=COST, spread=None) -> Family:
    """The ratio a/b for every case that has pairs, pooled by scenario and over scenarios."""
    per_case = {c: r for c in cases for r in [case_ratio(df, c, a, b, metric)] if r is not None}
    return family_of_cases(a, b, per_case, spread)


def family_of_cases(a: str, b: str, per_case: dict, spread=None) -> Family:
    """A Family from its cases' LogRatios; with a RunSpread, the scenario and overall
    intervals carry it, each scenario's for the runs its pairs came from."""
    by_scenario: dict[str, list] = {}
    for case, r in per_case.items():
        by_scenario.setdefault(scenario_of(case), []).append(r)
    scenarios = {s: p for s, parts in by_scenario.items() for p in [pooled(parts)] if p is not None}
    overall = pooled(scenarios.values())
    if spread is not None and overall is not None:
        per_scenario, over = spread.extra({s: r.runs for s, r in scenarios.items()})
        df_scenario, df_overall = spread.dfs()
        scenarios = {s: widened(r, per_scenario[s], df_scenario) for s, r in scenarios.items()}
        overall = widened(overall, over, df_overall)
    return Family(a, b, per_case, scenarios, overall)
