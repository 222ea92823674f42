"""The article's scalability claim, decided on the sweeps of `fdbench scaling` (run.json
"scaling" plus its trials) by the rule of docs/verdicts.md § scalability, written before any
sweep was read: the estimand is d = e_django(n) − e_flask(n), scaling efficiency
e(n) = rps(n workers) / (n · rps(1 worker)) taken per round, at the largest n both apps have,
per (scenario, worker class), with a t-interval over the rounds' paired differences."""
from collections import Counter

from ..analysis import sweep_stats
from ..store import Run
from .registry import Verdict, claim

# § scalability: the smallest efficiency lead that counts. Below it the lead is within what a
# second worker costs any app on real hardware (shared cache and memory bandwidth, a lower
# all-core clock), and within the ~14% that one pair of slices moves on this VM.
MARGIN = 0.10
# § scalability: 95% intervals; k (scenario, class) cases judged at once at 1 − ALPHA/k each
# (Bonferroni), so that one verdict over the family keeps a 5% chance of a false call.
ALPHA = 0.05
METHOD = "Student-t interval on the per-round paired differences (scipy), Bonferroni over cases"
SAYS = {"supported": f"Django scales better (lead above {MARGIN:.2f})",
        "refuted": f"Flask as scalable (lead below {MARGIN:.2f})",
        "inconclusive": "undecided"}


@claim(
    "scalability",
    quote="Flask is not as scalable as Django.",
    measured="`fdbench scaling`: closed-loop throughput of Flask and Django with 1, 2 and 4 "
             "gunicorn workers (sync and gthread) on as many server cores, the two apps loaded "
             "in alternating slices at each point, round by round; scaling efficiency "
             "rps(n)/(n·rps(1)) per app and round, and Django's lead d = e_django − e_flask at "
             "the largest n both have, per scenario and worker class. Trials flagged "
             "generator_bound, contended or worker_exited, or with errors, give no efficiency.",
    rule=f"docs/verdicts.md § scalability. Per (scenario, class), a {1 - ALPHA:.0%} "
         f"t-interval of d over paired rounds (Bonferroni over cases): Django scales better if "
         f"the whole interval lies above {MARGIN:.2f} (a smaller lead is what a second worker "
         f"costs on real hardware and below this VM's ~14% per pair), Flask is as scalable if "
         f"the whole interval lies below {MARGIN:.2f} (equivalence or Flask ahead), undecided "
         f"otherwise. Supported if some case says Django scales better and none says Flask is "
         f"as scalable, refuted if the reverse, mixed if both, inconclusive if none decides; "
         f"not testable here when no point with 2+ workers on 2+ server cores can run on this "
         f"machine (n workers need n server cores and one for the load generator).",
)
def scalability(ev) -> Verdict:
    sweeps = [(r, Run(r.path, r.meta).trials()) for r in ev.runs if r.meta.get("scaling")]
    if not sweeps:
        return Verdict("inconclusive", "no `fdbench scaling` run among these runs")
    if not any(p["workers"] >= 2 for r, _ in sweeps for p in r.meta["scaling"].get("points", [])):
        return Verdict("not testable here", f"Scaling efficiency needs a point with 2+ workers on "
                       f"2+ server cores; {_needs(sweeps)}. {_single_core_text(sweeps)}".strip())
    # rounds of different runs are different pairs
    trials = [t | {"round": (r.path.name, t.get("round"))} for r, ts in sweeps for t in ts]
    return decide(trials)


def decide(trials) -> Verdict:
    """The rule on sweep trials of known rounds: pure, so that it can be tested by simulation.
    When flagged trials were refused, the text also says the verdict with them kept in."""
    verdict, judged, confidence = _rule(trials)
    refused = f"{_refused_text(trials)} {_with_flagged(trials, verdict)}".strip()
    if not judged:
        return Verdict(verdict, f"No scenario has both apps' efficiency at 2+ workers in a "
                       f"common round. {refused}".strip())
    text = "; ".join(_case_text(base, cls, j) for (base, cls), j in judged.items())
    return Verdict(verdict, f"Django − Flask scaling efficiency (margin {MARGIN:.2f}; "
                   f"{confidence:.1%} intervals, {METHOD}): {text}. {refused}".strip(),
                   {f"{b}|{c}": {k: v for k, v in j.items() if k != "estimate"}
                    for (b, c), j in judged.items()})


