"""The ways fdbench can serve an app, each defined once: how its command line is built, whether
it keeps connections alive, what it records. Every deployment is started as its own
documentation recommends and the same for every app, so that a difference between two apps
under one deployment is the apps', and a difference between deployments is the server's.

Thread and worker counts follow the servers' documents (quoted where they are used); the
worker count itself is fdbench's setting (`workers`, one per server CPU by default), because the
documented rules (gunicorn: 2-4 x cores) are for machines that serve nothing else, and here the
server's CPUs are a measured budget. `NAME@N` is NAME with N worker processes per server CPU,
so the documented count can be measured beside one worker in the same run (`gunicorn-sync@3`
is gunicorn's "(2 x cores) + 1" on the one CPU a 2-core machine gives the server)."""
import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import FdbenchError

DEFAULT = "gunicorn-sync"
# gunicorn's settings page on `threads` and `workers`: "A positive integer generally in the
# 2-4 x $(NUM_CORES) range" (docs.gunicorn.org/en/stable/settings.html#threads). We take the
# top of that range for threads, which is also the design page's example (`-k gthread
# --threads 4`): requests here block on the database, where a thread lets another one run.
GTHREAD_THREADS_PER_CORE = 4
GUNICORN_WORKERS = ("2-4 x cores (docs.gunicorn.org settings#workers); (2 x cores) + 1 to start "
                    "with (design.html#how-many-workers)")


@dataclass(frozen=True)
class AppTarget:
    """Where a WSGI app is imported from: its folder and its `module:callable`."""
    chdir: Path
    target: str


@dataclass(frozen=True)
class Deployment:
    name: str
    process: str          # the program's name in messages ("gunicorn for django exited ...")
    distribution: str     # whose version is recorded
    keep_alive: bool      # does the client-facing server keep connections open
    command: object       # (cfg, AppTarget, port) -> argv of the app server
    source: str           # where its settings come from
    behind: str = ""      # a proxy deployment: the deployment it forwards to
    workers_advice: str = ""  # the server's documented worker count, where it documents one
    server_headers: bool = True  # adds Date and Server to every response, as TechEmpower requires
    workers_per_cpu: int = 0  # NAME@N: N workers per server CPU, whatever --workers says; 0: --workers


def server_threads(cfg):
    """gthread's threads per worker: cfg.threads, else the documented 4 x the server's CPUs
    (4 with the one CPU a bench gives the server on a 2-core machine)."""
    return cfg.threads or GTHREAD_THREADS_PER_CORE * len(cfg.cpus or os.sched_getaffinity(0))


def gunicorn_command(cfg, app, port):
    """gunicorn as fdbench always started it: `gunicorn-sync` must not change by a byte."""
    cmd = [
        cfg.python or sys.executable, "-m", "gunicorn",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(cfg.workers),
        "--worker-class", cfg.worker_class,
        "--chdir", str(app.chdir),
        "--log-level", "warning",
        "--graceful-timeout", "3",
    ]
    if cfg.worker_class == "gthread":
        cmd += ["--threads", str(server_threads(cfg))]
    return cmd + [app.target]


def gthread_command(cfg, app, port):
    """The gthread worker keeps connections alive (gunicorn's default --keep-alive, 2 s)."""
    return gunicorn_command(replace(cfg, worker_class="gthread"), app, port)


def granian_command(cfg, app, port):
    """Granian's WSGI interface with its defaults: HTTP/1.1 keep-alive on, access log off,
    blocking threads per worker as Granian sizes them for WSGI (its backpressure / 2)."""
    return [
        cfg.python or sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", str(cfg.workers),
        "--working-dir", str(app.chdir),
        "--log-level", "warning",
        "--no-access-log",
        app.target,
    ]


def uwsgi_command(cfg, app, port):
    """uWSGI behind its own HTTP router, as its docs say to expose an app ("use the http
    option"), with --http-keepalive (the apps send Content-Length, which it requires).
    --lazy-apps loads the app in each worker, not in the master before the fork, as gunicorn
    does: no database connection shared across a fork. --disable-logging: uWSGI logs every
    request by default, gunicorn and Granian do not, so none of them does here."""
    return [
        str(uwsgi_program(cfg)),
        "--master",
        "--http", f"127.0.0.1:{port}",
        "--http-keepalive",
        "--processes", str(cfg.workers),
        "--chdir", str(app.chdir),
        "--pythonpath", str(app.chdir),
        "--module", app.target,
        "--lazy-apps",
        "--need-app",
        "--disable-logging",
    ]


