"""The "supports multiple databases" claim (docs/verdicts.md § multiple_databases), decided on
hand-made static/databases.json and loc.json of known outcome."""
from types import SimpleNamespace

import pytest

from harness.claims.databases import multiple_databases

OK = {"status": 200, "in_second": True, "default_untouched": True, "ok": True}


def result(**changes):
    out = OK | changes
    return out | {"ok": out["status"] == 200 and out["in_second"] and out["default_untouched"]}


def evidence(django=OK, flask=OK, django_pg=None, engines=("postgresql", "sqlite"), loc=True,
             equivalence_failed=()):
    """Two engines unless told; django_pg: Django's PostgreSQL result when it differs."""
    two = {e: {"django": django, "flask": flask} for e in engines}
    if django_pg is not None:
        two["postgresql"]["django"] = django_pg
    checks = {"failed": {e: [] for e in engines}, "differ": [], "checks": ["db", "json", "updates"]}
    apps = {"django": checks, "flask": {**checks, "failed": {e: list(equivalence_failed) for e in engines}}}
    static = {"databases": {"engines": list(engines), "versions": {}, "apps": apps, "two_databases": two,
                            "unavailable": {} if len(engines) > 1 else {"postgresql": "binaries not found"}}}
    if loc:
        static["loc"] = {"apps": {"django": {"by_feature": {"multiple_databases": 23}},
                                  "flask": {"by_feature": {"multiple_databases": 26}}}}
    return SimpleNamespace(static=static)


def test_supported_when_django_serves_one_request_from_two_databases():
    v = multiple_databases(evidence())
    assert v.verdict == "supported"
    assert "Django served it" in v.summary and "router" in v.summary and "23 written lines" in v.summary
    assert "Flask served it" in v.summary and "SQLALCHEMY_BINDS" in v.summary and "26 written lines" in v.summary
    assert "passes all 3 on both" in v.summary  # the SQLite-vs-PostgreSQL checks, as context


@pytest.mark.parametrize("failure,said", [
    (result(status=500, in_second=False), "HTTP 500"),
    (result(in_second=False), "row not in the second database"),
    (result(default_untouched=False), "default database changed"),
])
def test_refuted_when_django_fails_any_part(failure, said):
    v = multiple_databases(evidence(django=failure))
    assert v.verdict == "refuted" and said in v.summary


def test_refuted_when_django_fails_on_one_engine_only():
    v = multiple_databases(evidence(django_pg=result(status=500, in_second=False)))
    assert v.verdict == "refuted" and "postgresql: HTTP 500" in v.summary


def test_flask_failing_does_not_decide():
    v = multiple_databases(evidence(flask=result(status=500, in_second=False)))
    assert v.verdict == "supported" and "Flask failed it" in v.summary


def test_sqlite_alone_decides_and_says_postgresql_was_not_checked():
    v = multiple_databases(evidence(engines=("sqlite",)))
    assert v.verdict == "supported" and "binaries not found" in v.summary


def test_equivalence_checks_are_context_not_the_decision():
    v = multiple_databases(evidence(equivalence_failed=["updates"]))
    assert v.verdict == "supported" and "Flask fails" in v.summary


def test_lines_missing_are_said_not_guessed():
    v = multiple_databases(evidence(loc=False))
    assert v.verdict == "supported" and "lines not counted" in v.summary


def test_missing_input_is_inconclusive_with_the_reason():
    none = multiple_databases(SimpleNamespace(static={}))
    assert none.verdict == "inconclusive" and "no static/databases.json" in none.summary
    older = evidence()
    del older.static["databases"]["two_databases"]
    v = multiple_databases(older)
    assert v.verdict == "inconclusive" and "no two-database check" in v.summary
