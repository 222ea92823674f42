"""Instructions per request across framework releases: what an upgrade costs a request.

Each release series (`django 5.1`) gets its own environment (venvs) holding that framework,
the newest releases of what the app needs that pip finds compatible with it, and the same
gunicorn as fdbench's own; the app code is the checkout's, unchanged. The counting is
instructions.measure with that environment's interpreter, so a release's figures are exactly
comparable with another's (same endpoints, checkout path, driver and database).

A release that pip cannot install, or on which the app does not import or answer 200 on every
endpoint (checked once without valgrind, which also says why in seconds instead of minutes), is
reported unsupported with its reason: a version is never measured on a changed app.

versions.json (schema 1):
    {"schema": 1, "requests": N, "warmup": W, "modes": [...], "endpoints": [...], "root": ...,
     "valgrind": ..., "python": "3.11.7", "aslr_disabled": ..., "clock_frozen": ...,
     "versions": [{"framework": "flask", "series": "3.0", "status": "ok", "version": "3.0.3",
                   "requirements": [...], "packages": {...}, "environment": ".../flask-3.0",
                   "reused": false, "duration_s": 41.2,
                   "counts": [{"endpoint": "/json", "target": "flask",
                               "instructions_per_request": ..., "served": {...},
                               "cache": {"estimated_cycles": ..., ...}}]},  # cache: --cycles
                  {"framework": "flask", "series": "0.1", "status": "unsupported",
                   "reason": "cannot install ...: ..."}]}
"""
import json
import subprocess
import tempfile
import time
import tomllib
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import InvalidVersion, Version
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)

from ..errors import FdbenchError
from ..paths import ROOT
from ..store import write_atomic
from . import instructions as instr
from . import venvs

SCHEMA = 1
FRAMEWORKS = ("flask", "django")
# What each app imports besides its framework, in the ranges pyproject.toml gives them.
COMPANIONS = {"flask": ("flask-sqlalchemy", "flask-admin", "sqlalchemy"), "django": ()}
# The oldest series measured by default: Django's oldest 4.x/5.x LTS and Flask's last 2.x.
# Older series can be named and are measured, or reported unsupported, like any other.
FLOORS = {"django": Version("4.2"), "flask": Version("2.3")}
PREFLIGHT_TIMEOUT_S = 120


def project_requirements() -> dict:
    """name -> requirement string, from pyproject.toml's dependencies."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {Requirement(r).name.lower(): r for r in data["project"]["dependencies"]}


def requirements(framework: str, series: str) -> list[str]:
    """`flask==3.0.*`, the app's companions in the project's ranges, and gunicorn pinned to
    fdbench's own (served counts then differ only by the framework and its dependencies)."""
    ranges = project_requirements()
    return [f"{framework}=={series}.*", *(ranges[name] for name in COMPANIONS[framework]),
            f"gunicorn=={metadata.version('gunicorn')}"]


def parse_series(framework: str, text: str | None) -> list[str]:
    """`4.2,5.0` -> ["4.2", "5.0"]; None -> the default series."""
    if text is None:
        return available_series(framework)
    out = []
    for item in (s.strip() for s in text.split(",") if s.strip()):
        try:
            version = Version(item)
        except InvalidVersion:
            raise FdbenchError(f"--{framework}: {item!r} is not a release series such as 5.2") from None
        if len(version.release) != 2 or version.pre or version.dev or version.post:
            raise FdbenchError(f"--{framework}: {item!r} is not a release series such as 5.2 (major.minor)")
        out.append(item)
    if not out:
        raise FdbenchError(f"--{framework}: no release series given")
    return list(dict.fromkeys(out))


