"""Does each framework's app use two databases at once, and does it work the same on SQLite and
on PostgreSQL? Serves Flask and Django (under real gunicorn) on a fresh SQLite file and on a
throwaway PostgreSQL cluster. On each, one GET /twodb: the app reads a World row from its
default database and writes its audit entry to the second one (Django: a second DATABASES alias
and a router; Flask: a Flask-SQLAlchemy bind); the harness then opens both databases itself and
looks for the row in the second and for no change in the first. Then the equivalence checks,
whose deterministic answers are compared across the two engines (context, not the decision).
Written to static/databases.json; the "supports multiple databases" claim reads it. The full
contract is tests/test_equivalence.py (run on both databases by the test suite); this is the
part a stored run can carry as evidence."""
import html
import json
import re
import tempfile
import urllib.error
import urllib.request

import sqlalchemy as sa

from ..errors import FdbenchError
from ..infra import db as dbmod
from ..infra.serve import Server, ServeConfig

APPS = ("flask", "django")
ROW = re.compile(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>")


def fetch(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def _world_rows(body, n):
    rows = json.loads(body)
    rows = rows if isinstance(rows, list) else [rows]
    ok = (len(rows) == n and len({r["id"] for r in rows}) == n
          and all(set(r) == {"id", "randomNumber"} and 1 <= r["id"] <= 10000 for r in rows))
    return rows if ok else None


def _fortunes(body):
    rows = [(int(i), html.unescape(m)) for i, m in ROW.findall(re.sub(r">\s+<", "><", body))]
    expected = sorted(list(enumerate(dbmod.FORTUNES, 1))
                      + [(0, "Additional fortune added at request time.")], key=lambda r: r[1])
    return rows == expected and "&lt;script&gt;" in body and "<script>" not in body, rows


def probe(base, url):
    """check name -> {"ok": bool, "answer": what must be the same on every database}."""
    out = {}
    status, ctype, body = fetch(base, "/json")
    out["json"] = {"ok": status == 200 and json.loads(body) == {"message": "Hello, World!"},
                   "answer": body and json.loads(body)}
    status, _, body = fetch(base, "/db")
    out["db"] = {"ok": status == 200 and _world_rows(body, 1) is not None, "answer": status}
    status, _, body = fetch(base, "/queries?queries=20")
    out["queries"] = {"ok": status == 200 and _world_rows(body, 20) is not None, "answer": status}
    clamps = {q: len(json.loads(fetch(base, f"/queries?queries={q}")[2])) for q in ("0", "foo", "501")}
    out["clamping"] = {"ok": clamps == {"0": 1, "foo": 1, "501": 500}, "answer": clamps}
    status, ctype, body = fetch(base, "/fortunes")
    ok, rows = _fortunes(body)
    out["fortunes"] = {"ok": status == 200 and ok, "answer": rows}
    out["updates"] = _updates(base, url)
    return out


def _updates(base, url):
    status, _, body = fetch(base, "/updates?queries=5")
    rows = _world_rows(body, 5) if status == 200 else None
    if rows is None:
        return {"ok": False, "answer": status}
    query = sa.text("SELECT id, randomnumber FROM world WHERE id IN :ids").bindparams(
        sa.bindparam("ids", expanding=True))
    with dbmod.engine(url).connect() as conn:
        stored = dict(conn.execute(query, {"ids": [r["id"] for r in rows]}).all())
    return {"ok": stored == {r["id"]: r["randomNumber"] for r in rows}, "answer": status}


def default_state(url):
    """What /twodb must leave alone in the default database: its tables and their rows."""
    with dbmod.engine(url).connect() as conn:
        return {"tables": sorted(sa.inspect(conn).get_table_names()),
                "world": conn.execute(sa.text("SELECT id, randomnumber FROM world ORDER BY id")).all(),
                "fortune": conn.execute(sa.text("SELECT id, message FROM fortune ORDER BY id")).all()}


def second_database_rows(url, answer):
    """The audit row /twodb says it wrote, and the rows logged for its World id, read from the
    second database directly."""
    query = f"SELECT id, world_id, randomnumber FROM {dbmod.AUDIT_TABLE} WHERE world_id = :w"
    with dbmod.engine(dbmod.second_url(url)).connect() as conn:
        rows = conn.execute(sa.text(query), {"w": answer.get("id")}).all()
    return next((r for r in rows if r.id == answer.get("auditId")), None), len(rows)


def two_databases(base, url):
    """One GET /twodb: answered, its row in the second database, the default one untouched."""
    before = default_state(url)
    status, _, body = fetch(base, "/twodb")
    answer = _json_object(body) if status == 200 else {}
    row, logged = second_database_rows(url, answer) if answer else (None, 0)
    in_second = (row is not None and answer.get("logged") == logged
                 and (row.world_id, row.randomnumber) == (answer.get("id"), answer.get("randomNumber")))
    untouched = default_state(url) == before
    return {"status": status, "in_second": in_second, "default_untouched": untouched,
            "ok": status == 200 and in_second and untouched}


def _json_object(body):
    try:
        answer = json.loads(body)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def probe_database(url):
    """Per app: the equivalence checks' answers, and the two-database request."""
    dbmod.init(url)
    answers, two = {}, {}
    for app in APPS:
        with Server(ServeConfig(app=app, db_url=url)) as server:
            two[app] = two_databases(server.url, url)
            answers[app] = probe(server.url, url)
    return answers, two


def compare(answers):
    """Per app: checks failed per database, and checks whose answer differs between them."""
    out = {}
    for app in APPS:
        per_db = {engine: a[app] for engine, a in answers.items()}
        failed = {e: sorted(k for k, v in checks.items() if not v["ok"]) for e, checks in per_db.items()}
        names = set.intersection(*(set(c) for c in per_db.values()))
        differ = sorted(k for k in names if len({json.dumps(c[k]["answer"], sort_keys=True)
                                                for c in per_db.values()}) > 1)
        out[app] = {"failed": failed, "differ": differ, "checks": sorted(names)}
    return out


# engine -> where the second database is (harness/infra/db.py second_url)
SECOND_DATABASE = {"sqlite": "a second SQLite file beside the first",
                   "postgresql": "a second database on the same PostgreSQL server"}


def measure():
    """static/databases.json: per engine and app, the two-database request; engines checked,
    per-app failures and differences of the equivalence checks."""
    answers, two, unavailable, versions = {}, {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="fdbench-dbcheck-") as tmp:
        url = f"sqlite:///{tmp}/check.sqlite3"
        answers["sqlite"], two["sqlite"] = probe_database(url)
        versions["sqlite"] = dbmod.describe(url)["version"]
    try:
        with dbmod.database("postgres") as database:
            answers["postgresql"], two["postgresql"] = probe_database(database.url)
            versions["postgresql"] = dbmod.describe(database.url)["version"]
    except FdbenchError as exc:
        unavailable["postgresql"] = str(exc)
    return {"engines": sorted(answers), "versions": versions, "unavailable": unavailable,
            "apps": compare(answers), "two_databases": two,
            "second_database": {e: SECOND_DATABASE[e] for e in sorted(answers)}}
