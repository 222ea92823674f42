"""Runs inside a child Python process that the harness starts in an app's directory, with the
app's environment: loads the WSGI callable by its import string (as gunicorn does), measures
something in-process and prints one JSON object. The harness itself never imports an app.

    python -m harness.measure.inprocess load TARGET
    python -m harness.measure.inprocess layers TARGET VIEW_FILE PATH...
"""
import importlib
import io
import json
import os
import statistics
import sys
import time
from urllib.parse import urlsplit
from wsgiref.util import setup_testing_defaults

WARMUP = 3    # requests before measuring: first-request caches (templates, URL resolvers)
REPEAT = 5    # measured requests per path; the median is reported


def load(target):
    """'package.module:callable' -> the WSGI callable, the way gunicorn resolves it."""
    module, _, attr = target.partition(":")
    sys.path.insert(0, os.getcwd())
    return getattr(importlib.import_module(module), attr)


def environ_for(path, method="GET"):
    parts = urlsplit(path)
    environ = {"PATH_INFO": parts.path, "QUERY_STRING": parts.query, "REQUEST_METHOD": method,
               "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr}
    setup_testing_defaults(environ)
    return environ


def call(app, path):
    """One request through the WSGI callable, body consumed and closed as a server would."""
    status = []
    body = app(environ_for(path), lambda s, headers, exc_info=None: status.append(s))
    try:
        b"".join(body)
    finally:
        if hasattr(body, "close"):
            body.close()
    return status[0]


class Tracer:
    """A sys.setprofile hook: counts Python and C calls and records the stack when the first
    function defined in the view file starts below the WSGI entry point."""

    def __init__(self, view_file):
        self.view_file = os.path.realpath(view_file)
        self.calls = self.c_calls = 0
        self.view_stack = None

    def __call__(self, frame, event, arg):
        if event == "call":
            self.calls += 1
            if self.view_stack is None and os.path.realpath(frame.f_code.co_filename) == self.view_file:
                stack = frames_below_entry(frame)
                if len(stack) > 1:  # the WSGI callable itself may live in the view file
                    self.view_stack = stack
        elif event == "c_call":
            self.c_calls += 1


def frames_below_entry(frame):
    """Frames from the WSGI callable (first) down to `frame` (last), harness frames left out."""
    names = []
    while frame is not None and frame.f_code is not call.__code__:
        names.append(f"{frame.f_globals.get('__name__', '?')}:{frame.f_code.co_qualname}")
        frame = frame.f_back
    return names[::-1]


def trace_request(app, path, view_file):
    tracer = Tracer(view_file)
    sys.setprofile(tracer)
    try:
        status = call(app, path)
    finally:
        sys.setprofile(None)
    return status, tracer


def layers(app, view_file, paths):
    out = {}
    for path in paths:
        for _ in range(WARMUP):
            call(app, path)
        runs = [trace_request(app, path, view_file) for _ in range(REPEAT)]
        status, last = runs[-1]
        stack = last.view_stack or []
        out[path] = {
            "status": status,
            "python_calls": int(statistics.median(t.calls for _, t in runs)),
            "c_calls": int(statistics.median(t.c_calls for _, t in runs)),
            "view_depth": len(stack),
            "view_stack": stack,
        }
    return {"paths": out, "middleware": middleware(app)}


def middleware(app):
    """What wraps every request: Django's MIDDLEWARE, or Flask's request hooks and WSGI wrappers."""
    if "django.conf" in sys.modules:
        from django.conf import settings

        names = list(settings.MIDDLEWARE)
        return {"count": len(names), "names": names}
    if hasattr(app, "before_request_funcs"):
        hooks = [f"{kind}:{getattr(f, '__qualname__', f)}"
                 for kind in ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")
                 for funcs in getattr(app, kind).values() for f in funcs]
        wrapped = getattr(app.wsgi_app, "__self__", None) is not app
        return {"count": len(hooks) + wrapped, "names": hooks + (["wsgi_app wrapper"] if wrapped else [])}
    return {"count": 0, "names": []}


def load_stats(target):
    """Time to import the app and build its WSGI callable, and how many modules that loads."""
    before = len(sys.modules)
    start = time.perf_counter()
    app = load(target)
    return {"load_s": time.perf_counter() - start, "modules": len(sys.modules) - before,
            "middleware": middleware(app)}


def run(app, variant, db_url, *args, timeout=300):
    """Harness side: run this module for (app, variant) as gunicorn would see it, parse its JSON."""
    import subprocess

    from ..errors import FdbenchError
    from ..infra.serve import APP_SPECS, VARIANTS

    chdir, target, env = APP_SPECS[app]
    env = dict(os.environ, **env, **VARIANTS[(app, variant)], DATABASE_URL=db_url)
    proc = subprocess.run([sys.executable, "-m", "harness.measure.inprocess", args[0], target, *args[1:]],
                          cwd=chdir, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        raise FdbenchError(f"in-process {args[0]} of {app}/{variant} failed: {tail[0]}")
    return json.loads(proc.stdout.splitlines()[-1])


def main(argv):
    mode, target, *rest = argv
    if mode == "load":
        result = load_stats(target)
    elif mode == "layers":
        view_file, *paths = rest
        result = layers(load(target), view_file, paths)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
