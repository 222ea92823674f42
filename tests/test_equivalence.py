"""The equivalence contract: every app answers every endpoint alike, over real gunicorn."""
import email.utils
import html
import json
import re
import time
from html.parser import HTMLParser

import pytest
import requests
import sqlalchemy as sa

from harness.infra.db import AUDIT_TABLE, engine, second_url
from harness.targets import FRAMEWORKS

from tests.conftest import TARGETS, target_id

NAMES = [target_id(t) for t in TARGETS]
# queries parameter -> rows expected (None: parameter left out)
CLAMPS = [("2", 2), ("0", 1), ("foo", 1), ("501", 500), ("", 1), (None, 1)]
# TechEmpower's Content-Type rules (their verifier's patterns)
CONTENT_TYPES = {
    "json": r"application/json(; ?charset=(UTF|utf)-8)?",
    "plaintext": r"text/plain(; ?charset=(UTF|utf)-8)?",
    "html": r"text/html; ?charset=(UTF|utf)-8",
}
# The whole page TechEmpower's verifier expects from /fortunes, sorted by message: their
# canonical rows written out here, not read from the seed data, so that a wrong seed fails.
FORTUNES_TABLE = [
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (0, "Additional fortune added at request time."),
    (3, "After enough decimal places, nobody gives a damn."),
    (7, "Any program that runs right is obsolete."),
    (10, "Computers make very fast, very accurate mistakes."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (9, "Feature: A bug with seniority."),
    (1, "fortune: No such file or directory"),
    (12, "フレームワークのベンチマーク"),
]


SERVER_HEADERS = ("Date", "Server")  # the server's part of the contract, not the app's


class Url(str):
    """A server's base URL that knows whether its server adds Date and Server to a response:
    every deployment does but uWSGI (infra/deployments.py, `server_headers`)."""

    def __new__(cls, url, server_headers=True):
        self = super().__new__(cls, url)
        self.server_headers = server_headers
        return self


def get(url, path, params=None, kind="json"):
    resp = requests.get(url + path, params=params, timeout=30)
    for header in ("Content-Type", "Content-Length"):
        assert resp.headers.get(header), f"{path}: missing {header}"
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    assert re.fullmatch(CONTENT_TYPES[kind], resp.headers["Content-Type"]), resp.headers
    if getattr(url, "server_headers", True):
        for header in SERVER_HEADERS:
            assert resp.headers.get(header), f"{path}: missing {header}"
        assert_http_date(resp.headers["Date"])
    else:  # a server that starts adding them should be recorded as doing so
        assert not set(SERVER_HEADERS) & set(resp.headers), resp.headers
    return resp


def assert_http_date(value):
    """RFC 9110's IMF-fixdate, e.g. 'Sun, 06 Nov 1994 08:49:37 GMT'."""
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", value), value
    assert email.utils.parsedate_to_datetime(value).tzname() == "UTC", value


class PageTokens(HTMLParser):
    """A page as its tags and non-blank text, entities decoded: what TechEmpower's verifier
    compares once template engines' whitespace and entity spellings are set aside."""

    def __init__(self, body):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.feed(body)
        self.close()

    def handle_decl(self, decl):
        self.tokens.append(f"<!{decl.lower()}>")

    def handle_starttag(self, tag, attrs):
        self.tokens.append(f"<{tag}>")

    def handle_endtag(self, tag):
        self.tokens.append(f"</{tag}>")

    def handle_data(self, data):
        if data.strip():
            self.tokens.append(data)


def expected_fortunes_page():
    rows = [token for i, message in FORTUNES_TABLE
            for token in ("<tr>", "<td>", str(i), "</td>", "<td>", message, "</td>", "</tr>")]
    return (["<!doctype html>", "<html>", "<head>", "<title>", "Fortunes", "</title>", "</head>",
             "<body>", "<table>", "<tr>", "<th>", "id", "</th>", "<th>", "message", "</th>", "</tr>"]
            + rows + ["</table>", "</body>", "</html>"])


def assert_world(row):
    assert set(row) == {"id", "randomNumber"}
    assert all(type(v) is int and 1 <= v <= 10000 for v in row.values()), row


def normalise(body):
    """Whitespace between tags and the spelling of entities differ by template engine."""
    body = re.sub(r">\s+<", "><", body.strip())
    return re.sub(r"&#?\w+;", lambda m: html.escape(html.unescape(m.group())), body)


@pytest.mark.parametrize("name", NAMES)
def test_json(servers, name):
    resp = get(servers[name], "/json")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.json() == {"message": "Hello, World!"}


@pytest.mark.parametrize("name", NAMES)
def test_plaintext(servers, name):
    resp = get(servers[name], "/plaintext", kind="plaintext")
    assert resp.status_code == 200
    assert resp.content == b"Hello, World!"


@pytest.mark.parametrize("name", NAMES)
def test_db(servers, name):
    resp = get(servers[name], "/db")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert_world(resp.json())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("endpoint", ["/queries", "/updates"])
@pytest.mark.parametrize("value,expected", CLAMPS)
def test_queries_clamping(servers, name, endpoint, value, expected):
    params = None if value is None else {"queries": value}
    resp = get(servers[name], endpoint, params)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    rows = resp.json()
    assert isinstance(rows, list) and len(rows) == expected
    for row in rows:
        assert_world(row)
    assert len({row["id"] for row in rows}) == expected


@pytest.mark.parametrize("name", NAMES)
def test_updates_are_persisted_and_change_every_row(servers, any_db_url, name):
    with engine(any_db_url).connect() as conn:
        before = dict(conn.execute(sa.text("SELECT id, randomnumber FROM world")).all())
    rows = get(servers[name], "/updates", {"queries": "20"}).json()
    query = sa.text("SELECT id, randomnumber FROM world WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    with engine(any_db_url).connect() as conn:
        stored = dict(conn.execute(query, {"ids": [r["id"] for r in rows]}).all())
    assert stored == {r["id"]: r["randomNumber"] for r in rows}
    # a new number equal to the old one would let an ORM skip the row's UPDATE
    assert all(before[i] != n for i, n in stored.items()), (before, stored)


@pytest.mark.parametrize("name", NAMES)
def test_fortunes(servers, name):
    resp = get(servers[name], "/fortunes", kind="html")
    assert resp.status_code == 200
    body = resp.content.decode("utf-8")
    assert PageTokens(body).tokens == expected_fortunes_page()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "フレームワークのベンチマーク" in body


def test_date_is_not_cached(servers):
    """TechEmpower requires a Date computed for the response, not one frozen at start-up."""
    dated = [name for name in NAMES if getattr(servers[name], "server_headers", True)]
    first = {name: get(servers[name], "/json").headers.get("Date") for name in NAMES}
    time.sleep(1.1)
    second = {name: get(servers[name], "/json").headers.get("Date") for name in NAMES}
    assert all(first[name] != second[name] for name in dated), (first, second)


@pytest.mark.parametrize("path", ["/json", "/plaintext", "/fortunes"])
def test_same_body_across_apps(servers, path):
    kind = {"/json": "json", "/plaintext": "plaintext", "/fortunes": "html"}[path]
    bodies = {name: get(servers[name], path, kind=kind).text for name in NAMES}
    if path == "/json":
        bodies = {name: json.loads(b) for name, b in bodies.items()}
    else:
        bodies = {name: normalise(b) for name, b in bodies.items()}
    assert all(b == bodies["flask"] for b in bodies.values()), bodies


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_twodb_reads_the_default_database_and_writes_the_second(servers, any_db_url, name):
    """One request, two databases (not benchmarked; the baseline has no /twodb): a World row
    from the default database, its audit entry written to and counted in the second, looked
    up there directly; the default database gets no such table."""
    resp = get(servers[name], "/twodb")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert set(body) == {"id", "randomNumber", "auditId", "logged"}
    assert_world({"id": body["id"], "randomNumber": body["randomNumber"]})
    query = sa.text(f"SELECT id, randomnumber FROM {AUDIT_TABLE} WHERE world_id = :w")
    with engine(second_url(any_db_url)).connect() as conn:
        logged = dict(conn.execute(query, {"w": body["id"]}).all())
    assert logged[body["auditId"]] == body["randomNumber"] and body["logged"] == len(logged)
    assert AUDIT_TABLE not in sa.inspect(engine(any_db_url)).get_table_names()


@pytest.mark.parametrize("name", NAMES)
def test_unknown_path_is_404(servers, name):
    assert requests.get(servers[name] + "/nope", timeout=10).status_code == 404
