"""Statistics over stored trials: medians with order-statistic 95% intervals, trials paired
by round (their ratios: ratios.py), Mann-Whitney U. Every estimate carries its n,
and an interval only where the n supports 95% coverage, so that "n=3, no CI" is said instead of
hidden. Everything is deterministic: the same run always gives the same numbers."""
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

SEED = 20_261_125
RESAMPLES = 4_000
MIN_N_CI = 3          # fewer values than this: a bootstrap CI (compare) would only echo the data
COST = "cpu_us_per_request"
DB_COST = "db_cpu_us_per_request"  # a database server's CPU (PostgreSQL), apart from COST
TOTAL_COST = "total_cpu_us_per_request"  # both; None where an external database was not sampled
PERCENTILES = ("p50", "p90", "p99", "p99.9")


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
        """'1.23 [1.10, 1.35] (n=10)' or '1.23 (n=3, no CI: at most 75% coverage)'."""
        v = fmt.format(self.value * scale) + unit
        if not self.has_ci:
            return f"{v} (n={self.n}, no CI: at most {coverage(self.n):.0%} coverage)"
        lo, hi = fmt.format(self.low * scale) + unit, fmt.format(self.high * scale) + unit
        return f"{v} [{lo}, {hi}] (n={self.n})"

    def as_dict(self) -> dict:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def median_ci(values) -> Estimate | None:
    """Median with a distribution-free 95% interval from order statistics (the binomial method,
    as asv uses): [x_(k), x_(n+1-k)] for the largest k whose coverage is still at least 95%. It
    holds at any n, where a percentile bootstrap of a median from 3 values is [min, max] with
    75% coverage; below n=6 no such interval exists, and the estimate says so."""
    x = np.sort(np.asarray(_finite(values), dtype=float))
    if x.size == 0:
        return None
    point = float(np.median(x))
    k = order_statistic_rank(x.size)
    if k is None:
        return Estimate(point, None, None, int(x.size))
    return Estimate(point, float(x[k - 1]), float(x[x.size - k]), int(x.size))


