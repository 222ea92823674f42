"""What a user expects of a command-line tool: --version, --out, warnings said on the terminal
rather than only in run.json, and a test suite that leaves the checkout as it found it."""
import importlib.metadata

from harness.report import degraded
from harness import paths
from tests.runfactory import trial, write_run


def test_version_comes_from_the_package_metadata(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0
    assert out.strip() == f"fdbench, version {importlib.metadata.version('fdbench')}"


def test_a_clean_run_has_no_warnings(tmp_path):
    instructions = {"counts": [], "clock_frozen": True, "aslr_disabled": True}
    assert degraded.warnings(write_run(tmp_path / "r", instructions=instructions), True) == []


def test_flags_and_a_running_clock_are_warned_about(tmp_path):
    flagged = [trial("json", "flask", 9, 500.0, flags=["contended"]),
               trial("json", "django", 9, 900.0, flags=["generator_bound", "contended"]),
               trial("db", "flask", 9, None, flags=["failed"], status="failed")]
    run = write_run(tmp_path / "r", extra=flagged, status="partial",
                    instructions={"counts": [], "clock_frozen": False, "aslr_disabled": True})
    lines = degraded.warnings(run, instructions_wanted=True)
    total = len((run / "trials.jsonl").read_text().splitlines())
    assert lines[0].startswith("the run is partial: `fdbench bench --resume")
    assert f"1 of {total} trials failed" in lines[1]
    assert lines[2].startswith(f"2 of {total} trials shared the server CPUs") and "(contended)" in lines[2]
    assert "(generator_bound)" in lines[3]
    assert "clock running" in lines[4] and len(lines) == 5


def test_missing_instruction_pass_is_warned_about_only_when_asked_for(tmp_path, monkeypatch):
    run = write_run(tmp_path / "r")
    assert degraded.warnings(run, instructions_wanted=False) == []
    monkeypatch.setattr(degraded.shutil, "which", lambda name: None)
    assert degraded.warnings(run, instructions_wanted=True) == [
        "no instruction counts: valgrind is not installed (`make system-deps`)"]


def test_report_out_takes_a_file_or_a_folder(run_cli, tmp_path):
    run = write_run(tmp_path / "r")
    code, out, _ = run_cli("report", str(run), "--out", str(tmp_path / "mine.html"))
    assert code == 0 and out.strip() == str(tmp_path / "mine.html")
    assert "the article" in (tmp_path / "mine.html").read_text().lower()
    code, out, _ = run_cli("report", str(run), "--out", str(tmp_path / "folder"))
    assert code == 0 and (tmp_path / "folder" / "index.html").is_file()


def test_the_suite_writes_outside_the_checkout():
    """conftest.py moves results/, reports/ and var/ to a temporary folder for every test and
    every fdbench the tests start."""
    assert paths.DATA != paths.ROOT and not paths.DATA.is_relative_to(paths.ROOT)
    for folder in (paths.RESULTS, paths.REPORTS, paths.VAR):
        assert folder.is_relative_to(paths.DATA)

