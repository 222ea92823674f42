"""Run one reference app under gunicorn on 127.0.0.1, pinned to its CPUs, and stop it with
every worker. The apps are only ever started as processes: the harness never imports them."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

from ..errors import FdbenchError
from ..paths import APPS, ROOT
from . import reaper
from .db import second_url
from .ports import check_port_free, free_port

# app name -> (directory gunicorn runs in, WSGI callable, extra environment)
APP_SPECS = {
    "flask": (ROOT, "apps.flask_app.wsgi:app", {}),
    "django": (APPS / "django_app", "fdproject.wsgi:application", {}),
    "baseline": (ROOT, "apps.wsgi_baseline.app:application", {}),
}
# (app, variant) -> extra environment; "default" is the app as its community writes it.
VARIANTS = {
    ("flask", "default"): {},
    ("django", "default"): {"DJANGO_SETTINGS_MODULE": "fdproject.settings"},
    ("django", "stripped"): {"DJANGO_SETTINGS_MODULE": "fdproject.settings_stripped"},
    ("baseline", "default"): {},
}
WORKER_CLASSES = ("sync", "gthread")


@dataclass
class ServeConfig:
    app: str
    db_url: str
    variant: str = "default"
    port: int = 0
    workers: int = 1
    worker_class: str = "sync"
    threads: int = 4
    cpus: list = field(default_factory=list)  # empty: no pinning
    python: str = ""   # the interpreter whose gunicorn serves (a release's environment); "": ours

    def validate(self):
        if self.app not in APP_SPECS:
            raise FdbenchError(f"unknown app {self.app!r}: choose from {', '.join(APP_SPECS)}")
        if (self.app, self.variant) not in VARIANTS:
            known = sorted(v for a, v in VARIANTS if a == self.app)
            raise FdbenchError(f"unknown variant {self.variant!r} for {self.app}: choose from {', '.join(known)}")
        if self.worker_class not in WORKER_CLASSES:
            raise FdbenchError(f"unknown worker class {self.worker_class!r}: choose from {', '.join(WORKER_CLASSES)}")
        if self.workers < 1:
            raise FdbenchError("--workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise FdbenchError(f"--port must be between 1 and 65535, not {self.port}")


def gunicorn_command(cfg):
    chdir, target, _ = APP_SPECS[cfg.app]
    cmd = [
        cfg.python or sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{cfg.port}",
        "--workers", str(cfg.workers),
        "--worker-class", cfg.worker_class,
        "--chdir", str(chdir),
        "--log-level", "warning",
        "--graceful-timeout", "3",
    ]
    if cfg.worker_class == "gthread":
        cmd += ["--threads", str(cfg.threads)]
    return cmd + [target]


def server_env(cfg):
    env = dict(os.environ, DATABASE_URL=cfg.db_url, PYTHONUNBUFFERED="1")
    if second := second_url(cfg.db_url):  # the apps' second database (/twodb)
        env["AUDIT_DATABASE_URL"] = second
    env.update(APP_SPECS[cfg.app][2])
    env.update(VARIANTS[(cfg.app, cfg.variant)])
    return env


class Server:
    """A gunicorn master in its own process group: stopping the group stops every worker."""

    def __init__(self, cfg, ready_timeout=30.0):
        cfg.validate()
        if cfg.port:
            check_port_free(cfg.port)
        else:
            cfg.port = free_port()
        self.cfg = cfg
        self.ready_timeout = ready_timeout
        self.proc = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"fdbench-{cfg.app}-", suffix=".log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.cfg.port}"

    def start(self):
        with reaper.starting():
            self.proc = subprocess.Popen(
                gunicorn_command(self.cfg),
                env=server_env(self.cfg),
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=reaper.child_setup(set(self.cfg.cpus)),
            )
            reaper.track(self.proc.pid)
        self.wait_ready()
        return self

    def log_tail(self, lines=8):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()

    def wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FdbenchError(f"gunicorn for {self.cfg.app} exited at start: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/json", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise FdbenchError(f"{self.cfg.app} did not answer on {self.url} within {self.ready_timeout:.0f}s")

    def interrupt(self):
        """Ask gunicorn to shut down without waiting: several servers then stop together."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def stop(self, timeout=5.0):
        """SIGINT (gunicorn's quick shutdown), then SIGKILL to the whole group if it lingers."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:  # also when Ctrl-C lands mid-wait; takes stray workers whose master died
            reaper.kill(self.proc.pid)
            self.proc.wait()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:  # Ctrl-C during the readiness probe too: __exit__ won't run
            self.__exit__()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.log.close()
