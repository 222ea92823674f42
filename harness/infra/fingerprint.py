"""The environment a run was measured in: machine, OS, Python and every tool's version, so
that numbers from different runs and machines can be told apart and compared fairly."""
import importlib.metadata
import os
import platform
import socket
import subprocess
from pathlib import Path

import psutil

from ..paths import ROOT

PACKAGES = ("flask", "flask-sqlalchemy", "sqlalchemy", "django", "gunicorn", "locust",
            "gevent", "geventhttpclient", "werkzeug", "jinja2", "psycopg", "hdrhistogram",
            "psutil", "numpy", "scipy", "pandas", "matplotlib")


def read(path):
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def cpu_model():
    for line in (read("/proc/cpuinfo") or "").splitlines():
        if line.lower().startswith(("model name", "hardware", "cpu model")):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def os_name():
    for line in (read("/etc/os-release") or "").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.platform()


def machine():
    freq = psutil.cpu_freq()
    return {
        "host": socket.gethostname(),
        "cpu_model": cpu_model(),
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu_mhz_max": round(freq.max) if freq and freq.max else None,
        "governor": read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "os": os_name(),
    }


def packages():
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git():
    def run(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"commit": run("rev-parse", "HEAD") or None, "dirty": bool(run("status", "--porcelain"))}


def collect():
    return {"machine": machine(), "python": platform.python_version(),
            "packages": packages(), "git": git()}
