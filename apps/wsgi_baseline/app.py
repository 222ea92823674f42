"""A bare WSGI app with no framework: the same six endpoints written straight against the
DB driver. Whatever a framework costs above this is the framework's price."""
import html
import json
import os
import random
import sqlite3
import threading
from urllib.parse import parse_qs, urlsplit

FORTUNES_HEAD = (
    "<!DOCTYPE html>\n<html>\n<head><title>Fortunes</title></head>\n<body>\n<table>\n"
    "<tr><th>id</th><th>message</th></tr>\n"
)
FORTUNES_TAIL = "</table>\n</body>\n</html>\n"
_local = threading.local()


def connect(url):
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        # isolation_level=None: autocommit, transactions only where we say BEGIN.
        return sqlite3.connect(parts.path[1:], timeout=30, isolation_level=None), "?"
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(dsn, autocommit=True), "%s"


def db():
    """One connection per worker thread (a process has one under gunicorn's sync worker),
    opened after the server forks: sqlite3 and psycopg connections are not shared between
    threads, which threaded servers (gthread, Granian) would otherwise do."""
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = _local.connection = connect(os.environ["DATABASE_URL"])
    return connection


def query_count(environ):
    # keep_blank_values: "queries=&queries=7" counts as blank (1), as in Flask and Django.
    values = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).get("queries", ["1"])
    try:
        n = int(values[0])
    except ValueError:
        return 1
    return min(max(n, 1), 500)


def random_worlds(n):
    conn, mark = db()
    sql = f"SELECT id, randomnumber FROM world WHERE id = {mark}"
    rows = []
    for i in random.sample(range(1, 10001), n):
        row = conn.execute(sql, (i,)).fetchone()
        rows.append({"id": row[0], "randomNumber": row[1]})
    return rows


def new_random_number(old):
    """A random number other than `old`, uniform over the other 9,999: an unchanged value would
    let an ORM skip the row's UPDATE, and every app must write every row on every request."""
    number = random.randint(1, 9999)
    return number + 1 if number >= old else number


def update_worlds(n):
    conn, mark = db()
    worlds = random_worlds(n)
    sql = f"UPDATE world SET randomnumber = {mark} WHERE id = {mark}"
    with conn.transaction() if hasattr(conn, "transaction") else _sqlite_tx(conn):
        for world in worlds:
            world["randomNumber"] = new_random_number(world["randomNumber"])
            conn.execute(sql, (world["randomNumber"], world["id"]))
    return worlds


class _sqlite_tx:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN")

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def fortunes_page():
    conn, _ = db()
    rows = conn.execute("SELECT id, message FROM fortune").fetchall()
    rows.append((0, "Additional fortune added at request time."))
    rows.sort(key=lambda r: r[1])
    body = "".join(
        f"<tr><td>{i}</td><td>{html.escape(m)}</td></tr>\n" for i, m in rows
    )
    return FORTUNES_HEAD + body + FORTUNES_TAIL


def as_json(obj):
    return json.dumps(obj, separators=(",", ":")).encode(), "application/json"


ROUTES = {
    "/json": lambda env: as_json({"message": "Hello, World!"}),
    "/plaintext": lambda env: (b"Hello, World!", "text/plain"),
    "/db": lambda env: as_json(random_worlds(1)[0]),
    "/queries": lambda env: as_json(random_worlds(query_count(env))),
    "/updates": lambda env: as_json(update_worlds(query_count(env))),
    "/fortunes": lambda env: (fortunes_page().encode(), "text/html; charset=utf-8"),
}


def application(environ, start_response):
    route = ROUTES.get(environ.get("PATH_INFO", ""))
    if route is None:
        body, ctype, status = b"Not Found", "text/plain", "404 Not Found"
    else:
        (body, ctype), status = route(environ), "200 OK"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
