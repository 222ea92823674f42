"""Run as a child process by tests/test_statements.py: Django reads DATABASES once per process,
so each database gets a fresh interpreter. Prints {path: [sql, ...]} as JSON for the given
paths, captured with Django's own CaptureQueriesContext. With --stored-draw, every random
draw repeats the stored number (the case where an ORM may skip an UPDATE). With --databases,
each path's statements are given per database alias ({path: {"sql": {alias: [...]}}})."""
import json
import os
import random
import sys
from contextlib import ExitStack

from harness.paths import APPS

STORED = 42  # the number rows 1..500 hold before each request of a stored-draw run


def draw_the_stored_number(patch):
    """Ids 1..n and every new number equal to STORED: `patch(obj, name, value)` sets them."""
    patch(random, "sample", lambda population, n: list(population)[:n])
    patch(random, "randint", lambda a, b: STORED)


def store_sql():
    return f"UPDATE world SET randomnumber = {STORED} WHERE id <= 500"


def main(paths):
    stored_draw, by_alias = "--stored-draw" in paths, "--databases" in paths
    paths = [p for p in paths if not p.startswith("--")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fdproject.settings")
    sys.path.insert(0, str(APPS / "django_app"))
    import django
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    django.setup()
    client = Client()
    if stored_draw:
        draw_the_stored_number(setattr)
    out = {}
    for path in paths:
        if stored_draw:
            with connection.cursor() as cursor:
                cursor.execute(store_sql())
        with ExitStack() as stack:
            ctx = {alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
                   for alias in (connections if by_alias else ["default"])}
            status = client.get(path).status_code
        sql = {alias: [q["sql"] for q in c.captured_queries] for alias, c in ctx.items()}
        out[path] = {"status": status, "sql": sql if by_alias else sql["default"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
