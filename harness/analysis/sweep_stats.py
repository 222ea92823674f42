"""What a scaling sweep's trials say, read back from the store: each sweep point is its own
scenario name (`db@2w-gthread`), so the names are made and parsed here, beside the medians
and scaling efficiencies drawn from them. Pure functions of trial records: the sweep uses
them to set its open-loop rates from what it stored, the report and the scalability claim
to read it.

Efficiency is taken per round: the sweep loads Flask and Django in alternating slices at
each point (run/sweep.py), so round r of every point gives one efficiency per app, and the
two apps' efficiencies of one round form a pair whose difference the claim's interval is
over."""
import statistics

import numpy as np
from scipy import stats as sps

from .stats import Estimate

# Why a trial cannot stand for the server's capacity, by the flag that says so (the load
# generator as the limit favours the slower app); such a trial gives its point no efficiency.
# The first three are FLAGS: a verdict is also said with those trials kept in.
FLAGS = ("generator_bound", "contended", "worker_exited")
REFUSED = {"generator_bound": "the load generator, not the server, was the limit",
           "contended": "other work ran on the server cores",
           "worker_exited": "a gunicorn worker exited",
           "errors": "requests failed",
           "failed": "the trial did not run"}


def point_name(workers, worker_class):
    return f"{workers}w-{worker_class}"


def capacity(trials):
    """Median closed-loop rps per (scenario name with point, target)."""
    rates = {}
    for t in trials:
        if t["mode"] == "closed" and t["status"] == "ok" and not t.get("errors"):
            rates.setdefault((t["scenario"], t["target"]), []).append(t["rps"])
    return {k: statistics.median(v) for k, v in rates.items()}


def split_scenario(name):
    """`db@2w-gthread` → ("db", 2, "gthread"); a plain scenario name → (name, None, None)."""
    base, _, point = name.partition("@")
    if not point:
        return base, None, None
    workers, _, worker_class = point.partition("w-")
    return base, int(workers), worker_class


def throughput_table(trials):
    """Median closed-loop rps per (scenario, target, worker_class, workers), usable trials only."""
    cells = {}
    for t in trials:
        base, workers, worker_class = split_scenario(t["scenario"])
        if workers is None or t["mode"] != "closed" or t["status"] != "ok" or t.get("errors"):
            continue
        cells.setdefault((base, t["target"], worker_class, workers), []).append(t["rps"])
    return {k: statistics.median(v) for k, v in cells.items()}


def refusal(trial):
    """Why a sweep trial's rps cannot count toward an efficiency, or None when it can."""
    if trial.get("status") != "ok":
        return "failed"
    if trial.get("errors"):
        return "errors"
    flags = trial.get("flags") or ()
    return next((flag for flag in REFUSED if flag in flags), None)


def round_efficiencies(trials):
    """{(scenario, target, worker_class, n): {round: rps(n) / (n · rps(1))}} for n > 1, each
    round's n-worker trial over the same round's 1-worker trial, refused trials left out:
    1.0 is perfect scaling, 1/n no gain at all."""
    rps = {}
    for t in trials:
        base, workers, worker_class = split_scenario(t["scenario"])
        if workers is None or t["mode"] != "closed" or refusal(t):
            continue
        rps.setdefault((base, t["target"], worker_class, workers), {})[t["round"]] = t["rps"]
    out = {}
    for (base, target, worker_class, workers), by_round in rps.items():
        one = rps.get((base, target, worker_class, 1), {})
        eff = {r: v / (workers * one[r]) for r, v in by_round.items() if one.get(r)}
        if workers > 1 and eff:
            out[(base, target, worker_class, workers)] = eff
    return out


def efficiency(trials):
    """Median over rounds of each round's scaling efficiency, per (scenario, target,
    worker_class, n > 1)."""
    return {k: statistics.median(v.values()) for k, v in round_efficiencies(trials).items()}


def paired_efficiencies(trials, a="django", b="flask"):
    """{(scenario, worker_class): (n, {round: (e_a, e_b)})} at the largest n where both apps
    have an efficiency in two or more common rounds (an interval needs two pairs), else at the
    largest n with one."""
    eff = round_efficiencies(trials)
    found = {}
    for (base, target, worker_class, n), e_a in eff.items():
        if target != a:
            continue
        e_b = eff.get((base, b, worker_class, n), {})
        pairs = {r: (e_a[r], e_b[r]) for r in e_a if r in e_b}
        if pairs:
            found.setdefault((base, worker_class), []).append((n, pairs))
    return {case: max(options, key=lambda o: (len(o[1]) >= 2, o[0]))
            for case, options in found.items()}


def mean_interval(values, confidence=0.95):
    """Mean with a Student-t interval (scipy's one-sample t): the paired differences of a
    round are independent draws, roughly normal at the machine's noise (checked by simulation
    in tests/test_claims_scaling.py). No interval below two values or without any spread."""
    x = np.asarray(list(values), dtype=float)
    mean = float(x.mean())
    if x.size < 2 or x.std() == 0:
        return Estimate(mean, None, None, int(x.size))
    low, high = sps.ttest_1samp(x, 0.0).confidence_interval(confidence)
    return Estimate(mean, float(low), float(high), int(x.size))


def fraction_of(trial, capacities):
    """The share of capacity an open-loop trial offered (None for closed loop)."""
    cap = capacities.get((trial["scenario"], trial["target"]))
    if trial["mode"] != "open" or not cap:
        return None
    return trial["rate"] / cap
