"""Run as a child process by tests/test_statements.py: Django reads DATABASES once per process,
so each database gets a fresh interpreter. Prints {path: [sql, ...]} as JSON for the given
paths, captured with Django's own CaptureQueriesContext."""
import json
import os
import sys

from harness.paths import APPS


def main(paths):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fdproject.settings")
    sys.path.insert(0, str(APPS / "django_app"))
    import django
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    django.setup()
    client = Client()
    out = {}
    for path in paths:
        with CaptureQueriesContext(connection) as ctx:
            status = client.get(path).status_code
        out[path] = {"status": status, "sql": [q["sql"] for q in ctx.captured_queries]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
