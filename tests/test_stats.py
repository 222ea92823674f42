"""harness.stats: medians with CIs, exclusions, paired ratios, determinism."""
import numpy as np
import pytest

from harness.analysis import ratios, stats
from harness.analysis.evidence import Evidence, load_run
from harness.errors import FdbenchError
from tests.runfactory import trial, write_run


def test_median_ci_brackets_the_median_and_is_deterministic():
    values = [10.0, 11.0, 9.5, 10.4, 10.9, 9.8, 10.2]
    a, b = stats.median_ci(values), stats.median_ci(values)
    assert a == b
    assert a.value == pytest.approx(np.median(values))
    assert a.low <= a.value <= a.high and a.low >= 9.5 and a.high <= 11.0
    assert a.n == 7


def test_order_statistic_interval_on_known_data():
    # n=10: P(Binomial(10, 1/2) <= 1) = 1.1% per tail, <= 2 would be 5.5%: [x_(2), x_(9)]
    est = stats.median_ci([7, 1, 9, 3, 5, 10, 2, 8, 4, 6])
    assert (est.low, est.value, est.high, est.n) == (2, 5.5, 9, 10)
    # n=6 is the smallest with a 95% interval: [min, max] covers with 1 - 2/64 = 96.9%
    assert (stats.median_ci([4, 1, 6, 2, 5, 3]).low, stats.median_ci([4, 1, 6, 2, 5, 3]).high) == (1, 6)
    assert stats.coverage(3) == pytest.approx(0.75)


def test_order_statistic_interval_covers_as_its_binomial_coverage_says():
    """Both ways: at least 95%, and no more than the exact binomial coverage of the ranks it
    takes allows (an interval that was too wide, e.g. always [min, max], would exceed it)."""
    rng = np.random.default_rng(7)
    for n, exact in ((6, 0.969), (10, 0.979), (20, 0.959)):
        draws = rng.lognormal(0.0, 0.3, size=(4000, n))  # true median 1.0
        ests = list(map(stats.median_ci, draws))
        below = np.mean([e.high < 1.0 for e in ests])
        above = np.mean([e.low > 1.0 for e in ests])
        assert abs((1 - below - above) - exact) < 0.01, (n, below, above)
        assert abs(below - above) < 0.01, (n, below, above)   # symmetric misses


@pytest.mark.parametrize("values", [[5.0], [5.0, 6.0], [5.0, 6.0, 7.0], [1, 2, 3, 4, 5]])
def test_too_few_values_have_no_ci_and_say_so(values):
    est = stats.median_ci(values)
    assert est.low is None and est.high is None and not est.has_ci
    assert f"n={len(values)}, no CI: at most {stats.coverage(len(values)):.0%} coverage" in est.text()


def test_no_values_is_none_and_constant_values_have_a_zero_width_ci():
    assert stats.median_ci([]) is None
    est = stats.median_ci([3.0] * 6)
    assert (est.low, est.value, est.high) == (3.0, 3.0, 3.0)


def test_geomean_of_ratios_with_a_t_interval_on_logs():
    est = ratios.from_logs(np.log([0.5, 2.0, 1.0])).estimate()
    assert est.value == pytest.approx(1.0)
    assert est.low < 1.0 < est.high
    logs = np.log([0.5, 2.0, 1.0])
    half = 4.302653 * logs.std(ddof=1) / np.sqrt(3)  # t(0.975, 2 df)
    assert est.high == pytest.approx(np.exp(half), rel=1e-5)


def test_mann_whitney_separates_clearly_different_samples():
    assert stats.mann_whitney([1, 2, 3, 4, 5], [10, 11, 12, 13, 14]) < 0.05
    assert stats.mann_whitney([1, 2, 3], [1, 2, 3]) > 0.5
    assert stats.mann_whitney([1], [2, 3]) is None


