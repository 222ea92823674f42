"""`fdbench versions`: environments built with real venv and pip, reused, rebuilt when their
requirements change; a real two-release sweep of Flask on /json under callgrind, with a
release that cannot install beside it; counts that repeat; the report and compare reading it."""
import json

import pytest

from harness import pipeline
from harness.analysis import versions as release_counts
from harness.analysis.compare import compare
from harness.cli import main
from harness.errors import FdbenchError
from harness.measure import instructions as instr
from harness.measure import venvs, versions
from harness.store import Run
from tests.runfactory import write_run

SWEEP = ("--flask", "2.1,3.0,3.1,9.9", "--endpoints", "/json", "--requests", "2", "--load", "6")


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, valgrind):
    """One real sweep: Flask 3.0 and 3.1 counted and loaded; 2.1 (a real release, older than
    the app's Flask-SQLAlchemy accepts) and 9.9 (no such release) unsupported."""
    out = tmp_path_factory.mktemp("versions")
    code = main(["versions", *SWEEP, "--out", str(out)])
    (run,) = out.iterdir()
    return code, run, json.loads((run / "versions.json").read_text())


def by_series(data):
    return {r["series"]: r for r in data["versions"]}


def test_two_releases_counted_and_one_that_cannot_install(sweep):
    code, run, data = sweep
    assert code == 0 and json.loads((run / "run.json").read_text())["status"] == "complete"
    found = by_series(data)
    assert [r["series"] for r in data["versions"]] == ["2.1", "3.0", "3.1", "9.9"]
    for series in ("3.0", "3.1"):
        rec = found[series]
        assert rec["status"] == "ok" and rec["version"].startswith(series + ".")
        assert rec["packages"]["flask"] == rec["version"] and "werkzeug" in rec["packages"]
        (count,) = rec["counts"]
        assert count["endpoint"] == "/json" and count["target"] == "flask"
        assert count["served"]["instructions_per_request"] > count["instructions_per_request"] > 0
    assert found["9.9"]["status"] == "unsupported"
    assert "no matching distribution found for flask==9.9.*" in found["9.9"]["reason"].lower()
    assert "\n" not in found["9.9"]["reason"]
    old = found["2.1"]
    assert old["status"] == "unsupported" and "\n" not in old["reason"], old
    assert old["reason"].startswith("pip cannot install flask==2.1.*: ")
    assert "flask-sqlalchemy" in old["reason"].lower()
    assert data["endpoints"] == ["/json"] and data["requests"] == 2 and data["valgrind"]


def test_the_measured_releases_are_loaded_in_turn(sweep):
    """--load: each release served from its own environment, six saturated slices apiece."""
    _, _, data = sweep
    found = by_series(data)
    assert data["load"]["cycles"] == 6 and data["load"]["endpoints"] == ["/json"]
    for series in ("3.0", "3.1"):
        costs = found[series]["load"]["/json"]
        assert len(costs) == 6 and all(50 < c < 20_000 for c in costs), costs
    assert "load" not in found["9.9"] and "load" not in found["2.1"]
    (step,) = release_counts.load_steps(data)
    assert (step.before, step.after, step.ratio.n) == ("3.0", "3.1", 6) and step.ratio.has_ci
    assert 0.5 < step.ratio.value < 2


def test_the_report_draws_the_releases(sweep):
    _, run, _ = sweep
    page = (run / "report.html").read_text()
    assert "Framework releases: instructions per request" in page
    assert "/json: instructions per request against release" in page  # the chart's alt text
    assert "Not measured: flask 9.9: unsupported" in page
    assert "CPU-µs served" in page and "saturated slices, one release under load at a time" in page
    assert "/json: served CPU-µs per request against release at saturation" in page


def reused_sweep(out):
    assert main(["versions", "--flask", "3.0", "--endpoints", "/json", "--requests", "2",
                 "--out", str(out), "--no-report"]) == 0
    (run,) = out.iterdir()
    return by_series(json.loads((run / "versions.json").read_text()))["3.0"]


def test_sweeps_on_a_reused_environment_count_the_same(sweep, tmp_path):
    """Two sweeps on the environment the first one built repeat to the instruction, and build
    nothing. The sweep that built it is held to 0.1% only: once here it counted 36 instructions
    fewer in 1.45M (the cause is not known; on kept environments /json repeated exactly in every
    pair of sweeps measured)."""
    _, _, first = sweep
    runs = [reused_sweep(tmp_path / name) for name in ("a", "b")]
    assert all(r["reused"] for r in runs)
    built = by_series(first)["3.0"]["counts"][0]
    (a,), (b,) = (r["counts"] for r in runs)
    exact = first["aslr_disabled"] and first["clock_frozen"]
    for x, y, z in ((a, b, built), (a["served"], b["served"], built["served"])):
        for key in ("total_without", "total_with"):
            assert abs(x[key] - y[key]) <= (0 if exact else 1e-3 * x[key]), (key, x[key], y[key])
            assert abs(x[key] - z[key]) <= 1e-3 * x[key], (key, x[key], z[key])


