"""The cost rules tested by simulation at this machine's own noise (docs/verdicts.md
§ Simulation): synthetic runs with a known true Django/Flask ratio per scenario and level,
log-normal noise on every slice (a log-sd of 0.14 per pair, what the steadiness probe measures
here) and a shared per-cycle machine effect (which pairing must cancel). Each test would fail if
the statistics were wrong: a z-interval at n=6, a pairing across cycles or a rule that votes
levels separately all break one of them.

FDBENCH_SIM_RERUNS raises the reruns for the figures quoted in docs and notes; the defaults
keep the file under a minute."""
import os

import numpy as np
import pytest
from scipy import stats as sps

from harness.analysis import ratios, run_spread
from harness.analysis.ratios import Family
from harness.claims import speed

SD = 0.14              # log-sd of one pair's ratio
RERUNS = int(os.environ.get("FDBENCH_SIM_RERUNS", "400"))
LEVELS = ("saturation", "75%", "25%")
# Django/Flask per scenario as the default profile measured them on the dev VM (2026-12-02)
MEASURED = {"json": 1.20, "db": 1.00, "queries-5": 1.10, "queries-20": 1.25,
            "fortunes": 1.07, "updates-5": 1.20}


def simulate(truth: dict, cycles: int, rng, sd=SD, levels=LEVELS, noise=None) -> dict:
    """{case: log ratios of its pairs}: each slice's cost carries the cycle's machine speed
    (shared, ±30%) and its own noise (sd/√2, so that a pair's log ratio has sd)."""
    draw = noise or (lambda size: rng.normal(0, sd / np.sqrt(2), size))
    out = {}
    for scenario, r in truth.items():
        for level in levels:
            machine = rng.uniform(np.log(0.7), np.log(1.3), cycles)
            django = np.log(r) + machine + draw(cycles)
            flask = machine + draw(cycles)
            out[f"{scenario} @ {level}"] = django - flask
    return out


def family_of(logs: dict, spread=None) -> Family:
    cases = {c: ratios.from_logs(x) for c, x in logs.items()}
    return ratios.family_of_cases("django", "flask", cases, spread)


def coverage(n, reruns, rng, interval=lambda r: r.interval(), noise=None):
    """(covered, missed below, missed above) shares of a case interval of n pairs, truth 1.2."""
    low = high = 0
    for _ in range(reruns):
        logs = simulate({"s": 1.2}, n, rng, levels=("l",), noise=noise and noise(rng))
        lo, hi = interval(ratios.from_logs(logs["s @ l"]))
        low += hi < 1.2
        high += lo > 1.2
    return 1 - (low + high) / reruns, low / reruns, high / reruns


@pytest.mark.parametrize("n", [6, 10, 20, 30])
def test_case_interval_covers_within_two_points_on_both_sides(n):
    rng = np.random.default_rng(n)
    covered, below, above = coverage(n, max(RERUNS, 2000) * 2, rng)
    assert 0.93 <= covered <= 0.97, covered
    assert 0.01 <= below <= 0.04 and 0.01 <= above <= 0.04, (below, above)


def test_the_coverage_check_can_fail():
    """A normal (z) interval at n=6 is too narrow: the same check must catch it."""
    def z_interval(r):
        half = 1.96 * r.se
        return np.exp(r.mean - half), np.exp(r.mean + half)
    covered, _, _ = coverage(6, 4000, np.random.default_rng(1), z_interval)
    assert covered < 0.93


def test_heavier_tails_keep_coverage():
    """Student-t noise with 4 degrees of freedom at the same sd: the t-interval still covers."""
    def t4(rng):
        return lambda size: rng.standard_t(4, size) * SD / np.sqrt(2) / np.sqrt(2)
    covered, _, _ = coverage(10, 4000, np.random.default_rng(2), noise=t4)
    assert covered >= 0.93


