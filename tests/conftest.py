"""Shared fixtures. Before anything imports harness, FDBENCH_DATA points fdbench's results/,
reports/ and var/ at a temporary folder (every fdbench the tests start inherits it), and
Hypothesis and pytest-benchmark keep their files there too: the suite leaves the checkout as
it found it."""
import atexit
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

SCRATCH = Path(tempfile.mkdtemp(prefix="fdbench-tests-"))
os.environ["FDBENCH_DATA"] = str(SCRATCH)
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)

from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

set_hypothesis_home_dir(SCRATCH / "hypothesis")

from harness.infra import db as dbmod  # noqa: E402
from harness import cli, targets  # noqa: E402
from harness.infra import pg, reaper  # noqa: E402
from harness.infra.serve import Server, ServeConfig  # noqa: E402

from tests import pgsupport  # noqa: E402


@pytest.fixture(scope="session")
def valgrind():
    """Tests that count instructions fail without valgrind: a machine that lost it cannot pass
    by skipping them."""
    if shutil.which("valgrind") is None:
        pytest.fail("valgrind not installed: `make system-deps` installs it")


@pytest.fixture(scope="session")
def faketime():
    from harness.measure import callgrind_env

    if not callgrind_env.faketime_library():
        pytest.fail("libfaketime not installed: `make system-deps` installs faketime")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Before pytest-benchmark opens its storage (./.benchmarks by default)."""
    if config.getoption("benchmark_storage", None) == "file://./.benchmarks":
        config.option.benchmark_storage = f"file://{SCRATCH / 'benchmarks'}"

# Every target the equivalence contract binds: (app, variant).
TARGETS = list(targets.TARGETS.values())


def target_id(target):
    return targets.target_of(*target)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bench.sqlite3'}"
    dbmod.init(url)
    return url


@pytest.fixture(scope="session")
def pg_url():
    """A seeded PostgreSQL database: FDBENCH_TEST_PG_URL (or a postgresql DATABASE_URL), else a
    throwaway cluster; no PostgreSQL fails the test (tests/pgsupport.py says when it skips)."""
    given = pgsupport.given_url()
    if given:
        url = dbmod.resolve_url(given)
        dbmod.init(url)
        yield url
        return
    pgsupport.require_binaries()
    with pg.Cluster() as cluster:
        dbmod.init(cluster.url)
        yield cluster.url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def any_db_url(request):
    """The equivalence contract holds on every database the apps support."""
    return request.getfixturevalue("db_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture(scope="session")
def servers(any_db_url):
    """One real gunicorn (two sync workers, so SQLite locking is exercised) per target."""
    running = {}
    try:
        for app, variant in TARGETS:
            cfg = ServeConfig(app=app, variant=variant, db_url=any_db_url, workers=2)
            running[target_id((app, variant))] = Server(cfg).start()
        yield {name: server.url for name, server in running.items()}
    finally:
        for server in running.values():
            server.stop()


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """main(argv) -> (exit code, stdout, stderr), leaving this process's signal handlers and
    the reaper's groups (other tests' servers) untouched."""
    monkeypatch.setattr(reaper, "_groups", set())
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def run(*argv):
        try:
            code = cli.main(list(argv))
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        out, err = capsys.readouterr()
        return code, out, err

    return run
