"""Statistics over stored trials: medians with bootstrap CIs, paired-round ratios, Mann-Whitney U,
geometric means. Every estimate carries its n, and a CI only where the data can support one, so
that "n=1, no CI" is said instead of hidden. The bootstrap RNG is seeded per call: the same run
always gives the same numbers, whatever order they are asked for in."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

SEED = 20_261_125
RESAMPLES = 4_000
MIN_N_CI = 3          # fewer values than this: a bootstrap CI would only echo the data
COST = "cpu_us_per_request"
PERCENTILES = ("p50", "p90", "p99", "p99.9")
TARGETS = ("flask", "django", "django-stripped", "baseline")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% CI (None when n is too small) and sample size."""
    value: float
    low: float | None
    high: float | None
    n: int

    @property
    def has_ci(self) -> bool:
        return self.low is not None

    def text(self, fmt="{:.3g}", scale=1.0, unit="") -> str:
        """'1.23 [1.10, 1.35] (n=5)' or '1.23 (n=1, no CI)'."""
        v = fmt.format(self.value * scale) + unit
        if not self.has_ci:
            return f"{v} (n={self.n}, no CI)"
        lo, hi = fmt.format(self.low * scale) + unit, fmt.format(self.high * scale) + unit
        return f"{v} [{lo}, {hi}] (n={self.n})"

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def bootstrap_ci(values, statistic=np.median) -> Estimate | None:
    """`statistic` of the values with a seeded percentile-bootstrap 95% CI; None for no values."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if x.size == 0:
        return None
    point = float(statistic(x))
    if x.size < MIN_N_CI:
        return Estimate(point, None, None, int(x.size))
    if np.ptp(x) == 0:
        return Estimate(point, point, point, int(x.size))
    res = sps.bootstrap((x,), statistic, n_resamples=RESAMPLES, confidence_level=0.95,
                        method="percentile", rng=np.random.default_rng(SEED))
    ci = res.confidence_interval
    return Estimate(point, float(ci.low), float(ci.high), int(x.size))


def median_ci(values) -> Estimate | None:
    return bootstrap_ci(values, np.median)


def geomean_ci(values) -> Estimate | None:
    """Geometric mean (of ratios) with a bootstrap CI over the values given."""
    x = [v for v in values if v is not None and v > 0]
    return bootstrap_ci(x, lambda a, axis=-1: sps.gmean(a, axis=axis))


def mann_whitney(x, y) -> float | None:
    """Two-sided Mann-Whitney U p-value; None when either side has fewer than 2 values."""
    x, y = _finite(x), _finite(y)
    if len(x) < 2 or len(y) < 2:
        return None
    return float(sps.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and np.isfinite(v)]


# --- trials ---------------------------------------------------------------------------------

def trials_frame(records: list[dict], run_id: str = "", machine: str = "") -> pd.DataFrame:
    """Flatten trials.jsonl records into one row per trial with derived columns:
    `case` (scenario, plus the arrival rate in open mode), `usable` (counts toward medians),
    `capacity_rps` (rps only where it measures the server: closed loop, not generator-bound)."""
    cols = ["trial_id", "round", "target", "scenario", "mode", "rate", "requests", "errors",
            "rps", COST, "server_cpu_s", "server_sys_s", "generator_cpu_pct", "status", "reason",
            "histogram"]
    rows = [_flat(r, cols) for r in records]
    df = pd.DataFrame(rows, columns=cols + ["flags", "rss_worker_peak", *PERCENTILES, "max"])
    df["run_id"], df["machine"] = run_id, machine
    df["case"] = [_case(s, m, r) for s, m, r in zip(df["scenario"], df["mode"], df["rate"])]
    df["generator_bound"] = df["flags"].map(lambda f: "generator_bound" in f)
    df["usable"] = (df["status"] == "ok") & (df["errors"].fillna(0) == 0) \
        & ~df["flags"].map(lambda f: "errors" in f) & df[COST].notna()
    closed_ok = df["usable"] & (df["mode"] == "closed") & ~df["generator_bound"]
    df["capacity_rps"] = df["rps"].where(closed_ok)
    return df


def _flat(rec: dict, cols: list[str]) -> dict:
    row = {c: rec.get(c) for c in cols}
    row["flags"] = tuple(rec.get("flags") or ())
    row["rss_worker_peak"] = (rec.get("rss_mb") or {}).get("worker_peak")
    lat = rec.get("latency_us") or {}
    row.update({p: lat.get(p) for p in (*PERCENTILES, "max")})
    for c in ("rps", COST, "server_cpu_s", "server_sys_s", "requests", "errors", "round",
              *PERCENTILES, "max"):
        row[c] = np.nan if row[c] is None else row[c]
    return row


def _case(scenario, mode, rate) -> str:
    if mode == "open" and rate is not None and not pd.isna(rate):
        return f"{scenario} (open {float(rate):g}/s)"
    return str(scenario)


def excluded(df: pd.DataFrame) -> pd.DataFrame:
    """Trials left out of every median, with why: failed, or any error."""
    out = df.loc[~df["usable"], ["run_id", "trial_id", "case", "target", "status", "errors",
                                 "flags", "reason"]].copy()
    # the reason of a failed trial, or of a --target one (no server CPU), else "errors"
    out["why"] = [r if isinstance(r, str) and r else ("failed" if s != "ok" else "errors")
                  for s, r in zip(out["status"], out["reason"])]
    return out


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, case, target): medians with CIs of cost and capacity, latency medians."""
    rows = []
    for (run_id, case, target), g in df.groupby(["run_id", "case", "target"], sort=True):
        ok = g[g["usable"]]
        rows.append({
            "run_id": run_id, "machine": g["machine"].iloc[0], "case": case, "target": target,
            "n": len(ok), "n_excluded": int((~g["usable"]).sum()),
            "generator_bound": int(g["generator_bound"].sum()),
            "cpu": median_ci(ok[COST]), "rps": median_ci(ok["capacity_rps"].dropna()),
            "rps_bound": median_ci(ok.loc[ok["generator_bound"], "rps"]),
            "open": bool((g["mode"] == "open").all()),
            "rps_achieved": median_ci(ok["rps"].dropna()),
            **{p: _median(ok[p]) for p in (*PERCENTILES, "max")},
            "rss": _median(ok["rss_worker_peak"]),
        })
    return pd.DataFrame(rows)


