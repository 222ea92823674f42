"""Locust's own master/worker mode, for load one generator process cannot give. Run as

    python -m harness.distributed master --host URL --path PATH --workers N --port P ...
    python -m harness.distributed worker --master-host HOST --master-port P [--once]

The master (a locust MasterRunner) talks to the parent like run/loadgen.py does, by JSON lines
on stdout, and sends no load itself. It opens and closes the measured window with custom
messages; each worker (a WorkerRunner) records its own HdrHistogram, counts and CPU time over
that window and sends them back, and the master merges them into one result.

A worker only ever loads its own loopback, whatever a master asks: one joined from another
machine reaches the app through an SSH tunnel to its own 127.0.0.1. Without --once a worker
serves one master after another (a bench run starts one per trial) until it is stopped."""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from locust.env import Environment  # noqa: E402

from harness import histogram  # noqa: E402
from harness.run.loadgen import Recorder, check, emit, is_loopback, parser  # noqa: E402
from scenarios.users import ClosedLoopUser, OpenLoopUser, Schedule  # noqa: E402

# locust custom messages: master -> workers, then workers -> master
CONFIG, START, END = "fd-config", "fd-window-start", "fd-window-end"
RESULT, REFUSED = "fd-result", "fd-refused"
RESULT_TIMEOUT_S = 30.0


# --- worker ----------------------------------------------------------------------------------

class LoopbackOnly:
    """No user is ever created for a host other than this machine's loopback."""

    def __init__(self, environment):
        if not is_loopback(self.host):
            refuse(environment.runner, self.host)
        super().__init__(environment)


def refuse(runner, host):
    reason = f"a worker loads only its own loopback, not {host}: use an SSH tunnel"
    sys.stderr.write(f"harness.distributed: {reason}\n")
    runner.send_message(REFUSED, reason)
    gevent.sleep(0.5)  # let the message leave
    os._exit(2)


def serve_master(args):
    """Connect to a master, run its trial, return when it quits."""
    closed = type("Closed", (LoopbackOnly, ClosedLoopUser), {})
    opened = type("Open", (LoopbackOnly, OpenLoopUser), {})
    env = Environment(user_classes=[closed, opened])
    recorder = Recorder(open_loop=False)
    env.events.request.add_listener(recorder.on_request)
    runner = env.create_worker_runner(args.master_host, args.master_port)
    window = {}

    def on_config(msg, **_):
        closed.path = opened.path = msg.data["path"]
        recorder.open_loop = msg.data["mode"] == "open"
        if recorder.open_loop:
            opened.schedule = Schedule(msg.data["rate"], recorder.on_intended)

    def on_start(**_):
        recorder.measuring = True
        window["cpu"], window["t"] = time.process_time(), time.perf_counter()

    def on_end(**_):
        recorder.measuring = False
        cpu, elapsed = time.process_time() - window["cpu"], time.perf_counter() - window["t"]
        runner.send_message(RESULT, {
            "host": socket.gethostname(), "cpus": len(os.sched_getaffinity(0)),
            "requests": recorder.requests, "errors": recorder.errors, "cpu_s": cpu,
            "elapsed_s": elapsed, "histogram": histogram.encode(recorder.hist)})

    runner.register_message(CONFIG, on_config)
    runner.register_message(START, on_start)
    runner.register_message(END, on_end)
    runner.greenlet.join()  # until the master's quit
    runner.client.close()


def run_worker(args):
    while True:
        try:
            serve_master(args)
        except ConnectionError:  # no master within locust's connect retries
            if args.once:
                raise SystemExit(f"no master answered at {args.master_host}:{args.master_port}")
        if args.once:
            return


# --- master ----------------------------------------------------------------------------------