def test_environments_are_reused_and_rebuilt_when_their_requirements_change(tmp_path):
    first = venvs.ensure("probe", ["iniconfig==2.0.0"], home=tmp_path)
    assert not first.reused and first.packages["iniconfig"] == "2.0.0"
    assert venvs.ensure("probe", ["iniconfig==2.0.0"], home=tmp_path).reused
    changed = venvs.ensure("probe", ["iniconfig==2.1.0"], home=tmp_path)
    assert not changed.reused and changed.packages["iniconfig"] == "2.1.0"
    (changed.path / venvs.STAMP).unlink()  # as a build cut short by Ctrl-C leaves it
    assert not venvs.ensure("probe", ["iniconfig==2.1.0"], home=tmp_path).reused


def test_an_install_that_fails_says_why_in_one_line(tmp_path):
    with pytest.raises(venvs.InstallFailed, match=r"^pip cannot install iniconfig==0\.0\.42: "
                                                  r"No matching distribution found"):
        venvs.ensure("broken", ["iniconfig==0.0.42"], home=tmp_path)
    assert not (tmp_path / "broken" / venvs.STAMP).exists()  # built again next time


def test_pip_reason_names_the_conflict():
    stderr = """WARNING: Location 'file:///opt/x/' is ignored
ERROR: Cannot install flask-sqlalchemy==3.1.1 and flask==0.1 because these package versions have conflicting dependencies.

The conflict is caused by:
    The user requested flask==0.1.*
    flask-sqlalchemy 3.1.1 depends on flask>=2.2.5

ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/
"""
    assert venvs.pip_reason(stderr) == "flask-sqlalchemy 3.1.1 depends on flask>=2.2.5"
    quiet = "\n".join(line for line in stderr.splitlines() if line.startswith("ERROR"))  # pip -q
    assert venvs.pip_reason(quiet).startswith("Cannot install flask-sqlalchemy==3.1.1 and flask==0.1")


def test_failure_line_picks_the_exception():
    stderr = "Traceback (most recent call last):\n  File x\nImportError: cannot import name 'y'\n" \
             "/json: measurement failed\n"
    assert versions.failure_line(stderr) == "ImportError: cannot import name 'y'"
    assert versions.failure_line("/json: responses were not 200: ['500 X']\n/json: measurement failed\n") \
        == "/json: responses were not 200: ['500 X']"


def test_requirements_pin_the_framework_and_fdbench_gunicorn():
    wanted = versions.requirements("flask", "3.0")
    assert wanted[0] == "flask==3.0.*" and any(r.startswith("flask-sqlalchemy") for r in wanted)
    assert wanted[-1].startswith("gunicorn==")
    assert versions.requirements("django", "5.2")[0] == "django==5.2.*"


@pytest.mark.parametrize("argv, message", [
    (("--flask", "3"), "'3' is not a release series"),
    (("--django", "five"), "'five' is not a release series"),
    (("--flask", "3.0", "--modes", "fast"), "unknown mode 'fast'"),
    (("--flask", "3.0", "--endpoints", "/nope"), "unknown endpoint '/nope'"),
])
def test_bad_input_is_one_line_and_exit_2(run_cli, argv, message, tmp_path):
    code, _, err = run_cli("versions", *argv, "--out", str(tmp_path))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # no run folder for a command that never started


def test_an_interrupted_sweep_keeps_the_finished_releases(monkeypatch, tmp_path):
    done = {"framework": "flask", "series": "3.0", "status": "unsupported", "reason": "test"}
    calls = []

    def fake(framework, series, *args, **kwargs):
        calls.append(series)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return dict(done)

    monkeypatch.setattr(versions, "measure_series", fake)
    monkeypatch.setattr(instr, "valgrind_version", lambda: "valgrind-test")
    with pytest.raises(KeyboardInterrupt):
        pipeline.versions({"flask": ["3.0", "3.1"]}, ["/json"], 2, instr.MODES, tmp_path)
    (run,) = tmp_path.iterdir()
    assert Run.open(run).meta["status"] == "partial"
    assert json.loads((run / "versions.json").read_text())["versions"] == [done]
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temp file left


def synthetic(path, flask_json):
    """A run with versions.json: Flask 3.0 -> 3.1 on /json at the given counts."""
    run = write_run(path, rounds=0)
    releases = [{"framework": "flask", "series": s, "version": f"{s}.0", "status": "ok",
                 "counts": [{"endpoint": "/json", "target": "flask", "instructions_per_request": n,
                             "served": {"instructions_per_request": 2 * n}}]}
                for s, n in zip(("3.0", "3.1"), flask_json)]
    (run / "versions.json").write_text(json.dumps(
        {"schema": 1, "requests": 2, "endpoints": ["/json"], "root": "/x", "arch": "x86_64",
         "versions": releases}))
    return run


