"""The article's speed claims, decided on server CPU-µs per request (the most stable cost figure;
throughput depends on whether the load generator kept up). Every figure is a median over paired
rounds (same run, same round) with a seeded bootstrap 95% CI; the rules below were fixed before
any run was looked at."""
from ..analysis import stats
from .registry import Verdict, claim

TRIVIAL = 0.10   # the faster framework saves < 10% of the slower one's cost per request
MODEST = 1 / 3   # ... < a third (a ratio within 1.5x)
EXPLAINS = 0.5   # stripping Django's middleware closes at least half of the Django-Flask gap


def aggregate(per_case: dict[str, bool | None], yes: str = "supported", no: str = "refuted") -> str:
    """Cases decide True/False/None(undecided). All decided agree and outnumber the undecided:
    that verdict; both directions: mixed; nothing (or too little) decided: inconclusive."""
    ups = sum(v is True for v in per_case.values())
    downs = sum(v is False for v in per_case.values())
    undecided = len(per_case) - ups - downs
    if ups and downs:
        return "mixed"
    if ups and ups >= undecided:
        return yes
    if downs and downs >= undecided:
        return no
    return "inconclusive"


def _below_one(est) -> bool | None:
    """True if the CI lies below 1, False if above, None if it holds 1 or there is no CI."""
    if est is None or not est.has_ci:
        return None
    if est.high < 1:
        return True
    if est.low > 1:
        return False
    return None


def _ratios(ev, a, b) -> dict:
    """Paired a/b CPU-µs ratios per case, cases where both targets ran only."""
    out = {c: stats.paired_ratio(ev.trials, c, a, b) for c in ev.cost_cases}
    return {c: e for c, e in out.items() if e is not None}


def by_level(per_case: dict, decide) -> str:
    """Whether a verdict holds at every level of the load ladder ('json @ 75%'), or the levels
    where it differs: decide(values of one level's cases) -> verdict. Empty without a ladder."""
    levels = {}
    for case, value in per_case.items():
        if " @ " in case:
            levels.setdefault(case.split(" @ ", 1)[1], []).append(value)
    if len(levels) < 2:
        return ""
    verdicts = {level: decide(values) for level, values in levels.items()}
    if len(set(verdicts.values())) == 1:
        return f" {next(iter(verdicts.values())).capitalize()} at every load level ({', '.join(verdicts)})."
    return " By load level: " + "; ".join(f"{lv} {v}" for lv, v in verdicts.items()) + "."


def _cite(estimates: dict, fmt="{:.2f}", **kw) -> str:
    return "; ".join(f"{c} {e.text(fmt, **kw)}" for c, e in estimates.items())


def _missing(what: str) -> Verdict:
    return Verdict("inconclusive", f"no usable paired trials of {what} in this run")


def _by_instructions(ev, label: str, stat, targets=("flask", "django"),
                     fmt="{:.2f}") -> tuple[str, dict]:
    """Context from callgrind's in-process counts, never decisive: stat(*counts of targets) per
    endpoint, as a sentence and as numbers; with the estimated cycles of its cache simulation
    beside them when the run has them (numbers under "cycles")."""
    values = ev.per_endpoint(targets, stat)
    if not values:
        return "", {}
    cited = "; ".join(f"{p} {fmt.format(v)}" for p, v in values.items())
    text = f" Instructions per request (callgrind, in-process, context only), {label}: {cited}."
    cycles = ev.per_endpoint(targets, stat, column="cycles")
    if cycles:
        text += (" Estimated cycles (callgrind's cache and branch simulation): "
                 + "; ".join(f"{p} {fmt.format(v)}" for p, v in cycles.items()) + ".")
        values = {**values, "cycles": cycles}
    return text, values


@claim(
    "speed",
    quote="In terms of speed, Flask outperforms Django while using Python.",
    measured="Flask/Django server CPU-µs per request per case (a scenario at a load level: "
             "saturation and shares of the slower framework's capacity), from slices of one "
             "cycle with one app under load at a time; geometric mean across cases.",
    rule="Per scenario Flask is faster if the 95% CI of Flask/Django lies below 1, slower if "
         "above 1, undecided otherwise (or with no CI). Supported if Flask is faster in some "
         "scenarios, slower in none, and faster in at least as many as are undecided; refuted "
         "the other way round; mixed if both occur; inconclusive otherwise.",
)
def speed(ev) -> Verdict:
    ratios = _ratios(ev, "flask", "django")
    if not ratios:
        return _missing("Flask and Django")
    per_case = {c: _below_one(e) for c, e in ratios.items()}
    gm = stats.geomean_ci([e.value for e in ratios.values()])
    faster = sum(v is True for v in per_case.values())
    slower = sum(v is False for v in per_case.values())
    text = (f"Flask/Django CPU-µs/request: {_cite(ratios)}. Geometric mean over cases "
            f"{gm.text('{:.2f}')}. Flask faster in {faster}, slower in {slower} of "
            f"{len(ratios)} cases.")
    text += by_level(per_case, lambda values: aggregate(dict(enumerate(values))))
    context, counted = _by_instructions(ev, "Flask/Django", lambda f, d: f / d)
    numbers = {"flask/django": {c: e.as_dict() for c, e in ratios.items()},
               "geomean": gm.as_dict(), "instructions flask/django": counted}
    text += context
    return Verdict(aggregate(per_case), text, numbers)


def _gap(flask: float, django: float) -> float:
    """Share of the slower framework's per-request cost that the faster one saves."""
    return abs(flask - django) / max(flask, django)


def _gap_class(est) -> str:
    if est is None or not est.has_ci:
        return "no CI"
    if est.high < TRIVIAL:
        return "trivial"
    if est.high < MODEST:
        return "modest"
    return "large" if est.low >= MODEST else "unclear"


