"""static/databases.json: each framework's app serves one request from two databases, checked
from outside on SQLite and PostgreSQL; and both engines pass the equivalence checks alike."""
import sqlalchemy as sa

from harness.infra import db as dbmod
from harness.infra.serve import Server, ServeConfig
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
        for engine in ("sqlite", "postgresql"):
            assert result["two_databases"][engine][app] == {
                "status": 200, "in_second": True, "default_untouched": True, "ok": True}, (engine, app)
    assert set(result["second_database"]) == {"sqlite", "postgresql"}


def test_two_databases_fails_when_the_second_database_lacks_its_table(tmp_path):
    """The check reads both databases itself: an app that cannot write the second one fails."""
    url = f"sqlite:///{tmp_path / 'main.sqlite3'}"
    dbmod.init(url)
    with dbmod.engine(dbmod.second_url(url)).begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {dbmod.AUDIT_TABLE}"))
    for app in databases.APPS:
        with Server(ServeConfig(app=app, db_url=url)) as server:
            result = databases.two_databases(server.url, url)
        assert result == {"status": 500, "in_second": False, "default_untouched": True, "ok": False}, app


def test_second_database_sits_beside_the_first():
    assert dbmod.second_url("sqlite:////tmp/x/bench.sqlite3") == "sqlite:////tmp/x/bench-audit.sqlite3"
    assert (dbmod.second_url("postgresql+psycopg://postgres@127.0.0.1:5432/fdbench")
            == "postgresql+psycopg://postgres@127.0.0.1:5432/fdbench_audit")
    assert dbmod.second_url("sqlite://") is None


def test_compare_reports_failures_and_differences():
    same = {"json": {"ok": True, "answer": {"message": "Hello, World!"}}}
    other = {"json": {"ok": False, "answer": {"message": "Bye"}}}
    result = databases.compare({"sqlite": {"flask": same, "django": same},
                              "postgresql": {"flask": other, "django": same}})
    assert result["flask"] == {"failed": {"sqlite": [], "postgresql": ["json"]},
                               "differ": ["json"], "checks": ["json"]}
    assert result["django"]["differ"] == [] and result["django"]["failed"]["postgresql"] == []