def test_compare_flags_an_upgrade_step_above_the_threshold(tmp_path):
    steady = synthetic(tmp_path / "steady", (1_000_000, 1_020_000))
    costly = synthetic(tmp_path / "costly", (1_000_000, 1_100_000))
    assert compare(steady, steady, fail_above=5).regressions == []
    flagged = compare(steady, costly, fail_above=5).regressions
    names = sorted(c.text() for c in flagged)
    assert any("/json × flask 3.0 → 3.1: instructions/request +10.0%" in n for n in names), names
    # 3.1.0 counted 8% more in the new run than in the old: a regression of its own
    assert any("/json × flask 3.1.0: instructions/request" in n for n in names), names


def test_steps_follow_version_order_not_the_order_measured():
    data = {"endpoints": ["/json"], "versions": [
        {"framework": "django", "series": s, "status": "ok",
         "counts": [{"endpoint": "/json", "instructions_per_request": n}]}
        for s, n in (("5.10", 30), ("4.2", 10), ("5.2", 20))]}
    assert [(s.before, s.after) for s in release_counts.steps(data)] == [("4.2", "5.2"), ("5.2", "5.10")]


def test_the_table_shows_estimated_cycles_when_simulated():
    from harness.report.rows import versions_rows

    data = {"endpoints": ["/json"], "requests": 2, "cycles": True, "versions": [
        {"framework": "flask", "series": s, "version": f"{s}.0", "status": "ok",
         "counts": [{"endpoint": "/json", "instructions_per_request": n,
                     "served": {"instructions_per_request": 2 * n},
                     "cache": {"estimated_cycles": 3 * n}}]}
        for s, n in (("3.0", 100_000), ("3.1", 110_000))]}
    table = versions_rows(data)
    assert table["header"][-2:] == ["est. cycles", "change"]
    assert table["rows"][1][-2:] == ["330,000", "+10.0%"]


def test_unknown_versions_schema_is_a_one_line_error(tmp_path):
    (tmp_path / "versions.json").write_text('{"schema": 9}')
    with pytest.raises(FdbenchError, match="unknown versions.json schema"):
        release_counts.read(tmp_path)


def loaded(costs):
    """versions.json with Flask 3.0 and 3.1 loaded: `costs` = (3.0's cycles, 3.1's cycles)."""
    return {"endpoints": ["/json"], "requests": 2, "load": {"cycles": 10, "slice_s": 0.5},
            "versions": [{"framework": "flask", "series": s, "version": f"{s}.0", "status": "ok",
                          "counts": [], "load": {"/json": list(c)}}
                         for s, c in zip(("3.0", "3.1"), costs)]}


def test_a_load_step_is_the_median_of_paired_cycle_ratios():
    before = [100, 200, 100, 200, 100, 200, 100, 200, 100, 200]   # the machine moves 2x...
    after = [1.1 * c for c in before]                              # ...each cycle is +10%
    (step,) = release_counts.load_steps(loaded((before, after)))
    assert step.ratio.value == pytest.approx(1.1) and step.ratio.n == 10
    assert step.change.low == pytest.approx(0.1) and step.change.high == pytest.approx(0.1)
    from harness.report.rows import versions_rows
    table = versions_rows(loaded((before, after)))
    assert table["header"][-2:] == ["CPU-µs served", "change (95% CI)"]
    assert table["rows"][1][-2:] == ["165", "+10.0% [+10.0%, +10.0%] (n=10)"]


def test_compare_flags_a_load_step_only_when_its_interval_is_above_the_threshold(tmp_path):
    from harness.analysis.compare import upgrade_changes
    from types import SimpleNamespace

    noisy = [1.0, 1.3, 0.9, 1.2, 1.0, 1.25, 0.95, 1.1, 1.05, 1.2]   # median +10%, wide
    clear = [1.08, 1.09, 1.1, 1.1, 1.1, 1.1, 1.11, 1.12, 1.1, 1.1]  # +10%, tight
    base = [100.0] * 10
    for ratios, flagged in ((noisy, False), (clear, True)):
        data = loaded((base, [100 * r for r in ratios]))
        (change,) = upgrade_changes(SimpleNamespace(versions=data), fail_above=5)
        assert change.metric == "CPU-µs/request (served, paired cycles)"
        assert change.regression is flagged, (ratios, change.change)


def test_releases_take_turns_in_alternating_order():
    from harness.run.plan import cycle_order
    assert [cycle_order(["a", "b", "c"], k) for k in range(3)] == [
        ["a", "b", "c"], ["c", "b", "a"], ["a", "b", "c"]]