def _median(s: pd.Series) -> float | None:
    s = s.dropna()
    return float(s.median()) if len(s) else None


# --- paired rounds --------------------------------------------------------------------------

def paired(df: pd.DataFrame, case: str, a: str, b: str, metric: str = COST) -> pd.DataFrame:
    """Values of targets a and b in the same (run, round) of one case: columns `a`, `b`."""
    ok = df[df["usable"] & (df["case"] == case) & df[metric].notna()]
    side = {t: ok[ok["target"] == t].groupby(["run_id", "round"])[metric].median() for t in (a, b)}
    both = pd.concat({"a": side[a], "b": side[b]}, axis=1).dropna()
    return both


def paired_ratio(df, case, a, b, metric=COST) -> Estimate | None:
    """Median of the per-round ratios a/b with a bootstrap CI."""
    p = paired(df, case, a, b, metric)
    return median_ci((p["a"] / p["b"]).tolist())


def paired_stat(df, case, a, b, fn, metric=COST) -> Estimate | None:
    """Median over rounds of fn(a_value, b_value) with a bootstrap CI (None if no pair)."""
    p = paired(df, case, a, b, metric)
    return median_ci([fn(x, y) for x, y in zip(p["a"], p["b"])])


def triple(df, case, targets: tuple[str, str, str], metric=COST) -> pd.DataFrame:
    """Values of three targets in the same (run, round) of one case."""
    ok = df[df["usable"] & (df["case"] == case) & df[metric].notna()]
    cols = {t: ok[ok["target"] == t].groupby(["run_id", "round"])[metric].median() for t in targets}
    return pd.concat(cols, axis=1).dropna()


def cases(df: pd.DataFrame) -> list[str]:
    """The cases of a frame in the order they appear in the store."""
    return list(dict.fromkeys(df["case"]))