def available_series(framework: str) -> list[str]:
    """Every major.minor series from FLOORS on with a final release that pip would install on
    this Python (`pip index versions` applies each release's Requires-Python)."""
    done = subprocess.run([*venvs.PIP, "index", "versions", framework, "--json"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise FdbenchError(f"cannot list {framework} releases: {venvs.pip_reason(done.stderr)}")
    try:
        versions = [Version(v) for v in json.loads(done.stdout)["versions"]]
    except (ValueError, KeyError, InvalidVersion) as exc:
        raise FdbenchError(f"cannot read pip's list of {framework} releases: {exc}") from None
    series = {v.release[:2] for v in versions if not v.is_prerelease and v >= FLOORS[framework]}
    return [f"{major}.{minor}" for major, minor in sorted(series)]


def target_for(framework: str, env: venvs.Environment) -> instr.Target:
    """The app's default variant, run by the environment's interpreter."""
    base = instr.builtin_target(framework)
    return replace(base, name=f"{framework} {env.packages.get(framework, '?')}", python=env.python)


def preflight(target: instr.Target, endpoints: list[str], modes) -> str | None:
    """Run the driver once without valgrind (one request per endpoint and mode): None when the
    app imports and answers 200 everywhere, else the reason in one line."""
    with instr.locked_workdir() as workdir, tempfile.TemporaryDirectory(prefix="fdbench-pre-") as tmp:
        cmd = [target.python, "-P", str(instr.DRIVER), target.wsgi, *endpoints,
               "--chdir", instr.import_root(target, workdir), "--requests", "1", "--warmup", "1",
               "--modes", ",".join(modes), "--db-template", str(workdir / "template.sqlite3")]
        env = instr.child_env(target, f"sqlite:///{Path(tmp) / 'check.sqlite3'}")
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=PREFLIGHT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"the app did not answer within {PREFLIGHT_TIMEOUT_S} s"
    return None if done.returncode == 0 else failure_line(done.stderr)


def failure_line(stderr: str) -> str:
    """The line that says what went wrong: a non-200 report or an exception, else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for wanted in (lambda s: "were not 200" in s,
                   lambda s: s.split(":")[0].endswith(("Error", "Exception"))):
        found = [line for line in lines if wanted(line)]
        if found:
            return found[-1][:300]
    return lines[-1][:300] if lines else "the driver failed without a message"


def measure_series(framework: str, series: str, endpoints: list[str], requests: int,
                   modes=instr.MODES, progress=None, cache_sim=False) -> dict:
    """One release series: its environment, the app checked, its counts. Never raises for a
    release that does not work: that is its record's `status` and `reason`."""
    started = time.monotonic()
    record = {"framework": framework, "series": series}
    wanted = requirements(framework, series)
    try:
        env = venvs.ensure(f"{framework}-{series}", wanted)
    except venvs.InstallFailed as exc:
        return {**record, "status": "unsupported", "reason": str(exc), "requirements": wanted}
    version = env.packages.get(framework)
    record.update(version=version, requirements=wanted, packages=env.packages,
                  environment=str(env.path), reused=env.reused)
    target = target_for(framework, env)
    problem = preflight(target, endpoints, modes)
    if problem:
        return {**record, "status": "unsupported",
                "reason": f"the app does not run unchanged on {framework} {version}: {problem}"}
    try:
        data = instr.measure([target], endpoints, requests, modes=modes, progress=progress,
                             cache_sim=cache_sim)
    except instr.ValgrindMissing:
        raise
    except FdbenchError as exc:
        return {**record, "status": "failed", "reason": str(exc)}
    counts = [{**c, "target": framework} for c in data["counts"]]
    return {**record, "status": "ok", "counts": counts,
            "duration_s": round(time.monotonic() - started, 1), "measure": data}


def header(endpoints, requests, modes, cache_sim=False) -> dict:
    """What every release's counts share; `endpoints` and `root` shape the heap the counts
    depend on, so versions.json files compare only where both match."""
    return {"schema": SCHEMA, "requests": requests, "warmup": instr.WARMUP, "modes": list(modes),
            "endpoints": list(endpoints), "root": str(ROOT), "cycles": cache_sim, "versions": []}


def add(data: dict, record: dict) -> dict:
    """The sweep with one more release; the counting pass's own metadata moves to the top."""
    record = dict(record)
    measured = record.pop("measure", None)
    if measured:
        for key in ("valgrind", "python", "arch", "aslr_disabled", "clock_frozen", "env", "marker",
                    "cache_sim"):
            if key in measured:
                data.setdefault(key, measured[key])
    data["versions"].append(record)
    return data


def write(run_dir, data) -> Path:
    """`run_dir/versions.json`, atomically: after every release, so Ctrl-C keeps the finished ones."""
    path = Path(run_dir) / "versions.json"
    write_atomic(path, json.dumps(data, indent=2) + "\n")
    return path



def check(endpoints, requests: int) -> list[str]:
    """The endpoints' paths, once the input and valgrind are known to be usable: said before
    any run folder or environment is made."""
    endpoints = instr.resolve_endpoints(endpoints)
    if requests < 1:
        raise FdbenchError("--requests must be at least 1")
    instr.valgrind_version()
    return endpoints


def sweep(selection: dict, endpoints, requests: int, modes, console, save, cache_sim=False) -> dict:
    """Every (framework, series) of `selection` in turn, behind a progress bar; `save(data)`
    after each, so an interruption keeps what was finished. `cache_sim`: estimated cycles too
    (instructions.measure's cache simulation). Returns versions.json's data."""
    endpoints = check(endpoints, requests)
    data = header(endpoints, requests, modes, cache_sim)
    todo = [(fw, s) for fw in FRAMEWORKS for s in selection.get(fw, ())]
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("versions", total=len(todo) * len(endpoints))
        for framework, series in todo:
            bar.update(task, description=f"{framework} {series}: environment and check")
            start = bar.tasks[0].completed

            def counted(record, framework=framework, series=series):
                bar.update(task, advance=1, description=f"callgrind: {framework} {series} {record['endpoint']}")

            record = measure_series(framework, series, endpoints, requests, modes, counted, cache_sim)
            bar.update(task, completed=start + len(endpoints))
            save(add(data, record))
            if record["status"] != "ok":
                console.print(f"{framework} {series}: {record['status']}: {record['reason']}",
                              soft_wrap=True, highlight=False)
    return data
