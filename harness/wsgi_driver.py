"""The child process that `fdbench instructions` runs under callgrind.

It loads one app's WSGI callable by import string (as gunicorn does, so the harness itself
never imports an app), then forks one child per endpoint, each on a fresh copy of the seeded
database: start-up is paid once per app, and an endpoint's count does not depend on which
other endpoints ran (callgrind follows a fork; each child writes its own files).

A child warms its endpoint up, then runs measured phases. Each phase is one ctypes call, i.e.
one call of libffi's `ffi_call`, which callgrind is told to count inside and dump after
(`--toggle-collect=ffi_call --dump-after=ffi_call`): every dump holds exactly one phase,
without interpreter start-up, imports or shutdown. A phase of 0 requests and a phase of N
requests differ only by the requests, so (N-phase - 0-phase) / N is the cost of one request.
Nothing else may call ctypes in the child: the harness checks that it finds one dump per phase.

Two modes:
- `inprocess`: the callable is called with a prepared environ, as a test client would; this
  is the framework and app alone.
- `served`: gunicorn's own sync worker accepts N pre-connected TCP clients and handles each
  (`SyncWorker.accept`: parse, build environ, call the app, write, close), so the difference
  to `inprocess` is gunicorn's user-space cost per request. The clients connect and send
  before the phase and read after it, so their cost is not counted.

Standard library only (plus gunicorn in `served` mode): this file runs as a script under
`python -P`, so its own directory is not on sys.path (harness modules cannot shadow the
app's imports, and the harness directory's listing cannot move the counts).
"""
import argparse
import ctypes
import gc
import importlib
import io
import json
import os
import random
import shutil
import socket
import sys
import time

SEED = 12345  # the same random ids on every run, so /db and friends do the same work
MARKER = "ffi_call"  # the C function callgrind counts inside and dumps after (every ctypes call)
HOST, PORT = "127.0.0.1", 8000
HEADERS = {"Host": f"{HOST}:{PORT}", "User-Agent": "fdbench", "Accept": "*/*",
           "Accept-Encoding": "gzip, deflate", "Connection": "keep-alive"}
FROZEN_AT = 1_763_000_000  # 2025-11-13 02:13:20 UTC: the clock gunicorn sees in served mode
_phase = {}  # what the marker's code string runs: set before each phase
_timings = {"on": False, "ns": []}  # --timed: each measured phase's CPU nanoseconds, in order


def load_app(import_string, chdir):
    """`module:attribute`, imported from `chdir` the way `gunicorn --chdir` does it."""
    chdir = os.path.abspath(chdir)
    os.chdir(chdir)
    sys.path.insert(0, chdir)
    module, _, attr = import_string.partition(":")
    return getattr(importlib.import_module(module), attr)


def base_environ(target):
    """The environ gunicorn builds for a GET of `target` (path with optional query)."""
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": HOST, "SERVER_PORT": str(PORT), "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": HOST, "REMOTE_PORT": "40000", "RAW_URI": target,
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
    }
    for name, value in HEADERS.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def call_inprocess(app, environ_template, n):
    """N requests straight into the WSGI callable; returns the statuses that were not 200."""
    bad = []
    status = [None]

    def start_response(s, headers, exc_info=None):
        status[0] = s

    for _ in range(n):
        environ = dict(environ_template)
        environ["wsgi.input"] = io.BytesIO(b"")
        body = app(environ, start_response)
        try:
            for _chunk in body:
                pass
        finally:
            if hasattr(body, "close"):
                body.close()
        if not status[0].startswith("200"):
            bad.append(status[0])
    return bad


def freeze_gunicorn_clock():
    """gunicorn formats the current time into every Date header, and formatting 09 and 10
    costs a different number of instructions, so the served count would follow the clock
    (and so would its request timer, below).
    The clock that header reads is frozen at FROZEN_AT with a C callable (as cheap as
    time.time); the formatting still runs in full."""
    import datetime
    import itertools
    import time
    import types

    from gunicorn import util
    from gunicorn.workers import sync

    frozen_time = types.ModuleType("time")
    frozen_time.__dict__.update(time.__dict__)
    frozen_time.time = itertools.repeat(float(FROZEN_AT)).__next__
    util.time = frozen_time
    # The sync worker times each request with datetime.now() twice; subtracting two real
    # times borrows (or not) across the microsecond field, a dozen instructions either way.
    frozen = datetime.datetime.fromtimestamp(FROZEN_AT)
    sync.datetime = type("datetime", (datetime.datetime,), {"now": itertools.repeat(frozen).__next__})


class ServedHarness:
    """gunicorn's SyncWorker, built without forking, on a real loopback listener."""

    def __init__(self, app):
        from gunicorn.config import Config
        from gunicorn.glogging import Logger
        from gunicorn.workers.sync import SyncWorker

        freeze_gunicorn_clock()
        cfg = Config()
        self.listener = socket.create_server((HOST, 0), backlog=1024)
        self.worker = SyncWorker(0, os.getppid(), [self.listener], None, 30, cfg, Logger(cfg))
        self.worker.wsgi = app

    def connect(self, target, n):
        """N clients that have sent their request and half-closed, waiting in the backlog."""
        request = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
        clients = []
        for _ in range(n):
            client = socket.create_connection(self.listener.getsockname())
            client.sendall((request + "\r\n").encode())
            client.shutdown(socket.SHUT_WR)
            clients.append(client)
        return clients

    def accept(self, n):
        for _ in range(n):
            self.worker.accept(self.listener)

    @staticmethod
    def collect(clients):
        """Read every response; returns the status lines that were not 200."""
        bad = []
        for client in clients:
            data = b"".join(iter(lambda: client.recv(65536), b""))
            client.close()
            status = data.split(b"\r\n", 1)[0].decode(errors="replace")
            if " 200 " not in status + " ":
                bad.append(status or "no response")
        return bad


