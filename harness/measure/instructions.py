"""Instructions per request under valgrind's callgrind: the noise-free cost of a request.

Timings on a shared machine drift by 10% between trials; an instruction count of the same
deterministic workload does not move at all, so it is the figure that CI can compare from
commit to commit and that isolates the framework's own cost. For each target, one valgrind
process runs `wsgi_driver.py`, which loads the app once and forks a child per endpoint (fresh
copy of a freshly seeded SQLite file, `PYTHONHASHSEED=0`, fixed `random.seed`). Each child
measures a phase of 0 and a phase of N requests; per request = (with - without) / N:

- `inprocess`: the WSGI callable alone (framework + app);
- `served`: the same requests through gunicorn's sync worker code in-process (accept, parse,
  environ, app, write, close), so served - inprocess = gunicorn's user-space cost. Kernel time
  (the TCP stack) is outside what callgrind can count.

Repeatability: what moved counts between runs, and what is done about it.
- A stale or missing .pyc: the run that compiles an app module leaves the allocators (glibc
  malloc, pymalloc) in another state, and every later allocation costs a little more or less
  (Flask /db: +3,242 in 15.7M after touching one file; the next run matched to the
  instruction). The apps are byte-compiled before valgrind starts (`precompile`).
- The listing of the directory the app is imported from: Python keeps it on the heap, so a
  new `results/` in the checkout root moved Flask /json by 0.24%. The driver imports from a
  directory holding one link to `apps/` (`import_root`) and runs under `python -P`.
- The database path, the clock (libfaketime, and gunicorn's clock frozen in the driver where
  libfaketime is missing), address randomisation (`setarch -R`): fixed, see callgrind_env.
- The previous run's database files: the driver deletes a leftover -wal/-shm before it
  copies the template, and deleting or finding nothing leaves the parent's heap, which every
  child inherits, in another state (every count moved, by up to 0.04%). `run_target` clears
  them before each valgrind process. This was also what made Flask's database endpoints
  seem to wobble between passes of different shapes.
- The checkout's path: module paths are strings the interpreter allocates and hashes, so
  counts from two checkouts at different paths differ (Flask /db by up to 1.6% here). Compare
  counts from the same path; CI's checkout path is fixed.
- Not fixed: the process ids (nor the served clients' ephemeral ports, which gunicorn puts in
  the environ as a string). Counts moved with the pids by a few dozen instructions in a phase
  (measured on 2026-12-03: baseline /json's 0-request phase 114,090 and 114,077 in runs whose
  pids were 16,6xx and 4,9xx; served phases by up to 52 in 112,000; five runs in a row with
  neighbouring pids matched exactly). That is under 5e-4 of a phase and far below what
  `fdbench compare` flags.

instructions.json (schema 1):
    {"schema": 1, "valgrind": "valgrind-3.19.0", "python": "3.11.7", "packages": {...},
     "arch": "x86_64", "requests": N, "warmup": W, "env": {...}, "duration_s": 95.1,
     "counts": [{"target": "flask", "app": "flask", "variant": "default", "endpoint": "/json",
                 "instructions_per_request": 347123, "total_with": ..., "total_without": ...,
                 "served": {"instructions_per_request": ..., "total_with": ..., "total_without": ...}}]}
"""
import compileall
import contextlib
import fcntl
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)

from ..errors import FdbenchError
from ..infra import db as dbmod
from ..infra.fingerprint import packages
from ..infra.serve import APP_SPECS, VARIANTS
from ..paths import APPS, RESULTS, ROOT, VAR
from ..store import write_atomic
from ..targets import COUNTED_PATHS, TARGETS
from . import cache, callgrind_env

SCHEMA = 1
DEFAULT_REQUESTS = 10
WARMUP = 3  # first-request set-up (templates, URL caches, compiled SQL) needs one or two
MODES = ("inprocess", "served")
# The driver stays at harness/wsgi_driver.py: its path is part of what callgrind counts.
DRIVER = Path(__file__).parent.parent / "wsgi_driver.py"
WORKDIR = VAR / "instructions"
# Fixed for every child. CONN_MAX_AGE: Django closes a persistent connection once it is 60 s
# old, which under valgrind's slowdown would land inside a measured phase at random.
CHILD_ENV = {"PYTHONHASHSEED": "0", "DJANGO_CONN_MAX_AGE": "86400", "LC_ALL": "C.UTF-8"}
CALLGRIND = ["--tool=callgrind", "--collect-atstart=no", "--toggle-collect=ffi_call",
             "--dump-after=ffi_call"]


