"""Shared by the harness tests: run the real CLI, and find processes it left behind."""
import os
import subprocess
import sys
import uuid

import psutil

from harness.paths import ROOT

FDBENCH = [sys.executable, "-m", "harness.cli"]
TAG = "FDBENCH_TEST_TAG"


def tagged_env():
    """An environment whose value every child of fdbench inherits, so a test can find its
    own processes among those of other tests running on the same machine."""
    return dict(os.environ, **{TAG: uuid.uuid4().hex})


def fdbench(*args, env=None, timeout=300):
    return subprocess.run([*FDBENCH, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


def left_behind(env):
    """Processes still alive that carry this environment's tag."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(TAG) == env[TAG]:
                found.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found
