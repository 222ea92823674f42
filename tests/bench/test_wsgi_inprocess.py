"""In-process micro-benchmarks: each app's WSGI callable called per endpoint with no network,
server or load generator, timed by pytest-benchmark. `make test` runs them once each as tests
(--benchmark-disable in pyproject); `make microbench` times them and saves
results/microbench.json, which the report sets beside the load test's CPU-µs ratio."""
import os
import sys

import pytest
from werkzeug.test import Client

from harness.paths import APPS

ENDPOINTS = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates": "/updates?queries=20",
}


def flask_app(db_url):
    from apps.flask_app import create_app

    return create_app(db_url)


def django_app(db_url):
    # Same process-wide settings as tests/test_statements.py: one Django per process.
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "fdproject.settings"
    if str(APPS / "django_app") not in sys.path:
        sys.path.insert(0, str(APPS / "django_app"))
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def baseline_app(db_url):
    from apps.wsgi_baseline import app as baseline

    os.environ["DATABASE_URL"] = db_url
    baseline._connection = None  # reconnect to this test session's database
    return baseline.application


FACTORIES = {"flask": flask_app, "django": django_app, "baseline": baseline_app}


@pytest.fixture(scope="module")
def clients(db_url):
    return {name: Client(factory(db_url)) for name, factory in FACTORIES.items()}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("target", FACTORIES)
def test_wsgi_call(benchmark, clients, target, endpoint):
    client, path = clients[target], ENDPOINTS[endpoint]
    benchmark.extra_info.update(target=target, endpoint=endpoint)
    benchmark.group = endpoint
    resp = benchmark(client.get, path)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(resp.get_data())
