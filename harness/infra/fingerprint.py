"""The environment a run was measured in: machine, OS, Python and every tool's version, so
that numbers from different runs and machines can be told apart and compared fairly."""
import gzip
import importlib.metadata
import os
import re
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


def kernel_config():
    """The running kernel's build options, from /proc/config.gz or /boot (empty when neither)."""
    try:
        return gzip.decompress(Path("/proc/config.gz").read_bytes()).decode(errors="replace")
    except OSError:
        return read(f"/boot/config-{platform.release()}") or ""


def cpu_time_accounting():
    """How finely the kernel splits a process's CPU time into user and system: a precise total
    (schedstat) is always there, but without CONFIG_VIRT_CPU_ACCOUNTING_GEN (and nohz_full
    CPUs) the split is sampled at each timer tick, so a short window's kernel share is rough."""
    config = kernel_config()
    hz = re.search(r"^CONFIG_HZ=(\d+)$", config, re.M)
    precise = re.search(r"^CONFIG_VIRT_CPU_ACCOUNTING_GEN=y$", config, re.M)
    return {"split": "unknown" if not config else "precise where nohz_full" if precise else "tick",
            "hz": int(hz.group(1)) if hz else None}


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
        "cpu_time_accounting": cpu_time_accounting(),
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
