"""The load generator, run as its own process (`python -m harness.run.loadgen ...`) pinned to the
load CPUs. Locust (and gevent's monkey-patching) lives only here, never in the parent.

Talks to the parent by JSON lines on stdout: {"event": "measure-start"} when the warm-up is
over, {"event": "measure-end"} when the window closes, then {"event": "result", ...}.
With --alternate it serves slices on command instead (see run_alternate)."""
import argparse
import json
import sys
import time
from urllib.parse import urlsplit

from gevent import monkey

monkey.patch_all()

import gevent  # noqa: E402
from gevent.fileobject import FileObject  # noqa: E402
from locust import events  # noqa: E402
from locust.env import Environment  # noqa: E402

from harness import histogram  # noqa: E402
from scenarios.users import (ClosedLoopUser, LeanUser, OpenLoopUser, Schedule, Slice,  # noqa: E402
                             Turns)

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class Recorder:
    """Every request's time into an HdrHistogram, only while the window is open; per server
    too when a paired trial sends to several (`by_server`: index -> [requests, errors, hist])."""

    def __init__(self, open_loop, servers=1):
        self.hist = histogram.new()
        self.open_loop = open_loop
        self.measuring = False
        self.by_server = {i: [0, 0, histogram.new()] for i in range(servers)}

    @property
    def requests(self):
        return sum(counts[0] for counts in self.by_server.values())

    @property
    def errors(self):
        return sum(counts[1] for counts in self.by_server.values())

    def on_request(self, response_time, exception=None, context=None, **_):
        if not self.measuring:
            return
        counts = self.by_server[(context or {}).get("server", 0)]
        counts[0] += 1
        if exception is not None:
            counts[1] += 1
        elif not self.open_loop:
            histogram.record(self.hist, response_time * 1000.0)

    def on_intended(self, micros, server=0):
        if self.measuring:
            histogram.record(self.hist, micros)
            histogram.record(self.by_server[server][2], micros)

    def servers(self):
        return [{"requests": r, "errors": e, "histogram": histogram.encode(h)}
                for _, (r, e, h) in sorted(self.by_server.items())]


def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def user_class(args, recorder):
    if args.mode == "open":
        urls = tuple(args.host) if len(args.host) > 1 else ()
        schedule = Schedule(args.rate * len(args.host), recorder.on_intended, len(args.host))
        return type("Open", (OpenLoopUser,), {"path": args.path, "schedule": schedule, "urls": urls})
    return type("Closed", (ClosedLoopUser,), {"path": args.path})


def locust_percentiles(stats):
    """locust's own figures (ms, rounded), kept only to cross-check the histogram."""
    total = stats.total
    return {"p50": total.get_response_time_percentile(0.5),
            "p90": total.get_response_time_percentile(0.9),
            "p99": total.get_response_time_percentile(0.99),
            "requests": total.num_requests, "failures": total.num_failures}


def run(args):
    recorder = Recorder(open_loop=args.mode == "open", servers=len(args.host))
    events.request.add_listener(recorder.on_request)
    env = Environment(user_classes=[user_class(args, recorder)], events=events, host=args.host[0])
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=100)  # all users within the warm-up
    gevent.sleep(args.warmup)
    env.stats.reset_all()
    recorder.measuring = True
    cpu0, t0 = time.process_time(), time.perf_counter()
    emit(event="measure-start")
    gevent.sleep(args.duration)
    recorder.measuring = False
    cpu1, t1 = time.process_time(), time.perf_counter()
    emit(event="measure-end")
    runner.quit()
    elapsed = t1 - t0
    emit(event="result", requests=recorder.requests, errors=recorder.errors,
         elapsed_s=round(elapsed, 4), generator_cpu_pct=round(100 * (cpu1 - cpu0) / elapsed, 1),
         histogram=histogram.encode(recorder.hist), locust=locust_percentiles(env.stats),
         **({"servers": recorder.servers()} if len(args.host) > 1 else {}))


