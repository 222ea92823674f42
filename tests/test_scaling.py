"""The scaling sweep: which points run, in what order, the efficiency arithmetic, and a tiny
real sweep (on a 2-core machine its multi-worker points are skipped as not testable)."""
import json
from dataclasses import replace
from types import SimpleNamespace

import pytest

from harness.analysis import sweep_stats
from harness.claims.scalability import scalability
from harness.run import bench, sweep

from tests.helpers import fdbench, left_behind, tagged_env


def config(server_cpus, load_cpus=(9,)):
    """The sweep's config on a machine of these CPUs, whatever this one has."""
    return replace(sweep.make_config(), server_cpus=tuple(server_cpus), load_cpus=tuple(load_cpus))


def test_points_beyond_the_server_cores_are_skipped_with_a_reason():
    feasible, skipped = sweep.points(config([0]))
    assert feasible == [{"workers": 1, "worker_class": c} for c in ("sync", "gthread")]
    assert {(p["workers"], p["worker_class"]) for p in skipped} == {
        (w, c) for w in (2, 4) for c in ("sync", "gthread")}
    assert {p["workers"]: p["cores_needed"] for p in skipped} == {2: 3, 4: 5}
    two = next(p["reason"] for p in skipped if p["workers"] == 2)
    assert "3 cores in all" in two and "this machine has 2, 1 of them for the server" in two
    feasible, skipped = sweep.points(config([0, 1, 2, 3], [4]))
    assert len(feasible) == 6 and skipped == []
    assert sweep.load_point(feasible) == {"workers": 4, "worker_class": "sync"}


def test_the_load_generator_gets_one_core_and_the_server_the_rest(monkeypatch):
    monkeypatch.setattr(sweep.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4})
    assert sweep.sweep_cpus() == ((0, 1, 2, 3), (4,))
    monkeypatch.setattr(sweep.os, "sched_getaffinity", lambda pid: {0, 1})
    assert sweep.sweep_cpus() == ((0,), (1,))


def test_each_point_runs_its_rounds_as_alternating_pairs():
    cfg = replace(config([0, 1], [2]), rounds=3)
    specs = sweep.closed_trials(cfg, sweep.points(cfg)[0])
    assert cfg.alternate and all(s.level == "saturation" for s in specs)
    batches = bench.batches(specs, cfg)  # what run_specs hands the alternating runner
    assert [b[0].scenario for b in batches] == ["db@1w-sync", "db@1w-gthread", "db@2w-sync",
                                                 "db@2w-gthread"]
    for batch in batches:
        assert [(s.round, s.target) for s in batch] == [
            (0, "flask"), (0, "django"), (1, "django"), (1, "flask"), (2, "flask"), (2, "django")]
        assert {(s.workers, s.worker_class) for s in batch} == {
            sweep_stats.split_scenario(batch[0].scenario)[1:]}


def trial(scenario, target, rps, rnd=0, mode="closed", errors=0, flags=()):
    return {"scenario": scenario, "target": target, "rps": rps, "mode": mode, "status": "ok",
            "errors": errors, "rate": None, "round": rnd, "flags": list(flags)}


def test_efficiency_is_rps_over_n_times_one_worker_round_by_round():
    trials = [trial("db@1w-sync", "flask", 100, 0), trial("db@1w-sync", "flask", 120, 1),
              trial("db@2w-sync", "flask", 180, 0), trial("db@2w-sync", "flask", 228, 1),
              trial("db@4w-sync", "flask", 220, 0),
              trial("db@4w-sync", "flask", 9999, 1, errors=3),                # refused
              trial("db@4w-gthread", "flask", 400, 0, flags=["generator_bound"]),  # refused
              trial("db@2w-gthread", "flask", 150, 0)]       # no 1-worker gthread point
    assert sweep_stats.round_efficiencies(trials) == {
        ("db", "flask", "sync", 2): {0: pytest.approx(0.9), 1: pytest.approx(0.95)},
        ("db", "flask", "sync", 4): {0: pytest.approx(0.55)}}
    assert sweep_stats.efficiency(trials) == {("db", "flask", "sync", 2): pytest.approx(0.925),
                                              ("db", "flask", "sync", 4): pytest.approx(0.55)}


def test_split_scenario():
    assert sweep_stats.split_scenario("queries-20@4w-gthread") == ("queries-20", 4, "gthread")
    assert sweep_stats.split_scenario("db") == ("db", None, None)


def test_open_loop_rates_are_shares_of_each_apps_capacity():
    cfg = config([0])
    caps = {("db@1w-sync", "flask"): 200.0, ("db@1w-sync", "django"): 100.0}
    specs = sweep.open_trials(cfg, {"workers": 1, "worker_class": "sync"}, caps, 0)
    rates = {(s.target, s.rate) for s in specs}
    assert rates == {(t, round(f * c, 1)) for (_, t), c in caps.items() for f in sweep.LOAD_FRACTIONS}
    assert all(s.mode == "open" and s.fraction is None for s in specs)  # no shared ladder rate
    assert [s.level for s in specs[:4]] == ["25%", "25%", "50%", "50%"]
    assert [s.target for s in specs[:4]] == ["flask", "django", "django", "flask"]


def test_tiny_sweep_end_to_end(tmp_path):
    """Both apps, two rounds: every feasible point's rounds alternate the apps; on a machine
    without three cores the claim says what it would need."""
    env = tagged_env()
    proc = fdbench("scaling", "--repeat", "2", "--warmup", "0.2", "--duration", "0.5",
                   "--no-report", "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert left_behind(env) == []
    (run_dir,) = tmp_path.iterdir()
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["status"] == "complete"
    feasible = meta["scaling"]["points"]
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    assert all(t["status"] == "ok" for t in trials)
    closed = [t for t in trials if t["mode"] == "closed"]
    assert {(t["workers"], t["worker_class"]) for t in closed} == {
        (p["workers"], p["worker_class"]) for p in feasible}
    first = [(t["round"], t["target"]) for t in closed if t["scenario"] == closed[0]["scenario"]]
    assert first == [(0, "flask"), (0, "django"), (1, "django"), (1, "flask")]
    assert all(t["alternated_with"] for t in closed)
    assert len([t for t in trials if t["mode"] == "open"]) == 2 * len(sweep.LOAD_FRACTIONS)
    verdict = scalability(SimpleNamespace(runs=[SimpleNamespace(path=run_dir, meta=meta)]))
    if max(p["workers"] for p in feasible) == 1:
        assert verdict.verdict == "not testable here" and "3 cores in all" in verdict.summary
