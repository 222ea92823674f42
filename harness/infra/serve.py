"""Run one reference app on 127.0.0.1 under one of the deployments (gunicorn by default),
pinned to its CPUs, and stop it with every worker and proxy. The apps are only ever started as
processes: the harness never imports them."""
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace

from ..errors import FdbenchError
from ..paths import APPS, ROOT
from . import deployments, reaper
from .nginx import Proxy
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
    ("flask", "orjson"): {"FDBENCH_APP_JSON": "orjson"},
    ("django", "orjson"): {"DJANGO_SETTINGS_MODULE": "fdproject.settings", "FDBENCH_APP_JSON": "orjson"},
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
    threads: int = 0   # gthread's threads per worker; 0: gunicorn's documented 4 x server CPUs
    cpus: list = field(default_factory=list)  # empty: no pinning
    python: str = ""   # the interpreter whose gunicorn serves (a release's environment); "": ours
    deployment: str = deployments.DEFAULT

    def validate(self):
        if self.app not in APP_SPECS:
            raise FdbenchError(f"unknown app {self.app!r}: choose from {', '.join(APP_SPECS)}")
        if (self.app, self.variant) not in VARIANTS:
            known = sorted(v for a, v in VARIANTS if a == self.app)
            raise FdbenchError(f"unknown variant {self.variant!r} for {self.app}: choose from {', '.join(known)}")
        if self.worker_class not in WORKER_CLASSES:
            raise FdbenchError(f"unknown worker class {self.worker_class!r}: choose from {', '.join(WORKER_CLASSES)}")
        deployments.get(self.deployment)
        if self.workers < 1:
            raise FdbenchError("--workers must be at least 1")
        if not 0 <= self.port <= 65535:
            raise FdbenchError(f"--port must be between 1 and 65535, not {self.port}")


def gunicorn_command(cfg):
    """gunicorn's command line as `gunicorn-sync` starts it."""
    return deployments.gunicorn_command(cfg, app_target(cfg), cfg.port)


def app_target(cfg):
    chdir, target, _ = APP_SPECS[cfg.app]
    return deployments.AppTarget(chdir, target)


def server_env(cfg):
    env = dict(os.environ, DATABASE_URL=cfg.db_url, PYTHONUNBUFFERED="1")
    if second := second_url(cfg.db_url):  # the apps' second database (/twodb)
        env["AUDIT_DATABASE_URL"] = second
    env.update(APP_SPECS[cfg.app][2])
    env.update(VARIANTS[(cfg.app, cfg.variant)])
    return env


class Server:
    """The app server of cfg.deployment (and its proxy, if it has one), each in its own process
    group: stopping the groups stops every worker. `proc` is the app server's first process
    (gunicorn's master); `pids` lists every process tree whose CPU is the server's cost."""

    def __init__(self, cfg, ready_timeout=30.0):
        cfg.validate()
        if cfg.port:
            check_port_free(cfg.port)
        else:
            cfg.port = free_port()
        self.deployment = deployments.get(cfg.deployment)
        self.cfg = replace(cfg, workers=deployments.workers(self.deployment, cfg))
        self.ready_timeout = ready_timeout
        self.proc = None
        self.proxy = None  # nginx's Proxy, for a proxy deployment
        self.procs = []
        self.log = tempfile.NamedTemporaryFile(prefix=f"fdbench-{cfg.app}-", suffix=".log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.cfg.port}"

    @property
    def pids(self):
        """The root of each process tree started: app server, then the proxy if any."""
        return [proc.pid for proc in self.procs]

    def start(self):
        deployments.check_installed(self.deployment, self.cfg)
        server = deployments.app_server(self.deployment)
        backend_port = free_port() if self.deployment.behind else self.cfg.port
        if self.deployment.behind:
            self.proxy = Proxy(self.cfg.port, backend_port)
        chdir = APP_SPECS[self.cfg.app][0]
        self.proc = self._spawn(server.command(self.cfg, app_target(self.cfg), backend_port),
                                server_env(self.cfg), chdir)
        if self.proxy:
            self._spawn(self.proxy.command(), dict(os.environ), self.proxy.dir)
        self.wait_ready()
        return self

    def _spawn(self, argv, env, cwd):
        with reaper.starting():
            proc = subprocess.Popen(
                argv, env=env, cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=reaper.child_setup(set(self.cfg.cpus)),
            )
            self.procs.append(proc)
            reaper.track(proc.pid)
        return proc

    def describe(self):
        """What was started, for run.json and each trial."""
        server = deployments.app_server(self.deployment)
        record = {
            "deployment": self.deployment.name,
            "server": server.process,
            "server_version": deployments.version_of(server.distribution, self.cfg),
            "workers": self.cfg.workers,
            "workers_advice": self.deployment.workers_advice or None,
            "threads": deployments.threads_of(self.deployment, self.cfg),
            "keep_alive": self.deployment.keep_alive,
            "server_headers": self.deployment.server_headers,
            "source": self.deployment.source,
        }
        if self.proxy:
            record.update(proxy="nginx", proxy_version=self.proxy.version(), proxy_workers=1,
                          proxy_behind=server.name, upstream_keep_alive=server.keep_alive)
        return record

    def log_tail(self, lines=8):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            tail = "".join(f.readlines()[-lines:]).strip()
        if self.proxy and not tail:
            tail = self.proxy.log_tail(lines)
        return tail

    def exited(self):
        """The first started process that has exited, or None while all run."""
        return next((proc for proc in self.procs if proc.poll() is not None), None)

    def wait(self, poll=0.2):
        """Block until one of the processes exits; returns (its program name, exit code)."""
        while (proc := self.exited()) is None:
            time.sleep(poll)
        return self.name_of(proc), proc.returncode

    def name_of(self, proc):
        return "nginx" if proc is not self.proc else deployments.app_server(self.deployment).process

    def wait_ready(self):
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if (proc := self.exited()) is not None:
                raise FdbenchError(f"{self.name_of(proc)} for {self.cfg.app} exited at start: {self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/json", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise FdbenchError(f"{self.cfg.app} did not answer on {self.url} within {self.ready_timeout:.0f}s")

    def interrupt(self):
        """Ask every process to shut down without waiting: several servers then stop together."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # gunicorn's, Granian's and uWSGI's quick stop, nginx's fast one

    def stop(self, timeout=5.0):
        """SIGINT (a quick shutdown for each), then SIGKILL to every group if one lingers."""
        try:
            self.interrupt()
            deadline = time.monotonic() + timeout
            for proc in self.procs:
                proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        finally:  # also when Ctrl-C lands mid-wait; takes stray workers whose master died
            for proc in self.procs:
                reaper.kill(proc.pid)
                proc.wait()
            if self.proxy:
                self.proxy.remove()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:  # Ctrl-C during the readiness probe too: __exit__ won't run
            self.__exit__()
            raise

    def __exit__(self, *exc):
        self.stop()
        self.log.close()
