"""SQL statements per request, counted inside each app: the TechEmpower rules, and the same
count in every app, on SQLite and on PostgreSQL. The counting hooks need the app's own
connection, so each app runs in-process (Django in a child process per database, because it
reads its DATABASES setting once per process)."""
import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import event
from werkzeug.test import Client

from harness.infra.db import engine, second_url
from harness.paths import ROOT

from tests.django_statements import draw_the_stored_number, store_sql

# path -> (SELECTs, UPDATEs) the rules ask for
EXPECTED = {
    "/json": (0, 0),
    "/plaintext": (0, 0),
    "/db": (1, 0),
    "/queries?queries=20": (20, 0),
    "/queries?queries=foo": (1, 0),
    "/fortunes": (1, 0),
    "/updates?queries=5": (5, 5),
    "/updates?queries=1": (1, 1),
}


def tally(statements):
    verbs = [s.lstrip().split(None, 1)[0].upper() for s in statements]
    return verbs.count("SELECT"), verbs.count("UPDATE"), len(statements)


SKIP = ("BEGIN", "COMMIT", "PRAGMA")


@pytest.fixture(scope="module")
def flask_counter(any_db_url):
    from apps.flask_app import create_app
    from apps.flask_app.models import db

    app = create_app(any_db_url)
    seen = []
    with app.app_context():
        @event.listens_for(db.engine, "before_cursor_execute")
        def record(conn, cursor, statement, parameters, context, executemany):
            # an executemany runs the statement once per parameter set
            seen.extend([statement] * (len(parameters) if executemany else 1))

    client = app.test_client()

    def count(path):
        seen.clear()
        assert client.get(path).status_code == 200
        return [s for s in seen if not s.startswith(SKIP)]

    return count


def run_django(db_url, paths, *flags):
    """tests/django_statements.py in a fresh interpreter: {path: {"status", "sql"}}."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-m", "tests.django_statements", *paths, *flags],
                          cwd=ROOT, env=env | {"DATABASE_URL": db_url}, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def django_statements(db_url, paths, *flags):
    captured = run_django(db_url, paths, *flags)

    def count(path):
        assert captured[path]["status"] == 200
        return [sql for sql in captured[path]["sql"] if not sql.startswith(SKIP)]

    return count


@pytest.fixture(scope="module")
def django_counter(any_db_url):
    return django_statements(any_db_url, EXPECTED)


class Recording:
    """psycopg has no statement trace hook (sqlite3 has one): record what the baseline hands
    to execute(). BEGIN/COMMIT of conn.transaction() do not pass here; they are not counted
    in any app."""

    def __init__(self, conn, seen):
        self._conn, self._seen = conn, seen

    def execute(self, sql, params=None):
        self._seen.append(sql)
        return self._conn.execute(sql, params)

    def __getattr__(self, name):
        return getattr(self._conn, name)


@pytest.fixture(scope="module")
def baseline_counter(any_db_url, monkeypatch_module):
    from apps.wsgi_baseline import app as baseline

    conn, mark = baseline.connect(any_db_url)
    seen = []
    if any_db_url.startswith("sqlite"):
        conn.set_trace_callback(seen.append)
    else:
        conn = Recording(conn, seen)
    monkeypatch_module.setattr(baseline._local, "connection", (conn, mark), raising=False)
    client = Client(baseline.application)

    def count(path):
        seen.clear()
        assert client.get(path).status_code == 200
        return [s for s in seen if not s.startswith(SKIP)]

    return count


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.parametrize("path", list(EXPECTED))
def test_statement_counts(path, flask_counter, django_counter, baseline_counter):
    selects, updates = EXPECTED[path]
    counts = {
        "flask": tally(flask_counter(path)),
        "django": tally(django_counter(path)),
        "baseline": tally(baseline_counter(path)),
    }
    for app, got in counts.items():
        assert got == (selects, updates, selects + updates), f"{app} {path}: {got}"


UPDATE_PATHS = ["/updates?queries=1", "/updates?queries=20"]


def test_updates_write_every_row_when_the_draw_repeats_the_stored_number(
        any_db_url, flask_counter, baseline_counter, monkeypatch):
    """The rare case made certain: every new number drawn equals the row's stored one. An app
    that keeps the number (or an ORM that then skips the UPDATE) fails, request by request."""
    def counted_after_storing(counter):
        def count(path):
            with engine(any_db_url).begin() as conn:
                conn.exec_driver_sql(store_sql())
            return counter(path)
        return count

    django = django_statements(any_db_url, UPDATE_PATHS, "--stored-draw")
    draw_the_stored_number(monkeypatch.setattr)
    counters = {"flask": counted_after_storing(flask_counter), "django": django,
                "baseline": counted_after_storing(baseline_counter)}
    for path in UPDATE_PATHS:
        n = int(path.rsplit("=", 1)[1])
        for app, count in counters.items():
            assert tally(count(path)) == (n, n, 2 * n), f"{app} {path}"


def test_twodb_statements_per_database(any_db_url, monkeypatch):
    """/twodb in both frameworks: one SELECT in the default database, then one INSERT and one
    SELECT (the count) in the second."""
    monkeypatch.setenv("AUDIT_DATABASE_URL", second_url(any_db_url))
    from apps.flask_app import create_app
    from apps.flask_app.models import db

    app, seen = create_app(any_db_url), {}
    with app.app_context():
        for key, bound in db.engines.items():
            alias = key or "default"
            seen[alias] = []
            event.listen(bound, "before_cursor_execute",
                         lambda *args, alias=alias: seen[alias].append(args[2]))
    assert app.test_client().get("/twodb").status_code == 200
    captured = run_django(any_db_url, ["/twodb"], "--databases")["/twodb"]
    assert captured["status"] == 200
    for name, by_alias in (("flask", seen), ("django", captured["sql"])):
        verbs = {alias: [s.lstrip().split(None, 1)[0].upper() for s in sql if not s.startswith(SKIP)]
                 for alias, sql in by_alias.items()}
        assert verbs == {"default": ["SELECT"], "audit": ["INSERT", "SELECT"]}, name