class ValgrindMissing(FdbenchError):
    """valgrind is not installed: the instruction pass is skipped, not failed."""


@dataclass(frozen=True)
class Target:
    """What one valgrind process loads: an app in a variant, with its import string and env,
    run by `python` (another virtual environment's interpreter measures other package versions)."""
    name: str
    app: str
    variant: str
    wsgi: str
    chdir: str
    env: dict = field(default_factory=dict)
    python: str = sys.executable


def builtin_target(name):
    """`flask`, `django`, `django-stripped`, `baseline` -> Target, from serve's APP_SPECS/VARIANTS."""
    if name not in TARGETS:
        raise FdbenchError(f"unknown app {name!r}: choose from {', '.join(TARGETS)}")
    app, variant = TARGETS[name]
    chdir, wsgi, env = APP_SPECS[app]
    return Target(name, app, variant, wsgi, str(chdir), {**env, **VARIANTS[(app, variant)]})


def resolve_endpoints(names):
    """Paths from COUNTED_PATHS; a bare name (`json`, `queries`) stands for its path."""
    by_name = {e.lstrip("/").split("?")[0]: e for e in COUNTED_PATHS}
    out = []
    for name in names or COUNTED_PATHS:
        path = name if name in COUNTED_PATHS else by_name.get(name.lstrip("/"))
        if path is None:
            raise FdbenchError(f"unknown endpoint {name!r}: choose from {', '.join(COUNTED_PATHS)}")
        out.append(path)
    return out


def valgrind_version():
    """`valgrind-3.19.0`; raises ValgrindMissing when it is not on PATH."""
    exe = shutil.which("valgrind")
    if exe is None:
        raise ValgrindMissing("valgrind not found on PATH: instruction counts skipped "
                              "(Debian: apt-get install -y valgrind)")
    return subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()


def parse_totals(text):
    """Every event's total in one callgrind output file (its `summary:`/`totals:` line)."""
    events = re.search(r"^events:\s*(.+)$", text, re.M)
    total = re.search(r"^(?:summary|totals):\s*(.+)$", text, re.M)
    if not events or not total:
        raise FdbenchError("not a callgrind output file (no events/summary line)")
    values = [int(v) for v in total.group(1).split()]
    return dict(zip(events.group(1).split(), values + [0] * (len(events.group(1).split()) - len(values))))


def parse_total(text):
    """The Ir total of one callgrind output file."""
    return parse_totals(text)["Ir"]


def phase_totals(out_dir, pid, count):
    """Event totals of each dump of one child, in order; one dump per phase, or the run is
    unusable."""
    dumps = sorted(Path(out_dir).glob(f"cg.{pid}.out.*"), key=lambda p: int(p.suffix[1:]))
    if len(dumps) != count:
        raise FdbenchError(f"callgrind wrote {len(dumps)} dumps for {count} phases in process {pid}: "
                           "something else in the app called ctypes (ffi_call)")
    return [parse_totals(p.read_text()) for p in dumps]


def per_request(without, with_, requests):
    """One mode's figures from its 0-request and N-request phases' event totals."""
    record = {"instructions_per_request": round((with_["Ir"] - without["Ir"]) / requests),
              "total_with": with_["Ir"], "total_without": without["Ir"]}
    if "D1mr" in with_:
        record["cache"] = cache.per_request(without, with_, requests)
    return record


def count_record(target, report, totals):
    """One `counts` entry from a child's report line and its dumps' totals."""
    modes = {}
    for (mode, n), total in zip(report["phases"], totals):
        modes.setdefault(mode, {})[n] = total
    requests = max(n for _, n in report["phases"])
    record = {"target": target.name, "app": target.app, "variant": target.variant,
              "endpoint": report["target"]}
    inproc = modes.get("inprocess")
    record.update(per_request(inproc[0], inproc[requests], requests) if inproc else
                  {"instructions_per_request": None, "total_with": None, "total_without": None})
    served = modes.get("served")
    record["served"] = per_request(served[0], served[requests], requests) if served else None
    return record


