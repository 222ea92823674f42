"""In-process micro-benchmarks: each app's WSGI callable called per endpoint with no network,
server or load generator, timed by pytest-benchmark. `make test` runs them once each as tests
(--benchmark-disable in pyproject); `make microbench` times them and saves
results/microbench.json, which the report sets beside the load test's CPU-µs ratio.

What keeps the ratios honest (a wall-clock run on a busy 2-core machine once gave Flask/Django
5.3 on /db, where instruction counts give 0.95):
- the timer is this process's CPU time, the in-process twin of the load test's CPU-µs per
  request: time spent waiting for a CPU that another process holds is not counted;
- every endpoint is warmed up before it is timed (first-request setup, caches), and timed for
  at least MIN_ROUNDS calls, not the five a slow first call leaves pytest-benchmark; the report
  takes the fastest call (harness/measure/microbench.py says why);
- the endpoint is the outer loop, so Flask, Django and the baseline of one endpoint run back
  to back and share whatever the machine is doing then;
- all three apps read the same SQLite file over one persistent connection each, checked below;
- the load average is saved with each timing, so the report can say when the machine was busy."""
import os
import sys
import time

import pytest
from werkzeug.test import Client

from harness.targets import ENDPOINTS
from harness.paths import APPS

MIN_ROUNDS = 100


def flask_app(db_url):
    from apps.flask_app import create_app

    return create_app(db_url)


def django_app(db_url):
    """Django reads DATABASE_URL once, when its settings are imported: one Django per process."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "fdproject.settings"
    if str(APPS / "django_app") not in sys.path:
        sys.path.insert(0, str(APPS / "django_app"))
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def baseline_app(db_url):
    from apps.wsgi_baseline import app as baseline

    baseline._local.connection = None  # reconnect to this test session's database
    return baseline.application


FACTORIES = {"flask": flask_app, "django": django_app, "baseline": baseline_app}


@pytest.fixture(scope="module")
def clients(db_url):
    """DATABASE_URL is set only while this module runs: Django and the baseline read it, and
    later tests must not inherit it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", db_url)
        yield {name: Client(factory(db_url)) for name, factory in FACTORIES.items()}


def database_files(clients):
    """{target: (database file, connections opened)} after a few /db requests each."""
    from django.db import connection as django_conn
    from sqlalchemy import event

    from apps.flask_app.models import db
    from apps.wsgi_baseline import app as baseline

    for client in clients.values():
        client.get("/db")  # each opens its connection here, and only here
    with clients["flask"].application.app_context():
        engine = db.engine
    opened = {"flask": 0}
    event.listen(engine, "connect", lambda *_: opened.__setitem__("flask", opened["flask"] + 1))
    django_ids, baseline_ids = set(), set()
    for _ in range(5):
        for client in clients.values():
            client.get("/db")
        django_ids.add(id(django_conn.connection))
        baseline_ids.add(id(baseline._local.connection[0]))
    name = baseline._local.connection[0].execute("PRAGMA database_list").fetchone()[2]
    return {"flask": (engine.url.database, opened["flask"]),
            "django": (django_conn.settings_dict["NAME"], len(django_ids) - 1),
            "baseline": (name, len(baseline_ids) - 1)}


def test_same_database_same_way(clients, db_url):
    """Every target reads db_url's file over a connection it keeps between requests."""
    path = db_url.removeprefix("sqlite:///")
    got = database_files(clients)
    assert got == {t: (path, 0) for t in FACTORIES}, got


@pytest.mark.benchmark(timer=time.process_time, warmup=True, warmup_iterations=MIN_ROUNDS,
                       min_rounds=MIN_ROUNDS)
@pytest.mark.parametrize("target", FACTORIES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_wsgi_call(benchmark, clients, target, endpoint):
    client, path = clients[target], ENDPOINTS[endpoint]
    benchmark.extra_info.update(target=target, endpoint=endpoint, path=path, loadavg=os.getloadavg()[0])
    benchmark.group = endpoint
    client.get(path)  # first-request setup is not part of the per-request cost
    resp = benchmark(client.get, path)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(resp.get_data())
