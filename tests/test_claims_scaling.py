"""The scalability claim, decided on hand-made evidence of known outcome, its interval's coverage
checked by simulation at this machine's noise (the database claim: tests/test_claims_databases.py)."""
from types import SimpleNamespace

import numpy as np
import pytest

from harness.analysis import sweep_stats
from harness.claims.scalability import MARGIN, decide, scalability
from harness.store import Run


# --- scalability: the rule on fake sweep trials ------------------------------------------

ONE_WORKER_RPS = {"django": 100.0, "flask": 150.0}


def sweep_trial(target, workers, rnd, rps, scenario="db", cls="sync", flags=(), errors=0):
    return {"trial_id": f"r{rnd}-{scenario}@{workers}w-{cls}-{target}", "round": rnd,
            "scenario": f"{scenario}@{workers}w-{cls}", "target": target, "mode": "closed",
            "status": "ok", "errors": errors, "rps": rps, "rate": None,
            "flags": list(flags) + (["errors"] if errors else [])}


def sweep_trials(django, flask, n=2, scenario="db", flagged=None):
    """A sweep whose round r has Django's efficiency django[r] and Flask's flask[r] at n
    workers; flagged: {(target, round): flag} for that round's n-worker trial."""
    trials = []
    for target, effs in (("django", django), ("flask", flask)):
        one = ONE_WORKER_RPS[target]
        for rnd, e in enumerate(effs):
            flag = (flagged or {}).get((target, rnd))
            trials += [sweep_trial(target, 1, rnd, one, scenario),
                       sweep_trial(target, n, rnd, e * n * one, scenario,
                                   flags=[flag] if flag else ())]
    return trials


JITTER = np.array([0.03, -0.02, 0.01, -0.03, 0.02, 0.0, -0.01, 0.02])  # rounds differ a little


@pytest.mark.parametrize("lead,verdict", [
    (0.30, "supported"),     # the whole interval above the margin
    (0.00, "refuted"),       # equivalent: the whole interval below it
    (-0.20, "refuted"),      # Flask scales better
    (MARGIN, "inconclusive"),  # the interval holds the margin
])
def test_scalability_rule(lead, verdict):
    flask = 0.6 + JITTER
    v = decide(sweep_trials(flask + lead + JITTER[::-1], flask))
    assert v.verdict == verdict, v.summary
    case = v.numbers["db|sync"]
    assert case["workers"] == 2 and case["pairs"] == len(JITTER)
    assert case["low"] < case["difference"] < case["high"]
    assert "Student-t" in v.summary


def test_scalability_mixed_when_cases_disagree_and_the_family_is_bonferroni_corrected():
    flask = 0.6 + JITTER
    trials = (sweep_trials(flask + 0.4 + JITTER[::-1], flask, scenario="db")
              + sweep_trials(flask - 0.3 + JITTER[::-1], flask, scenario="json"))
    v = decide(trials)
    assert v.verdict == "mixed"
    assert "97.5% intervals" in v.summary  # two cases at 1 - 0.05/2 each


def test_scalability_uses_the_largest_n_with_pairs():
    flask = 0.6 + JITTER
    at_4 = sweep_trials(flask - 0.2 + JITTER[::-1], flask, n=4)
    trials = sweep_trials(flask + 0.3 + JITTER[::-1], flask, n=2)
    trials += [t for t in at_4 if t["target"] == "flask"]
    assert decide(trials).numbers["db|sync"]["workers"] == 2  # Django has no 4-worker point
    v = decide(trials + [t for t in at_4 if t["target"] == "django"])
    assert v.numbers["db|sync"]["workers"] == 4 and v.verdict == "refuted"


def test_generator_bound_points_are_refused_and_counted():
    """Flask, the faster app, meets the generator's limit at 2 workers in three rounds: its
    capped rps would make it look less scalable; refused, those rounds have no pair."""
    flask, django = 0.9 + JITTER, 0.9 + JITTER[::-1]
    capped = {("flask", r): "generator_bound" for r in (0, 2, 4)}
    for r in (0, 2, 4):
        flask[r] = 0.5  # what the capped trial measured
    v = decide(sweep_trials(django, flask, flagged=capped))
    assert v.verdict == "refuted" and v.numbers["db|sync"]["pairs"] == len(JITTER) - 3
    assert "3 of 32 closed-loop points refused" in v.summary
    assert "generator_bound (the load generator, not the server, was the limit)" in v.summary
    kept = decide([t | {"flags": []} for t in sweep_trials(django, flask, flagged=capped)])
    assert kept.numbers["db|sync"]["difference"] > v.numbers["db|sync"]["difference"] + 0.1
    assert f"With the flagged points kept in, the verdict would be {kept.verdict}." in v.summary


def test_errors_contended_and_exited_workers_are_refused_too():
    flagged = {("django", 0): "contended", ("django", 1): "worker_exited", ("flask", 2): "errors"}
    v = decide(sweep_trials(0.9 + JITTER, 0.9 + JITTER, flagged=flagged))
    assert v.numbers["db|sync"]["pairs"] == len(JITTER) - 3
    assert "1 contended" in v.summary and "1 worker_exited" in v.summary and "1 errors" in v.summary
    assert sweep_stats.refusal(sweep_trial("flask", 2, 0, 99.0, errors=3)) == "errors"
    assert sweep_stats.refusal({"status": "failed"}) == "failed"


