"""The article's "supports multiple databases" claim, read from static/databases.json
(harness/measure/databases.py). The rule was written before any number was looked at."""
from .registry import Verdict, claim


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
