"""Where a served request's CPU time goes, per app and endpoint, and how well the parts add up
to the measured Django/Flask ratio.

    served CPU per request  =  framework + app  +  gunicorn  +  kernel  (+ what is left)

- served: the median CPU-µs per request of the saturated slices (one app under load at a time);
- kernel: its kernel share, pooled over those slices (/proc's user/system split is sampled at
  each timer tick, so one slice's split is rough and a case's slices together are not);
- framework + app: the same requests timed natively in-process (measure/native.py), and,
  beside it, what callgrind counts and estimates for them (instructions, estimated cycles);
- served natively: the same requests through gunicorn's worker code in-process on real loopback
  sockets (measure/native.py), timed with what the thread does in the kernel for them: a
  measured counterpart of framework + gunicorn + the server side's kernel, without the real
  server's loop, arbiter or load generator;
- gunicorn: its instructions' estimated cycles (served - in-process, counted by callgrind)
  at the nanoseconds per estimated cycle that gunicorn's code takes on the bare WSGI baseline,
  whose served user time is nearly all gunicorn's;
- left over: the rest (gunicorn's loop around the accept that callgrind counts, the arbiter,
  and the framework's code running with caches it shares with gunicorn and the kernel, where
  the in-process timing runs it back to back). The cyclic GC is off in the in-process timing
  but costs little here: with it on, 2,000 in-process requests of /queries?queries=20 ran no
  full collection and took the same time.

Two predictions of the served ratio, neither using a framework's served trials but for its
kernel time: `predicted_us` with the framework's native time, and `simulated_us` with callgrind
alone (every estimated cycle, the framework's too, at gunicorn's ns per cycle). What each misses
is its residual, per endpoint. The per-cycle cost of each app's own code (native µs / estimated
cycles) says how far callgrind's model of the CPU is from the CPU: it is where counts and times
part."""
import math

import pandas as pd

from . import stats
from .evidence import instructions_frame

SATURATION = "saturation"  # the closed-loop level of run/alternate.py, as the trials name it


def served_parts(trials: pd.DataFrame) -> dict:
    """{(path, target): {"served_us", "kernel_share", "user_us", "kernel_us", "slices", per-request
    context switches and faults}} from the usable saturated slices."""
    ok = trials[trials["usable"] & (trials["level"] == SATURATION) & trials["path"].notna()]
    out = {}
    for (path, target), g in ok.groupby(["path", "target"], sort=False):
        served = float(g[stats.COST].median())
        user, system = g["kernel_user_s"].sum(), g["kernel_sys_s"].sum()
        share = system / (user + system) if (user + system) > 0 else math.nan
        requests = g["requests"].sum()
        out[(path, target)] = {
            "served_us": served, "kernel_share": float(share), "kernel_us": float(served * share),
            "user_us": float(served * (1 - share)), "slices": len(g),
            "ctx_voluntary": float(g["kernel_ctx_voluntary"].sum() / requests),
            "ctx_involuntary": float(g["kernel_ctx_involuntary"].sum() / requests),
            "minflt": float(g["kernel_minflt"].sum() / requests)}
    return out


def counted(instructions: pd.DataFrame) -> dict:
    """{(path, target): callgrind's in-process and served counts and estimated cycles}."""
    return {(row.case, row.target): {"instructions": row.instructions, "served_instructions": row.served,
                                     "cycles": row.cycles, "served_cycles": row.served_cycles}
            for row in instructions.itertuples()}


def native_us(native: dict | None, field="us_per_request") -> dict:
    """{(path, target): median over rounds of native µs per request}: in-process, or with
    `field="served_us_per_request"` through gunicorn's worker code (absent in older files)."""
    rounds = {}
    for t in (native or {}).get("timings", []):
        if t.get(field) is not None:
            rounds.setdefault((t["endpoint"], t["target"]), []).append(t[field])
    return {key: float(pd.Series(v).median()) for key, v in rounds.items()}


def syscalls(kernel_lines: list) -> dict:
    """{(path, target): syscalls per request} from the run's perf probes (the last per pair)."""
    return {(p["path"], p["target"]): p["per_request"]["syscalls"]
            for p in kernel_lines if p.get("per_request")}


def gunicorn_ns_per_cycle(parts, counts, native, path):
    """ns per estimated cycle of gunicorn's code, from the baseline at this path: its served
    user time less its in-process time, over gunicorn's estimated cycles."""
    key = (path, "baseline")
    if key not in parts or key not in counts or key not in native:
        return None
    c = counts[key]
    if not (c["served_cycles"] and c["cycles"]):
        return None
    gunicorn_cycles = c["served_cycles"] - c["cycles"]
    user = parts[key]["user_us"] - native[key]
    return 1000 * user / gunicorn_cycles if gunicorn_cycles > 0 and user > 0 else None


def rows(run) -> list[dict]:
    """One row per (path, target) that has served slices, counts and native timings, with the
    parts in µs; plus `predicted_us`. `run`: an evidence.LoadedRun."""
    parts = served_parts(run.trials)
    counts = counted(instructions_frame(run.instructions, run.run_id))
    native = native_us(run.native)
    served_native = native_us(run.native, "served_us_per_request")
    calls = syscalls(run.kernel)
    ns_by_path = {path: gunicorn_ns_per_cycle(parts, counts, native, path)
                  for path in dict.fromkeys(path for path, _ in parts)}
    out = []
    for (path, target), served in parts.items():
        c, framework = counts.get((path, target)), native.get((path, target))
        ns = ns_by_path[path]
        if not c or framework is None or ns is None or not c["served_cycles"]:
            continue
        gunicorn = ns * (c["served_cycles"] - c["cycles"]) / 1000
        predicted = framework + gunicorn + served["kernel_us"]
        out.append({"path": path, "target": target, **served, "framework_us": framework,
                    "gunicorn_us": gunicorn, "predicted_us": predicted,
                    "simulated_us": ns * c["served_cycles"] / 1000 + served["kernel_us"],
                    "served_native_us": served_native.get((path, target)),
                    "rest_us": served["served_us"] - predicted, **c,
                    "ns_per_cycle": 1000 * framework / c["cycles"] if c["cycles"] else None,
                    "syscalls": calls.get((path, target))})
    return out


RATIO_PARTS = ("served_us", "predicted_us", "simulated_us", "served_native_us", "framework_us",
               "gunicorn_us", "kernel_us",
               "instructions", "cycles", "served_cycles", "ns_per_cycle", "syscalls")


def ratios(table: list[dict], num="django", den="flask") -> dict:
    """{path: {part: num/den}} and each path's residual: measured served ratio over predicted."""
    by = {(r["path"], r["target"]): r for r in table}
    out = {}
    for path in dict.fromkeys(r["path"] for r in table):
        a, b = by.get((path, num)), by.get((path, den))
        if not (a and b):
            continue
        parts = {p: a[p] / b[p] for p in RATIO_PARTS if a.get(p) and b.get(p)}
        for prediction, residual in (("predicted_us", "residual"), ("simulated_us", "simulated_residual"),
                                     ("served_native_us", "served_native_residual")):
            if "served_us" in parts and prediction in parts:
                parts[residual] = parts["served_us"] / parts[prediction] - 1
        out[path] = parts
    return out