def test_every_point_refused_is_inconclusive_and_says_why():
    capped = {(t, r): "generator_bound" for t in ("django", "flask") for r in range(len(JITTER))}
    v = decide(sweep_trials(0.9 + JITTER, 0.9 + JITTER, flagged=capped))
    assert v.verdict == "inconclusive" and "16 of 32" in v.summary and "generator_bound" in v.summary


# --- scalability: on a stored run ------------------------------------------------------------

def stored(tmp_path, trials, points, skipped=()):
    run = Run.create(tmp_path, {"scaling": {"points": points, "skipped": list(skipped)}})
    for t in trials:
        run.add_trial(t)
    return SimpleNamespace(runs=[SimpleNamespace(path=run.path, meta=run.meta)])


def test_scalability_decided_on_a_stored_sweep(tmp_path):
    flask = 0.6 + JITTER
    points = [{"workers": w, "worker_class": "sync"} for w in (1, 2)]
    v = scalability(stored(tmp_path, sweep_trials(flask + 0.3 + JITTER[::-1], flask), points))
    assert v.verdict == "supported" and "db sync at 2 workers" in v.summary


def test_scalability_not_testable_on_one_server_core(tmp_path):
    reason = ("2 workers need 2 server cores and one for the load generator, 3 cores in all; "
              "this machine has 2, 1 of them for the server")
    skipped = [{"workers": 4, "worker_class": "sync", "reason": "4 workers need ... 5 cores"},
               {"workers": 2, "worker_class": "sync", "reason": reason}]
    trials = [sweep_trial(t, 1, 0, 100.0) for t in ("django", "flask")]
    v = scalability(stored(tmp_path, trials, [{"workers": 1, "worker_class": "sync"}], skipped))
    assert v.verdict == "not testable here" and "3 cores in all" in v.summary


def test_scalability_without_a_sweep_is_inconclusive():
    assert scalability(SimpleNamespace(runs=[])).verdict == "inconclusive"


# --- scalability: the interval's coverage, by simulation ----------------------------------------

NOISE = 0.14       # log-sd of one trial's rps on this VM
SIMULATIONS = 400
ROUNDS = 10


def simulated_sweep(rng, e_django, e_flask, ceiling=None):
    """One sweep of known efficiencies, every trial's rps multiplied by log-normal noise;
    with a ceiling, the load generator caps rps there and flags the trial."""
    trials = []
    for rnd in range(ROUNDS):
        for target, e in (("django", e_django), ("flask", e_flask)):
            one = ONE_WORKER_RPS[target]
            for workers, mean in ((1, one), (2, 2 * e * one)):
                rps = mean * float(np.exp(rng.normal(0.0, NOISE)))
                capped = ceiling is not None and rps > ceiling
                trials.append(sweep_trial(target, workers, rnd, min(rps, ceiling or rps),
                                          flags=["generator_bound"] if capped else ()))
    return trials


def coverage(estimate, truth, **kw):
    """Shares of simulated sweeps whose 95% interval lies above, covers, lies below the truth."""
    rng = np.random.default_rng(20261203)
    above = below = 0
    for _ in range(SIMULATIONS):
        est = estimate(simulated_sweep(rng, **kw))
        above += est.low > truth
        below += est.high < truth
    return above / SIMULATIONS, 1 - (above + below) / SIMULATIONS, below / SIMULATIONS


def paired_interval(trials):
    """The claim's estimator: the t-interval of d over paired rounds, refused trials out."""
    (n, pairs), = sweep_stats.paired_efficiencies(trials).values()
    return sweep_stats.mean_interval(a - b for a, b in pairs.values())


@pytest.mark.parametrize("e_django,e_flask", [(0.9, 0.75), (0.8, 0.8)])
def test_the_interval_covers_the_truth_at_this_machines_noise(e_django, e_flask):
    above, covered, below = coverage(paired_interval, e_django - e_flask,
                                     e_django=e_django, e_flask=e_flask)
    assert 0.92 <= covered <= 0.98, covered
    assert above <= 0.05 and below <= 0.05, (above, below)  # on both sides


def test_the_coverage_check_catches_a_biased_estimator():
    """Keeping generator-bound trials (the faster app capped by the load generator) biases
    Django's lead upward: the same check finds its interval misses the truth."""
    def keeping_capped(trials):
        return paired_interval([t | {"flags": []} for t in trials])

    above, covered, _ = coverage(keeping_capped, 0.0, e_django=0.8, e_flask=0.8, ceiling=180.0)
    assert covered < 0.5 and above > 0.5


def test_at_the_margin_the_rule_calls_either_side_rarely():
    """True lead exactly the margin: a false 'supported' and a false 'refuted' each in at most
    5% of simulated reruns (2.5% expected: each is one tail of a 95% interval)."""
    rng = np.random.default_rng(20261204)
    verdicts = [decide(simulated_sweep(rng, 0.75 + MARGIN, 0.75)).verdict
                for _ in range(SIMULATIONS)]
    assert verdicts.count("supported") <= 0.05 * SIMULATIONS
    assert verdicts.count("refuted") <= 0.05 * SIMULATIONS
