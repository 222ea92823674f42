"""Do the in-process micro-benchmarks (static/microbench.json) agree with the load test, and
was the machine quiet enough while they ran to be believed? Reads stored summaries only."""
from ..targets import ENDPOINTS

BUSY_LOAD = 0.5  # runnable processes besides the benchmark's own above which timings wobble
AGREE = 0.20     # two ratios within 20% of each other agree


def busy(summary: dict) -> bool:
    """Did other processes load the machine while the micro-benchmarks ran? The 1-minute load
    average counts the benchmark itself as one."""
    load = summary.get("max_loadavg")
    return load is not None and load - 1 > BUSY_LOAD


def path_of(summary: dict, endpoint: str) -> str:
    """The path an endpoint requested (summaries written before paths were saved: the default)."""
    return (summary.get("paths") or {}).get(endpoint) or ENDPOINTS.get(endpoint, endpoint)


def agreement(in_process: float, load) -> str:
    """Does the in-process ratio agree with the load test's (a stats.Estimate, or None)?"""
    if load is None:
        return "no load-test trials"
    inside = load.has_ci and load.low <= in_process <= load.high
    if inside or abs(in_process / load.value - 1) <= AGREE:
        return "yes"
    return "same direction" if (in_process < 1) == (load.value < 1) else "no"
