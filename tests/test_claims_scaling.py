"""The database and scalability claims, decided on hand-made evidence of known outcome."""
from types import SimpleNamespace

import pytest

from harness.claims.databases import multiple_databases
from harness.claims.scalability import scalability
from harness.store import Run


def databases(django_failed=(), flask_failed=(), differ=(), engines=("postgresql", "sqlite")):
    def app(failed, diff):
        return {"failed": {"sqlite": [], "postgresql": list(failed)}, "differ": list(diff),
                "checks": ["db", "fortunes", "json"]}
    return SimpleNamespace(static={"databases": {
        "engines": list(engines), "versions": {"sqlite": "3", "postgresql": "15"},
        "unavailable": {} if len(engines) > 1 else {"postgresql": "binaries not found"},
        "apps": {"django": app(django_failed, differ), "flask": app(flask_failed, ())}}})


def test_multiple_databases_supported_when_django_passes_everywhere():
    v = multiple_databases(databases())
    assert v.verdict == "supported" and "no difference" in v.summary


def test_multiple_databases_refuted_by_a_failure_or_a_different_answer():
    assert multiple_databases(databases(django_failed=["updates"])).verdict == "refuted"
    assert multiple_databases(databases(differ=["fortunes"])).verdict == "refuted"
    flask_fails = multiple_databases(databases(flask_failed=["db"]))
    assert flask_fails.verdict == "supported" and "Flask fails postgresql: db" in flask_fails.summary


def test_multiple_databases_inconclusive_without_postgres():
    assert multiple_databases(databases(engines=("sqlite",))).verdict == "inconclusive"
    assert multiple_databases(SimpleNamespace(static={})).verdict == "inconclusive"


def sweep(tmp_path, rps, skipped=()):
    """A stored scaling run; rps: {(target, workers): rps} for db, sync."""
    run = Run.create(tmp_path, {"scaling": {"points": [], "skipped": list(skipped)}})
    for (target, workers), value in rps.items():
        run.add_trial({"trial_id": f"{target}-{workers}", "scenario": f"db@{workers}w-sync",
                       "target": target, "mode": "closed", "status": "ok", "errors": 0,
                       "rps": value, "rate": None})
    return SimpleNamespace(runs=[SimpleNamespace(path=run.path, meta=run.meta)])


@pytest.mark.parametrize("django_2w,flask_2w,verdict", [
    (190, 120, "supported"),     # Django 0.95 vs Flask 0.60
    (150, 190, "refuted"),       # Flask scales better
    (190, 185, "refuted"),       # alike: 0.95 vs 0.925
    (190, 175, "inconclusive"),  # 0.95 vs 0.875: a lead of 0.075 decides nothing
])
def test_scalability_rule(tmp_path, django_2w, flask_2w, verdict):
    ev = sweep(tmp_path, {("django", 1): 100, ("django", 2): django_2w,
                          ("flask", 1): 100, ("flask", 2): flask_2w})
    assert scalability(ev).verdict == verdict


def test_scalability_not_testable_on_one_server_core(tmp_path):
    ev = sweep(tmp_path, {("django", 1): 100, ("flask", 1): 120},
               skipped=[{"workers": 2, "worker_class": "sync", "reason": "needs 2 server cores"}])
    v = scalability(ev)
    assert v.verdict == "not testable here" and "needs 2 server cores" in v.summary
