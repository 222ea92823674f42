"""Parent side of the load generator: starts `python -m harness.run.loadgen` pinned to the load
CPUs in its own process group, and reads its JSON-line events with a deadline. With several
generator processes: a locust master (`python -m harness.distributed master`, which reports the
same events) and its local workers, each in its own tracked process group."""
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from ..errors import FdbenchError
from ..infra import reaper
from ..infra.ports import free_port
from ..paths import ROOT


class LoadProcess:
    stdin = subprocess.DEVNULL  # the alternating generator takes its slices on stdin

    def __init__(self, url, path, users, warmup_s, duration_s, mode="closed", rate=None, cpus=(),
                 keepalive=False):
        """url: the server's base URL, or a list of them for a paired trial (open loop).
        keepalive: the lean users keep one connection per server (alternating slices only;
        the default one-shot client is the one for servers that close every connection)."""
        hosts = [url] if isinstance(url, str) else list(url)
        self.args = [*(a for u in hosts for a in ("--host", u)), "--path", path, "--users", str(users),
                     "--warmup", str(warmup_s), "--duration", str(duration_s), "--mode", mode]
        if rate:
            self.args += ["--rate", str(rate)]
        if keepalive:
            self.args.append("--keepalive")
        self.cpus = set(cpus)
        self.deadline = time.monotonic() + warmup_s + duration_s + 60
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = None

    def command(self):
        return [sys.executable, "-m", "harness.run.loadgen", *self.args]

    def popen(self, cmd, stdout, stderr):
        """A child in a new session (its own process group), pinned to the load CPUs."""
        return subprocess.Popen(cmd, cwd=ROOT, stdin=self.stdin, stdout=stdout,
                                stderr=stderr, text=True, start_new_session=True,
                                preexec_fn=reaper.child_setup(self.cpus))

    def start(self):
        with reaper.starting():
            self.proc = self.popen(self.command(), subprocess.PIPE, self.stderr)
            reaper.track(self.proc.pid)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.proc.stdout, selectors.EVENT_READ)
        return self

    def stderr_tail(self, lines=6):
        self.stderr.seek(0)
        return " | ".join(self.stderr.read().strip().splitlines()[-lines:])

    def expect(self, name):
        """Block until the generator reports `name`; return that event."""
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or not self.selector.select(remaining):
                raise FdbenchError(f"load generator timed out waiting for {name}")
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                raise FdbenchError(f"load generator exited ({self.proc.returncode}): {self.stderr_tail()}")
            event = json.loads(line)
            if event.get("event") == name:
                return event

    def stop(self):
        if self.proc is None:
            return
        end(self.proc)
        self.proc.stdout.close()
        self.stderr.close()
        self.selector.close()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def end(proc):
    """SIGTERM to the child's group, SIGKILL if it lingers; it is untracked once gone."""
    try:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    finally:
        reaper.kill(proc.pid)
        proc.wait()


@dataclass(frozen=True)
class Generators:
    """How load is generated: one locust process (the default), or locust's master/worker
    mode with `processes` local workers plus `remote` workers joining from other machines."""
    processes: int = 1
    remote: int = 0
    master_port: int | None = None  # None: a free port (local workers only)

    @property
    def distributed(self):
        return self.processes > 1 or self.remote > 0


class DistributedLoad(LoadProcess):
    """A locust master, which reports to us as LoadProcess's generator does, and its local
    workers. With remote workers the master listens on every interface at a fixed port."""

    JOIN_TIMEOUT_S = 120

    def __init__(self, url, path, users, warmup_s, duration_s, mode="closed", rate=None, cpus=(),
                 generators=Generators(2)):
        super().__init__(url, path, users, warmup_s, duration_s, mode, rate, cpus)
        self.port = generators.master_port or free_port()
        self.local = generators.processes
        bind = "*" if generators.remote else "127.0.0.1"
        self.args += ["--workers", str(generators.processes + generators.remote),
                      "--port", str(self.port), "--bind", bind,
                      "--join-timeout", str(self.JOIN_TIMEOUT_S)]
        self.deadline += self.JOIN_TIMEOUT_S
        self.workers = []
        self.worker_stderr = []

    def command(self):
        return [sys.executable, "-m", "harness.distributed", "master", *self.args]

    def start(self):
        super().start()
        worker = [sys.executable, "-m", "harness.distributed", "worker", "--master-host",
                  "127.0.0.1", "--master-port", str(self.port), "--once"]
        for _ in range(self.local):
            stderr = tempfile.TemporaryFile(mode="w+")
            self.worker_stderr.append(stderr)
            with reaper.starting():
                self.workers.append(self.popen(worker, subprocess.DEVNULL, stderr))
                reaper.track(self.workers[-1].pid)
        return self

    def stderr_tail(self, lines=6):
        tails = [super().stderr_tail(lines)]
        for i, f in enumerate(self.worker_stderr):
            f.seek(0)
            text = " | ".join(f.read().strip().splitlines()[-2:])
            tails += [f"worker {i + 1}: {text}"] if text else []
        return " | ".join(t for t in tails if t)

    def stop(self):
        try:
            for proc in self.workers:
                end(proc)
        finally:
            super().stop()
            for f in self.worker_stderr:
                f.close()


def load_process(url, path, users, warmup_s, duration_s, mode, rate, cpus, generators=None):
    """The load generator for one trial: today's single process unless asked for more."""
    if generators is None or not generators.distributed:
        return LoadProcess(url, path, users, warmup_s, duration_s, mode, rate, cpus)
    return DistributedLoad(url, path, users, warmup_s, duration_s, mode, rate, cpus, generators)
