"""callgrind_env and the driver's import root: each fix does what it claims, on real processes."""
import os
import subprocess
import sys

import pytest

from harness.measure import callgrind_env, instructions as instr
from harness.paths import APPS

needs_faketime = pytest.mark.usefixtures("faketime")  # fails, never skips, without it


def clock_in_child(env):
    code = "import time; print(time.time(), time.monotonic())"
    out = subprocess.run([sys.executable, "-c", code], env={"PATH": os.environ["PATH"], **env},
                         capture_output=True, text=True, check=True)
    return [float(x) for x in out.stdout.split()]


@needs_faketime
def test_frozen_clock_stays_at_the_same_instant():
    env = callgrind_env.frozen_clock_env()
    first, second = clock_in_child(env), clock_in_child(env)
    assert first == second
    assert first[0] == 1_763_000_000.0  # FROZEN_AT in UTC, not today
    assert clock_in_child({})[0] > first[0]


def test_import_root_holds_only_the_apps_link(tmp_path):
    """Python keeps each sys.path entry's listing on the heap, and a new entry in the checkout
    root moved Flask's counts by 0.24%: the driver imports from a directory of one link."""
    flask = instr.builtin_target("flask")
    instr.make_import_root(tmp_path)
    instr.make_import_root(tmp_path)  # a second call finds the link in place
    root = instr.import_root(flask, tmp_path)
    assert os.listdir(root) == ["apps"]
    assert (tmp_path / "import-root" / "apps").resolve() == APPS
    django = instr.builtin_target("django")
    assert instr.import_root(django, tmp_path) == django.chdir  # its own directory already is one