def uwsgi_program(cfg):
    """pyuwsgi's console script, beside the interpreter that serves."""
    return Path(cfg.python or sys.executable).parent / "uwsgi"


DEPLOYMENTS = {d.name: d for d in (
    Deployment("gunicorn-sync", "gunicorn", "gunicorn", False, gunicorn_command,
               "gunicorn's default worker; it closes the connection after every response",
               workers_advice=GUNICORN_WORKERS),
    Deployment("gunicorn-gthread", "gunicorn", "gunicorn", True, gthread_command,
               "docs.gunicorn.org settings#threads: 2-4 x cores threads, here 4 per core",
               workers_advice=GUNICORN_WORKERS),
    Deployment("granian", "granian", "granian", True, granian_command,
               "Granian's README: --interface wsgi, HTTP/1 keep-alive on by default"),
    # uWSGI adds neither Date nor Server. A Date would take its internal routing
    # (--response-route-run addheader:...), which no deployment guide of its uses: its
    # responses are two headers shorter than the contract's, and that is recorded.
    Deployment("uwsgi", "uwsgi", "pyuwsgi", True, uwsgi_command,
               "uwsgi-docs HTTP.html: the HTTP router (--http) with --http-keepalive",
               server_headers=False),
    # Behind nginx: gunicorn's sync worker, because that is the pairing gunicorn's deploy page
    # prescribes ("When using the default synchronous workers you must ensure the proxy buffers
    # slow clients"); nginx then holds the client's keep-alive connection, and the upstream
    # is a connection per request, since the sync worker closes every one.
    Deployment("nginx", "nginx", "nginx", True, gunicorn_command,
               "docs.gunicorn.org deploy.html: nginx in front of the sync workers; nginx.org "
               "upstream keepalive", behind="gunicorn-sync", workers_advice=GUNICORN_WORKERS),
)}


def get(name):
    """A deployment by name; `NAME@N` is NAME with N worker processes per server CPU."""
    base, at, count = name.partition("@")
    if base not in DEPLOYMENTS:
        raise FdbenchError(f"unknown deployment {name!r}: choose from {', '.join(DEPLOYMENTS)} "
                           "(NAME@N for N workers)")
    if not at:
        return DEPLOYMENTS[base]
    if not count.isdigit() or int(count) < 1:
        raise FdbenchError(f"deployment {name!r}: the worker count after '@' must be a positive integer")
    return replace(DEPLOYMENTS[base], name=name, workers_per_cpu=int(count))


def workers(deployment, cfg):
    """Worker processes as started: NAME@N's N per server CPU, else the run's setting."""
    if not deployment.workers_per_cpu:
        return cfg.workers
    return deployment.workers_per_cpu * len(cfg.cpus or os.sched_getaffinity(0))


def app_server(deployment):
    """The deployment that runs the app: itself, or the one a proxy forwards to."""
    return DEPLOYMENTS[deployment.behind] if deployment.behind else deployment


def check_installed(deployment, cfg):
    """One clear line when the app server is missing, rather than a crash log."""
    server = app_server(deployment)
    if server.distribution == "pyuwsgi":
        if not uwsgi_program(cfg).exists():
            raise FdbenchError(f"uwsgi not installed beside {cfg.python or sys.executable}: pip install pyuwsgi")
        return
    module = server.distribution
    if cfg.python:
        found = subprocess.run([cfg.python, "-c", f"import {module}"], capture_output=True).returncode == 0
    else:
        found = importlib.util.find_spec(module) is not None
    if not found:
        raise FdbenchError(f"{module} not installed in {cfg.python or sys.executable}: pip install {module}")


def version_of(distribution, cfg):
    """The installed version in the serving interpreter's environment, or None."""
    if not cfg.python:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    out = subprocess.run([cfg.python, "-c", code], capture_output=True, text=True)
    return out.stdout.strip() or None


def threads_of(deployment, cfg):
    """Threads per worker as started; None where the server sizes them itself (Granian)."""
    name = app_server(deployment).name
    if name == "gunicorn-gthread" or (name == "gunicorn-sync" and cfg.worker_class == "gthread"):
        return server_threads(cfg)
    if name in ("gunicorn-sync", "uwsgi"):
        return 1
    return None
