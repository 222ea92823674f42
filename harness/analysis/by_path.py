"""The load test's figures keyed by request path, so that they can stand beside measurements
made per endpoint (instruction counts, micro-benchmarks): the paired CPU-µs ratio of each
scenario's cost case, and the kernel's share of the server's CPU time."""
from scenarios.matrix import SCENARIOS

from . import ratios
from .evidence import Evidence


def cost_paths(ev: Evidence):
    """(cost case, request path) for each scenario fdbench knows the path of."""
    for case in ev.cost_cases:
        scenario = ev.trials.loc[ev.trials["case"] == case, "scenario"].iloc[0]
        if scenario in SCENARIOS:
            yield case, SCENARIOS[scenario]


def load_ratios(ev: Evidence, num="flask", den="django") -> dict:
    """{path: num/den paired CPU-µs ratio} of each scenario's cost case, first run that has it."""
    out = {}
    for case, path in cost_paths(ev):
        ests = (ratios.paired_ratio(r.trials, case, num, den) for r in ev.runs if len(r.trials))
        est = next((e for e in ests if e is not None), None)
        if est is not None:
            out.setdefault(path, est)
    return out


def kernel_shares(ev: Evidence) -> dict:
    """{path: {target: kernel share of the server's CPU time}}, every usable trial of the path
    pooled: system time comes in 10 ms ticks, so one trial's few dozen ticks are too coarse."""
    t = ev.trials[ev.trials["usable"]].dropna(subset=["server_sys_s", "server_cpu_s"])
    t = t[t["scenario"].isin(SCENARIOS)]
    columns = ["server_sys_s", "server_cpu_s"]
    sums = t.groupby([t["scenario"].map(SCENARIOS), "target"])[columns].sum()
    out = {}
    for (path, target), row in sums.iterrows():
        if row["server_cpu_s"] > 0:
            out.setdefault(path, {})[target] = row["server_sys_s"] / row["server_cpu_s"]
    return out
