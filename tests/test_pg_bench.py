"""End to end on PostgreSQL: `fdbench bench --db postgres` starts its own cluster, records
the DB server's CPU apart, and leaves no PostgreSQL (nor anything else) running."""
import json
import signal
import subprocess
import time

import psutil

from harness.paths import ROOT

from tests.helpers import FDBENCH, fdbench, left_behind, tagged_env
from tests.pgsupport import require_binaries


def our_postmasters(env):
    """PostgreSQL servers started under this test's tag (runuser and pg_ctl pass it on)."""
    found = []
    for pid in left_behind(env):
        try:
            if psutil.Process(pid).name() == "postgres":
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def test_tiny_postgres_bench(tmp_path):
    require_binaries()
    env = tagged_env()
    env.pop("DATABASE_URL", None)
    proc = fdbench("bench", "--db", "postgres", "--profile", "quick", "--apps", "flask,django",
                   "--scenarios", "db", "--warmup", "0.5", "--duration", "1",
                   "--no-static", "--no-instructions", "--no-report", "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert left_behind(env) == [] and our_postmasters(env) == []
    (run_dir,) = tmp_path.iterdir()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["db"]["engine"] == "postgresql" and meta["db"]["throwaway_cluster"]
    assert meta["db"]["settings"]["fsync"] == "on"
    assert meta["db"]["connections"]["django"]["CONN_MAX_AGE"] == 60
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    assert {t["target"] for t in trials} == {"flask", "django"}
    for t in trials:
        assert t["status"] == "ok" and t["errors"] == 0 and t["requests"] > 10, t
        # every /db request costs the DB server some CPU; the total is both parts
        assert t["db_cpu_us_per_request"] > 0
        total = t["cpu_us_per_request"] + t["db_cpu_us_per_request"]
        assert abs(t["total_cpu_us_per_request"] - total) < 0.05


def test_interrupted_postgres_bench_leaves_no_server(tmp_path):
    """Ctrl-C mid-run: exit 130, the finished trials kept, the throwaway cluster gone."""
    require_binaries()
    env = tagged_env()
    env.pop("DATABASE_URL", None)
    args = ["bench", "--db", "postgres", "--profile", "quick", "--apps", "flask,baseline",
            "--scenarios", "db", "--repeat", "3", "--warmup", "0.3", "--duration", "1",
            "--no-static", "--no-instructions", "--no-report", "--out", str(tmp_path)]
    proc = subprocess.Popen([*FDBENCH, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(
            f.read_text() for f in tmp_path.glob("*/trials.jsonl")):
        time.sleep(0.1)
    assert our_postmasters(env), "the run's PostgreSQL should be up while trials run"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130, proc.stderr.read()[-2000:]
    assert our_postmasters(env) == [] and left_behind(env) == []