def _rule(trials):
    """(verdict, each case judged, the cases' confidence level)."""
    cases = sweep_stats.paired_efficiencies(trials)
    if not cases:
        return "inconclusive", {}, None
    confidence = 1 - ALPHA / len(cases)
    judged = {key: _judge(n, pairs, confidence) for key, (n, pairs) in sorted(cases.items())}
    calls = Counter(j["call"] for j in judged.values())
    verdict = ("mixed" if calls["supported"] and calls["refuted"] else
               "supported" if calls["supported"] else
               "refuted" if calls["refuted"] else "inconclusive")
    return verdict, judged, confidence


def _with_flagged(trials, verdict):
    """The verdict had the flagged trials (not those with errors) counted."""
    if not any(sweep_stats.refusal(t) in sweep_stats.FLAGS for t in trials):
        return ""
    other = _rule([t | {"flags": [f for f in t.get("flags") or () if f not in sweep_stats.FLAGS]}
                   for t in trials])[0]
    return (f"With the flagged points kept in, the verdict would be {other}"
            f"{' too' if other == verdict else ''}.")


def _judge(n, pairs, confidence):
    """One case: its interval of d and which side of the margin it lies on."""
    est = sweep_stats.mean_interval((a - b for a, b in pairs.values()), confidence)
    call = (None if est.low is None else "supported" if est.low > MARGIN else
            "refuted" if est.high < MARGIN else None)
    return {"workers": n, "pairs": est.n, "estimate": est, "difference": est.value,
            "low": est.low, "high": est.high, "call": call or "inconclusive",
            "django": float(sum(a for a, _ in pairs.values()) / len(pairs)),
            "flask": float(sum(b for _, b in pairs.values()) / len(pairs))}


def _case_text(base, cls, j):
    est = j["estimate"]
    interval = (f"[{est.low:+.2f}, {est.high:+.2f}]" if est.low is not None else
                "no interval (fewer than 2 paired rounds, or no spread)")
    return (f"{base} {cls} at {j['workers']} workers {est.value:+.2f} {interval} over "
            f"{est.n} paired rounds (Django {j['django']:.2f}, Flask {j['flask']:.2f}): "
            f"{SAYS[j['call']]}")


def _refused_text(trials):
    """How many closed-loop sweep points were refused an efficiency, and why."""
    closed = [t for t in trials if t.get("mode") == "closed"
              and sweep_stats.split_scenario(t["scenario"])[1] is not None]
    why = Counter(sweep_stats.refusal(t) for t in closed)
    why.pop(None, None)
    if not why:
        return ""
    parts = ", ".join(f"{count} {flag} ({sweep_stats.REFUSED[flag]})"
                      for flag, count in why.most_common())
    return (f"{sum(why.values())} of {len(closed)} closed-loop points refused, so without an "
            f"efficiency: {parts}.")


def _needs(sweeps):
    """The cores the smallest skipped multi-worker point needs, as the sweep recorded it."""
    skipped = [p for r, _ in sweeps for p in r.meta["scaling"].get("skipped", [])
               if p["workers"] >= 2]
    if not skipped:
        return "no sweep point above one worker was run"
    return min(skipped, key=lambda p: p["workers"])["reason"]


def _single_core_text(sweeps):
    """What one core did show: each app's capacity with gthread relative to sync."""
    parts = []
    for _, trials in sweeps:
        table = sweep_stats.throughput_table(trials)
        for (base, target, cls, n), rps in sorted(table.items()):
            sync = table.get((base, target, "sync", n))
            if cls == "gthread" and sync:
                parts.append(f"{target} {base} gthread/sync at {n} worker: {rps / sync:.2f}")
    return ("On one core: " + "; ".join(parts) + ".") if parts else ""