def child_env(target, db_url):
    """A fixed, minimal environment: nothing from the caller's shell changes the counts."""
    return {"PATH": os.environ.get("PATH", ""), **CHILD_ENV, **callgrind_env.frozen_clock_env(),
            **target.env, "DATABASE_URL": db_url}


def import_root(target, workdir):
    """The directory the driver imports the app from: the target's chdir, except the checkout
    root, which is replaced by a directory holding only a link to `apps/`.

    Python reads the listing of every sys.path entry it imports from, and the set it keeps
    of it is allocated on the heap: one more entry in the checkout root (a `results/` the
    first run creates) moved Flask /json by 0.24%. The checkout root gains and loses entries
    all the time; the app's own directories only when their code changes."""
    return str(workdir / "import-root") if Path(target.chdir).resolve() == ROOT else target.chdir


def make_import_root(workdir):
    """`workdir/import-root`, holding one link `apps` -> the checkout's apps/ (see import_root)."""
    root = workdir / "import-root"
    root.mkdir(exist_ok=True)
    link = root / APPS.name
    if not link.is_symlink() or link.readlink() != APPS:
        link.unlink(missing_ok=True)
        link.symlink_to(APPS, target_is_directory=True)


def valgrind_command(target, endpoints, requests, warmup, modes, work, workdir, cache_sim=False):
    # -P: the driver's own directory stays off sys.path, so its listing cannot move the counts
    return [*callgrind_env.no_aslr_prefix(), "valgrind", *CALLGRIND,
            *(cache.VALGRIND_OPTIONS if cache_sim else ()),
            f"--callgrind-out-file={work}/cg.%p.out", f"--log-file={work}/valgrind.%p.log",
            target.python, "-P", str(DRIVER), target.wsgi, *endpoints,
            "--chdir", import_root(target, workdir), "--requests", str(requests),
            "--warmup", str(warmup), "--modes", ",".join(modes),
            "--db-template", str(workdir / "template.sqlite3")]


def run_target(target, endpoints, requests, warmup, modes, workdir, progress=None, cache_sim=False):
    """One valgrind process for one target -> a counts entry per endpoint."""
    records = []
    # The driver deletes the previous endpoint's -wal/-shm before copying the template, and
    # deleting or finding nothing allocates differently: without this the first endpoint of
    # a fresh checkout counted 12 more than later runs (Flask /json, 3 requests).
    bench_db = workdir / "bench.sqlite3"
    remove_db_files(bench_db)
    with tempfile.TemporaryDirectory(prefix="fdbench-cg-") as out:
        cmd = valgrind_command(target, endpoints, requests, warmup, modes, out, workdir, cache_sim)
        with open(Path(out) / "stderr", "w+") as err:
            proc = subprocess.Popen(cmd, env=child_env(target, f"sqlite:///{bench_db}"),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
                                    start_new_session=True)
            try:
                for line in proc.stdout:
                    if line.startswith("{"):
                        records.append(child_result(target, line, out))
                        if progress:
                            progress(records[-1])
                proc.wait()
            finally:
                stop(proc)
            if proc.returncode != 0:
                err.seek(0)
                logs = [p.read_text(errors="replace") for p in sorted(Path(out).glob("valgrind.*.log"))]
                raise FdbenchError(f"instructions for {target.name} failed: "
                                   f"{failure_text(proc.returncode, err.read(), logs)}")
    return records


def failure_text(returncode, stderr, logs):
    """Why a valgrind process failed, in one line: the driver's last line on stderr, else the
    last line of valgrind's own logs (it writes there, not to stderr), and the exit status."""
    status = f"killed by signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
    lines = stderr.strip().splitlines() or [line for log in logs for line in log.splitlines()
                                            if line.strip("=0123456789 ")]  # past "==pid=="
    return f"{lines[-1].strip()} ({status})" if lines else f"no output ({status})"


def child_result(target, line, work):
    report = json.loads(line)
    return count_record(target, report, phase_totals(work, report["pid"], len(report["phases"])))


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, 9)
        proc.wait()


