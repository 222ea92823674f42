"""Bad input to the CLI: one line on stderr, exit code 2, never a traceback (`--debug` shows
one). Most cases call harness.cli.main in this process (the imports are paid once); a few run
the real `python -m harness.cli` to check what a user's terminal gets."""
import json

import pytest

from harness.errors import FdbenchError

from tests.helpers import fdbench
from tests.runfactory import write_run


@pytest.fixture
def folders(tmp_path):
    """Folders that are not (readable) runs, by name."""
    made = {"missing": tmp_path / "no-such-run"}
    for name, run_json in [("foreign", None), ("garbage", "{not json"), ("list", "[1, 2]"),
                           ("schema99", '{"schema": 99}'), ("binary", b"\xff\xfe\x00run"),
                           ("minimal", '{"schema": 1}'), ("dirjson", "DIR")]:
        path = made[name] = tmp_path / name
        path.mkdir()
        if run_json == "DIR":
            (path / "run.json").mkdir()
        elif isinstance(run_json, bytes):
            (path / "run.json").write_bytes(run_json)
        elif run_json is not None:
            (path / "run.json").write_text(run_json)
        else:
            (path / "notes.txt").write_text("not a run")
    made["file"] = tmp_path / "a-file"
    made["file"].write_text("x")
    made["good"] = write_run(tmp_path / "good", rounds=2)
    return made


def assert_one_line(code, err, message):
    assert code == 2, err
    assert message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("args,message", [
    (["serve", "pyramid"], "unknown app 'pyramid'"),
    (["serve", "django", "--variant", "bogus"], "unknown variant 'bogus'"),
    (["serve", "flask", "--variant", "stripped"], "unknown variant 'stripped'"),
    (["serve", "flask", "--workers", "0"], "--workers"),
    (["serve", "flask", "--worker-class", "eventlet"], "unknown worker class"),
    (["serve", "flask", "--port", "70000"], "--port"),
    (["serve", "flask", "--port", "-1"], "--port"),
    (["serve", "flask", "--port", "eighty"], "not a valid integer"),
    (["bench", "--profile", "huge"], "unknown profile 'huge'"),
    (["bench", "--apps", "pyramid"], "unknown app 'pyramid'"),
    (["bench", "--apps", "flask,pyramid"], "unknown app 'pyramid'"),
    (["bench", "--apps", ","], "no app given"),
    (["bench", "--scenarios", "graphql"], "unknown scenario 'graphql'"),
    (["bench", "--scenarios", ","], "no scenario given"),
    (["bench", "--repeat", "0"], "--repeat must be at least 1"),
    (["bench", "--repeat", "-3"], "--repeat must be at least 1"),
    (["bench", "--repeat", "two"], "not a valid integer"),
    (["bench", "--duration", "-1"], "--duration"),
    (["bench", "--duration", "0"], "--duration must be above 0"),
    (["bench", "--warmup", "-0.5"], "--warmup"),
    (["bench", "--warmup", "601"], "--warmup"),
    (["bench", "--users", "0"], "--users must be at least 1"),
    (["bench", "--users", "5000"], "--users must be at most"),
    (["bench", "--workers", "0"], "--workers must be at least 1"),
    (["bench", "--worker-class", "eventlet"], "unknown worker class"),
    (["bench", "--no-such-flag"], "No such option"),
    (["serve", "flask", "--db", "mysql://x"], "unsupported --db"),
])
def test_bad_arguments(run_cli, args, message):
    assert_one_line(*run_cli(*args)[::2], message)


READERS = {
    "report": lambda p, good: ["report", p],
    "claims": lambda p, good: ["claims", p],
    "compare-base": lambda p, good: ["compare", p, good],
    "compare-new": lambda p, good: ["compare", good, p],
    "resume": lambda p, good: ["bench", "--resume", p],
}
BAD_RUNS = {
    "missing": "not a run folder",
    "file": "not a run folder",
    "foreign": "not a run folder",
    "garbage": "cannot read",
    "binary": "cannot read",
    "dirjson": "cannot read",
    "list": "not an fdbench run",
    "schema99": "unknown results schema 99",
}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("folder", BAD_RUNS)
def test_unreadable_or_foreign_run_folder(run_cli, folders, reader, folder):
    args = READERS[reader](str(folders[folder]), str(folders["good"]))
    assert_one_line(*run_cli(*args)[::2], BAD_RUNS[folder])


def test_resume_needs_a_run_fdbench_wrote(run_cli, folders):
    """A run.json alone (no trials.jsonl, no histograms/) is not something to append to."""
    code, _, err = run_cli("bench", "--resume", str(folders["minimal"]))
    assert_one_line(code, err, "not a run folder fdbench can resume")
    assert sorted(p.name for p in folders["minimal"].iterdir()) == ["run.json"]


@pytest.mark.parametrize("args,message", [
    (["db", "init", "--db", "sqlite:////proc/no-such-dir/x.sqlite3"], "cannot create the SQLite folder"),
    (["db", "init", "--db", "sqlite:////etc/hostname/x.sqlite3"], "cannot create the SQLite folder"),
    (["db", "init", "--db", "sqlite:////proc/x.sqlite3"], "database unreachable"),
    (["serve", "flask", "--db", "postgresql://nobody@127.0.0.1:1/x"], "database unreachable"),
    (["bench", "--db", "postgresql://nobody@127.0.0.1:1/x"], "database unreachable"),
    (["bench", "--db", "sqlite:////proc/no-such-dir/x.sqlite3"], "cannot create the SQLite folder"),
])
def test_database_missing_or_unreachable(run_cli, args, message):
    assert_one_line(*run_cli(*args)[::2], message)


def test_damaged_line_is_shown_by_every_reader(run_cli, folders, tmp_path):
    run = folders["good"]
    damaged = len((run / "trials.jsonl").read_text().splitlines()) + 1
    with open(run / "trials.jsonl", "a") as f:
        f.write('{"trial_id": "r9-json-flask", "sta\n')
    for args, shown in ((["claims", str(run)], "verdict"),
                        (["compare", str(run), str(run), "--html", str(tmp_path / "c.html")], "compare")):
        code, out, err = run_cli(*args)
        assert code == 0, err
        assert "fdbench: warning:" in err and f"line {damaged} is damaged" in err, err
        assert shown in out


def test_debug_shows_the_traceback(run_cli):
    with pytest.raises(FdbenchError, match="unknown profile"):
        run_cli("--debug", "bench", "--profile", "huge")


def test_real_terminal_one_line_and_debug_traceback(tmp_path):
    """What the user sees from the real command, with and without --debug."""
    (tmp_path / "run.json").write_text(json.dumps([1]))
    plain = fdbench("claims", str(tmp_path), timeout=120)
    assert plain.returncode == 2 and plain.stdout == ""
    assert plain.stderr.startswith("fdbench: error:") and len(plain.stderr.splitlines()) == 1
    debug = fdbench("--debug", "claims", str(tmp_path), timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "FdbenchError" in debug.stderr


def test_real_terminal_unreachable_database_is_one_line():
    """psycopg's message spans two lines; the user still gets one."""
    proc = fdbench("serve", "flask", "--db", "postgresql://nobody@127.0.0.1:1/x", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "database unreachable" in proc.stderr and len(proc.stderr.splitlines()) == 1
