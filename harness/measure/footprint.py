"""What each framework brings along: transitive dependencies (names, installed size, Python
lines), the app's import time (`python -X importtime`), and under gunicorn its idle worker RSS
and cold start to first response. Package facts come from importlib.metadata."""
import os
import re
import statistics
import subprocess
import sys
import time
from importlib import metadata

import psutil
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ..infra.serve import APP_SPECS, VARIANTS, Server, ServeConfig

# stack name -> root requirements. "framework" rows answer "very few or no dependencies";
# "app" rows are what the reference apps actually install.
STACKS = {
    "flask": ["flask"],
    "django": ["django"],
    "flask app (no admin)": ["flask", "flask-sqlalchemy"],
    "flask app": ["flask", "flask-sqlalchemy", "flask-admin[sqlalchemy]"],
    "django app": ["django"],
}
APPS = ("flask", "django", "baseline")
REPEAT = 3
IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
MARK = "fdbench-importtime-start"


def requirements_of(name, extras=()):
    """Requirements of an installed distribution that apply here (markers evaluated)."""
    out = []
    for spec in metadata.requires(name) or []:
        req = Requirement(spec)
        envs = [{"extra": e} for e in extras] or [{"extra": ""}]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            out.append(req)
    return out


def closure(roots):
    """Every installed distribution the roots pull in, roots included: {canonical name: dist}."""
    seen, todo = {}, [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        try:
            seen[name] = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency that is not installed here
        todo += requirements_of(req.name, req.extras)
    return seen


def dist_stats(dist):
    """Installed bytes of a distribution's files, and its non-blank non-comment .py lines."""
    size = lines = 0
    for f in dist.files or []:
        path = f.locate()
        if not os.path.isfile(path):
            continue
        size += os.path.getsize(path)
        if f.suffix == ".py":
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines += sum(1 for line in fh if line.strip() and not line.lstrip().startswith("#"))
    return size, lines


def stack_stats(roots):
    dists = closure(roots)
    root_names = {canonicalize_name(Requirement(r).name) for r in roots}
    per = {name: dist_stats(d) for name, d in dists.items()}
    return {
        "roots": sorted(root_names),
        "dependencies": sorted(set(dists) - root_names),
        "dependency_count": len(set(dists) - root_names),
        "versions": {name: d.version for name, d in dists.items()},
        "installed_mb": round(sum(s for s, _ in per.values()) / 1e6, 2),
        "py_lines": sum(n for _, n in per.values()),
        "py_lines_by_package": {name: n for name, (_, n) in per.items()},
    }


def import_profile(app, db_url):
    """One `python -X importtime` import of the app's WSGI module: total ms and ms by top package."""
    chdir, target, env = APP_SPECS[app]
    module = target.partition(":")[0]
    env = dict(os.environ, **env, **VARIANTS[(app, "default")], DATABASE_URL=db_url)
    code = f"import sys, importlib; sys.stderr.write({MARK!r} + '\\n'); importlib.import_module({module!r})"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=chdir, env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    by_package = {}
    for m in IMPORTTIME.finditer(proc.stderr.split(MARK, 1)[1]):
        top = m.group(4).split(".")[0]
        by_package[top] = by_package.get(top, 0) + int(m.group(1)) / 1000
    return {"total_ms": round(sum(by_package.values()), 1),
            "by_package_ms": {k: round(v, 1) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])}}


def import_time(app, db_url):
    runs = sorted((import_profile(app, db_url) for _ in range(REPEAT)), key=lambda r: r["total_ms"])
    median = runs[len(runs) // 2]
    return {**median, "runs_ms": [r["total_ms"] for r in runs],
            "by_package_ms": dict(list(median["by_package_ms"].items())[:15])}


def cold_start(app, db_url):
    """Seconds from launching gunicorn (1 sync worker) to the first 200 on /json, and the worker's
    RSS right after it. Server polls every 50 ms, which bounds the resolution."""
    starts, rss = [], []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        with Server(ServeConfig(app=app, db_url=db_url, workers=1)) as server:
            starts.append(time.perf_counter() - t0)
            workers = psutil.Process(server.proc.pid).children()
            rss.append(sum(w.memory_info().rss for w in workers) / 1e6)
    return {"cold_start_s": statistics.median(starts), "cold_start_runs_s": starts,
            "idle_worker_rss_mb": round(statistics.median(rss), 1), "poll_interval_s": 0.05}


def measure(db_url, apps=APPS) -> dict:
    return {
        "stacks": {name: stack_stats(roots) for name, roots in STACKS.items()},
        "apps": {app: {"import": import_time(app, db_url), **cold_start(app, db_url)} for app in apps},
        "method": "deps: importlib.metadata closure with markers evaluated; py_lines: non-blank, "
                  f"non-comment .py lines of installed files; timings: median of {REPEAT}",
    }
