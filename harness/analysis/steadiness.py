"""The server CPUs' steadiness, measured before a run's trials (run/steadiness.py), in words:
how much noise one alternating pair's ratio carries on that machine, and what it would take to
average it out."""
import math

UNSTEADY_PCT = 5.0   # above this, the machine's noise alone widens every interval


def pairs_for(pair_sd_pct, halfwidth_pct):
    """Pairs a median ratio needs for a 95% half-width of `halfwidth_pct`, the pairs' log ratios
    taken as normal with sd `pair_sd_pct` (a median's standard error is 1.25 sd/sqrt(n))."""
    return math.ceil((1.96 * 1.2533 * pair_sd_pct / halfwidth_pct) ** 2)


def describe(steady):
    """A sentence on run.json's `steadiness`, or None when it was not measured."""
    if not steady or steady.get("pair_sd_pct") is None:
        return None
    sd = steady["pair_sd_pct"]
    slow = [c["slow_share"] for c in steady.get("per_cpu", {}).values() if c]
    text = (f"fixed work on the server CPUs ran {sd:g}% faster or slower (sd) from one "
            f"{steady['window_s']:g}-s window to the next")
    if slow:
        text += f", {100 * max(slow):.0f}% of it at least 1.4x slower than its fastest"
    return (f"{text}: one slice pair's ratio carries that noise, and a ±3% interval for a "
            f"median ratio would take about {pairs_for(sd, 3.0):,} pairs")


def warning(steady):
    """The sentence when the machine is unsteady enough to matter, else None."""
    if steady and (steady.get("pair_sd_pct") or 0) > UNSTEADY_PCT:
        return "the machine was unsteady: " + describe(steady)
    return None
