"""`fdbench spread`: the machine's run-to-run spread from stored runs, saved for the runs of
that host to come, and carried by the intervals of every run that recorded it."""
import json

import pytest

from harness.analysis import run_spread
from harness.analysis.evidence import Evidence
from harness.claims import speed
from tests.runfactory import write_run

DJANGO_JSON = (1000.0, 1060.0, 960.0, 1045.0)   # runs that disagree beyond their own noise


@pytest.fixture
def spread_file(tmp_path, monkeypatch):
    path = tmp_path / "var" / "run-spread.json"
    monkeypatch.setattr(run_spread, "FILE", path)
    return path


def runs(tmp_path, machine=None, count=len(DJANGO_JSON)):
    return [write_run(tmp_path / f"r{i}", costs={("json", "django"): cost}, seed=i,
                      machine=machine if i == 0 else None)
            for i, cost in enumerate(DJANGO_JSON[:count])]


def test_spread_is_measured_saved_for_its_host_and_recorded_runs_carry_it(tmp_path, run_cli,
                                                                           spread_file):
    code, out, err = run_cli("spread", *map(str, runs(tmp_path)))
    assert code == 0, err
    assert "run-to-run spread" in out and "saved to" in out
    saved = json.loads(spread_file.read_text())
    assert saved["host"] == "testbox" and saved["runs"] == 4
    assert saved["block"] > 0 or saved["run"] > 0
    found = run_spread.for_host("testbox")
    assert (found.block, found.run) == (saved["block"], saved["run"])
    assert run_spread.for_host("elsewhere") == run_spread.DEFAULT

    recorded = write_run(tmp_path / "next", run_spread=found)
    ev = Evidence.from_dirs([recorded])
    assert ev.spread == found
    fam = speed.family(ev, speed.DJANGO_FLASK)
    assert fam.overall.floor ** 2 == pytest.approx(found.extra(dict.fromkeys(fam.scenarios, 1))[1])
    assert fam.overall.floor_df == found.dfs()[1]


def test_runs_judged_together_divide_the_spread_by_the_runs_a_scenario_ran_in(tmp_path):
    """Two runs of json and db, a third of json alone: json's added variance is a third of one
    run's, db's a half, and the run's share of the overall by the fewest (two)."""
    both = [write_run(tmp_path / f"r{i}", seed=i) for i in range(2)]
    alone = write_run(tmp_path / "json-only", scenarios=("json",), seed=5)
    fam = speed.family(Evidence.from_dirs([*both, alone]), speed.DJANGO_FLASK)
    s = run_spread.DEFAULT
    one_run = s.block ** 2 + s.run ** 2
    assert fam.scenarios["json"].floor ** 2 == pytest.approx(one_run / 3)
    assert fam.scenarios["db"].floor ** 2 == pytest.approx(one_run / 2)
    assert fam.overall.floor ** 2 == pytest.approx((s.block ** 2 / 3 + s.block ** 2 / 2) / 4
                                                   + s.run ** 2 / 2)


def test_a_run_without_a_recorded_spread_is_judged_with_the_default(tmp_path):
    ev = Evidence.from_dirs([write_run(tmp_path / "old")])
    assert ev.spread == run_spread.DEFAULT


def test_spread_without_saving_leaves_no_file(tmp_path, run_cli, spread_file):
    code, out, _ = run_cli("spread", "--no-save", *map(str, runs(tmp_path)))
    assert code == 0 and "saved" not in out and not spread_file.exists()


@pytest.mark.parametrize("how, message", [
    ("two runs", "needs at least 3 runs"),
    ("two machines", "the spread is one machine's"),
    ("two profiles", "repeats of one profile on one database"),
])
def test_spread_refuses_what_it_cannot_estimate(tmp_path, run_cli, spread_file, how, message):
    if how == "two runs":
        folders = runs(tmp_path, count=2)
    elif how == "two machines":
        folders = runs(tmp_path, {"host": "other"})
    else:
        folders = runs(tmp_path)
        meta = json.loads((folders[0] / "run.json").read_text())
        (folders[0] / "run.json").write_text(json.dumps(meta | {"profile": "default"}))
    code, _, err = run_cli("spread", *map(str, folders))
    assert code == 2 and message in err and "Traceback" not in err, err
    assert not spread_file.exists()


def test_runs_with_different_spreads_are_judged_with_the_largest_of_each():
    a = run_spread.RunSpread(0.03, 0.0, 9, "a", 9.0, 4.0)
    b = run_spread.RunSpread(0.02, 0.015, 5, "b", 6.0, 5.0)
    wide = run_spread.widest([a, b])
    assert (wide.block, wide.run, wide.dfs()) == (0.03, 0.015, (6.0, 4.0))
    assert run_spread.widest([a, a]) == a
