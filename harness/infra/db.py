"""Create and seed the benchmark schema. The rows are test fixtures, so they live here and
not in the apps; the apps only read and write them."""
import os
import random
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from ..errors import FdbenchError
from ..paths import VAR

WORLD_ROWS = 10_000
SEED = 20_10_2005  # fixed: every run starts from the same rows
# TechEmpower's Fortune rows, ids 1..12, character for character (their create-postgres.sql).
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]
SCHEMA = [
    "CREATE TABLE IF NOT EXISTS world (id INTEGER PRIMARY KEY, randomnumber INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS fortune (id INTEGER PRIMARY KEY, message VARCHAR(2048) NOT NULL)",
]


def default_sqlite_url():
    return f"sqlite:///{VAR / 'fdbench.sqlite3'}"


def given_postgres_url():
    """DATABASE_URL when it names a PostgreSQL server: it wins over a throwaway cluster."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgresql:", "postgresql+psycopg:")) else None


def resolve_url(db=None):
    """`--db` value (sqlite, a URL, or nothing) → a SQLAlchemy URL both apps understand.
    `postgres` without DATABASE_URL needs a throwaway cluster: use database() for that."""
    db = db or os.environ.get("DATABASE_URL") or "sqlite"
    if db == "sqlite":
        return default_sqlite_url()
    if db == "postgres":
        db = given_postgres_url()
        if not db:
            raise FdbenchError("--db postgres runs a throwaway cluster that lives for one command: "
                               "set DATABASE_URL=postgresql://... for a lasting database")
    if db.startswith("postgresql://"):
        db = "postgresql+psycopg://" + db.removeprefix("postgresql://")
    if not db.startswith(("sqlite:", "postgresql+psycopg:")):
        raise FdbenchError(f"unsupported --db {db!r}: use sqlite, postgres or a sqlite:/postgresql: URL")
    return db


@dataclass
class Database:
    url: str
    server_pids: list = field(default_factory=list)  # the DB server's root pids, when ours
    throwaway: bool = False


@contextmanager
def database(db=None, cpus=()):
    """The database a command works on. `postgres` with no PostgreSQL DATABASE_URL starts a
    throwaway cluster (infra/pg.py) pinned to `cpus`, removed when the block ends; its
    postmaster pid is given so that its CPU time can be counted as part of each request."""
    if db == "postgres" and not given_postgres_url():
        from .pg import Cluster

        with Cluster(cpus) as cluster:
            yield Database(cluster.url, [cluster.pid], throwaway=True)
        return
    yield Database(resolve_url(db))


def engine(url):
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FdbenchError(f"cannot create the SQLite folder {folder}: {exc.strerror}") from None
    return sa.create_engine(url)


def is_seeded(url):
    """Row counts and the fortunes' exact text: a database seeded by an older fdbench (whose
    fortune 3 differed from TechEmpower's by one word) is seeded again."""
    try:
        with engine(url).connect() as conn:
            worlds = conn.execute(sa.text("SELECT count(*) FROM world")).scalar()
            fortunes = conn.execute(sa.text("SELECT message FROM fortune ORDER BY id")).scalars().all()
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return False
        raise FdbenchError(f"database unreachable: {url}: {exc.orig}") from None
    except sa.exc.ProgrammingError:
        return False
    return worlds == WORLD_ROWS and fortunes == FORTUNES


def init(url):
    """Create the schema and (re)write every row, so a run never starts from stale data."""
    rng = random.Random(SEED)
    worlds = [{"id": i, "n": rng.randint(1, 10000)} for i in range(1, WORLD_ROWS + 1)]
    fortunes = [{"id": i, "m": m} for i, m in enumerate(FORTUNES, start=1)]
    try:
        with engine(url).begin() as conn:
            for statement in SCHEMA:
                conn.execute(sa.text(statement))
            conn.execute(sa.text("DELETE FROM world"))
            conn.execute(sa.text("DELETE FROM fortune"))
            conn.execute(sa.text("INSERT INTO world (id, randomnumber) VALUES (:id, :n)"), worlds)
            conn.execute(sa.text("INSERT INTO fortune (id, message) VALUES (:id, :m)"), fortunes)
        if url.startswith("sqlite"):
            # WAL lets readers and one writer work at once: several workers run /updates.
            with engine(url).connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    except sa.exc.OperationalError as exc:
        raise FdbenchError(f"database unreachable: {url}: {exc.orig}") from None


def ensure(url):
    if not is_seeded(url):
        init(url)


def describe(url):
    """Engine and server version, for run.json."""
    try:
        with engine(url).connect() as conn:
            dialect = conn.dialect
            version = ".".join(map(str, dialect.server_version_info or ()))
            settings = server_settings(conn)
    except sa.exc.SQLAlchemyError as exc:
        raise FdbenchError(f"database unreachable: {url}: {exc}") from None
    return {"engine": dialect.name, "version": version,
            "url": url if url.startswith("sqlite") else sa.engine.make_url(url).render_as_string(),
            "settings": settings, "connections": connection_policy(url)}


# Server settings that change what a request costs; recorded, never silently altered.
PG_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
               "max_connections", "jit", "listen_addresses")


def server_settings(conn):
    if conn.dialect.name == "sqlite":
        return {"journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "synchronous": conn.exec_driver_sql("PRAGMA synchronous").scalar()}
    rows = conn.execute(sa.text("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(:n)"),
                        {"n": list(PG_SETTINGS)})
    return {name: setting + (f" ({unit})" if unit else "") for name, setting, unit in rows}


def connection_policy(url):
    """How each app holds its connections (per gunicorn worker), as run.json records it.
    SQLAlchemy's pool is read from an engine built as Flask-SQLAlchemy builds it (no pool
    options); Django's CONN_MAX_AGE from the variable its settings read (default 60 there,
    checked by tests/test_db_settings.py)."""
    pool = engine(url).pool
    size = pool.size() if hasattr(pool, "size") else None
    return {
        "flask": {"pool": type(pool).__name__, "pool_size": size,
                  "max_overflow": getattr(pool, "_max_overflow", None)},
        "django": {"CONN_MAX_AGE": _int_or_raw(os.environ.get("DJANGO_CONN_MAX_AGE", "60"))},
        "baseline": {"connections": "one per worker, autocommit; BEGIN/COMMIT around /updates"},
    }


def _int_or_raw(value):
    """Recorded as given when it is no integer: Django itself will refuse it, trial by trial."""
    try:
        return int(value)
    except ValueError:
        return value
