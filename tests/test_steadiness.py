"""The server CPUs' steadiness: a speedometer of fixed work run before the trials, and what its
figures mean for the intervals."""
import math

from harness.analysis.steadiness import describe, pairs_for, warning
from harness.run.steadiness import probe, summarize


def chunks(speeds, window_s=0.5, per_window=100):
    """Chunks of fixed work, `per_window` in each window, at the given relative speeds."""
    out = []
    for w, speed in enumerate(speeds):
        for i in range(per_window):
            out.append((w * window_s + i * window_s / per_window, int(1e5 / speed)))
    return out


def test_a_steady_machine_has_no_pair_noise():
    s = summarize(chunks([1.0] * 8), 0.5)
    assert s["pair_sd_pct"] == 0 and s["speed_sd_pct"] == 0 and s["slow_share"] == 0
    assert s["windows"] == 8


def test_two_speed_modes_show_as_pair_noise_and_a_slow_share():
    speeds = [1.0, 0.5] * 4 + [1.0]               # alternate windows run at half speed
    s = summarize(chunks(speeds), 0.5)
    assert s["slow_share"] == round(4 / 9, 3)
    assert math.isclose(s["pair_sd_pct"], 100 * math.log(2), rel_tol=1e-3)   # |log 2| each pair
    assert summarize([], 0.5) is None


def test_pairs_needed_grow_with_the_square_of_the_noise():
    assert pairs_for(14, 3.0) == math.ceil((1.96 * 1.2533 * 14 / 3) ** 2)   # 133
    assert pairs_for(28, 3.0) > 3.9 * pairs_for(14, 3.0)
    assert pairs_for(1, 3.0) == 1


def test_only_an_unsteady_machine_gets_a_warning():
    steady = {"window_s": 0.5, "pair_sd_pct": 2.0, "per_cpu": {"0": {"slow_share": 0.01}}}
    shaky = {"window_s": 0.5, "pair_sd_pct": 14.0, "per_cpu": {"0": {"slow_share": 0.48}}}
    assert warning(steady) is None and warning(None) is None
    text = warning(shaky)
    assert "14% " in text and "48%" in text and f"{pairs_for(14, 3):,} pairs" in text
    assert describe({"pair_sd_pct": None}) is None


def test_the_probe_runs_pinned_to_each_cpu():
    result = probe([0], seconds=1.2, window_s=0.2)
    assert result["window_s"] == 0.2 and list(result["per_cpu"]) == ["0"]
    cpu = result["per_cpu"]["0"]
    assert cpu["windows"] >= 5 and 0 <= cpu["slow_share"] <= 1
    assert result["pair_sd_pct"] == cpu["pair_sd_pct"] >= 0
