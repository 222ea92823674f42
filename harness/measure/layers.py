"""What "fewer layers" means in numbers: Python function calls per request, the stack depth at
which the view starts, and the middleware that wraps every request, per app/variant and
endpoint. Measured in a child process that loads the app as gunicorn does (see
inprocess.py)."""
from ..paths import APPS
from ..targets import ENDPOINTS, TARGET_NAMES, TARGETS
from . import inprocess

# app -> the file that holds its views (where the view's stack depth is read)
VIEW_FILES = {
    "flask": APPS / "flask_app" / "views.py",
    "django": APPS / "django_app" / "world" / "views.py",
    "baseline": APPS / "wsgi_baseline" / "app.py",
}


def measure(db_url, targets=TARGET_NAMES, paths=tuple(ENDPOINTS.values())) -> dict:
    """{"targets": {target: {"middleware": {...}, "paths": {path: {...}}}}, "method": ...}."""
    out = {}
    for name in targets:
        app, variant = TARGETS[name]
        out[name] = inprocess.run(app, variant, db_url, "layers", str(VIEW_FILES[app]), *paths)
    return {
        "method": f"sys.setprofile in-process, median of {inprocess.REPEAT} requests after "
                  f"{inprocess.WARMUP} warm-up; depth counts frames from the WSGI callable to the view",
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
