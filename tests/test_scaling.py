"""The scaling sweep: which points run, the efficiency arithmetic, and a tiny real sweep."""
import json
from dataclasses import replace

import pytest

from harness.analysis import sweep_stats
from harness.run import sweep

from tests.helpers import fdbench, left_behind, tagged_env


def config(server_cpus, load_cpus=(9,)):
    return replace(sweep.make_config(), server_cpus=tuple(server_cpus), load_cpus=tuple(load_cpus))


def test_points_beyond_the_server_cores_are_skipped_with_a_reason():
    feasible, skipped = sweep.points(config([0]))
    assert feasible == [{"workers": 1, "worker_class": c} for c in ("sync", "gthread")]
    assert {(p["workers"], p["worker_class"]) for p in skipped} == {
        (w, c) for w in (2, 4) for c in ("sync", "gthread")}
    assert all("needs" in p["reason"] and "gets 1" in p["reason"] for p in skipped)
    feasible, skipped = sweep.points(config([0, 1, 2, 3], [4, 5]))
    assert len(feasible) == 6 and skipped == []
    assert sweep.load_point(feasible) == {"workers": 4, "worker_class": "sync"}


def trial(scenario, target, rps, mode="closed", errors=0):
    return {"scenario": scenario, "target": target, "rps": rps, "mode": mode, "status": "ok",
            "errors": errors, "rate": None}


def test_efficiency_is_rps_over_n_times_one_worker():
    trials = [trial("db@1w-sync", "flask", 100), trial("db@1w-sync", "flask", 120),
              trial("db@2w-sync", "flask", 200), trial("db@4w-sync", "flask", 220),
              trial("db@4w-sync", "flask", 9999, errors=3),      # errors: not counted
              trial("db@2w-gthread", "flask", 150)]             # no 1-worker gthread point
    eff = sweep_stats.efficiency(trials)
    assert eff == {("db", "flask", "sync", 2): pytest.approx(200 / (2 * 110)),
                   ("db", "flask", "sync", 4): pytest.approx(220 / (4 * 110))}


def test_split_scenario():
    assert sweep_stats.split_scenario("queries-20@4w-gthread") == ("queries-20", 4, "gthread")
    assert sweep_stats.split_scenario("db") == ("db", None, None)


def test_open_loop_rates_are_shares_of_each_apps_capacity():
    cfg = config([0])
    caps = {("db@1w-sync", "flask"): 200.0, ("db@1w-sync", "django"): 100.0}
    specs = sweep.open_trials(cfg, {"workers": 1, "worker_class": "sync"}, caps, 0)
    rates = {(s.target, s.rate) for s in specs}
    assert rates == {(t, round(f * c, 1)) for (_, t), c in caps.items() for f in sweep.LOAD_FRACTIONS}
    assert all(s.mode == "open" for s in specs)


def test_tiny_sweep_end_to_end(tmp_path):
    env = tagged_env()
    proc = fdbench("scaling", "--apps", "flask", "--repeat", "1", "--warmup", "0.2",
                   "--duration", "0.5", "--no-report", "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert left_behind(env) == []
    (run_dir,) = tmp_path.iterdir()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete"
    feasible = meta["scaling"]["points"]
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    closed = [t for t in trials if t["mode"] == "closed"]
    assert {(t["workers"], t["worker_class"]) for t in closed} == {
        (p["workers"], p["worker_class"]) for p in feasible}
    assert len([t for t in trials if t["mode"] == "open"]) == len(sweep.LOAD_FRACTIONS)
    assert all(t["status"] == "ok" for t in trials)
