"""The article's scalability claim, decided on the sweeps of `fdbench scaling` (run.json
"scaling" plus its trials): scaling efficiency = rps(n workers) / (n · rps(1 worker)). The rule
was written before any number was looked at."""
from ..analysis import sweep_stats
from ..store import Run
from .registry import Verdict, claim

SCALES_BETTER = 0.10   # Django's efficiency must beat Flask's by > 10 points to "scale better"
SCALES_ALIKE = 0.05    # within 5 points (or Flask ahead): Flask is as scalable


@claim(
    "scalability",
    quote="Flask is not as scalable as Django.",
    measured="`fdbench scaling`: closed-loop throughput of Flask and Django with 1, 2 and 4 "
             "gunicorn workers (sync and gthread) on as many server cores; scaling efficiency "
             "rps(n)/(n·rps(1)) at the largest n measured for both, per scenario and worker class.",
    rule=f"Per (scenario, class): Django scales better if its efficiency exceeds Flask's by "
         f"more than {SCALES_BETTER:.2f}; Flask is as scalable if Django's lead is at most "
         f"{SCALES_ALIKE:.2f} (or Flask leads); undecided in between. Supported if Django scales "
         f"better in every decided case, refuted if Flask is as scalable in every decided case, "
         f"mixed if both, inconclusive if none is decided; not testable here when no sweep point "
         f"with 2+ workers on 2+ server cores was run.",
)
def scalability(ev) -> Verdict:
    sweeps = [(r, Run(r.path, r.meta).trials()) for r in ev.runs if r.meta.get("scaling")]
    if not sweeps:
        return Verdict("inconclusive", "no `fdbench scaling` run among these runs")
    cases = {}
    for _, trials in sweeps:
        cases.update(_cases(sweep_stats.efficiency(trials)))
    if not cases:
        skipped = [p["reason"] for r, _ in sweeps for p in r.meta["scaling"].get("skipped", [])]
        why = skipped[0] if skipped else "no sweep point above one worker"
        return Verdict("not testable here", f"Scaling efficiency needs 2+ workers on 2+ server "
                       f"cores; {why}. {_single_core_text(sweeps)}")
    decided = {k: _decide(d, f) for k, (d, f, _) in cases.items()}
    better = sum(v is True for v in decided.values())
    alike = sum(v is False for v in decided.values())
    verdict = ("mixed" if better and alike else "supported" if better else
               "refuted" if alike else "inconclusive")
    text = "; ".join(f"{b} {c} at {n} workers: Django {d:.2f}, Flask {f:.2f}"
                     for (b, c), (d, f, n) in sorted(cases.items()))
    return Verdict(verdict, f"Scaling efficiency {text}.",
                   {f"{b}|{c}": {"django": d, "flask": f, "workers": n} for (b, c), (d, f, n) in cases.items()})


def _cases(eff):
    """(scenario, class) → (Django's, Flask's efficiency, n) at the largest n both have."""
    out = {}
    for (base, target, cls, n), _ in sorted(eff.items(), key=lambda kv: kv[0][3]):
        d, f = eff.get((base, "django", cls, n)), eff.get((base, "flask", cls, n))
        if d is not None and f is not None:
            out[(base, cls)] = (d, f, n)
    return out


def _decide(django, flask):
    lead = django - flask
    if lead > SCALES_BETTER:
        return True
    if lead <= SCALES_ALIKE:
        return False
    return None


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
