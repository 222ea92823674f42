"""static/databases.json: both frameworks checked on SQLite and PostgreSQL."""
from harness.measure import databases

from tests.pgsupport import require_binaries


def test_both_apps_pass_on_both_databases(monkeypatch):
    require_binaries()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = databases.measure()
    assert result["engines"] == ["postgresql", "sqlite"] and result["unavailable"] == {}
    for app in databases.APPS:
        assert result["apps"][app]["failed"] == {"sqlite": [], "postgresql": []}
        assert result["apps"][app]["differ"] == []
        assert "updates" in result["apps"][app]["checks"]


def test_compare_reports_failures_and_differences():
    same = {"json": {"ok": True, "answer": {"message": "Hello, World!"}}}
    other = {"json": {"ok": False, "answer": {"message": "Bye"}}}
    result = databases.compare({"sqlite": {"flask": same, "django": same},
                              "postgresql": {"flask": other, "django": same}})
    assert result["flask"] == {"failed": {"sqlite": [], "postgresql": ["json"]},
                               "differ": ["json"], "checks": ["json"]}
    assert result["django"]["differ"] == [] and result["django"]["failed"]["postgresql"] == []
