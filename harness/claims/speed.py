"""The article's cost claims (speed, modest, frequently trivial, layers), decided on server
CPU-µs per request from paired slices of one app at a time. Each rule is written out in
docs/verdicts.md (its section is named in the rule's docstring) and was fixed before the runs
it judges were read (where it was not, the section says so); the margins and error rates are
harness/claims/margins.py's. A rule reads a Family
(analysis/ratios.py): the Django/Flask ratio per case, per scenario (levels pooled) and over the
scenarios, each with its interval. Trials flagged contended, worker_exited or generator_bound
stay out (docs/verdicts.md § Flagged trials); every verdict says whether they would change it."""
from ..analysis import ratios
from ..analysis.ratios import Family
from .margins import ALPHA, MODEST, TRIVIAL, beyond, inside, percent, side
from .registry import Verdict, claim

DJANGO_FLASK = ("django", "flask")
MIDDLEWARE = ("django", "django-stripped")   # what Django's removable layers cost
REST = ("django-stripped", "flask")          # Django without them against Flask


# --- the rules, on a Family (pure: the simulation suite calls these) ---------------------------

def speed_rule(fam: Family) -> tuple[str, str]:
    """docs/verdicts.md § speed."""
    if _no_interval(fam):
        return "inconclusive", "too few pairs for an interval"
    up, down = _directions(fam)
    if up and down:
        return "mixed", (f"scenarios differ in direction by more than the {percent(TRIVIAL)} that "
                         f"counts, beyond chance (simultaneous intervals): Flask cheaper in "
                         f"{', '.join(up)}, Django in {', '.join(down)}")
    low, high = fam.overall.interval()
    if low > TRIVIAL:
        below = [s for s, i in _scenario_intervals(fam).items() if side(i) < 0]
        return "supported", (f"Flask cheaper overall by more than the {percent(TRIVIAL)} that "
                             f"counts" + (f"; Django cheaper in {', '.join(below)}, by less than "
                                          f"that" if below else ""))
    if high < 1:
        return "refuted", "Django cheaper overall"
    if inside((low, high), TRIVIAL):
        return "refuted", f"equivalent: the whole interval within ±{percent(TRIVIAL)}"
    if low > 1:
        return "inconclusive", (f"Flask cheaper overall, but perhaps by less than the "
                                f"{percent(TRIVIAL)} that counts")
    return "inconclusive", "the overall interval holds 1 and reaches beyond the trivial margin"


def gap_class(interval) -> str:
    """A scenario's class by its simultaneous interval (docs/verdicts.md § modest)."""
    if inside(interval, TRIVIAL):
        return "trivial"
    if inside(interval, MODEST):
        return "modest" if beyond(interval, TRIVIAL) else "modest or trivial"
    return "large" if beyond(interval, MODEST) else "unclear"


def modest_rule(fam: Family) -> tuple[str, str]:
    """docs/verdicts.md § modest."""
    if _no_interval(fam):
        return "inconclusive", "too few pairs for an interval"
    classes = scenario_classes(fam)
    overall = fam.overall.interval()
    large = [s for s, c in classes.items() if c == "large"]
    if beyond(overall, MODEST) or large:
        where = f"large in {', '.join(large)}" if large else "large overall"
        return "refuted", f"{where}: beyond {MODEST:g}x"
    if inside(overall, MODEST) and "unclear" not in classes.values():
        return "supported", f"every scenario and the overall ratio within {MODEST:g}x"
    unclear = [s for s, c in classes.items() if c == "unclear"] or ["overall"]
    return "inconclusive", f"the interval reaches past {MODEST:g}x in {', '.join(unclear)}"


def trivial_rule(fam: Family) -> tuple[str, str]:
    """docs/verdicts.md § trivial: 'frequently' = in at least half of the scenarios."""
    if _no_interval(fam):
        return "inconclusive", "too few pairs for an interval"
    intervals = _scenario_intervals(fam)
    trivial = [s for s, i in intervals.items() if inside(i, TRIVIAL)]
    not_trivial = [s for s, i in intervals.items() if beyond(i, TRIVIAL)]
    half = len(intervals) / 2
    counts = (f"trivial (within ±{percent(TRIVIAL)}) in {len(trivial)}, shown not trivial in "
              f"{len(not_trivial)}, undecided in {len(intervals) - len(trivial) - len(not_trivial)}"
              f" of {len(intervals)} scenarios")
    if len(trivial) >= half:
        return "supported", counts
    if len(not_trivial) > half:
        return "refuted", counts
    return "inconclusive", counts