def test_failed_and_error_trials_are_excluded_and_listed(tmp_path):
    extra = [trial("json", "flask", 9, None, status="failed"),
             trial("json", "flask", 10, 1.0, errors=3, flags=["errors"])]
    run = load_run(write_run(tmp_path / "r", rounds=3, extra=extra))
    summary = stats.summary(run.trials)
    row = summary[(summary["case"] == "json") & (summary["target"] == "flask")].iloc[0]
    assert row["n"] == 3 and row["n_excluded"] == 2
    assert row["cpu"].value > 100  # the 1.0 µs trial with errors did not pull the median down
    out = stats.excluded(run.trials)
    assert set(out["trial_id"]) == {"r9-json-flask", "r10-json-flask"}
    assert set(out["why"]) == {"boom", "errors"}


def test_generator_bound_rps_is_never_capacity(tmp_path):
    extra = [trial("plaintext", "baseline", r, 300.0, rps=9000, flags=["generator_bound"])
             for r in range(3)]
    run = load_run(write_run(tmp_path / "r", rounds=3, extra=extra))
    row = stats.summary(run.trials).query("case == 'plaintext'").iloc[0]
    assert row["rps"] is None
    assert row["rps_bound"].value == 9000 and row["generator_bound"] == 3
    assert row["cpu"].value == 300.0  # the cost is still valid


def test_paired_ratio_uses_same_round_pairs(tmp_path):
    """A shared ±30% per-round effect (the machine's speed, the same for both slices of a
    cycle): pairing within the round cancels it, so the interval stays narrow; pairing across
    rounds would carry it and widen the interval several times over."""
    rng = np.random.default_rng(4)
    speed = np.exp(rng.uniform(np.log(0.7), np.log(1.3), 12))
    extra = [trial("json", t, r, round(c * speed[r] * (1 + rng.uniform(-0.01, 0.01)), 2))
             for r in range(12) for t, c in (("flask", 500.0), ("django", 1000.0))]
    run = load_run(write_run(tmp_path / "r", rounds=0, extra=extra))
    est = ratios.paired_ratio(run.trials, "json", "flask", "django")
    assert est.n == 12 and est.has_ci
    assert est.value == pytest.approx(0.5, rel=0.01)
    assert est.high / est.low < 1.02
    f = run.trials[run.trials["target"] == "flask"].sort_values("round")[stats.COST].to_numpy()
    d = run.trials[run.trials["target"] == "django"].sort_values("round")[stats.COST].to_numpy()
    shifted = ratios.from_logs(np.log(f / np.roll(d, 1))).estimate()   # a wrong pairing
    assert shifted.high / shifted.low > 1.15


def test_open_loop_trials_are_a_case_of_their_own(tmp_path):
    open_trial = {**trial("json", "flask", 0, 400.0), "mode": "open", "rate": 500.0,
                  "trial_id": "o0-json-flask"}
    run = load_run(write_run(tmp_path / "r", rounds=1, extra=[open_trial]))
    assert "json (open 500/s)" in stats.cases(run.trials)
    row = stats.summary(run.trials).query("case == 'json (open 500/s)'").iloc[0]
    assert row["rps"] is None  # an arrival rate is not a capacity


def test_missing_or_broken_run_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(FdbenchError, match="not a run folder"):
        load_run(tmp_path / "nope")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{not json")
    with pytest.raises(FdbenchError, match="cannot read"):
        load_run(tmp_path / "bad")


def test_damaged_trial_line_is_skipped_with_a_warning(tmp_path):
    path = write_run(tmp_path / "r", rounds=1)
    with open(path / "trials.jsonl", "a") as f:
        f.write('{"trial_id": "half\n')
    run = load_run(path)
    assert len(run.trials) == 8
    assert any("damaged" in w for w in run.warnings)


def test_two_runs_from_one_machine_get_distinct_labels(tmp_path):
    ev = Evidence.from_dirs([write_run(tmp_path / "a", rounds=1), write_run(tmp_path / "b", rounds=1)])
    assert ev.trials["machine"].nunique() == 2
    assert not ev.multi_machine