def test_scenario_and_overall_intervals_cover():
    """Levels pooled per scenario and scenarios overall (Welch-Satterthwaite): 95% each."""
    rng = np.random.default_rng(3)
    truth = {"a": 1.1, "b": 0.95, "c": 1.3}
    levels = {"x": 1.0, "y": 1.1, "z": 1.25}   # a level's truth = scenario's × this
    hits_s = hits_o = 0
    reruns = max(RERUNS, 1500)
    for _ in range(reruns):
        logs = {}
        for s, r in truth.items():
            for lv, k in levels.items():
                logs |= {f"{s} @ {lv}": simulate({s: r * k}, 10, rng, levels=(lv,))[f"{s} @ {lv}"]}
        fam = family_of(logs)
        lo, hi = fam.scenarios["a"].interval()
        hits_s += lo <= 1.1 * np.exp(np.mean(np.log(list(levels.values())))) <= hi
        lo, hi = fam.overall.interval()
        true_overall = np.exp(np.mean([np.log(r) + np.mean(np.log(list(levels.values())))
                                       for r in truth.values()]))
        hits_o += lo <= true_overall <= hi
    assert 0.93 <= hits_s / reruns <= 0.97
    assert 0.93 <= hits_o / reruns <= 0.97


def verdicts(truth, cycles, rng, rule=speed.speed_rule):
    return rule(family_of(simulate(truth, cycles, rng)))[0]


def test_false_mixed_stays_under_five_percent_with_all_ratios_equal():
    rng = np.random.default_rng(5)
    for r in (1.0, 1.05):
        truth = dict.fromkeys(MEASURED, r)
        mixed = sum(verdicts(truth, 10, rng) == "mixed" for _ in range(RERUNS))
        assert mixed / RERUNS <= 0.05, (r, mixed)


def test_a_rule_voting_each_level_alone_would_call_mixed_more_often():
    """What the simultaneous scenario intervals guard against: 18 unadjusted 95% intervals."""
    rng = np.random.default_rng(6)
    truth = dict.fromkeys(MEASURED, 1.0)
    naive = 0
    for _ in range(RERUNS):
        fam = family_of(simulate(truth, 10, rng))
        sides = {np.sign(np.log(lo)) if lo > 1 or hi < 1 else 0
                 for lo, hi in (r.interval() for r in fam.cases.values())}
        naive += {1.0, -1.0} <= sides
    assert naive / RERUNS > 0.05


@pytest.mark.parametrize("rule", [speed.speed_rule, speed.modest_rule, speed.trivial_rule])
def test_no_verdict_flips_between_supported_and_refuted_across_reruns(rule):
    rng = np.random.default_rng(7)
    for truth in (MEASURED, dict.fromkeys(MEASURED, 1.0), dict.fromkeys(MEASURED, 1.12)):
        seen = {verdicts(truth, 10, rng, rule) for _ in range(RERUNS)}
        assert not {"supported", "refuted"} <= seen, (rule.__name__, truth, seen)


def test_a_truth_on_the_margin_rarely_flips_a_pair_of_reruns():
    """Any rule with a margin can, at a truth exactly on it, land on both sides of it: the
    chance that two reruns say supported and refuted must stay tiny (2.5% x 2.5% each way)."""
    rng = np.random.default_rng(11)
    got = [verdicts(dict.fromkeys(MEASURED, 1.05), 10, rng) for _ in range(RERUNS * 2)]
    share = {v: got.count(v) / len(got) for v in ("supported", "refuted")}
    assert 2 * share["supported"] * share["refuted"] <= 0.005, share


def test_the_measured_ratios_give_a_decided_speed_verdict_at_default_n():
    """Flask 11% cheaper overall is far beyond the 5% margin at 10 cycles of 3 levels."""
    rng = np.random.default_rng(8)
    got = [verdicts(MEASURED, 10, rng) for _ in range(RERUNS)]
    assert got.count("supported") / RERUNS >= 0.95