def layers_rule(total: Family, middleware: Family) -> tuple[str, str]:
    """docs/verdicts.md § layers: Flask cheaper by more than the trivial margin AND Django's
    removable layers (its middleware) measurably dearer; refuted when Flask is not cheaper or
    those layers cost nothing that counts."""
    verdict, why = speed_rule(total)
    if verdict in ("mixed", "refuted"):
        return verdict, f"Django/Flask: {why}"
    if _no_interval(middleware):
        return "inconclusive", "no interval for the middleware step"
    step = middleware.overall.interval()
    if inside(step, TRIVIAL):
        return "refuted", f"the middleware layers cost less than {percent(TRIVIAL)} (equivalence)"
    if verdict == "supported" and step[0] > 1:
        return "supported", "Flask cheaper, and Django's middleware layers measurably dearer"
    if verdict == "supported":
        return "inconclusive", "Flask cheaper, but the middleware step's interval holds 1"
    return "inconclusive", f"Django/Flask: {why}"


def scenario_classes(fam: Family) -> dict:
    return {s: gap_class(i) for s, i in _scenario_intervals(fam).items()}


def _no_interval(fam: Family) -> bool:
    return fam.overall is None or fam.overall.se is None


def _scenario_intervals(fam: Family) -> dict:
    return {s: fam.scenario_interval(s) for s, r in fam.scenarios.items() if r.se is not None}


def _directions(fam: Family) -> tuple[list, list]:
    """The scenarios whose simultaneous interval lies wholly beyond the trivial margin: Flask
    cheaper, Django cheaper (a gap that does not count makes no direction)."""
    intervals = _scenario_intervals(fam)
    return ([s for s, (low, _) in intervals.items() if low > TRIVIAL],
            [s for s, (_, high) in intervals.items() if high < 1 / TRIVIAL])


# --- reading the evidence ------------------------------------------------------------------

FLAGS_OUT = ("contended", "worker_exited", "generator_bound", "server_closed_keepalive")


def clean(trials):
    """The trials behind verdicts: those without FLAGS_OUT (failed ones never pair)."""
    flagged = trials["flags"].map(lambda f: any(x in f for x in FLAGS_OUT)).astype(bool)
    return trials.loc[~flagged]   # .loc: an empty mask must still select rows, not columns


def family(ev, pair, flagged=False, trials=None, cases=None, spread=None) -> Family:
    """The pair's Family on the evidence's trials (or `trials`, e.g. one run's) and cost cases
    (or `cases`), flagged trials left out unless `flagged`; its intervals carry the run-to-run
    spread the runs recorded, or `spread` (docs/verdicts.md § From run to run)."""
    t = ev.trials if trials is None else trials
    return ratios.family(t if flagged else clean(t), ev.cost_cases if cases is None else cases,
                         *pair, spread=spread or ev.spread)


def by_deployment(ev) -> dict:
    """Each deployment the runs served, its own cases judged by the same rules (docs/verdicts.md
    § Deployments): deployment -> {"family", "speed", "modest", "trivial"}."""
    out = {}
    for deployment in ev.deployments:
        fam = family(ev, DJANGO_FLASK, cases=ev.cases_of(deployment))
        if fam.cases:
            out[deployment] = {"family": fam, **{name: rule(fam)[0] for name, rule in
                               (("speed", speed_rule), ("modest", modest_rule),
                                ("trivial", trivial_rule))}}
    return out


def _deployments_text(ev, name) -> tuple[str, dict]:
    """' By deployment: ...' when the runs served more than one; with the verdicts by name."""
    judged = by_deployment(ev) if len(ev.deployments) > 1 else {}
    if not judged:
        return "", {}
    parts = [f"{d} {j[name]} ({overall_text(j['family'])})" for d, j in judged.items()]
    return (f" By deployment (the same rule on each one's own cases): {'; '.join(parts)}.",
            {d: j[name] for d, j in judged.items()})


