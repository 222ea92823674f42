"""Faults injected into real runs: a server or generator that cannot start, a worker or the
master killed mid-trial, an app answering errors, SIGINT/SIGTERM at different moments, a crash
while writing, two runs at once. fdbench must record what happened, go on where it can, keep
every finished trial, and leave no process behind. A run's processes are found among the
descendants of its fdbench process, and (for what outlives it) by the environment tag every
child inherits (tests/helpers.py), never by name alone."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from harness import store
from harness.errors import FdbenchError
from harness.run.generator import LoadProcess
from harness.paths import ROOT
from harness.report.html import render
from harness.infra.serve import Server, ServeConfig
from harness.run.plan import TrialSpec
from harness.run.trial import run_trial

from tests.helpers import FDBENCH, TAG, left_behind, tagged_env

QUIET = ["--no-static", "--no-instructions", "--no-report"]
ENVIRONMENT_FLAGS = {"near_generator_ceiling", "contended"}  # the machine's doing, not a fault


# --- finding the run's processes -------------------------------------------------------

def tagged(env):
    """psutil.Process for every live process carrying this env's tag (zombies excluded)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and proc.environ().get(TAG) == env[TAG]:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def cmd(proc):
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def family(root):
    """The descendants of a running fdbench (fast: no scan of every process)."""
    try:
        return psutil.Process(root.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def masters(root, wsgi=""):
    """gunicorn masters (fdbench's own children) serving `wsgi`."""
    return [p for p in family(root) if "gunicorn" in cmd(p) and wsgi in cmd(p) and p.ppid() == root.pid]


def loadgen_running(root):
    return any("harness.run.loadgen" in cmd(p) for p in family(root))


def measuring(root, master):
    """The load generator aimed at this server has been up long enough to be sending (its
    imports take about a second; these runs have no warm-up). Sockets are no sign: against a
    fast app they open and close between two polls, and a 4 s window went unseen that way."""
    try:
        port = next(c.laddr.port for c in master.net_connections(kind="tcp")
                    if c.status == psutil.CONN_LISTEN)
        loadgen = next(p for p in family(root)
                       if "harness.run.loadgen" in cmd(p) and f"127.0.0.1:{port}" in cmd(p))
        return time.time() - loadgen.create_time() > 1.5
    except (StopIteration, psutil.NoSuchProcess):
        return False


def wait_for(what, predicate, timeout=90.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"fdbench ended ({proc.returncode}) before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def start_bench(args, env):
    return subprocess.Popen([*FDBENCH, "bench", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def lines(run_dir):
    return (run_dir / "trials.jsonl").read_text().splitlines()


def stored(run_dir):
    return {t["trial_id"]: t for t in store.Run.open(run_dir).trials()}


# --- a server or generator that cannot start ---------------------------------------------

def test_gunicorn_that_cannot_start_shows_its_stderr_tail(db_url, monkeypatch):
    """A real import error: Django's settings read DJANGO_CONN_MAX_AGE with int()."""
    monkeypatch.setenv("DJANGO_CONN_MAX_AGE", "bogus")
    monkeypatch.setenv(TAG, uuid.uuid4().hex)
    with pytest.raises(FdbenchError) as err:
        with Server(ServeConfig(app="django", db_url=db_url)):
            pass
    assert "gunicorn for django exited at start" in str(err.value)
    assert "invalid literal for int() with base 10: 'bogus'" in str(err.value)
    assert left_behind(dict(os.environ)) == []


def spec(**kw):
    base = dict(trial_id="t", round=0, order=0, target="flask", app="flask", variant="default",
                scenario="json", path="/json", mode="closed", users=4, rate=None, warmup_s=0.0,
                duration_s=0.5, workers=1, worker_class="sync")
    return TrialSpec(**{**base, **kw})


def test_load_generator_that_cannot_start_fails_the_trial_with_its_stderr(db_url, monkeypatch):
    """locust's process refuses (users out of its bounds): the trial is failed, with the
    generator's own words, and the server it was meant for is stopped."""
    monkeypatch.setenv(TAG, uuid.uuid4().hex)
    record, hist = run_trial(spec(users=5000), db_url)
    assert record["status"] == "failed" and hist is None
    assert "load generator exited (2)" in record["reason"]
    assert "duration, warm-up or users out of bounds" in record["reason"]
    assert left_behind(dict(os.environ)) == []


@pytest.mark.parametrize("host", ["http://192.0.2.1:8000", "http://example.com"])
def test_load_goes_to_loopback_only(host):
    with pytest.raises(FdbenchError, match="loopback"):
        with LoadProcess(host, "/json", 1, 0.0, 1.0) as load:
            load.expect("measure-start")


def test_no_shell_strings_in_the_harness():
    """Every child is started from an argument list; nothing is handed to a shell."""
    pattern = re.compile(r"shell\s*=\s*True|os\.system\(|os\.popen\(|commands\.getoutput")
    sources = [*Path(ROOT, "harness").rglob("*.py"), *Path(ROOT, "scenarios").rglob("*.py")]
    assert len(sources) > 20
    hits = [f"{p}:{n}" for p in sources for n, line in enumerate(p.read_text().splitlines(), 1)
            if pattern.search(line)]
    assert hits == []


# --- faults in the middle of a run ---------------------------------------------------------

@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """A real run of /db, 2 rounds x flask, django, baseline, where: Django cannot start (both
    rounds), flask's worker is SIGKILLed in round 0's window, baseline's master in round 0's
    window. Round 1 of flask and baseline must be untouched."""
    out = tmp_path_factory.mktemp("faulty")
    env = tagged_env() | {"DJANGO_CONN_MAX_AGE": "bogus"}
    proc = start_bench(["--profile", "quick", "--paired", "--modes", "open", "--apps",
                        "flask,django,baseline", "--scenarios", "db", "--repeat", "2", "--warmup", "0", "--duration", "4", "--out", str(out), *QUIET], env)
    seen = {}
    try:
        flask = wait_for("flask's server", lambda: masters(proc, "flask_app"), proc=proc)[0]
        wait_for("flask's window", lambda: measuring(proc, flask), proc=proc)
        seen["listen"] = [c.laddr.ip for c in flask.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
        time.sleep(0.5)
        worker = flask.children()[0]
        seen["worker"] = worker.pid
        worker.kill()
        base = wait_for("baseline's server", lambda: masters(proc, "wsgi_baseline"), proc=proc)[0]
        wait_for("baseline's window", lambda: measuring(proc, base), proc=proc)
        time.sleep(0.5)
        seen["master"] = base.pid
        base.kill()
        out_text, err_text = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    (run_dir,) = out.iterdir()
    return run_dir, proc.returncode, out_text, err_text, env, seen


def test_faulty_run_goes_on_and_completes(faulty_run):
    run_dir, code, out, err, env, seen = faulty_run
    assert code == 0, err
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert len(lines(run_dir)) == 6
    assert left_behind(env) == []
    assert seen["listen"] == ["127.0.0.1"]  # the server listens on loopback only


def test_app_that_cannot_start_is_failed_with_its_reason(faulty_run):
    run_dir, _, _, err, _, _ = faulty_run
    trials = stored(run_dir)
    for tid in ("r0-cost-db-django", "r1-cost-db-django"):
        assert trials[tid]["status"] == "failed" and "failed" in trials[tid]["flags"]
        assert "exited at start" in trials[tid]["reason"]
        assert "invalid literal for int()" in trials[tid]["reason"]
    assert "trial r0-cost-db-django failed" in err


def test_killed_worker_is_flagged(faulty_run):
    run_dir, *_ = faulty_run
    t = stored(run_dir)["r0-cost-db-flask"]
    assert t["status"] == "ok" and "worker_exited" in t["flags"], t["flags"]


def test_killed_master_fails_the_trial(faulty_run):
    run_dir, _, _, err, _, _ = faulty_run
    t = stored(run_dir)["r0-cost-db-baseline"]
    assert t["status"] == "failed" and t["reason"].startswith("gunicorn master exited"), t
    assert "trial r0-cost-db-baseline failed" in err


def test_later_trials_are_untouched(faulty_run):
    run_dir, *_ = faulty_run
    trials = stored(run_dir)
    for tid in ("r1-cost-db-flask", "r1-cost-db-baseline"):
        assert trials[tid]["status"] == "ok" and trials[tid]["errors"] == 0, trials[tid]
        # what the machine did (a busy neighbour) may be flagged; no fault may leak in
        assert set(trials[tid]["flags"]) <= ENVIRONMENT_FLAGS, trials[tid]["flags"]


def test_summary_and_report_show_the_faults(faulty_run, tmp_path):
    run_dir, _, out, _, _, _ = faulty_run
    problems = out[out.index("trials that failed or were flagged"):]  # the printed summary
    for shown in ("r0-cost-db-flask", "worker_exited", "r0-cost-db-baseline", "r0-cost-db-django",
                  "r1-cost-db-django", "failed"):
        assert shown in problems, shown
    if not set(stored(run_dir)["r1-cost-db-flask"]["flags"]) & ENVIRONMENT_FLAGS:
        assert "r1-cost-db-flask" not in problems
    html = render([run_dir], tmp_path).read_text()
    for shown in ("gunicorn master exited", "invalid literal for int()", "worker_exited",
                  "r0-cost-db-baseline", "r0-cost-db-django"):
        assert shown in html, shown


def test_app_answering_errors_is_flagged(tmp_path):
    """The database goes away mid-window (its table renamed), then comes back: the trial that
    saw 500s is flagged `errors`, the next one is clean."""
    db = tmp_path / "db.sqlite3"
    env = tagged_env()
    proc = start_bench(["--profile", "quick", "--paired", "--modes", "open", "--apps", "flask",
                        "--scenarios", "db", "--repeat", "2",
                        "--warmup", "0", "--duration", "2", "--db", f"sqlite:///{db}",
                        "--out", str(tmp_path / "out"), *QUIET], env)
    try:
        server = wait_for("the server", lambda: masters(proc), proc=proc)[0]
        wait_for("the window", lambda: measuring(proc, server), proc=proc)
        with sqlite3.connect(db, timeout=30) as conn:
            conn.execute("ALTER TABLE world RENAME TO world_gone")
        wait_for("the window's end", lambda: not loadgen_running(proc),
                 proc=proc)
        with sqlite3.connect(db, timeout=30) as conn:
            conn.execute("ALTER TABLE world_gone RENAME TO world")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    (run_dir,) = (tmp_path / "out").iterdir()
    first, second = stored(run_dir)["r0-cost-db-flask"], stored(run_dir)["r1-cost-db-flask"]
    assert first["errors"] > 0 and "errors" in first["flags"], first
    assert second["errors"] == 0 and "errors" not in second["flags"], second
    assert "errors" in out
    assert left_behind(env) == []


# --- SIGINT / SIGTERM at different moments, then --resume ----------------------------------

def interrupt(proc, env, signals, counts):
    """Send the signals; the run must end as interrupted and take every child with it."""
    counts.append(len(tagged(env)))
    for i, sig in enumerate(signals):
        if i:
            time.sleep(0.05)
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err, (proc.returncode, err[-2000:])
    deadline = time.monotonic() + 5
    while left_behind(env) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(p.pid, p.ppid(), cmd(p)) for p in tagged(env)] == [], err[-1500:]
    counts.append(len(tagged(env)))
    assert "Traceback" not in err, err
    return out, err


def test_interrupts_at_every_moment_then_resume(tmp_path, capsys):
    env = tagged_env()
    out = tmp_path / "out"
    counts = []  # tagged processes just before each signal, and after the run ended
    first = start_bench(["--profile", "quick", "--separate", "--apps", "flask,baseline",
                         "--scenarios", "json", "--repeat", "2", "--warmup", "0.5", "--duration",
                         "1", "--out", str(out), *QUIET], env)

    # 1. SIGINT while the first server starts (no trial finished: the run is still partial).
    wait_for("a server starting", lambda: masters(first), proc=first)
    interrupt(first, env, [signal.SIGINT], counts)
    (run_dir,) = out.iterdir()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "partial"
    assert lines(run_dir) == []
    history = []

    def resume(moment, signals, prepare=None):
        before = lines(run_dir)
        if prepare:
            prepare()
        proc = start_bench(["--resume", str(run_dir), *QUIET], env)
        wait_for(moment.__doc__, lambda: moment(proc, len(before)), proc=proc)
        _, err = interrupt(proc, env, signals, counts)
        after = lines(run_dir)
        assert after[:len(before)] == before  # finished trials are kept as they were
        assert json.loads((run_dir / "run.json").read_text())["status"] == "partial"
        history.append(len(after))
        return err

    def warming_up(proc, _):
        """the generator starting (warm-up)"""
        return loadgen_running(proc)

    def in_window(proc, _):
        """the measured window"""
        servers = masters(proc)
        return servers and measuring(proc, servers[0]) and (time.sleep(0.3) or True)

    def between_trials(proc, n):
        """a trial just stored"""
        return len(lines(run_dir)) > n  # the signal lands before the next one is done

    def damage():
        with open(run_dir / "trials.jsonl", "a") as f:
            f.write('{"trial_id": "half-writ\n')

    # 2. SIGTERM during warm-up, on a resume that finds a damaged line and says so.
    err = resume(warming_up, [signal.SIGTERM], prepare=damage)
    assert "is damaged" in err
    # 3. SIGINT in the measured window; 4. SIGTERM right after a trial was stored;
    # 5. two SIGINTs 50 ms apart (an impatient user) in the window.
    resume(in_window, [signal.SIGINT])
    resume(between_trials, [signal.SIGTERM])
    resume(in_window, [signal.SIGINT, signal.SIGINT])

    # 6. The last resume runs the missing trials only, then the static step: SIGTERM while
    # one of its children runs. Every trial was finished by then, so the run is complete.
    kept = stored(run_dir)
    proc = start_bench(["--resume", str(run_dir), "--static", "--no-instructions", "--no-report"], env)
    wait_for("the static step", lambda: json.loads((run_dir / "run.json").read_text())["status"] == "complete"
             and any("harness.cli" not in cmd(p) for p in family(proc)),
             timeout=180, proc=proc)
    interrupt(proc, env, [signal.SIGTERM], counts)
    final = stored(run_dir)
    ids = [json.loads(line)["trial_id"] for line in lines(run_dir) if not line.startswith('{"trial_id": "half')]
    assert len(ids) == len(set(ids)) == 8  # 2 rounds x (throughput + cost) x 2 apps
    assert all(final[tid] == t for tid, t in kept.items())  # resume re-ran none of them
    assert all(t["status"] == "ok" for t in final.values())
    # Before: fdbench alone (between trials) up to fdbench + gunicorn master + worker + locust.
    assert counts[1::2] == [0] * (len(counts) // 2) and min(counts[0::2]) >= 1 and max(counts) >= 3
    with capsys.disabled():
        print(f"\n  interrupted runs: tagged processes before each signal {counts[0::2]}, "
              f"after {counts[1::2]}; trials stored after each resume {history}")


def test_interrupted_alternation_keeps_finished_scenarios_and_reruns_the_cut_one(tmp_path):
    """Alternating slices are stored one by one; a scenario cut short runs again whole on resume
    (its ladder's rates come from capacities of one sitting), finished scenarios are kept."""
    env = tagged_env()
    out = tmp_path / "out"
    proc = start_bench(["--profile", "quick", "--apps", "flask,baseline", "--scenarios", "json,db",
                        "--repeat", "2", "--warmup", "0.2", "--duration", "0.3", "--out", str(out),
                        *QUIET], env)
    run_dir = wait_for("the run folder", lambda: next(out.iterdir(), None) if out.exists() else None,
                       proc=proc)
    wait_for("a slice of db stored", lambda: (run_dir / "trials.jsonl").exists()
             and any('"scenario": "db"' in line for line in lines(run_dir)), proc=proc)
    interrupt(proc, env, [signal.SIGINT], [])
    json_before = [line for line in lines(run_dir) if '"scenario": "json"' in line]
    assert len(json_before) == 8 and len(lines(run_dir)) < 16
    proc = start_bench(["--resume", str(run_dir), *QUIET], env)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    after = lines(run_dir)
    assert [line for line in after if '"scenario": "json"' in line] == json_before
    ids = [json.loads(line)["trial_id"] for line in after]
    assert len(ids) == len(set(ids)) == 16
    assert all(t["status"] == "ok" for t in stored(run_dir).values())


# --- the store -----------------------------------------------------------------------------

WRITER = """
import json, sys
from harness.store import write_atomic
big = {"schema": 1, "pad": "x" * 4_000_000}
i = 0
while True:
    i += 1
    write_atomic(sys.argv[1], json.dumps({**big, "n": i}))
"""


def test_a_crash_while_writing_never_leaves_half_a_file(tmp_path):
    """SIGKILL a process that rewrites a 4 MB run.json in a loop, at 8 different moments:
    run.json is always one whole version."""
    target = tmp_path / "run.json"
    target.write_text(json.dumps({"schema": 1, "n": 0}))
    for i in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT)
        time.sleep(0.4 + 0.07 * i)
        proc.kill()
        proc.wait()
        assert json.loads(target.read_text())["schema"] == 1
    assert json.loads(target.read_text())["n"] >= 1  # the writer did get through


CREATE = """
import sys, time
from harness.store import Run
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
print(Run.create(sys.argv[1], {"profile": "quick"}).path)
"""


def test_runs_started_at_once_never_share_a_folder(tmp_path):
    start = time.time() + 2.0
    procs = [subprocess.Popen([sys.executable, "-c", CREATE, str(tmp_path), str(start)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(6)]
    paths = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(paths)) == 6 and len(list(tmp_path.iterdir())) == 6
    for path in paths:
        meta = json.loads((Path(path) / "run.json").read_text())
        assert meta["run_id"] == Path(path).name


def test_report_shows_a_damaged_line(tmp_path):
    from tests.runfactory import write_run

    run = write_run(tmp_path / "run", rounds=1)
    with open(run / "trials.jsonl", "a") as f:
        f.write("{broken\n")
    html = render([run], tmp_path / "report").read_text()
    assert "trials.jsonl line 9 is damaged: skipped" in html


def test_a_stop_while_a_child_starts_waits_until_it_is_tracked(monkeypatch):
    """The race the interrupt tests hit: SIGINT inside Popen (after the fork, before the pid
    is known) left a gunicorn running. reaper.starting() defers it past reaper.track."""
    from harness.infra import reaper

    monkeypatch.setattr(reaper, "_interrupted", False)
    monkeypatch.setattr(reaper, "_groups", set())
    previous = signal.signal(signal.SIGINT, reaper.on_signal)
    body_done = False
    try:
        with pytest.raises(KeyboardInterrupt):
            with reaper.starting():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)  # the handler has run by now, inside the block
                reaper.track(424242)
                body_done = True
    finally:
        signal.signal(signal.SIGINT, previous)
    assert body_done and 424242 in reaper._groups and reaper._interrupted