def order_statistic_rank(n, confidence=0.95) -> int | None:
    """The largest k with P(x_(k) <= median <= x_(n+1-k)) >= confidence, or None."""
    tail = (1 - confidence) / 2
    ks = [k for k in range(1, n // 2 + 1) if sps.binom.cdf(k - 1, n, 0.5) <= tail]
    return max(ks) if ks else None


def coverage(n) -> float:
    """The best coverage an order-statistic interval of a median from n values reaches."""
    return float(1 - 2 * sps.binom.cdf(0, n, 0.5)) if n else 0.0


def mann_whitney(x, y) -> float | None:
    """Two-sided Mann-Whitney U p-value; None when either side has fewer than 2 values."""
    x, y = _finite(x), _finite(y)
    if len(x) < 2 or len(y) < 2:
        return None
    return float(sps.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def _finite(values) -> list[float]:
    return [float(v) for v in values if v is not None and np.isfinite(v)]


# --- trials ---------------------------------------------------------------------------------

# what run/sampling.py's kernel_counters() records per trial (server_kernel), as kernel_* columns
KERNEL_FIELDS = ("user_s", "sys_s", "minflt", "majflt", "ctx_voluntary", "ctx_involuntary")
KERNEL_COLUMNS = tuple(f"kernel_{k}" for k in KERNEL_FIELDS)


def trials_frame(records: list[dict], run_id: str = "", machine: str = "",
                 primary: str | None = None) -> pd.DataFrame:
    """Flatten trials.jsonl records into one row per trial with derived columns:
    `case` (scenario, plus the arrival rate in open mode), `usable` (counts toward medians),
    `capacity_rps` (rps only where it measures the server: closed loop, not generator-bound).
    A trial served otherwise than the run's `primary` deployment (its first; records without
    one are of it) gets its deployment in its scenario's name, "json [granian]", so that no
    statistic ever pools two deployments; `primary` says which rows are the first's."""
    cols = ["trial_id", "round", "target", "scenario", "path", "level", "mode", "rate", "requests",
            "errors", "rps", COST, DB_COST, TOTAL_COST, "server_cpu_s", "server_sys_s", "generator_cpu_pct",
            "status", "reason", "histogram"]
    rows = [_flat(r, cols) for r in records]
    df = pd.DataFrame(rows, columns=cols + ["flags", "rss_worker_peak", *PERCENTILES, "max",
                                            *KERNEL_COLUMNS, "keep_alive"])
    df["run_id"], df["machine"] = run_id, machine
    _label_deployments(df, records, primary)
    df["case"] = [_case(s, m, r, lv) for s, m, r, lv in
                  zip(df["scenario"], df["mode"], df["rate"], df["level"])]
    df["generator_bound"] = df["flags"].map(lambda f: "generator_bound" in f)
    df["usable"] = (df["status"] == "ok") & (df["errors"].fillna(0) == 0) \
        & ~df["flags"].map(lambda f: "errors" in f) & df[COST].notna()
    closed_ok = df["usable"] & (df["mode"] == "closed") & ~df["generator_bound"]
    df["capacity_rps"] = df["rps"].where(closed_ok)
    return df


def _label_deployments(df: pd.DataFrame, records: list[dict], primary: str | None) -> None:
    first = primary or next((r["deployment"] for r in records if r.get("deployment")), "")
    df["deployment"] = [r.get("deployment") or first for r in records]
    df["primary"] = df["deployment"] == first
    df["scenario"] = [labelled(s, d, first) for s, d in zip(df["scenario"], df["deployment"])]


def labelled(scenario: str, deployment: str, primary: str) -> str:
    """'json' as served by granian in runs judged on gunicorn-sync -> 'json [granian]': no
    ratio or median can then mix two deployments' slices."""
    return scenario if deployment == primary else f"{scenario} [{deployment}]"


def unlabelled(scenario: str) -> str:
    """'json [granian]' -> 'json': a scenario's name without the deployment `labelled` gave it."""
    return scenario.split(" [", 1)[0]


def _flat(rec: dict, cols: list[str]) -> dict:
    row = {c: rec.get(c) for c in cols}
    row["flags"] = tuple(rec.get("flags") or ())
    row["rss_worker_peak"] = (rec.get("rss_mb") or {}).get("worker_peak")
    row["keep_alive"] = (rec.get("served_by") or {}).get("keep_alive")   # None: not recorded
    lat = rec.get("latency_us") or {}
    row.update({p: lat.get(p) for p in (*PERCENTILES, "max")})
    kernel = rec.get("server_kernel") or {}
    row.update({f"kernel_{k}": kernel.get(k, np.nan) for k in KERNEL_FIELDS})
    for c in ("rps", COST, "server_cpu_s", "server_sys_s", "requests", "errors", "round",
              *PERCENTILES, "max"):
        row[c] = np.nan if row[c] is None else row[c]
    return row


def _case(scenario, mode, rate, level=None) -> str:
    """'json @ 75%' for a level of the alternating ladder, 'json (open 400/s)' for a fixed-rate
    trial, 'json' for a closed-loop one."""
    if isinstance(level, str) and level:
        return f"{scenario} @ {level}"
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


def paired_stat(df, case, a, b, fn, metric=COST) -> Estimate | None:
    """Median over rounds of fn(a_value, b_value) with its order-statistic CI (None if no pair)."""
    p = paired(df, case, a, b, metric)
    return median_ci([fn(x, y) for x, y in zip(p["a"], p["b"])])


def cases(df: pd.DataFrame) -> list[str]:
    """The cases of a frame in the order they appear in the store."""
    return list(dict.fromkeys(df["case"]))


# --- the load ladder ------------------------------------------------------------------------

def ladder(df: pd.DataFrame) -> pd.DataFrame:
    """Per (run, scenario, target) of an alternating run: capacity at saturation, median cost at
    each level, and a line through every slice's (requests/s, server CPU-s per s): its slope is
    the marginal cost of a request, its intercept what the server burns per second at no load
    (waking up, gunicorn's heartbeat). Needs slices at two offered rates or more."""
    ok = df[df["usable"] & df["level"].notna() & df["server_cpu_s"].notna()]
    rows = []
    for (run_id, scenario, target), g in ok.groupby(["run_id", "scenario", "target"], sort=False):
        seconds = g["requests"] / g["rps"]
        x, y = g["rps"], g["server_cpu_s"] / seconds
        fit = sps.linregress(x, y) if x.nunique() > 1 else None
        rows.append({"run_id": run_id, "scenario": scenario, "target": target,
                     "capacity_rps": _median(g.loc[g["mode"] == "closed", "rps"]),
                     "cost_us": {lv: _median(s[COST]) for lv, s in g.groupby("level", sort=False)},
                     "marginal_us": fit.slope * 1e6 if fit else None,
                     "idle_ms_per_s": fit.intercept * 1e3 if fit else None})
    return pd.DataFrame(rows)