def overall_text(fam: Family) -> str:
    return fam.overall.estimate().text("{:.2f}") if fam.overall else "no pairs"


def numbers(fam: Family) -> dict:
    """What the summary, the chart and the sentence read: overall (95%), per scenario
    (simultaneous), per case (95%)."""
    return {"overall": fam.overall and fam.overall.estimate().as_dict(),
            "scenarios": {s: r.estimate(fam.family_confidence()).as_dict()
                          for s, r in fam.scenarios.items()},
            "cases": {c: r.estimate().as_dict() for c, r in fam.cases.items()},
            "family_confidence": fam.family_confidence()}


def cite(fam: Family, name="Django/Flask") -> str:
    """The figures behind a verdict: overall, per scenario, per load level."""
    levels = "; ".join(f"{c} {r.estimate().text('{:.2f}')}" for c, r in fam.cases.items())
    if fam.overall is None:
        return f"{name} CPU-µs per request per load level: {levels or 'no pairs'}."
    overall = fam.overall.estimate().text("{:.2f}")
    conf = fam.family_confidence()
    scen = "; ".join(f"{s} {r.estimate(conf).text('{:.2f}')}" for s, r in fam.scenarios.items())
    return (f"{name} CPU-µs per request overall {overall}; per scenario, levels pooled, "
            f"simultaneous {conf:.1%} intervals: {scen}. Per load level (95%): {levels}.")


def _missing(what: str) -> Verdict:
    return Verdict("inconclusive", f"no usable paired trials of {what} in this run")


def _with_flagged(rule, verdict, *pairs, ev) -> tuple[str, dict]:
    """The same rule with flagged trials kept in: a sentence, and that verdict."""
    fams = [family(ev, p, flagged=True) for p in pairs]
    other, _ = rule(*fams)
    if len(ev.trials) == len(clean(ev.trials)):
        return "", {}
    note = (" With flagged trials kept in: the same verdict." if other == verdict else
            f" With flagged trials kept in it would be {other}: the flagged slices decide it.")
    return note, {"with_flagged": other}


def _by_instructions(ev, label: str, stat, targets=("flask", "django"), fmt="{:.2f}") -> tuple[str, dict]:
    """Context from callgrind's in-process counts, never decisive: stat(*counts of targets) per
    endpoint, with the estimated cycles of its cache simulation when the run has them."""
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


def _decide(ev, rule, pairs, what, name, more=lambda fam: {}) -> Verdict:
    """`more(family)`: numbers a claim adds from the first pair's family."""
    fams = [family(ev, p) for p in pairs]
    if not fams[0].cases:
        return _missing(what)
    verdict, why = rule(*fams)
    note, extra = _with_flagged(rule, verdict, *pairs, ev=ev)
    served, per = _deployments_text(ev, name)
    text = f"{why[0].upper()}{why[1:]}. {cite(fams[0])}{note}{served}"
    return Verdict(verdict, text, {"django/flask": numbers(fams[0]), "reason": why, **extra,
                                   **({"by_deployment": per} if per else {}), **more(fams[0])})


_RULE_SPEED = (f"Estimand: Django/Flask CPU-µs per request, the geometric mean over paired "
               f"cycles per load level, the levels of a scenario pooled with equal weight, and "
               f"the scenarios pooled with equal weight overall (t-intervals on the log ratios, "
               f"Welch-Satterthwaite degrees of freedom), each carrying the machine's run-to-run "
               f"spread. Mixed if two scenarios' simultaneous intervals (Bonferroni, "
               f"{1 - ALPHA:.0%} for the family) lie beyond [1/{TRIVIAL:g}, {TRIVIAL:g}] on "
               f"opposite sides; "
               f"else supported if the overall {1 - ALPHA:.0%} interval lies above {TRIVIAL:g} "
               f"(Flask cheaper by more than {percent(TRIVIAL)}); refuted if it lies below 1 "
               f"(Django cheaper) or within [1/{TRIVIAL:g}, {TRIVIAL:g}] (equivalence, TOST); "
               f"inconclusive otherwise (docs/verdicts.md § speed).")


