"""SQL statements per request, counted inside each app: the TechEmpower rules, and the same
count in every app. Run in-process (the counting hooks need the app's own connection)."""
import os
import sys

import pytest
from sqlalchemy import event
from werkzeug.test import Client

from harness.paths import APPS

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


@pytest.fixture(scope="module")
def flask_counter(db_url):
    from apps.flask_app import create_app
    from apps.flask_app.models import db

    app = create_app(db_url)
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
        return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "PRAGMA"))]

    return count


@pytest.fixture(scope="module")
def django_counter(db_url):
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "fdproject.settings"
    sys.path.insert(0, str(APPS / "django_app"))
    import django
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    django.setup()
    client = DjangoClient()

    def count(path):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path).status_code == 200
        return [q["sql"] for q in ctx.captured_queries
                if not q["sql"].startswith(("BEGIN", "COMMIT", "PRAGMA"))]

    return count


@pytest.fixture(scope="module")
def baseline_counter(db_url, monkeypatch_module):
    from apps.wsgi_baseline import app as baseline

    monkeypatch_module.setenv("DATABASE_URL", db_url)
    monkeypatch_module.setattr(baseline, "_connection", None)
    conn, _ = baseline.db()
    seen = []
    conn.set_trace_callback(seen.append)
    client = Client(baseline.application)

    def count(path):
        seen.clear()
        assert client.get(path).status_code == 200
        return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "PRAGMA"))]

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
