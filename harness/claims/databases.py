"""The article's database and scalability claims. Both rules were written before any number
was looked at. "Supports multiple databases" is read from static/databases.json
(harness/dbcheck.py); scalability from the sweeps of `fdbench scaling` (run.json "scaling"
plus its trials): scaling efficiency = rps(n workers) / (n · rps(1 worker))."""
from ..run import sweep as scaling
from ..store import Run as StoredRun
from .registry import Verdict, claim

SCALES_BETTER = 0.10   # Django's efficiency must beat Flask's by > 10 points to "scale better"
SCALES_ALIKE = 0.05    # within 5 points (or Flask ahead): Flask is as scalable


@claim(
    "multiple_databases",
    quote="Supports multiple databases",
    measured="Flask and Django served under gunicorn on SQLite and on PostgreSQL (throwaway "
             "cluster): /json, /db, /queries (shape, distinct rows, clamping), /fortunes (rows, "
             "order, escaping), /updates (persisted); deterministic answers compared across the "
             "two databases (static/databases.json). The test suite runs the full equivalence "
             "contract and statement counts on both.",
    rule="Supported if Django passes every check on both databases with the same answers on "
         "each; refuted if it fails a check or answers differently on either; inconclusive if "
         "PostgreSQL could not be run. The summary says whether Flask does the same (the "
         "article lists this as a Django feature).",
)
def multiple_databases(ev) -> Verdict:
    data = (getattr(ev, "static", None) or {}).get("databases")
    if not data:
        return Verdict("inconclusive", "no static/databases.json in this run (fdbench bench writes it)")
    if len(data.get("engines", [])) < 2:
        why = "; ".join(f"{k}: {v}" for k, v in data.get("unavailable", {}).items())
        return Verdict("inconclusive", f"only {', '.join(data.get('engines', []))} could be checked ({why})")
    text = {app: _app_text(result) for app, result in data["apps"].items()}
    django = data["apps"]["django"]
    verdict = "supported" if _passes(django) else "refuted"
    engines = " and ".join(f"{e} {data['versions'].get(e, '')}".strip() for e in data["engines"])
    summary = f"On {engines}: Django {text['django']}; Flask {text['flask']}."
    if verdict == "supported" and _passes(data["apps"]["flask"]):
        summary += " Both frameworks support both databases: no difference between them here."
    return Verdict(verdict, summary, {"apps": data["apps"], "engines": data["engines"]})


def _passes(result) -> bool:
    return not any(result["failed"].values()) and not result["differ"]


def _app_text(result) -> str:
    if _passes(result):
        return f"passes all {len(result['checks'])} checks on each, same answers"
    failed = "; ".join(f"{e}: {', '.join(f)}" for e, f in result["failed"].items() if f)
    differ = ", ".join(result["differ"])
    return "fails " + "; ".join(x for x in (failed, differ and f"differs across DBs: {differ}") if x)


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
    sweeps = [(r, StoredRun(r.path, r.meta).trials()) for r in ev.runs if r.meta.get("scaling")]
    if not sweeps:
        return Verdict("inconclusive", "no `fdbench scaling` run among these runs")
    cases = {}
    for _, trials in sweeps:
        cases.update(_cases(scaling.efficiency(trials)))
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
        table = scaling.throughput_table(trials)
        for (base, target, cls, n), rps in sorted(table.items()):
            sync = table.get((base, target, "sync", n))
            if cls == "gthread" and sync:
                parts.append(f"{target} {base} gthread/sync at {n} worker: {rps / sync:.2f}")
    return ("On one core: " + "; ".join(parts) + ".") if parts else ""
