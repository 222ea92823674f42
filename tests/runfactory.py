"""Writes small schema-valid run folders (docs/results-format.md) for the logic tests: the
numbers are chosen by each test, so a test knows what the verdict must be."""
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

MACHINE = {"host": "testbox", "cpu_model": "Test CPU", "cores": 2, "governor": None,
           "ram_gb": 8.0, "kernel": "6.1", "os": "Debian GNU/Linux 12", "arch": "x86_64"}

# CPU-µs/request medians per target, roughly as measured on the dev machine.
COSTS = {"flask": 560.0, "django": 850.0, "django-stripped": 620.0, "baseline": 360.0}


def trial(scenario, target, rnd, cpu, rps=3000.0, flags=(), status="ok", errors=0, mode="closed"):
    app, variant = ("django", "stripped") if target == "django-stripped" else (target, "default")
    tid = f"r{rnd}-{scenario}-{target}"
    return {"trial_id": tid, "round": rnd, "order": 0, "target": target, "app": app,
            "variant": variant, "scenario": scenario, "path": f"/{scenario}", "mode": mode,
            "users": 16, "rate": None, "workers": 1, "worker_class": "sync", "warmup_s": 1.0,
            "duration_s": 3.0, "requests": int(rps * 3), "errors": errors, "rps": rps,
            "latency_us": {"p50": 300, "p90": 420, "p99": 900, "p99.9": 2100, "max": 5400,
                           "mean": 330.5},
            "server_cpu_s": cpu * rps * 3 / 1e6 if cpu else None, "cpu_us_per_request": cpu,
            "server_sys_s": cpu * rps * 3 / 5e6 if cpu else None,  # the kernel's fifth
            "rss_mb": {"master": 30.0, "workers": [41.0], "worker_peak": 41.0},
            "generator_cpu_pct": 95.0 if "generator_bound" in flags else 60.0,
            "flags": list(flags), "status": status, "reason": None if status == "ok" else "boom",
            "histogram": f"histograms/{tid}.hdr", "deployment": "gunicorn-sync",
            "served_by": {"deployment": "gunicorn-sync", "keep_alive": False}}


def write_folder(path, trials, config, machine=None, status="complete", more=None):
    """run.json (its config as given, the test machine's fingerprint, `more`) and trials.jsonl."""
    meta = {"schema": 1, "run_id": path.name, "status": status, "profile": config["profile"],
            "config": config,
            "git": {"commit": "0" * 40, "dirty": False}, "machine": {**MACHINE, **(machine or {})},
            "python": "3.11.7", "packages": {"flask": "3.1.3", "django": "5.2.19"},
            "db": {"engine": "sqlite", "version": "3.40.1"},
            "started": "2026-11-25T12:00:00+00:00", "ended": "2026-11-25T12:05:00+00:00",
            **(more or {})}
    (path / "run.json").write_text(json.dumps(meta))
    (path / "trials.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trials))


def write_run(path, costs=None, scenarios=("json", "db"), rounds=10, spread=0.02, seed=1,
              machine=None, extra=(), static=None, instructions=None, status="complete",
              run_spread=None):
    """A run folder whose cost for (target) or (scenario, target) is costs[...] x (1 +- spread);
    `run_spread` (a RunSpread) recorded as the machine's run-to-run spread, else none recorded
    (the default applies)."""
    path = Path(path)
    (path / "histograms").mkdir(parents=True, exist_ok=True)
    costs = {**COSTS, **(costs or {})}
    rng = np.random.default_rng(seed)
    trials = []
    for rnd in range(rounds):
        for scenario in scenarios:
            for target in COSTS:
                base = costs.get((scenario, target), costs[target])
                cpu = round(base * (1 + rng.uniform(-spread, spread)), 2)
                trials.append(trial(scenario, target, rnd, cpu, rps=1e6 / cpu / 1.2))
    trials += list(extra)
    more = {"run_spread": asdict(run_spread)} if run_spread else None
    write_folder(path, trials, {"profile": "quick", "db": "sqlite", "repeat": rounds}, machine,
                 status, more)
    for name, value in (static or {}).items():
        (path / "static").mkdir(exist_ok=True)
        (path / "static" / f"{name}.json").write_text(json.dumps(value))
    if instructions is not None:
        (path / "instructions.json").write_text(json.dumps(instructions))
    return path