@contextlib.contextmanager
def locked_workdir():
    """WORKDIR, held exclusively, with a freshly seeded template database in it.

    The path is fixed on purpose: the database path is a string the apps hash (URL caches),
    and a random temp name moves the counts by a few hundred instructions from run to run."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    with open(WORKDIR / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second pass waits: they would share the files
        seed_template(WORKDIR / "template.sqlite3")
        make_import_root(WORKDIR)
        yield WORKDIR


def remove_db_files(path):
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)


def seed_template(path):
    """A new SQLite file, seeded and checkpointed, so that a copy of the main file is complete."""
    remove_db_files(path)
    dbmod.init(f"sqlite:///{path}")
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def precompile(targets):
    """Byte-compile the apps (and a target's own PYTHONPATH) before any valgrind run: the run
    that writes a .pyc leaves the allocators in another state and counts a few thousand
    instructions more in every phase (see the module docstring)."""
    dirs = {APPS, *(Path(d) for t in targets for d in t.env.get("PYTHONPATH", "").split(os.pathsep) if d)}
    for folder in sorted(dirs):
        compileall.compile_dir(folder, quiet=2)


def metadata(valgrind, requests, warmup, modes, endpoints, cache_sim=False):
    """`endpoints` and `root` beside the counts: both shift the heap the counts depend on, so
    `fdbench compare` compares counts only where they are the same."""
    return {"schema": SCHEMA, "valgrind": valgrind, "python": platform.python_version(),
            "packages": packages(), "arch": platform.machine(), "requests": requests,
            "warmup": warmup, "modes": list(modes), "endpoints": list(endpoints),
            "root": str(ROOT), "env": dict(CHILD_ENV),
            "marker": "ffi_call", **callgrind_env.facts(), "db": "sqlite (fresh seeded copy per endpoint)",
            **({"cache_sim": cache.facts()} if cache_sim else {})}


def measure(targets, endpoints=None, requests=DEFAULT_REQUESTS, db_url=None, warmup=WARMUP,
            modes=MODES, progress=None, cache_sim=False):
    """Counts for every (target, endpoint). `targets`: names or Target objects. Raises
    ValgrindMissing (an FdbenchError) when valgrind is absent, so callers can skip the pass.
    `progress(record)` is called with each counts entry as it is measured. `cache_sim`: also
    simulate caches and branches (measure.cache) for estimated cycles; valgrind runs slower.

    `db_url` is accepted for symmetry with the load tests but not used: counts always run on
    a freshly seeded SQLite copy per endpoint, since only a copied file repeats exactly.

    The endpoint list is on the driver's command line, so it shapes the heap every child
    inherits: counting four endpoints instead of six moved some counts by up to 0.8%.
    Counts compare only between runs of the same list (and checkout path)."""
    targets = [t if isinstance(t, Target) else builtin_target(t) for t in targets]
    endpoints = resolve_endpoints(endpoints)
    if requests < 1:
        raise FdbenchError("--requests must be at least 1")
    data = metadata(valgrind_version(), requests, warmup, modes, endpoints, cache_sim)
    started = time.monotonic()
    counts = []
    precompile(targets)
    with locked_workdir() as workdir:
        for target in targets:
            counts += run_target(target, endpoints, requests, warmup, modes, workdir, progress,
                                 cache_sim)
    data.update(duration_s=round(time.monotonic() - started, 1), counts=counts)
    return data


def write(run_dir, data):
    """`run_dir/instructions.json`, atomically (temp file + os.replace)."""
    path = Path(run_dir) / "instructions.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(data, indent=2) + "\n")
    return path


def write_file(path, data):
    """`path` if it names a .json file, else `path/instructions.json`; atomic either way."""
    path = Path(path)
    if path.suffix == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data, indent=2) + "\n")
        return path
    return write(path, data)


def default_out():
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return RESULTS / f"instructions-{stamp}-{platform.node().split('.')[0] or 'host'}.json"


def measure_with_progress(targets, endpoints, requests, console, cache_sim=False):
    """measure() behind a rich progress bar: valgrind makes each endpoint take seconds."""
    targets = [builtin_target(t) for t in targets]
    endpoints = resolve_endpoints(endpoints)
    valgrind_version()  # a missing valgrind is said before any progress bar is drawn
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(f"callgrind: {targets[0].name}", total=len(targets) * len(endpoints))

        def done(record):
            bar.update(task, advance=1, description=f"callgrind: {record['target']} {record['endpoint']}")

        return measure(targets, endpoints, requests, progress=done, cache_sim=cache_sim)
