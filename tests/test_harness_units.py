"""The harness's own logic, on real processes and files where that is cheap."""
import json
import os
import subprocess
import sys
import time

import pytest

from harness import histogram
from harness.run import config, plan
from harness.errors import FdbenchError
from harness.run.sampling import CoreMonitor, ServerSampler
from harness.store import Run
from harness.run.records import flags_for

from tests.helpers import fdbench

BURN = "import time\nend = time.process_time() + {s}\nwhile time.process_time() < end: pass\n"


def test_sampler_counts_cpu_of_the_whole_tree(tmp_path):
    """A parent that forks two busy children: their CPU is the window's CPU. The children burn
    only once the window is open (a go file), so start-up speed cannot move the figure."""
    go = tmp_path / "go"
    kid = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)\n" + BURN.format(s=0.6)
    code = ("import subprocess, sys, time\n"
            f"kids = [subprocess.Popen([sys.executable, '-c', {kid!r}]) for _ in range(2)]\n"
            "time.sleep(5)\n")
    root = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.3)  # children started and waiting
        sampler = ServerSampler([root.pid], interval=0.1)
        sampler.begin()
        go.touch()
        time.sleep(2.0)  # 1.2 CPU-seconds of burning fits even on one core
        result = sampler.end()
    finally:
        root.kill()
        root.wait()
    assert 3 == len(result["rss_mb"])
    assert 1.15 <= result["cpu_s"] <= 1.4, result  # 2 × 0.6 s, plus the children's polling
    assert result["sampler_cpu_s"] < 0.1


@pytest.mark.parametrize("reaped", [True, False])
def test_reaped_children_are_counted_where_asked(tmp_path, reaped):
    """A root that, once the window is open, runs one child that burns 0.4 s and exits (reaped
    by the root), and one that was alive and burning at the window's start and exits in it: as
    PostgreSQL's backends of short connections. With `reaped` both count, each for its time in
    the window only; without, both are lost (the old figure)."""
    go = tmp_path / "go"
    wait = f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
    early = BURN.format(s=0.3) + wait + BURN.format(s=0.3)   # 0.3 s before the window, 0.3 in it
    code = ("import subprocess, sys\n"
            f"first = subprocess.Popen([sys.executable, '-c', {early!r}])\n"
            f"subprocess.run([sys.executable, '-c', {wait + BURN.format(s=0.4)!r}])\n"
            "first.wait()\nimport time; time.sleep(5)\n")
    root = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(1.0)  # the first child has burnt its 0.3 s and waits
        sampler = ServerSampler([root.pid], interval=0.1, reaped=reaped)
        sampler.begin()
        go.touch()
        time.sleep(2.0)  # both children burn and exit, the root reaps them
        result = sampler.end()
    finally:
        root.kill()
        root.wait()
    if reaped:  # 0.4 + 0.3, plus start-up and polling; never the first child's 0.3 before
        assert 0.65 <= result["cpu_s"] <= 0.95, result
    else:
        assert result["cpu_s"] < 0.1, result


@pytest.mark.parametrize("code, low, high", [
    ("x = 0\nwhile True: x += 1\n", 0.0, 0.1),                 # user space only
    ("import os\nfd = os.open('/dev/null', os.O_WRONLY)\nwhile True: os.write(fd, b'x')\n",
     0.15, 0.9)])  # a write() per loop: a quarter to a half kernel (0.27 on a CI clone)
def test_sampler_splits_off_the_kernels_time(code, low, high):
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.2)
        sampler = ServerSampler([proc.pid], interval=0.1)
        sampler.begin()
        time.sleep(1.0)
        result = sampler.end()
    finally:
        proc.kill()
        proc.wait()
    assert result["cpu_s"] > 0.5, result
    assert low <= result["sys_s"] / result["cpu_s"] <= high, result


def test_sampler_reports_a_vanished_worker():
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    sampler = ServerSampler([kid.pid], interval=0.1)
    sampler.begin()
    kid.wait()
    assert sampler.end()["vanished"] == [kid.pid]


def test_histogram_merge_adds_counts_and_keeps_percentiles():
    a, b = histogram.new(), histogram.new()
    for v in range(1, 1001):
        histogram.record(a, v)
        histogram.record(b, v + 1000)
    merged = histogram.merge([histogram.encode(a), histogram.encode(b)])
    assert merged.get_total_count() == 2000
    s = histogram.summary(merged)
    assert abs(s["p50"] - 1000) <= 1 and abs(s["max"] - 2000) <= 2
    assert histogram.summary(histogram.new())["p50"] is None


