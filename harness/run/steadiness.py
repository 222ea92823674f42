"""How steady the server CPUs' own speed is, measured before a run's trials: the same chunk of
Python work timed again and again (thread CPU time, as the servers' cost is read), nothing else
on the CPU.

On a shared VM the speed of a vCPU moves with what its host runs beside it. On the 2-core dev VM
the chunks ran in two modes about 1.8x apart, switching within a millisecond or staying for a
second, and the two vCPUs varied independently. That noise is broadband: two adjacent windows
differed by about 14% (sd of their log ratio) whether they were 0.05 s or 2 s long, so no slice
length cancels it, and it is what an alternating pair's ratio carries. Recorded with the run, it
tells a reader how much of the intervals' width is the machine's, and how many pairs a given
precision would take there."""
import json
import math
import statistics
import subprocess
import sys

from ..infra import reaper

SLOW = 1.4   # a chunk this much slower than the fast mode ran in the slow one

CHUNKS = """
import json, sys, time
end = time.perf_counter() + float(sys.argv[1])
out = []
while time.perf_counter() < end:
    a = time.thread_time_ns()
    for i in range(60):
        json.dumps({"message": "Hello, World!", "i": i})
        sorted([3, 1, 2, i])
    out.append((time.perf_counter(), time.thread_time_ns() - a))
print(json.dumps(out))
"""


def summarize(chunks, window_s):
    """From (wall time, CPU ns) per chunk: the sd of the log ratio of adjacent windows' speeds
    (%), the sd of the windows' speeds (%), and the share of chunks run in the slow mode."""
    if not chunks:
        return None
    t0 = chunks[0][0]
    windows = {}
    for t, ns in chunks:
        windows.setdefault(int((t - t0) / window_s), []).append(ns)
    speeds = [len(v) / sum(v) for _, v in sorted(windows.items()) if len(v) >= 5 and sum(v)]
    pairs = [math.log(b / a) for a, b in zip(speeds, speeds[1:])]
    times = sorted(ns for _, ns in chunks)
    fast = times[len(times) // 10]
    return {
        "pair_sd_pct": round(100 * statistics.pstdev(pairs), 1) if len(pairs) > 1 else None,
        "speed_sd_pct": round(100 * statistics.pstdev(math.log(s) for s in speeds), 1)
        if len(speeds) > 1 else None,
        "slow_share": round(sum(ns >= SLOW * fast for ns in times) / len(times), 3),
        "windows": len(speeds),
    }


def probe(cpus, seconds=4.0, window_s=0.5):
    """Each CPU of `cpus` probed at once, by a child pinned to it; None if a probe fails."""
    procs = []
    with reaper.starting():
        for cpu in cpus:
            proc = subprocess.Popen([sys.executable, "-c", CHUNKS, str(seconds)],
                                    stdout=subprocess.PIPE, text=True, start_new_session=True,
                                    preexec_fn=reaper.child_setup([cpu]))
            reaper.track(proc.pid)
            procs.append(proc)
    per_cpu = {}
    try:
        for cpu, proc in zip(cpus, procs):
            out, _ = proc.communicate(timeout=seconds + 30)
            if proc.returncode:
                return None
            per_cpu[str(cpu)] = summarize(json.loads(out), window_s)
    finally:
        for proc in procs:
            reaper.kill(proc.pid)
    sds = [s["pair_sd_pct"] for s in per_cpu.values() if s and s["pair_sd_pct"] is not None]
    return {"window_s": window_s, "seconds": seconds,
            "pair_sd_pct": max(sds) if sds else None, "per_cpu": per_cpu}

