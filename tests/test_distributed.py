"""Distributed load: locust's master/worker mode with several generator processes,
`bench --target` against an app fdbench did not start, workers joining by hand, and the
loopback-only rule. Real gunicorn, real locust, short bounded windows."""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from harness import histogram
from harness.run.generator import Generators
from harness.paths import ROOT
from harness.infra.ports import free_port
from harness.infra.serve import Server, ServeConfig
from harness.run.plan import TrialSpec
from harness.run.records import flags_for
from harness.run.trial import run_trial

from tests.helpers import FDBENCH, TAG, fdbench, left_behind, tagged_env

QUIET = ["--no-static", "--no-instructions", "--no-report"]
WINDOW = ["--profile", "quick", "--apps", "baseline", "--scenarios", "json", "--modes", "closed",
          "--repeat", "1", "--warmup", "1", "--duration", "2"]


def spec():
    return TrialSpec(trial_id="r0-json-baseline", round=0, order=0, target="baseline",
                     app="baseline", variant="default", scenario="json", path="/json",
                     mode="closed", users=16, rate=None, warmup_s=1.0, duration_s=2.0, workers=1,
                     worker_class="sync")


def check_merged(record, hist, workers):
    """One histogram from all workers: its count is the summed requests, each worker sent load."""
    gen = record["generator"]
    per_worker = gen["per_worker"]
    assert gen["workers"] == len(per_worker) == workers and gen["processes"] == workers + 1
    assert all(w["requests"] > 0 and w["errors"] == 0 for w in per_worker), per_worker
    assert hist.get_total_count() == record["requests"] == sum(w["requests"] for w in per_worker)
    assert histogram.summary(hist) == record["latency_us"]
    # generator CPU is every locust process's: the master's plus each worker's
    summed = gen["master_cpu_pct"] + sum(w["cpu_pct"] for w in per_worker)
    assert record["generator_cpu_pct"] == pytest.approx(summed, abs=3), gen
    assert record["latency_locust_ms"] is None


def test_master_with_two_local_workers(db_url, monkeypatch):
    env = tagged_env()
    monkeypatch.setenv(TAG, env[TAG])  # every child of this trial carries the tag
    record, hist = run_trial(spec(), db_url, server_cpus=(), load_cpus=(),
                             generators=Generators(processes=2))
    assert record["status"] == "ok", record["reason"]
    check_merged(record, hist, workers=2)
    assert record["requests"] > 50 and record["cpu_us_per_request"] > 0
    assert record["generator"]["cores"] >= 1
    assert left_behind(env) == []


def test_generator_bound_counts_the_generators_cores():
    assert flags_for(1000, 0, 95.0, [], None) == ["generator_bound"]           # one process
    assert flags_for(1000, 0, 150.0, [], None, generator_cores=2) == []        # two cores
    assert flags_for(1000, 0, 185.0, [], None, generator_cores=2) == ["generator_bound"]
    assert flags_for(1900, 0, 50.0, [], 1000, generator_cores=2) == ["near_generator_ceiling"]


@pytest.fixture
def served(db_url):
    """An app served the way `fdbench serve` serves it, started by the test, not by bench."""
    with Server(ServeConfig(app="baseline", db_url=db_url)) as server:
        yield server


def trials(out):
    return [json.loads(line) for line in next(out.glob("*/trials.jsonl")).read_text().splitlines()]