def test_rounds_rotate_the_app_order():
    cfg = config.make_config("quick", ("flask", "django", "baseline"), ("json",), repeat=3,
                             modes=("open",), paired=False)
    orders = [[s.target for s in plan.planned_trials(cfg) if s.round == r] for r in range(3)]
    assert orders == [["flask", "django", "baseline"], ["django", "baseline", "flask"],
                      ["baseline", "flask", "django"]]


@pytest.mark.parametrize("kwargs,error", [
    ({"profile": "huge"}, "unknown profile"),
    ({"targets": ("pyramid",)}, "unknown app"),
    ({"scenarios": ("graphql",)}, "unknown scenario"),
    ({"repeat": 0}, "--repeat"),
    ({"duration": -1}, "--duration"),
])
def test_bad_config_is_refused(kwargs, error):
    with pytest.raises(FdbenchError, match=error):
        config.make_config(**kwargs)


def test_flags():
    assert flags_for(1000, 0, 95.0, [], None) == ["generator_bound"]
    assert flags_for(950, 2, 50.0, [], 1000) == ["near_generator_ceiling", "errors"]
    assert flags_for(100, 0, 50.0, [1234], 1000) == ["worker_exited"]


def test_store_reports_a_damaged_line(tmp_path):
    run = Run.create(tmp_path, {"profile": "quick"})
    run.add_trial({"trial_id": "a", "status": "ok"})
    with open(run.path / "trials.jsonl", "a") as f:
        f.write('{"trial_id": "b", "sta\n')
    run.add_trial({"trial_id": "c", "status": "ok"})
    warnings = []
    assert [t["trial_id"] for t in Run.open(run.path).trials(warnings.append)] == ["a", "c"]
    assert warnings and "line 2" in warnings[0]


def test_two_runs_never_share_a_folder(tmp_path):
    a, b = Run.create(tmp_path, {}), Run.create(tmp_path, {})
    assert a.path != b.path and json.loads((b.path / "run.json").read_text())["status"] == "running"


@pytest.mark.parametrize("args,message", [
    (["serve", "pyramid"], "unknown app"),
    (["bench", "--profile", "huge"], "unknown profile"),
    (["bench", "--scenarios", "nope"], "unknown scenario"),
    (["bench", "--repeat", "0"], "--repeat"),
    (["bench", "--resume", "/nonexistent/run"], "not a run folder"),
    (["serve", "flask", "--db", "mysql://x"], "unsupported --db"),
    (["bench", "--no-such-flag"], "No such option"),
])
def test_cli_errors_are_one_line_exit_2(args, message):
    proc = fdbench(*args, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_serve_on_a_busy_port_is_one_line_exit_2():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        proc = fdbench("serve", "flask", "--port", str(s.getsockname()[1]), timeout=60)
    assert proc.returncode == 2 and "is busy" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_core_monitor_sees_another_process_on_the_server_core():
    """A busy process pinned to the monitored core is 'other'; counted as own, it is not."""
    cpu = max(os.sched_getaffinity(0))
    burner = subprocess.Popen([sys.executable, "-c", BURN.format(s=1.5)],
                              preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    try:
        time.sleep(0.3)  # started and burning
        monitor = CoreMonitor([cpu])
        monitor.begin()
        time.sleep(1.0)
        seen = monitor.end(own_cpu_s=0.0)
        monitor.begin()
        time.sleep(0.5)
        owned = monitor.end(own_cpu_s=0.5)
    finally:
        burner.kill()
        burner.wait()
    assert seen["other_pct"] > 60, seen
    assert owned["other_pct"] < seen["other_pct"] - 40, owned
    assert 0 <= seen["steal_pct"] <= 100


def test_contended_flag_only_above_the_threshold():
    quiet = {"other_pct": 2.0, "steal_pct": 1.0}
    busy = {"other_pct": 25.0, "steal_pct": 0.0}
    assert "contended" not in flags_for(100, 0, 10, [], None, cores=quiet)
    assert "contended" in flags_for(100, 0, 10, [], None, cores=busy)
    assert "contended" not in flags_for(100, 0, 10, [], None)
