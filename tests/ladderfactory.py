"""Writes run folders shaped like an alternating run of the load ladder (docs/results-format.md):
per scenario a saturation level and fixed-rate open-loop levels that every app served, cycles
of slices, and a stored HdrHistogram per slice, so that a test renders the page a real ladder
run gets (a latency distribution per case, no throughput chart at a served fixed rate)."""
from pathlib import Path

import numpy as np

from harness import histogram
from tests.runfactory import COSTS, trial, write_folder

LEVELS = {"saturation": None, "75%": 0.75, "25%": 0.25}


def write_ladder_run(path, scenarios=("json", "db"), cycles=10, machine=None, costs=None, seed=1,
                     requests=400, targets=tuple(COSTS)):
    """costs: CPU-µs per request by target or (scenario, target), each slice within ±3% of it;
    a slice's latencies are lognormal around a fifth of its cost in ms."""
    path = Path(path)
    (path / "histograms").mkdir(parents=True, exist_ok=True)
    costs = {**COSTS, **(costs or {})}
    rng = np.random.default_rng(seed)
    trials = []
    for scenario in scenarios:
        for level, fraction in LEVELS.items():
            slowest = costs.get((scenario, "django"), costs["django"])
            rate = None if fraction is None else round(1e6 / slowest * fraction)
            for cycle in range(cycles):
                for target in targets:
                    cpu = round(costs.get((scenario, target), costs[target]) * rng.uniform(0.97, 1.03), 2)
                    rec = trial(scenario, target, cycle, cpu, rps=rate or 1e6 / cpu,
                                mode="closed" if rate is None else "open")
                    tid = f"{scenario}-{level}-c{cycle}-{target}"
                    rec.update(trial_id=tid, level=level, rate=rate, fraction=fraction,
                               histogram=f"histograms/{tid}.hdr")
                    hist = histogram.new()
                    for us in rng.lognormal(np.log(cpu * 5), 0.5, requests):
                        histogram.record(hist, us)
                    (path / rec["histogram"]).write_text(histogram.encode(hist))
                    trials.append(rec)
    write_folder(path, trials, {"profile": "default", "db": "sqlite", "rounds": cycles,
                                "alternate": True}, machine)
    return path
