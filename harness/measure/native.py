"""What the requests callgrind counts cost on the real CPU: the same driver, the same phases,
run natively and timed by the thread's CPU clock (to the nanosecond).

Callgrind says how many instructions a request executes and, with its cache simulation, about
how many cycles they should take; this says how long they do take, in-process (framework and
app, no gunicorn, no network), so the two can be set side by side per app and endpoint; and
served through gunicorn's worker code on real loopback sockets (what the thread does in the
kernel for them included), which the load test's served cost can be set against. Each
target runs in its own process (the harness never imports an app); targets take turns in
rounds, A B C then C B A, so the machine's drift falls on every target alike, and a round's
ratio of two targets is read from adjacent processes. Within a process the fastest of its
phases is kept: on a shared machine noise only ever adds time.

native.json (schema 1):
    {"schema": 1, "requests": N, "phases": K, "rounds": R, "statistic": "min of phases",
     "duration_s": 61.2,
     "timings": [{"target": "flask", "endpoint": "/json", "round": 0, "us_per_request": 131.2,
                  "phases_us": [131.2, 133.0, ...], "served_us_per_request": 301.5,
                  "served_phases_us": [...]}]}
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ..errors import FdbenchError
from ..store import write_atomic
from . import callgrind_env, instructions as instr

SCHEMA = 1
REQUESTS = 100   # per phase: /queries?queries=20 takes ~0.35 s, /json ~15 ms (the clock is ns-precise)
PHASES = 5
ROUNDS = 3
TIMEOUT_S = 600


def command(target, endpoints, requests, phases, workdir):
    return [target.python, "-P", str(instr.DRIVER), target.wsgi, *endpoints,
            "--chdir", instr.import_root(target, workdir), "--requests", str(requests),
            "--warmup", str(instr.WARMUP), "--modes", ",".join(instr.MODES), "--timed", str(phases),
            "--db-template", str(workdir / "template.sqlite3")]


def run_once(target, endpoints, requests, phases, workdir, cpus=()):
    """One process of one target: {endpoint: {mode: [µs per request of each phase]}}."""
    bench_db = workdir / "native.sqlite3"
    instr.remove_db_files(bench_db)
    frozen = callgrind_env.frozen_clock_env()  # the real clock here: nothing is counted
    env = {k: v for k, v in instr.child_env(target, f"sqlite:///{bench_db}").items() if k not in frozen}
    proc = subprocess.run(command(target, endpoints, requests, phases, workdir), env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise FdbenchError(f"native timing of {target.name} failed: {tail}")
    out = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            report = json.loads(line)
            out[report["target"]] = {mode: [ns / requests / 1000 for ns in values]
                                     for mode, values in report["cpu_ns"].items()}
    return out


def measure(targets, endpoints=None, requests=REQUESTS, phases=PHASES, rounds=ROUNDS, cpus=(),
            progress=None):
    """Native CPU-µs per request for every (target, endpoint, round). `cpus`: pin the driver
    (the server's core, as in the load test). `progress(target, round)` after each process."""
    targets = [t if isinstance(t, instr.Target) else instr.builtin_target(t) for t in targets]
    endpoints = instr.resolve_endpoints(endpoints)
    started, timings = time.monotonic(), []
    instr.precompile(targets)
    with instr.locked_workdir() as workdir:
        for number in range(rounds):
            for target in targets if number % 2 == 0 else targets[::-1]:
                for endpoint, modes in run_once(target, endpoints, requests, phases, workdir,
                                                cpus).items():
                    inproc, served = modes["inprocess"], modes["served"]
                    timings.append({"target": target.name, "endpoint": endpoint, "round": number,
                                    "us_per_request": round(min(inproc), 2),
                                    "phases_us": [round(v, 2) for v in inproc],
                                    "served_us_per_request": round(min(served), 2),
                                    "served_phases_us": [round(v, 2) for v in served]})
                if progress:
                    progress(target.name, number)
    return {"schema": SCHEMA, "requests": requests, "phases": phases, "rounds": rounds,
            "statistic": "min of phases", "python": sys.version.split()[0],
            "cpus": sorted(cpus), "duration_s": round(time.monotonic() - started, 1),
            "timings": timings}


def write(run_dir, data):
    path = Path(run_dir) / "native.json"
    write_atomic(path, json.dumps(data, indent=2) + "\n")
    return path
