"""The equivalence contract: every app answers every endpoint alike, over real gunicorn."""
import html
import json
import re

import pytest
import requests
import sqlalchemy as sa

from harness.db import FORTUNES, engine

from .conftest import TARGETS, target_id

NAMES = [target_id(t) for t in TARGETS]
ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>")
# queries parameter -> rows expected (None: parameter left out)
CLAMPS = [("2", 2), ("0", 1), ("foo", 1), ("501", 500), ("", 1), (None, 1)]


def get(url, path, params=None):
    resp = requests.get(url + path, params=params, timeout=30)
    for header in ("Content-Type", "Content-Length", "Date", "Server"):
        assert header in resp.headers, f"{path}: missing {header}"
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    return resp


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
    resp = get(servers[name], "/plaintext")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
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
def test_updates_are_persisted(servers, any_db_url, name):
    rows = get(servers[name], "/updates", {"queries": "20"}).json()
    query = sa.text("SELECT id, randomnumber FROM world WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    with engine(any_db_url).connect() as conn:
        stored = dict(conn.execute(query, {"ids": [r["id"] for r in rows]}).all())
    assert stored == {r["id"]: r["randomNumber"] for r in rows}


@pytest.mark.parametrize("name", NAMES)
def test_fortunes(servers, name):
    resp = get(servers[name], "/fortunes")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].replace(" ", "").lower() == "text/html;charset=utf-8"
    body = resp.content.decode("utf-8")
    rows = [(int(i), html.unescape(m)) for i, m in ROW.findall(re.sub(r">\s+<", "><", body))]
    assert len(rows) == 13
    expected = sorted(
        list(enumerate(FORTUNES, start=1)) + [(0, "Additional fortune added at request time.")],
        key=lambda r: r[1])
    assert rows == expected
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "フレームワークのベンチマーク" in body


@pytest.mark.parametrize("path", ["/json", "/plaintext", "/fortunes"])
def test_same_body_across_apps(servers, path):
    bodies = {name: get(servers[name], path).text for name in NAMES}
    if path == "/json":
        bodies = {name: json.loads(b) for name, b in bodies.items()}
    else:
        bodies = {name: normalise(b) for name, b in bodies.items()}
    assert all(b == bodies["flask"] for b in bodies.values()), bodies


@pytest.mark.parametrize("name", NAMES)
def test_unknown_path_is_404(servers, name):
    assert requests.get(servers[name] + "/nope", timeout=10).status_code == 404
