"""Parent side of the load generator: starts `python -m harness.loadgen` pinned to the load
CPUs in its own process group, and reads its JSON-line events with a deadline."""
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time

from . import reaper
from .errors import FdbenchError
from .paths import ROOT


class LoadProcess:
    def __init__(self, url, path, users, warmup_s, duration_s, mode="closed", rate=None, cpus=()):
        self.args = ["--host", url, "--path", path, "--users", str(users),
                     "--warmup", str(warmup_s), "--duration", str(duration_s), "--mode", mode]
        if rate:
            self.args += ["--rate", str(rate)]
        self.cpus = set(cpus)
        self.deadline = time.monotonic() + warmup_s + duration_s + 60
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = None

    def start(self):
        with reaper.starting():
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "harness.loadgen", *self.args],
                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
                text=True, start_new_session=True, preexec_fn=reaper.child_setup(self.cpus),
            )
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
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
        finally:
            reaper.kill(self.proc.pid)
            self.proc.wait()
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
