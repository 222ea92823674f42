"""Adaptive cycles: after the planned cycles, scenarios still open get more, block by block,
within the run's time budget. A real short run on gunicorn and the lean generator (what is
open is faked, so the test does not hang on this machine's noise or on the claims' rules), and
the loop's stopping rules on fakes alone."""
import json
import shutil

import pytest

from harness import pipeline
from harness.claims.precision import Need
from harness.errors import FdbenchError
from harness.run import bench as benching
from harness.run.config import make_config
from harness.store import Run

from tests.helpers import fdbench

BUDGET_MIN = 1.0
WANTED = {"json": 9, "db": 3 + 25}   # cycles per level that would decide each (faked)


def fake_state(wanted, seen):
    """verdict_state's stand-in: a scenario is open until it has the cycles `wanted` says,
    counted from what the run really stored; `seen` gets the precision asked for."""
    def state(run, precision_pct):
        seen.append(precision_pct)
        have = {s: benching.cycles_of(run, s) for s in wanted}
        needs = [Need(s, c, have[s], "faked") for s, c in wanted.items() if have[s] < c]
        return sorted(needs, key=lambda n: n.more), set(wanted)
    return state


@pytest.fixture(scope="module")
def adaptive_run(tmp_path_factory, db_url):
    cfg = make_config("quick", targets=["flask", "django", "baseline"], scenarios=["json", "db"],
                      warmup=0.2, duration=0.3, budget=BUDGET_MIN, precision=5)
    seen = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "verdict_state", fake_state(WANTED, seen))
        run = benching.bench(cfg, db_url, tmp_path_factory.mktemp("results"))
        planned = run.trials()
        pipeline.adapt(run, db_url)
    return Run.open(run.path), planned, seen


def test_extra_cycles_continue_the_runs_numbering(adaptive_run):
    run, planned, _ = adaptive_run
    extra = [t for t in run.trials() if t["round"] >= 3]
    assert extra and all(t["status"] == "ok" for t in extra), [t["reason"] for t in extra]
    assert {t["scenario"] for t in extra} == {"json"}          # db could not fit (below)
    assert sorted({t["round"] for t in extra}) == list(range(3, 9))
    assert {t["target"] for t in extra} == {"flask", "django"}  # no verdict needs the baseline
    ids = [t["trial_id"] for t in run.trials()]
    assert len(ids) == len(set(ids))
    assert {t["trial_id"] for t in extra} == {f"json-{level}-c{c}-{target}" for c in range(3, 9)
                                              for level in ("saturation", "75%")
                                              for target in ("flask", "django")}
    for c in range(3, 9):  # each cycle's order, reversed every other cycle, as planned
        order = [t["target"] for t in extra if t["round"] == c and t["level"] == "saturation"]
        assert order == (["flask", "django"] if c % 2 == 0 else ["django", "flask"])
    assert min(t["order"] for t in extra) > max(t["order"] for t in planned)


def test_extra_cycles_reuse_the_runs_rates(adaptive_run):
    run, planned, _ = adaptive_run
    was = {t["rate"] for t in planned if t["scenario"] == "json" and t["level"] == "75%"}
    extra = [t for t in run.trials() if t["round"] >= 3]
    assert len(was) == 1 and None not in was
    assert {t["rate"] for t in extra if t["level"] == "75%"} == was
    assert {(t["mode"], t["rate"]) for t in extra if t["level"] == "saturation"} == {("closed", None)}


def test_run_json_records_the_adaptive_phase_within_budget(adaptive_run):
    run, _, seen = adaptive_run
    a = run.meta["adaptive"]
    assert run.meta["status"] == "complete"
    assert a["budget_s"] == 60 * BUDGET_MIN and a["precision_pct"] == 5 and set(seen) == {5}
    assert a["scenarios"]["json"].items() >= {
        "cycles": 9, "blocks": 1, "stopped": "precision reached"}.items()
    assert a["scenarios"]["db"].items() >= {"cycles": 3, "blocks": 0, "stopped": "budget"}.items()
    assert a["used_s"] > 0 and a["trials_s"] > 0
    assert a["trials_s"] + a["used_s"] <= a["budget_s"] + 5, a   # a block's estimate, not a cap
    for part in a["scenarios"].values():
        assert part["planned_s"] > 0 and part["slice_s"] > 0.3 and part["setup_s"] >= 0


