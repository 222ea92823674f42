"""Paired cost trials: every app served side by side in one window, the load going to each in
turn. Real gunicorn, real locust, short windows."""
import json
import os
import uuid

import pytest

from harness import histogram
from harness.run.bench import batches
from harness.run.config import make_config
from harness.run.plan import TrialSpec, planned_trials
from harness.run.trial import run_paired

from tests.helpers import TAG, fdbench, left_behind, tagged_env


def test_a_rounds_cost_trials_of_one_scenario_run_together():
    cfg = make_config("default", targets=["flask", "django", "baseline"], scenarios=["json", "db"],
                      paired=True)
    groups = batches(planned_trials(cfg), cfg)
    paired = [g for g in groups if g[0].mode == "open"]
    assert all(len(g) == 3 and len({(s.round, s.scenario) for s in g}) == 1 for g in paired)
    assert len(paired) == cfg.rounds * 2
    assert all(len(g) == 1 for g in groups if g[0].mode == "closed")
    separate = make_config("default", targets=["flask", "django"], scenarios=["json"], paired=False)
    assert all(len(g) == 1 for g in batches(planned_trials(separate), separate))


def first_rate(targets, paired=True):
    cfg = make_config("quick", targets=targets, scenarios=["json"], paired=paired)
    return next(s.rate for s in planned_trials(cfg) if s.mode == "open")


def test_the_scenarios_rate_is_shared_among_the_paired_apps():
    assert first_rate(["flask", "django"]) == 200.0
    assert first_rate(None) == 100.0  # quick's four targets
    assert first_rate(["flask"]) == 400.0
    assert first_rate(["flask", "django"], paired=False) == 400.0


@pytest.fixture(scope="module")
def paired_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paired")
    env = tagged_env()
    proc = fdbench("bench", "--profile", "quick", "--paired", "--modes", "open", "--apps",
                   "flask,baseline", "--scenarios", "json", "--repeat", "1", "--warmup", "0.5",
                   "--duration", "2", "--no-static", "--no-instructions",
                   "--no-report", "--out", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = out.iterdir()
    trials = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    return run_dir, trials, env


def test_each_app_gets_its_own_record_from_one_window(paired_run):
    run_dir, trials, env = paired_run
    assert [t["target"] for t in trials] == ["flask", "baseline"]
    assert [t["paired_with"] for t in trials] == [["baseline"], ["flask"]]
    for t in trials:
        assert t["status"] == "ok" and t["rate"] == 200.0
        assert 0.9 * 200 * t["duration_s"] <= t["requests"] <= 1.1 * 200 * t["duration_s"]
        hist = histogram.decode((run_dir / t["histogram"]).read_text())
        assert hist.get_total_count() == t["requests"]
    assert trials[0]["server_cores"] == trials[1]["server_cores"]  # the same window
    assert left_behind(env) == []


def test_paired_costs_tell_the_apps_apart(paired_run):
    """Flask does far more per /json than a bare WSGI callable: measured side by side, each
    server's own CPU is counted, not the pair's."""
    _, trials, _ = paired_run
    flask, baseline = (t["cpu_us_per_request"] for t in trials)
    assert flask > 1.2 * baseline > 0, (flask, baseline)


def test_an_app_that_cannot_start_fails_alone(db_url, monkeypatch):
    monkeypatch.setenv("DJANGO_CONN_MAX_AGE", "bogus")  # Django's settings refuse it
    monkeypatch.setenv(TAG, uuid.uuid4().hex)
    specs = [TrialSpec(trial_id=f"c-{app}", round=0, order=i, target=app, app=app, variant="default",
                       scenario="json", path="/json", mode="open", users=4, rate=50.0, warmup_s=0.0,
                       duration_s=1.0, workers=1, worker_class="sync")
             for i, app in enumerate(("django", "flask"))]
    (django, _), (flask, hist) = run_paired(specs, db_url)
    assert django["status"] == "failed" and "gunicorn for django exited at start" in django["reason"]
    assert flask["status"] == "ok" and flask["paired_with"] == [] and hist.get_total_count() > 0
    assert left_behind(dict(os.environ)) == []