@claim(
    "speed",
    quote="In terms of speed, Flask outperforms Django while using Python.",
    measured="Django/Flask server CPU-µs per request from slices of one app under load at a "
             "time, per scenario at each load level (saturation and shares of the slower "
             "framework's capacity), pooled per scenario and over the scenarios.",
    rule=_RULE_SPEED,
)
def speed(ev) -> Verdict:
    v = _decide(ev, speed_rule, [DJANGO_FLASK], "Flask and Django", "speed")
    context, counted = _by_instructions(ev, "Flask/Django", lambda f, d: f / d)
    return Verdict(v.verdict, v.summary + context, {**v.numbers, "instructions flask/django": counted})


@claim(
    "modest",
    quote="The performance differences between Flask and Django are modest",
    measured="The same Django/Flask ratios as the speed claim, signed (never folded), each "
             "scenario's simultaneous interval and the overall one against the margins.",
    rule=f"Supported if the overall interval and every scenario's simultaneous interval lie "
         f"within [1/{MODEST:g}, {MODEST:g}]; refuted if the overall interval or any scenario's "
         f"lies wholly beyond {MODEST:g}x; inconclusive otherwise (docs/verdicts.md § modest).",
)
def modest(ev) -> Verdict:
    return _decide(ev, modest_rule, [DJANGO_FLASK], "Flask and Django", "modest",
                   more=lambda fam: {"class": scenario_classes(fam)})


@claim(
    "trivial",
    quote="frequently trivial, thanks to Python's capabilities",
    measured="Per scenario, whether the Django/Flask simultaneous interval lies within the "
             f"trivial margin (±{percent(TRIVIAL)}), wholly outside it, or across it.",
    rule=f"'Frequently' is at least half of the scenarios. Supported if at least half are "
         f"trivial (interval within [1/{TRIVIAL:g}, {TRIVIAL:g}]); refuted if more than half "
         f"are shown not trivial (interval wholly outside); inconclusive otherwise "
         f"(docs/verdicts.md § trivial).",
)
def trivial(ev) -> Verdict:
    return _decide(ev, trivial_rule, [DJANGO_FLASK], "Flask and Django", "trivial")


@claim(
    "layers",
    quote="Due to the fact that Flask has fewer layers, it will operate slightly better in "
          "terms of web framework efficiency",
    measured="Two steps from Django to Flask, each a paired ratio with its interval: Django / "
             "Django without middleware (what the removable layers cost) and Django without "
             "middleware / Flask (the rest), on every case; no case selected by its outcome.",
    rule=f"Supported if the speed rule supports 'Flask cheaper' on Django/Flask and the "
         f"middleware step's overall interval lies above 1; refuted if the speed rule refutes "
         f"it or is mixed, or the middleware step is equivalent to 1 within ±{percent(TRIVIAL)}; "
         f"inconclusive otherwise (docs/verdicts.md § layers).",
)
def layers(ev) -> Verdict:
    total, step, rest = (family(ev, p) for p in (DJANGO_FLASK, MIDDLEWARE, REST))
    if not total.cases or not step.cases:
        return _missing("Flask, Django and django-stripped")
    verdict, why = layers_rule(total, step)
    note, extra = _with_flagged(layers_rule, verdict, DJANGO_FLASK, MIDDLEWARE, ev=ev)
    share = _share(total, step)
    text = (f"{why[0].upper()}{why[1:]}. {cite(step, 'Django/stripped Django')} "
            f"{cite(rest, 'Stripped Django/Flask')}{share}{note}")
    context, counted = _by_instructions(
        ev, "Django/stripped Django", lambda d, s: d / s, ("django", "django-stripped"))
    return Verdict(verdict, text + context,
                   {"django/flask": numbers(total), "middleware": numbers(step),
                    "rest": numbers(rest), "reason": why, **extra,
                    "instructions django/stripped": counted})


def _share(total: Family, step: Family) -> str:
    """The middleware step's share of the whole Django/Flask gap, on the log scale (context)."""
    if total.overall is None or step.overall is None or abs(total.overall.mean) < 1e-9:
        return ""
    return (f" The middleware step is {step.overall.mean / total.overall.mean:.0%} of the "
            f"Django/Flask gap (log scale, point estimates).")