class Master:
    def __init__(self, args):
        self.args = args
        # named as the workers' classes: the master dispatches users by class name
        name, user = ("Closed", ClosedLoopUser) if args.mode == "closed" else ("Open", OpenLoopUser)
        env = Environment(user_classes=[type(name, (user,), {})], host=args.host)
        self.runner = env.create_master_runner(args.bind, args.port)
        self.results, self.refused = {}, []
        self.runner.register_message(
            RESULT, lambda msg, **_: self.results.setdefault(msg.node_id, msg.data))
        self.runner.register_message(REFUSED, lambda msg, **_: self.refused.append(msg.data))

    def wait_until(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.refused:
                raise SystemExit(f"a worker refused: {self.refused[0]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out after {timeout:g}s waiting for {what}")
            gevent.sleep(0.05)

    def sleep(self, seconds):
        end = time.monotonic() + seconds
        self.wait_until(lambda: time.monotonic() >= end, seconds + 1, "the clock")

    def run(self):
        a, runner = self.args, self.runner
        self.wait_until(lambda: runner.worker_count >= a.workers, a.join_timeout,
                        f"{a.workers} locust workers to join on port {a.port}")
        n = runner.worker_count
        runner.send_message(CONFIG, {"path": a.path, "mode": a.mode, "rate": a.rate / n})
        runner.start(a.users, spawn_rate=100)  # all users within the warm-up
        self.sleep(a.warmup)
        runner.send_message(START)
        cpu0, t0 = time.process_time(), time.perf_counter()
        emit(event="measure-start", workers=n)
        self.sleep(a.duration)
        runner.send_message(END)
        cpu1, t1 = time.process_time(), time.perf_counter()
        emit(event="measure-end")
        self.wait_until(lambda: len(self.results) >= n, RESULT_TIMEOUT_S, "the workers' results")
        runner.quit()
        emit(event="result", **merge(list(self.results.values()), cpu1 - cpu0, t1 - t0))


def generator_cores(results):
    """Cores the workers could use: per machine, one per worker up to the CPUs it may run on."""
    hosts = {}
    for r in results:
        hosts.setdefault(r["host"], []).append(r["cpus"])
    return sum(min(len(cpus), max(cpus)) for cpus in hosts.values())


def merge(results, master_cpu_s, elapsed):
    cpu = master_cpu_s + sum(r["cpu_s"] for r in results)
    return {
        "requests": sum(r["requests"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "elapsed_s": round(elapsed, 4),
        "generator_cpu_pct": round(100 * cpu / elapsed, 1),
        "histogram": histogram.encode(histogram.merge(r["histogram"] for r in results)),
        "locust": None,  # workers report locust's stats every 3 s, not at the window's edges
        "generator": {
            "processes": len(results) + 1, "workers": len(results), "cores": generator_cores(results),
            "master_cpu_pct": round(100 * master_cpu_s / elapsed, 1),
            "per_worker": [{"host": r["host"], "requests": r["requests"], "errors": r["errors"],
                            "cpu_pct": round(100 * r["cpu_s"] / r["elapsed_s"], 1)} for r in results],
        },
    }


# --- command line ----------------------------------------------------------------------------

def parse_master(argv):
    p = parser(prog="harness.distributed master")
    p.add_argument("--workers", type=int, required=True, help="workers to wait for")
    p.add_argument("--port", type=int, default=5557)
    p.add_argument("--bind", default="127.0.0.1", help="interface workers connect to (* for all)")
    p.add_argument("--join-timeout", type=float, default=60.0)
    args = check(p, p.parse_args(argv))
    if not 1 <= args.workers <= 256:
        p.error("--workers out of bounds")
    if len(args.host) > 1:
        p.error("a paired trial (several --host) runs in one locust process, not master/worker")
    args.host = args.host[0]
    return args


def parse_worker(argv):
    p = argparse.ArgumentParser(prog="harness.distributed worker")
    p.add_argument("--master-host", default="127.0.0.1")
    p.add_argument("--master-port", type=int, default=5557)
    p.add_argument("--once", action="store_true", help="serve one master, then exit")
    return p.parse_args(argv)


def main(argv):
    role, *rest = argv or ["?"]
    if role == "master":
        Master(parse_master(rest)).run()
    elif role == "worker":
        run_worker(parse_worker(rest))
    else:
        raise SystemExit("usage: python -m harness.distributed master|worker ...")


if __name__ == "__main__":
    main(sys.argv[1:])
