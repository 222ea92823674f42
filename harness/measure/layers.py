"""What "fewer layers" means in numbers: Python function calls per request, the stack depth at
which the view starts, and the middleware that wraps every request, per app/variant and
endpoint. Measured in a child process that loads the app as gunicorn does (see harness.measure.inprocess)."""
from . import inprocess as child
from ..paths import APPS

# target name -> (app, variant, file that holds its views)
TARGETS = {
    "flask": ("flask", "default", APPS / "flask_app" / "views.py"),
    "django": ("django", "default", APPS / "django_app" / "world" / "views.py"),
    "django-stripped": ("django", "stripped", APPS / "django_app" / "world" / "views.py"),
    "baseline": ("baseline", "default", APPS / "wsgi_baseline" / "app.py"),
}
PATHS = ["/json", "/plaintext", "/db", "/queries?queries=20", "/fortunes", "/updates?queries=20"]


def measure(db_url, targets=tuple(TARGETS), paths=tuple(PATHS)) -> dict:
    """{"targets": {target: {"middleware": {...}, "paths": {path: {...}}}}, "method": ...}."""
    out = {}
    for name in targets:
        app, variant, view_file = TARGETS[name]
        out[name] = child.run(app, variant, db_url, "layers", str(view_file), *paths)
    return {
        "method": f"sys.setprofile in-process, median of {child.REPEAT} requests after "
                  f"{child.WARMUP} warm-up; depth counts frames from the WSGI callable to the view",
        "targets": out,
    }


def ratio(result, path, num="flask", den="django", key="python_calls"):
    """Flask/Django (or any pair) ratio of one per-request figure, None if either is missing."""
    try:
        a = result["targets"][num]["paths"][path][key]
        b = result["targets"][den]["paths"][path][key]
    except KeyError:
        return None
    return a / b if b else None