def fire_failure(path, reason):
    """Failures still reach locust's stats; successes go straight to the slice's histogram."""
    events.request.fire(request_type="GET", name=path, response_time=0, response_length=0,
                        exception=reason, context={})


def serve_slice(turns, command, keepalive=False):
    """One server's turn, as the parent asked for it; its figures once its last request is in.
    With keep-alive users, also the connections they opened to it, lost and retried on (see
    scenarios/keepalive.py), and every connection to it closed once the turn is drained."""
    hist = histogram.new()
    cpu0 = time.process_time()
    server = int(command["server"])
    before = turns.connection_counts(server) if keepalive else None
    slice_ = Slice(server, float(command["seconds"]), command.get("rate"),
                   lambda micros: histogram.record(hist, micros))
    turns.open(slice_)
    gevent.sleep(max(0.0, slice_.end - time.perf_counter()))
    turns.close()
    elapsed = time.perf_counter() - slice_.start
    cpu_pct = round(100 * (time.process_time() - cpu0) / elapsed, 1)
    connections = {}
    if keepalive:
        after = turns.connection_counts(server)
        turns.hang_up(server)
        connections = dict(zip(("connections", "reconnects", "retries"),
                               (a - b for a, b in zip(after, before))))
    emit(event="slice", requests=slice_.requests, errors=slice_.errors,
         elapsed_s=round(elapsed, 4), sent_s=round(slice_.end - slice_.start, 4),
         generator_cpu_pct=cpu_pct, histogram=histogram.encode(hist), locust=None,
         **connections)


def run_alternate(args):
    """Every --host stays known, but only one gets requests at any instant: each stdin line
    {"server": i, "seconds": s, "rate": r or null} opens that server's turn, answered by an
    {"event": "slice", ...} line once the turn is over and drained. An empty line or the end of
    stdin stops the generator."""
    turns = Turns()
    user = type("Lean", (LeanUser,), {"path": args.path, "urls": tuple(args.host), "turns": turns,
                                      "keepalive": args.keepalive,
                                      "on_failure": staticmethod(fire_failure)})
    env = Environment(user_classes=[user], events=events, host=args.host[0])
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=10_000)
    while runner.user_count < args.users:
        gevent.sleep(0.01)
    emit(event="ready")
    for line in FileObject(sys.stdin.fileno(), "r", close=False):
        if not line.strip():
            break
        serve_slice(turns, json.loads(line), args.keepalive)
    runner.quit()


def parser(prog="harness.run.loadgen", required=True):
    """The load's options, shared with the distributed master (harness/run/distributed.py)."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--host", required=required, action="append",
                   help="base URL; repeated for a paired trial (open loop: the rate goes to each)")
    p.add_argument("--path", required=required)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--mode", choices=("closed", "open"), default="closed")
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--alternate", action="store_true",
                   help="serve slices on command from stdin, one --host at a time (lean users)")
    p.add_argument("--keepalive", action="store_true",
                   help="with --alternate: one persistent connection per user and server, for "
                        "servers that keep connections alive (default: one per request)")
    return p


def is_loopback(url):
    return urlsplit(url or "").hostname in LOOPBACK


def check(p, args):
    for host in args.host or [None]:
        if not is_loopback(host):
            p.error(f"load only goes to this machine's loopback, not {host}")
    if len(args.host or ()) > 1 and args.mode != "open" and not getattr(args, "alternate", False):
        p.error("several --host only in open loop (a paired trial) or with --alternate")
    if getattr(args, "keepalive", False) and not getattr(args, "alternate", False):
        p.error("--keepalive only with --alternate (FastHttpUser keeps connections open already)")
    if args.mode == "open" and args.rate <= 0:
        p.error("--mode open needs --rate > 0")
    if not (0 < args.duration <= 600 and 0 <= args.warmup <= 600 and 1 <= args.users <= 1024):
        p.error("duration, warm-up or users out of bounds")
    return args


def parse(argv):
    p = parser()
    return check(p, p.parse_args(argv))


if __name__ == "__main__":
    arguments = parse(sys.argv[1:])
    run_alternate(arguments) if arguments.alternate else run(arguments)
