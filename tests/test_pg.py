"""The throwaway PostgreSQL cluster and the DB-server cost figures."""
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from harness.infra import db as dbmod
from harness.infra import pg, reaper
from harness.errors import FdbenchError
from harness.paths import APPS
from harness.run.records import db_cost

from tests.pgsupport import require_binaries


def test_cluster_runs_as_postgres_and_leaves_nothing(monkeypatch):
    require_binaries()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with dbmod.database("postgres") as database:
        pid = database.server_pids[0]
        postmaster = psutil.Process(pid)
        folder = Path(postmaster.cmdline()[postmaster.cmdline().index("-D") + 1]).parent
        assert database.throwaway and pid in reaper._groups
        assert postmaster.username() == ("postgres" if psutil.Process().uids().effective == 0
                                         else psutil.Process().username())
        with dbmod.engine(database.url).connect() as conn:
            assert conn.execute(sa.text("SHOW fsync")).scalar() == "on"  # durability untouched
        described = dbmod.describe(database.url)
        assert described["engine"] == "postgresql"
        assert described["settings"]["synchronous_commit"] == "on"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not folder.exists() and pid not in reaper._groups


def test_database_url_wins_over_a_throwaway_cluster(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@127.0.0.1:1/elsewhere")
    with dbmod.database("postgres") as database:
        assert database.url == "postgresql+psycopg://someone@127.0.0.1:1/elsewhere"
        assert not database.throwaway and database.server_pids == []


def test_postgres_without_binaries_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("FDBENCH_PG_BIN", "/nonexistent")
    monkeypatch.setattr(pg.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pg.shutil, "which", lambda name: None)
    with pytest.raises(FdbenchError, match="binaries"):
        with dbmod.database("postgres"):
            pass


def test_resolve_url_refuses_a_cluster_that_would_vanish(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(FdbenchError, match="DATABASE_URL"):
        dbmod.resolve_url("postgres")


@pytest.mark.parametrize("url,db_sample,expected", [
    ("sqlite:////x.sqlite3", None, (None, None, 300.0)),        # in-process: total = server
    ("postgresql+psycopg://a@h/d", None, (None, None, None)),    # external: unknown
    ("postgresql+psycopg://a@h/d", {"cpu_s": 0.1}, (0.1, 100.0, 400.0)),
])
def test_db_cost(url, db_sample, expected):
    got = db_cost(url, db_sample, {"cpu_s": 0.3}, 1000)
    assert (got["db_cpu_s"], got["db_cpu_us_per_request"], got["total_cpu_us_per_request"]) == expected


def test_recorded_django_conn_max_age_is_the_settings_value():
    """run.json's connection policy must say what Django's settings really do."""
    out = subprocess.run(
        [sys.executable, "-c", "import fdproject.settings as s; "
                               "print(s.DATABASES['default']['CONN_MAX_AGE'])"],
        cwd=APPS / "django_app", capture_output=True, text=True, check=True,
        env={"DATABASE_URL": "sqlite:////tmp/x.sqlite3", "PATH": "/usr/bin"})
    recorded = dbmod.connection_policy("sqlite:////tmp/x.sqlite3")["django"]["CONN_MAX_AGE"]
    assert int(out.stdout) == recorded == 60


def test_recorded_flask_pool_is_the_apps():
    """run.json's pool must be the one the Flask app builds on a database server (and SQLAlchemy's
    own on SQLite, which the app leaves alone but for its busy timeout)."""
    for url in ("postgresql+psycopg://fdbench@127.0.0.1/nowhere", "sqlite:////tmp/x.sqlite3"):
        out = subprocess.run(
            [sys.executable, "-c", "from flask_app import create_app; from flask_app.models import db\n"
             f"with create_app({url!r}).app_context(): p = db.engine.pool\n"
             "print(type(p).__name__, p.size(), p._max_overflow)"],
            cwd=APPS, capture_output=True, text=True, check=True, env={"PATH": "/usr/bin"})
        recorded = dbmod.connection_policy(url)["flask"]
        assert out.stdout.split() == [recorded["pool"], str(recorded["pool_size"]),
                                      str(recorded["max_overflow"])]
        assert (recorded["pool_size"], recorded["max_overflow"]) == (
            (0, -1) if url.startswith("postgresql") else (5, 10))


def test_missing_postgres_fails_the_tests_unless_allowed(monkeypatch):
    """CI must not turn green by skipping every PostgreSQL test."""
    from tests import pgsupport

    monkeypatch.setattr(pg, "available", lambda: False)
    monkeypatch.delenv(pgsupport.ALLOW_NO_PG, raising=False)
    with pytest.raises(pytest.fail.Exception):
        pgsupport.require_binaries()
    monkeypatch.setenv(pgsupport.ALLOW_NO_PG, "1")
    with pytest.raises(pytest.skip.Exception):
        pgsupport.require_binaries()
