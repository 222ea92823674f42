"""Create and seed the benchmark schema. The rows are test fixtures, so they live here and
not in the apps; the apps only read and write them."""
import os
import random
from pathlib import Path

import sqlalchemy as sa

from .errors import FdbenchError
from .paths import VAR

WORLD_ROWS = 10_000
SEED = 20_10_2005  # fixed: every run starts from the same rows
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal points, nobody gives a damn.",
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


def resolve_url(db=None):
    """`--db` value (sqlite, a URL, or nothing) → a SQLAlchemy URL both apps understand."""
    db = db or os.environ.get("DATABASE_URL") or "sqlite"
    if db == "sqlite":
        return default_sqlite_url()
    if db == "postgres":
        raise FdbenchError("--db postgres needs DATABASE_URL=postgresql+psycopg://... for now")
    if db.startswith("postgresql://"):
        db = "postgresql+psycopg://" + db.removeprefix("postgresql://")
    if not db.startswith(("sqlite:", "postgresql+psycopg:")):
        raise FdbenchError(f"unsupported --db {db!r}: use sqlite, postgres or a sqlite:/postgresql: URL")
    return db


def engine(url):
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return sa.create_engine(url)


def is_seeded(url):
    try:
        with engine(url).connect() as conn:
            worlds = conn.execute(sa.text("SELECT count(*) FROM world")).scalar()
            fortunes = conn.execute(sa.text("SELECT count(*) FROM fortune")).scalar()
    except sa.exc.OperationalError as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return False
        raise FdbenchError(f"database unreachable: {url}: {exc.orig}") from None
    except sa.exc.ProgrammingError:
        return False
    return worlds == WORLD_ROWS and fortunes == len(FORTUNES)


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
    except sa.exc.SQLAlchemyError as exc:
        raise FdbenchError(f"database unreachable: {url}: {exc}") from None
    return {"engine": dialect.name, "version": version,
            "url": url if url.startswith("sqlite") else sa.engine.make_url(url).render_as_string()}
