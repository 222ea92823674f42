"""An independent check of fdbench's saturated ratios: two apps under `fdbench serve`, wrk
loading one at a time in alternating slices (A B B A ...), each server's CPU read from
/proc/PID/stat (psutil, clock ticks) around every slice. Nothing of fdbench's load generator or
sampler is used. Prints the B/A CPU-µs-per-request ratio per adjacent pair, their median, and
their geometric mean with a t-interval on the logs (the estimator fdbench's verdicts use). wrk
keeps its connections alive: against a keep-alive deployment this checks fdbench's keep-alive
client too.

    .venv/bin/python scripts/wrk_alternating.py flask django /fortunes --pairs 10 --seconds 2
    .venv/bin/python scripts/wrk_alternating.py flask django /json --deployment granian
    .venv/bin/python scripts/wrk_alternating.py flask flask-orjson /json
"""
import argparse
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

import psutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def serve(app, port, cpu, deployment):
    name, _, variant = app.partition("-")  # a target: django-stripped, flask-orjson, ...
    variant = ["--variant", variant] if variant else []
    proc = subprocess.Popen(["taskset", "-c", str(cpu), os.path.join(ROOT, ".venv/bin/fdbench"),
                             "serve", name, *variant, "--port", str(port),
                             "--deployment", deployment], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if "listening" not in line:
        sys.exit(f"{app} did not start: {line}")
    return proc


def tree_cpu(pid):
    """User + system seconds of every process fdbench serve started (server, workers, proxy)."""
    total = 0.0
    for proc in psutil.Process(pid).children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def wrk(url, seconds, cpu, connections):
    out = subprocess.run(["taskset", "-c", str(cpu), "wrk", "-t1", f"-c{connections}",
                          f"-d{seconds:g}s", url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out and "read 0, write 0" not in out:
        print(f"  warning: {url}: {out.strip().splitlines()[-3:]}", file=sys.stderr)
    return int(re.search(r"(\d+) requests in", out).group(1))


def t_quantile(df):
    from scipy import stats
    return float(stats.t.ppf(0.975, df))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("path")
    p.add_argument("--pairs", type=int, default=10)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--deployment", default="gunicorn-sync")
    args = p.parse_args()
    servers = {app: serve(app, port, 0, args.deployment)
               for app, port in ((args.a, 8811), (args.b, 8812))}
    ports = {args.a: 8811, args.b: 8812}
    try:
        for app in servers:  # warm-up
            wrk(f"http://127.0.0.1:{ports[app]}{args.path}", 1, 1, args.connections)
        ratios, costs = [], {args.a: [], args.b: []}
        for k in range(args.pairs):
            order = (args.a, args.b) if k % 2 == 0 else (args.b, args.a)
            pair = {}
            for app in order:
                before = tree_cpu(servers[app].pid)
                n = wrk(f"http://127.0.0.1:{ports[app]}{args.path}", args.seconds, 1,
                        args.connections)
                time.sleep(0.05)  # the last responses' CPU
                pair[app] = 1e6 * (tree_cpu(servers[app].pid) - before) / n
                costs[app].append(pair[app])
            ratios.append(pair[args.b] / pair[args.a])
            print(f"pair {k + 1}: {args.a} {pair[args.a]:.0f} µs, {args.b} {pair[args.b]:.0f} µs, "
                  f"{args.b}/{args.a} {ratios[-1]:.3f}")
        print(f"{args.path} {args.b}/{args.a}: median {statistics.median(ratios):.3f} "
              f"[{min(ratios):.3f}, {max(ratios):.3f}] over {len(ratios)} pairs; median cost "
              f"{args.a} {statistics.median(costs[args.a]):.0f} µs, "
              f"{args.b} {statistics.median(costs[args.b]):.0f} µs")
        logs = [math.log(r) for r in ratios]
        half = t_quantile(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
        mean = statistics.fmean(logs)
        print(f"{args.path} {args.b}/{args.a} ({args.deployment}): geometric mean "
              f"{math.exp(mean):.3f} [{math.exp(mean - half):.3f}, {math.exp(mean + half):.3f}] "
              f"(95% t-interval on the logs, {len(logs)} pairs)")
    finally:
        for proc in servers.values():
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)


if __name__ == "__main__":
    main()