def test_trivial_needs_the_cycles_the_doc_says():
    """Truth 1.00 everywhere: 'frequently trivial' is rarely shown at 10 cycles per level and
    usually at 60 (docs/verdicts.md § trivial)."""
    rng = np.random.default_rng(9)
    truth = dict.fromkeys(MEASURED, 1.0)
    rate = {n: sum(verdicts(truth, n, rng, speed.trivial_rule) == "supported"
                   for _ in range(RERUNS // 2)) / (RERUNS // 2) for n in (10, 60)}
    assert rate[10] < 0.2 and rate[60] > 0.8, rate


def test_gap_classes_at_their_boundaries():
    assert speed.gap_class((0.96, 1.04)) == "trivial"
    assert speed.gap_class((1.06, 1.4)) == "modest"
    assert speed.gap_class((1.01, 1.4)) == "modest or trivial"
    assert speed.gap_class((1.2, 1.6)) == "unclear"
    assert speed.gap_class((1.51, 1.9)) == "large"
    assert speed.gap_class((0.5, 0.6)) == "large"


def test_layers_rule_reads_both_steps():
    rng = np.random.default_rng(10)
    total = family_of(simulate(dict.fromkeys(MEASURED, 1.2), 10, rng))
    dearer = family_of(simulate(dict.fromkeys(MEASURED, 1.1), 10, rng))
    free = family_of(simulate(dict.fromkeys(MEASURED, 1.0), 60, rng))
    assert speed.layers_rule(total, dearer)[0] == "supported"
    assert speed.layers_rule(total, free)[0] == "refuted"
    cheaper = family_of(simulate(dict.fromkeys(MEASURED, 0.8), 10, rng))
    assert speed.layers_rule(cheaper, dearer)[0] == "refuted"


def test_t_quantile_used_is_students():
    """The interval's width at n=6 is Student's (2.571 se), not the normal's."""
    r = ratios.from_logs([0.1, -0.1, 0.2, -0.2, 0.0, 0.0])
    lo, hi = r.interval()
    assert np.log(hi) - r.mean == pytest.approx(sps.t.ppf(0.975, 5) * r.se)


# --- tools_speedup's library branch: app / its orjson variant, paired by cycle, at saturation,
# json and queries-20 pooled (the libraries profile). Truths as measured on 2026-12-03.
LIBRARY_MEASURED = {"flask": 1.015, "django": 1.04}


def tools_verdicts(truths: dict, cycles: int, rng, reruns=RERUNS) -> list[str]:
    from harness.claims.deployments import tools_rule
    out = []
    for _ in range(reruns):
        found = {(f, "orjson"): family_of(simulate({"json": t, "queries-20": t}, cycles, rng,
                                                   levels=("saturation",))).overall
                 for f, t in truths.items()}
        out.append(tools_rule(found)[0])
    return out


def test_library_speedup_interval_covers_on_both_sides():
    rng = np.random.default_rng(31)
    low = high = 0
    for _ in range(RERUNS * 5):
        r = family_of(simulate({"json": 1.03, "queries-20": 1.03}, 10, rng, levels=("saturation",))).overall
        lo, hi = r.interval()
        low += hi < 1.03
        high += lo > 1.03
    n = RERUNS * 5
    assert 0.93 <= 1 - (low + high) / n <= 0.97 and low / n < 0.04 and high / n < 0.04, (low, high)


@pytest.mark.parametrize("truth, verdict, at_most", [
    (1.00, "supported", 0.01),   # no tool at all: never 'both can be made faster'
    (1.05, "supported", 0.05),   # both exactly on the margin
    (1.10, "refuted", 0.05),     # both truly faster by twice the margin
])
def test_tools_rule_errs_rarely(truth, verdict, at_most):
    found = tools_verdicts({"flask": truth, "django": truth}, 10, np.random.default_rng(32))
    assert found.count(verdict) / len(found) <= at_most, found.count(verdict)


def test_tools_rule_finds_a_real_speedup_and_agrees_with_itself():
    rng = np.random.default_rng(33)
    big = tools_verdicts({"flask": 1.25, "django": 1.25}, 10, rng)
    assert big.count("supported") / len(big) >= 0.95
    a, b = (tools_verdicts(LIBRARY_MEASURED, 10, rng) for _ in range(2))
    assert not any({x, y} == {"supported", "refuted"} for x, y in zip(a, b))


# --- from run to run (docs/verdicts.md § From run to run): each run shares an effect (sd
# `run`) and each scenario's block has its own (sd `block`), which no pair of the run can see.
SPREAD = run_spread.DEFAULT
# Django/Flask per scenario, the geometric mean of the dev VM's nine default runs (2026-12-03)
MEASURED_RUNS = {"json": 1.184, "db": 0.972, "queries-5": 1.069, "queries-20": 1.208,
                 "fortunes": 1.065, "updates-5": 1.130}


def simulate_run(truth, cycles, rng, spread=SPREAD):
    """One run's pairs: the truths moved by the run's own effect and each block's."""
    shared = rng.normal(0, spread.run)
    moved = {s: r * np.exp(shared + rng.normal(0, spread.block)) for s, r in truth.items()}
    return simulate(moved, cycles, rng)


def test_intervals_with_the_spread_cover_the_machines_ratio_and_without_it_do_not():
    """The whole procedure, as on a machine: nine runs dimension its spread (fdbench spread's
    estimator, its degrees of freedom included), a tenth is judged with it. The overall interval
    covers the machine's ratio about 95% of the time and the scenarios' simultaneous ones
    together at least that; a run's pairs alone cover it far less often (the check can fail)."""
    rng = np.random.default_rng(41)
    true_overall = np.exp(np.mean(np.log(list(MEASURED_RUNS.values()))))
    reruns = max(RERUNS, 600)
    hits = {"with": 0, "without": 0, "family": 0}
    for _ in range(reruns):
        spread = run_spread.estimate([family_of(simulate_run(MEASURED_RUNS, 10, rng))
                                      for _ in range(9)], "nine simulated runs")
        logs = simulate_run(MEASURED_RUNS, 10, rng)
        for name, used in (("with", spread), ("without", None)):
            lo, hi = family_of(logs, used).overall.interval()
            hits[name] += lo <= true_overall <= hi
        fam = family_of(logs, spread)
        hits["family"] += all(lo <= MEASURED_RUNS[s] <= hi for s in fam.scenarios
                              for lo, hi in [fam.scenario_interval(s)])
    share = {k: v / reruns for k, v in hits.items()}
    assert 0.93 <= share["with"] <= 0.98, share
    assert share["without"] < 0.88, share
    assert share["family"] >= 0.93, share


def test_the_spread_is_estimated_from_repeated_runs():
    """fdbench spread's estimator on 100 simulated runs finds both components within a third,
    and next to nothing where the runs share no effect."""
    rng = np.random.default_rng(42)
    found = run_spread.estimate([family_of(simulate_run(MEASURED_RUNS, 10, rng))
                                 for _ in range(100)], "simulated")
    assert found.block == pytest.approx(SPREAD.block, rel=0.35)
    assert found.run == pytest.approx(SPREAD.run, rel=0.35)
    none = run_spread.RunSpread(0.0, 0.0, 9, "none")
    quiet = run_spread.estimate([family_of(simulate_run(MEASURED_RUNS, 10, rng, none))
                                 for _ in range(100)], "simulated")
    assert quiet.block < 0.01 and quiet.run < 0.006, quiet


def test_speed_from_run_to_run_at_the_nine_runs_truths():
    """db's truth a few percent below 1 (as the nine runs found it) makes no 'mixed': a gap
    under the margin gives no direction; supported and refuted never both appear."""
    rng = np.random.default_rng(43)
    got = [speed.speed_rule(family_of(simulate_run(MEASURED_RUNS, 10, rng), SPREAD))[0]
           for _ in range(RERUNS)]
    assert not {"supported", "refuted"} <= set(got)
    assert got.count("mixed") / RERUNS <= 0.05, got.count("mixed")


def test_mixed_needs_a_gap_that_counts_on_each_side():
    rng = np.random.default_rng(44)
    slightly = family_of(simulate(MEASURED_RUNS | {"db": 0.97}, 400, rng))
    low, high = slightly.scenario_interval("db")
    assert high < 1 and low > 1 / 1.05    # Django cheaper on db, by less than what counts
    verdict, why = speed.speed_rule(slightly)
    assert verdict == "supported" and "Django cheaper in db, by less than" in why
    clearly = family_of(simulate(MEASURED_RUNS | {"db": 0.85}, 200, rng))
    assert speed.speed_rule(clearly)[0] == "mixed"