def test_ctrl_c_in_the_adaptive_phase_leaves_a_partial_run_that_resumes(adaptive_run, db_url,
                                                                         tmp_path, monkeypatch):
    source, _, _ = adaptive_run
    copy = tmp_path / source.path.name
    shutil.copytree(source.path, copy)
    meta = json.loads((copy / "run.json").read_text())
    meta["config"]["budget_s"] = 600.0          # room for more, so the loop runs a block
    (copy / "run.json").write_text(json.dumps(meta))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "verdict_state", fake_state({"json": 12}, []))
    monkeypatch.setattr(benching, "more_cycles", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.adapt(Run.open(copy), db_url)
    cut = json.loads((copy / "run.json").read_text())
    assert cut["status"] == "partial" and cut["adaptive"]["scenarios"]["json"]["blocks"] == 2

    monkeypatch.setattr(pipeline, "verdict_state", fake_state({"json": 9}, []))
    cfg = make_config("quick", targets=["flask"], scenarios=["json"])  # --resume uses the run's
    resumed = benching.bench(cfg, db_url, tmp_path, resume=copy)
    pipeline.adapt(resumed, db_url)
    done = json.loads((copy / "run.json").read_text())
    assert done["status"] == "complete" and done["adaptive"]["used_s"] >= cut["adaptive"]["used_s"]
    assert done["adaptive"]["scenarios"]["json"]["stopped"] == "precision reached"


def test_budget_and_precision_are_checked():
    assert make_config("quick").budget_s == 0
    assert make_config("default").budget_s == 600
    assert make_config("default", budget=0).budget_s == 0
    assert make_config("default", paired=True).budget_s == 0   # extra cycles alternate
    with pytest.raises(FdbenchError, match="--budget and --precision add alternating"):
        make_config("default", paired=False, budget=5)
    with pytest.raises(FdbenchError, match="--budget must be"):
        make_config("default", budget=-1)
    with pytest.raises(FdbenchError, match="--precision must be"):
        make_config("default", precision=0)


@pytest.mark.parametrize("args,message", [
    (["--budget", "-1"], "--budget must be between 0 and 1440 minutes"),
    (["--precision", "0"], "--precision must be above 0"),
    (["--separate", "--budget", "5"], "--budget and --precision add alternating cycles"),
])
def test_bad_budget_or_precision_is_one_line(args, message):
    proc = fdbench("bench", *args)
    assert proc.returncode == 2 and proc.stderr.startswith("fdbench: error: ")
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


# --- the loop's stopping rules, on fakes ---------------------------------------------------

class Fake:
    """Scenarios that decide at `wanted` cycles; a block takes `block_s` per cycle, though the
    estimate says `estimate_s`; `stuck` scenarios gain no pair from a block."""

    def __init__(self, wanted, have=3, estimate_s=1.0, block_s=1.0, stuck=()):
        self.wanted, self.stuck = wanted, stuck
        self.have = dict.fromkeys(wanted, have)
        self.estimate_s, self.block_s, self.blocks = estimate_s, block_s, []

    def ask(self):
        needs = [Need(s, c, self.have[s], "faked") for s, c in self.wanted.items()
                 if self.have[s] < c]
        return sorted(needs, key=lambda n: n.more)

    def run_block(self, scenario, cycles):
        self.blocks.append((scenario, cycles))
        if scenario not in self.stuck:
            self.have[scenario] += cycles
        return self.block_s * cycles

    def estimate(self, scenario, cycles, blocks):
        return self.estimate_s * cycles

    def loop(self, left, budget=None):
        return pipeline.adaptive_cycles(self.ask, self.run_block, self.estimate, left,
                                        budget or left)


def test_blocks_of_ten_until_decided():
    fake = Fake({"json": 25, "db": 3})   # db is decided already
    assert fake.loop(left=100) == {}
    assert fake.blocks == [("json", 10), ("json", 10), ("json", 2)]


def test_an_open_scenario_that_needs_no_more_by_the_estimate_still_gets_two():
    fake = Fake({"json": 4})
    fake.ask = lambda: [] if fake.blocks else [Need("json", 3, 3, "open; enough by the estimate")]
    assert fake.loop(left=100) == {} and fake.blocks == [("json", 2)]


def test_budget_runs_out_when_blocks_take_longer_than_estimated():
    fake = Fake({"json": 25}, block_s=2.0)
    assert fake.loop(left=30) == {"json": "budget"}
    assert fake.blocks == [("json", 10)]


def test_a_scenario_on_a_margin_is_hopeless_and_the_others_still_run():
    fake = Fake({"json": 5003, "db": 8})
    assert fake.loop(left=50, budget=120) == {"json": "hopeless: needs 5003 cycles"}
    assert fake.blocks == [("db", 5)]


def test_no_budget_left_is_budget_not_hopeless():
    fake = Fake({"json": 13})
    assert fake.loop(left=-5, budget=60) == {"json": "budget"} and fake.blocks == []


def test_a_block_that_adds_no_pair_stops_its_scenario():
    fake = Fake({"json": 13, "db": 7}, stuck=("db",))
    assert fake.loop(left=100) == {"db": "no new pairs"}
    assert fake.blocks == [("db", 4), ("json", 10)]


def test_a_scenario_left_wide_by_one_level_is_planned_to_clear_its_cheapest_bound(tmp_path):
    """A real default run (20261203-100731) lost 8 of 10 saturated queries-5 pairs to contention:
    its interval held 1/1.5 to 1.5, "modest" was left open and the planner, aiming at the bound
    nearest the estimate (1), called it hopeless at 397 cycles. Equal costs here, two saturated
    pairs left: the plan must be a block or so, for the far bound, not hundreds."""
    from harness.analysis.evidence import Evidence
    from harness.claims.precision import needs
    from tests.ladderfactory import write_ladder_run

    folder = write_ladder_run(tmp_path / "run", scenarios=("json",), costs={"django": 420.0, "flask": 420.0})
    lines = [json.loads(line) for line in (folder / "trials.jsonl").read_text().splitlines()]
    for t in lines:
        if t["level"] == "saturation" and t["round"] >= 2:
            t["flags"] = ["contended"]
        elif t["level"] == "saturation" and t["target"] == "django":   # this machine's ±25%
            t["cpu_us_per_request"] = 420.0 * (1.25, 0.8)[t["round"]]
    (folder / "trials.jsonl").write_text("".join(json.dumps(t) + "\n" for t in lines))
    (need,) = needs(Evidence.from_dirs([folder]))
    assert need.scenario == "json" and ("holds 1.5" in need.why or "holds 0.667" in need.why), need
    assert need.cycles <= 2 * need.have, need


def test_cycles_narrow_an_interval_down_to_the_run_to_run_floor_and_no_further():
    """The pairs' part of the standard error falls with the cycles, the machine's run-to-run
    spread does not: a half-width under the floor times its own t quantile is never planned
    for, since with cycles enough that is the interval's quantile, and cycles are planned
    with that quantile."""
    from harness.analysis.ratios import LogRatio
    from harness.claims.precision import NEVER, _cycles_for

    floored = LogRatio(0.03, se=0.03, df=30, n=30, floor=0.02, floor_df=8)  # pairs' part 0.0224
    assert _cycles_for(floored, 10, 0.05, 0.95) == 72         # (0.05 / t8)² - 0.02², t8 = 2.31
    assert _cycles_for(floored, 10, 0.045, 0.95) == NEVER     # under t8 x 0.02 = 0.046
    assert _cycles_for(LogRatio(0.03, 0.03, 30, 30), 10, 0.045, 0.95) == 18   # z, no floor
