"""The article's "supports multiple databases" claim: one app using two databases at once, read
from static/databases.json (harness/measure/databases.py) and static/loc.json for the lines each
app wrote for it. The rule, its estimand and its reason: docs/verdicts.md § multiple_databases,
written before any number was looked at."""
from .registry import Verdict, claim

# What each framework's app uses for its second database (apps/*: /twodb)
MEANS = {"django": "its own DATABASES aliases and a database router",
         "flask": "Flask-SQLAlchemy's SQLALCHEMY_BINDS and a __bind_key__ on the model (an "
                  "extension's feature; Flask itself has no database layer)"}


@claim(
    "multiple_databases",
    quote="Supports multiple databases",
    measured="One request served from two databases at once: each app, under gunicorn, answers "
             "GET /twodb by reading a World row from its default database and writing and counting "
             "its audit entry in a second one (Django: a second DATABASES alias and a router; Flask: "
             "a Flask-SQLAlchemy bind); the harness then opens both databases itself. On SQLite (a "
             "second file) and on PostgreSQL when a throwaway cluster starts (a second database on "
             "it). Lines written for it from static/loc.json; the equivalence checks on SQLite vs "
             "PostgreSQL as context (static/databases.json).",
    rule="Supported if Django, with its stock features (DATABASES aliases + a router), answers "
         "/twodb with 200, its row is in the second database and the default database is "
         "unchanged, on every engine checked; refuted if any of these fails on any engine checked. "
         "Inconclusive when static/databases.json or its two-database check is missing. The summary "
         "says what Flask needed for the same (binds) and how many lines each app wrote for it (docs/verdicts.md § multiple_databases).",
)
def multiple_databases(ev) -> Verdict:
    data = (getattr(ev, "static", None) or {}).get("databases")
    if not data:
        return Verdict("inconclusive", "no static/databases.json in this run (fdbench bench writes it)")
    two = data.get("two_databases")
    if not two or not all("django" in by_app for by_app in two.values()):
        return Verdict("inconclusive", "this run's static/databases.json has no two-database check "
                                       "(written before it existed): re-run the static pass")
    verdict = "supported" if _passes(two, "django") else "refuted"
    lines = _lines(ev)
    summary = (f"One request, two databases, on {' and '.join(sorted(two, reverse=True))}: Django {_text(two, 'django')} "
               f"with {MEANS['django']}{lines['django']}; Flask {_text(two, 'flask')} with "
               f"{MEANS['flask']}{lines['flask']}. {_context(data)}")
    return Verdict(verdict, summary, {"two_databases": two, "engines": data.get("engines", [])})


def _passes(two, app) -> bool:
    return all(by_app.get(app, {}).get("ok") for by_app in two.values())


def _text(two, app) -> str:
    if _passes(two, app):
        return "served it (200, row in the second database, default one unchanged)"
    failed = [f"{engine}: {_failure(by_app.get(app))}" for engine, by_app in two.items()
              if not by_app.get(app, {}).get("ok")]
    return "failed it (" + "; ".join(failed) + ")"


def _failure(result) -> str:
    if result is None:
        return "not checked"
    if result["status"] != 200:
        return f"HTTP {result['status']}"
    return ", ".join(what for what, bad in (("row not in the second database", not result["in_second"]),
                                            ("default database changed", not result["default_untouched"]))
                     if bad)


def _lines(ev) -> dict:
    loc = (getattr(ev, "static", None) or {}).get("loc")
    if not loc:
        return {app: " (lines not counted: no static/loc.json)" for app in MEANS}
    return {app: f", {loc['apps'][app]['by_feature'].get('multiple_databases', 0)} written lines"
            for app in MEANS}


def _context(data) -> str:
    """The SQLite-vs-PostgreSQL equivalence checks: shown, not decisive."""
    engines = data.get("engines", [])
    if len(engines) < 2:
        why = "; ".join(f"{k}: {v}" for k, v in data.get("unavailable", {}).items())
        return f"Only {', '.join(engines)} could be checked ({why})."
    text = "; ".join(f"{app.capitalize()} {_checks_text(data['apps'][app])}" for app in ("django", "flask"))
    return f"Context, not the decision: the equivalence checks on SQLite and on PostgreSQL: {text}."


def _checks_text(result) -> str:
    failed = "; ".join(f"{e}: {', '.join(f)}" for e, f in result["failed"].items() if f)
    differ = ", ".join(result["differ"])
    if not failed and not differ:
        return f"passes all {len(result['checks'])} on both, same answers"
    return "fails " + "; ".join(x for x in (failed, differ and f"differs across DBs: {differ}") if x)