def run_phase(fn):
    """Run `fn` inside the marker function, so callgrind counts it and dumps right after
    (or, with `--timed`, time it: see timed_phase).

    The cyclic garbage collector is off during the phase: its runs fall wherever allocation
    thresholds happen to fall, and the work they find depends on the heap's layout; with it on,
    Flask /db moved by 2.9% with nothing changed but the list of endpoints. Reference counting
    still frees everything that is not in a cycle, and that is counted."""
    random.seed(SEED)
    gc.collect()
    gc.disable()
    if _timings["on"]:
        try:
            return timed_phase(fn)
        finally:
            gc.enable()
    _phase["fn"] = fn
    api = ctypes.pythonapi
    api.PyRun_SimpleStringFlags.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    try:
        failed = api.PyRun_SimpleStringFlags(b"_phase['result'] = _phase['fn']()", None)
    finally:
        gc.enable()
    if failed:
        raise SystemExit("a measured phase raised (traceback above)")
    return _phase.pop("result")


def timed_phase(fn):
    """The same phase run natively, its thread's CPU time (user + kernel, to the nanosecond)
    recorded: what the phase callgrind counts costs on the real CPU."""
    start = time.thread_time_ns()
    result = fn()
    _timings["ns"].append(time.thread_time_ns() - start)
    return result


def inprocess_phases(app, target, n, warmup):
    template = base_environ(target)
    random.seed(SEED)
    bad = call_inprocess(app, template, warmup)
    for count in (0, n):
        bad += run_phase(lambda count=count: call_inprocess(app, template, count))
    return bad


def served_phases(app, target, n, warmup):
    served = ServedHarness(app)
    random.seed(SEED)
    clients = served.connect(target, warmup)
    served.accept(warmup)
    bad = served.collect(clients)
    for count in (0, n):
        clients = served.connect(target, count)
        run_phase(lambda count=count: served.accept(count))
        bad += served.collect(clients)
    return bad


def reset_db(template, url):
    """A fresh copy of the seeded SQLite file for every endpoint, so /updates repeats exactly."""
    path = url.removeprefix("sqlite:///")
    for stale in (path + "-wal", path + "-shm"):
        if os.path.exists(stale):
            os.remove(stale)
    shutil.copyfile(template, path)


def db_is_open(url):
    """True if this process holds the database file open: a fork would share the handle."""
    path = os.path.realpath(url.removeprefix("sqlite:///"))
    fds = "/proc/self/fd"
    return any(os.path.realpath(os.path.join(fds, fd)) == path for fd in os.listdir(fds))


def measure_endpoint(app, target, args):
    """In a forked child: every mode's warm-up and phases; exits 0, or 1 on a non-200."""
    phases, bad, cpu_ns = [], [], {}
    for mode in args.modes.split(","):
        run = {"inprocess": inprocess_phases, "served": served_phases}[mode]
        for _ in range(args.timed or 1):
            bad += run(app, target, args.requests, args.warmup)
            if args.timed:  # the phase of N requests is the last one run
                cpu_ns.setdefault(mode, []).append(_timings["ns"][-1])
        phases += [[mode, 0], [mode, args.requests]]
    if bad:
        print(f"{target}: responses were not 200: {sorted(set(bad))}", file=sys.stderr)
        return 1
    line = {"target": target, "pid": os.getpid(), "phases": phases}
    print(json.dumps({**line, "cpu_ns": cpu_ns} if args.timed else line), flush=True)
    return 0


def prepare_parent(app, args):
    """Work every child would repeat, done once before forking: gunicorn's imports and the
    framework's first-request set-up (a /json request, which touches no database). The same
    for every endpoint list, so a count never depends on which other endpoints were chosen."""
    if "served" in args.modes:
        import gunicorn.workers.sync  # noqa: F401
    random.seed(SEED)
    bad = call_inprocess(app, base_environ("/json"), args.warmup)
    if bad:
        raise SystemExit(f"/json warm-up failed: {bad[0]}")


def run_forked(app, target, args):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = measure_endpoint(app, target, args)
        finally:
            sys.stdout.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="WSGI callable as module:attribute")
    parser.add_argument("targets", nargs="+", help="request paths with optional query, e.g. /queries?queries=20")
    parser.add_argument("--chdir", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--modes", default="inprocess,served")
    parser.add_argument("--db-template", help="seeded SQLite file copied to DATABASE_URL per endpoint")
    parser.add_argument("--timed", type=int, default=0, metavar="ROUNDS",
                        help="run natively: time each N-request phase, ROUNDS times per mode")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    _timings["on"] = bool(args.timed)
    url = os.environ["DATABASE_URL"]
    app = load_app(args.app, args.chdir)
    prepare_parent(app, args)
    if args.db_template and db_is_open(url):
        raise SystemExit(f"{args.app} opened the database before the fork: cannot fork per endpoint")
    for target in args.targets:
        if args.db_template:
            reset_db(args.db_template, url)
        if run_forked(app, target, args) != 0:
            raise SystemExit(f"{target}: measurement failed")


if __name__ == "__main__":
    main()
