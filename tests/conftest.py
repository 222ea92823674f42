import pytest

from harness import db as dbmod
from harness.serve import Server, ServeConfig

# Every target the equivalence contract binds: (app, variant).
TARGETS = [("flask", "default"), ("django", "default"), ("django", "stripped"), ("baseline", "default")]


def target_id(target):
    app, variant = target
    return app if variant == "default" else f"{app}-{variant}"


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bench.sqlite3'}"
    dbmod.init(url)
    return url


@pytest.fixture(scope="session")
def servers(db_url):
    """One real gunicorn (two sync workers, so SQLite locking is exercised) per target."""
    running = {}
    try:
        for app, variant in TARGETS:
            cfg = ServeConfig(app=app, variant=variant, db_url=db_url, workers=2)
            running[target_id((app, variant))] = Server(cfg).start()
        yield {name: server.url for name, server in running.items()}
    finally:
        for server in running.values():
            server.stop()