def _modest_verdict(classes: list[str]) -> str:
    decided = [c for c in classes if c != "no CI"]
    if not decided:
        return "inconclusive"
    if 2 * decided.count("large") >= len(decided):
        return "refuted"
    small = all(c in ("trivial", "modest") for c in decided)
    if small and 2 * decided.count("trivial") >= len(decided):
        return "supported"
    return "mixed"


@claim(
    "modest",
    quote="The performance differences between Flask and Django are modest and frequently "
          "trivial, thanks to Python's capabilities",
    measured="Per scenario, the gap |Flask - Django| / max(Flask, Django) of server CPU-µs per "
             "request from paired rounds: the share of a request's server cost that choosing "
             "the faster framework saves (DB-bound scenarios include the database work). "
             "Framework share vs the bare-WSGI baseline is shown for context.",
    rule=f"Trivial: CI upper bound below {TRIVIAL:.0%}. Modest: below {MODEST:.0%}. Large: CI "
         f"lower bound at or above {MODEST:.0%}. Supported if every scenario with a CI is "
         "trivial or modest and at least half are trivial ('frequently'); refuted if at least "
         "half are large; mixed otherwise; inconclusive if no scenario has a CI.",
)
def modest(ev) -> Verdict:
    gaps = {c: stats.paired_stat(ev.trials, c, "flask", "django", _gap) for c in ev.cost_cases}
    gaps = {c: e for c, e in gaps.items() if e is not None}
    if not gaps:
        return _missing("Flask and Django")
    classes = {c: _gap_class(e) for c, e in gaps.items()}
    cited = "; ".join(f"{c} {e.text('{:.1f}', scale=100, unit='%')} = {classes[c]}"
                      for c, e in gaps.items())
    share = _framework_share(ev)
    context = f" Framework share of the request vs baseline: {share}." if share else ""
    by_count, counted = _by_instructions(ev, "gap", _gap, fmt="{:.0%}")
    text = f"Gap in CPU-µs/request: {cited}.{by_level(classes, _modest_verdict)}{context}{by_count}"
    numbers = {"gap": {c: e.as_dict() for c, e in gaps.items()}, "class": classes,
               "instructions gap": counted}
    return Verdict(_modest_verdict(list(classes.values())), text, numbers)


def _framework_share(ev) -> str:
    """(framework - baseline) / framework per case, for the frameworks that have a baseline."""
    parts = []
    for case in ev.cost_cases:
        for target in ("flask", "django"):
            est = stats.paired_stat(ev.trials, case, target, "baseline", lambda f, b: (f - b) / f)
            if est is not None:
                parts.append(f"{case} {target} {est.text('{:.0f}', scale=100, unit='%')}")
    return "; ".join(parts)


def _explained(row) -> float | None:
    """Share of the Django-Flask gap that stripping Django's middleware removes."""
    gap = row["django"] - row["flask"]
    return (row["django"] - row["django-stripped"]) / gap if gap > 0 else None


def _layers_case(ev, case):
    ratio = stats.paired_ratio(ev.trials, case, "flask", "django")
    tri = stats.triple(ev.trials, case, ("flask", "django", "django-stripped"))
    if ratio is None or tri.empty:
        return None, None, None
    faster = _below_one(ratio)
    if ratio.value >= 1:  # Flask not faster: there is no gap for the middleware to explain
        return ratio, None, faster if faster is False else None
    share = stats.median_ci([_explained(r) for _, r in tri.iterrows()])
    if faster is False:
        return ratio, share, False
    if faster is None or share is None or not share.has_ci:
        return ratio, share, None
    if share.low >= EXPLAINS:
        return ratio, share, True
    return ratio, share, False if share.high < EXPLAINS else None


@claim(
    "layers",
    quote="Due to the fact that Flask has fewer layers, it will operate slightly better in "
          "terms of web framework efficiency",
    measured="Per scenario, Flask/Django CPU-µs per request and the share of the Django-Flask "
             "gap removed by Django without middleware (django-stripped): "
             "(Django - stripped) / (Django - Flask), from paired rounds.",
    rule=f"A scenario supports the claim if Flask is faster (Flask/Django CI below 1) and the "
         f"middleware explains at least {EXPLAINS:.0%} of the gap (CI lower bound >= "
         f"{EXPLAINS:.0%}); it refutes it if Flask is slower (CI above 1) or the middleware "
         f"explains less (CI upper bound < {EXPLAINS:.0%}); otherwise undecided. Scenarios are "
         "combined as for the speed claim.",
)
def layers(ev) -> Verdict:
    per_case, parts, numbers = {}, [], {}
    for case in ev.cost_cases:
        ratio, share, decided = _layers_case(ev, case)
        if ratio is None:
            continue
        per_case[case] = decided
        shown = share.text("{:.0f}", scale=100, unit="%") if share else "n/a (Flask not faster)"
        parts.append(f"{case} Flask/Django {ratio.text('{:.2f}')}, middleware explains {shown}")
        numbers[case] = {"flask/django": ratio.as_dict(), "explained": share and share.as_dict()}
    if not per_case:
        return _missing("Flask, Django and django-stripped")
    context, counted = _by_instructions(
        ev, "middleware explains", lambda f, d, s: (d - s) / (d - f) if d > f else None,
        ("flask", "django", "django-stripped"), "{:.0%}")
    numbers["instructions, middleware explains"] = counted
    levels = by_level(per_case, lambda values: aggregate(dict(enumerate(values))))
    return Verdict(aggregate(per_case), "; ".join(parts) + "." + levels + context, numbers)