def test_target_loads_an_app_bench_did_not_start(served, tmp_path):
    env = tagged_env()
    proc = fdbench("bench", *WINDOW, "--target", served.url, *QUIET, "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr
    (t,) = trials(tmp_path)
    assert t["status"] == "ok" and t["errors"] == 0 and t["requests"] > 50
    assert t["server_url"] == served.url
    # no server was sampled: nothing invented, and the trial and the summary say so
    assert t["server_cpu_s"] is None and t["cpu_us_per_request"] is None and t["rss_mb"] is None
    assert "server_not_sampled" in t["flags"] and "served elsewhere" in t["reason"]
    assert "server_not_sampled" in proc.stdout
    assert "generator" not in t  # one generator process: today's record
    meta = json.loads(next(tmp_path.glob("*/run.json")).read_text())
    assert meta["config"]["target_url"] == served.url and meta["db"]["served_by"] == served.url
    assert served.proc.poll() is None  # bench left the app it did not start running
    assert left_behind(env) == []


def test_target_with_a_worker_joining_by_hand(served, tmp_path):
    """The documented way to add a machine: `python -m harness.distributed worker` pointed at
    the master's port (here on this machine). bench's own worker and the joined one both load."""
    env = tagged_env()
    port = free_port()
    joined = subprocess.Popen([sys.executable, "-m", "harness.distributed", "worker",
                               "--master-host", "127.0.0.1", "--master-port", str(port), "--once"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        proc = fdbench("bench", *WINDOW, "--target", served.url, "--locust-workers", "1",
                       "--master-port", str(port), *QUIET, "--out", str(tmp_path), env=env)
        assert proc.returncode == 0, proc.stderr
        assert joined.wait(timeout=30) == 0, joined.stderr.read()
    finally:
        if joined.poll() is None:
            os.killpg(joined.pid, signal.SIGKILL)
        joined.wait()
    (t,) = trials(tmp_path)
    assert t["status"] == "ok", t["reason"]
    hist = histogram.decode((next(tmp_path.glob("*")) / t["histogram"]).read_text())
    check_merged(t, hist, workers=2)
    assert left_behind(env) == []


@pytest.mark.parametrize("args,message", [
    (["--target", "http://192.0.2.1:8000"], "--target must be a loopback URL"),
    (["--target", "http://example.com:8000"], "--target must be a loopback URL"),
    (["--target", "https://127.0.0.1:8000"], "--target must be a loopback URL"),
    (["--target", "http://127.0.0.1:99999"], "bad port"),
    (["--locust-workers", "2"], "--locust-workers needs --target"),
    (["--generator-processes", "0"], "--generator-processes must be between 1 and 64"),
    (["--generator-processes", "20", "--users", "4"], "--users (4) must be at least"),
])
def test_bad_load_options_are_one_line(run_cli, args, message):
    code, _, err = run_cli("bench", "--apps", "baseline", *args)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


def test_target_needs_one_app(run_cli):
    code, _, err = run_cli("bench", "--target", "http://127.0.0.1:8000")
    assert code == 2 and "--target needs --apps naming the one app" in err, err


def test_non_loopback_target_from_a_real_terminal(tmp_path):
    proc = fdbench("bench", "--apps", "baseline", "--target", "http://192.0.2.1:8000",
                   "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("fdbench: error: --target must be a loopback URL")
    assert "SSH tunnel" in proc.stderr and len(proc.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no run folder for a refused target


def test_master_refuses_a_host_off_this_machine():
    proc = subprocess.run([sys.executable, "-m", "harness.distributed", "master", "--host",
                           "http://example.com", "--path", "/json", "--workers", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "loopback" in proc.stderr


HOSTILE_MASTER = """
from harness.run.distributed import CONFIG, REFUSED  # gevent's monkey-patching comes with it
import sys, gevent
from locust.env import Environment
from scenarios.users import ClosedLoopUser
env = Environment(user_classes=[type("Closed", (ClosedLoopUser,), {})], host="http://192.0.2.1:9")
runner = env.create_master_runner("127.0.0.1", int(sys.argv[1]))
refused = []
runner.register_message(REFUSED, lambda msg, **_: refused.append(msg.data))
with gevent.Timeout(60):
    while runner.worker_count < 1:
        gevent.sleep(0.05)
    runner.send_message(CONFIG, {"path": "/json", "mode": "closed", "rate": 0})
    runner.start(2, spawn_rate=10)
    while not refused:
        gevent.sleep(0.05)
print(refused[0])
runner.quit()
"""


def test_a_worker_never_loads_a_host_off_its_machine():
    """Whatever a master asks, a worker creates no user for a non-loopback host: it says why,
    tells the master, and exits."""
    env = tagged_env()
    port = str(free_port())
    master = subprocess.Popen([sys.executable, "-c", HOSTILE_MASTER, port], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = subprocess.run([sys.executable, "-m", "harness.distributed", "worker",
                             "--master-port", port, "--once"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=90)
    out, err = master.communicate(timeout=30)
    assert worker.returncode == 2, worker.stderr
    assert "loads only its own loopback, not http://192.0.2.1:9" in worker.stderr
    assert "loads only its own loopback" in out, err
    assert left_behind(env) == []


def test_ctrl_c_mid_window_leaves_no_master_worker_or_gunicorn(tmp_path):
    env = tagged_env()
    proc = subprocess.Popen([*FDBENCH, "bench", *WINDOW[:-6], "--repeat", "2", "--warmup", "1",
                             "--duration", "30", "--generator-processes", "2", *QUIET,
                             "--out", str(tmp_path)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        running = [cmd(p) for p in psutil.Process(proc.pid).children(recursive=True)]
        if sum("harness.distributed worker" in c for c in running) == 2 \
                and any("harness.distributed master" in c for c in running) \
                and any("gunicorn" in c for c in running):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no master, two workers and gunicorn seen: {proc.stderr.read()[-2000:]}")
    time.sleep(3)  # into the window
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    assert left_behind(env) == []


def cmd(proc):
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""
