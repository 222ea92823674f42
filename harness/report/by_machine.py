"""Each cost ratio per machine, and whether it says the same on every machine: the question
several runs from different hardware ask. A ratio is formed within one run's cycles
(analysis.stats pairs), so the hardware cancels out of it; what can still differ between
machines is which side of 1 its interval lies on, and that is what a reader checks first."""
from ..analysis.ratios import paired_ratio
from ..analysis.evidence import Evidence
from . import machine_chart

# (numerator, denominator, name): >1 means the numerator costs more per request
RATIOS = (("django", "flask", "Django / Flask"),
          ("django", "django-stripped", "Django / stripped Django"),
          ("flask", "baseline", "Flask / baseline"),
          ("django", "baseline", "Django / baseline"))


def ratios(ev: Evidence) -> list[dict]:
    """One row per (ratio, cost case, machine) that has pairs: the run's paired estimate."""
    out = []
    for a, b, name in RATIOS:
        for case in ev.cost_cases:
            for run in ev.runs:
                est = paired_ratio(run.trials, case, a, b)
                if est is not None:
                    out.append({"ratio": name, "case": case, "machine": run.trials["machine"].iloc[0],
                                "est": est, "side": side(est)})
    return out


def side(est) -> int:
    """+1 if the 95% interval lies above 1, -1 below, 0 if it holds 1 or there is none."""
    if not est.has_ci:
        return 0
    return 1 if est.low > 1 else -1 if est.high < 1 else 0


def agreement(rows: list[dict]) -> dict:
    """{(ratio, case): how its machines compare}: "same" (every interval on the same side of
    1), "opposite" (one above 1 and another below: the verdict flips), "undecided" (decided on
    some machines, holding 1 or without an interval on others) or "none" (decided on no
    machine: nothing to agree on, as in runs too short for an interval). A case measured on
    one machine only is left out: there is nothing to compare it with."""
    sides = {}
    for r in rows:
        sides.setdefault((r["ratio"], r["case"]), []).append(r["side"])
    return {k: _compare(set(v)) for k, v in sides.items() if len(v) > 1}


def _compare(sides: set) -> str:
    if sides == {0}:
        return "none"
    if len(sides) == 1:
        return "same"
    return "opposite" if {1, -1} <= sides else "undecided"


def counts(agree: dict, name: str) -> dict:
    """How many cases of one ratio are the same, undecided somewhere, opposite, decided nowhere."""
    mine = [how for (ratio, _), how in agree.items() if ratio == name]
    return {how: mine.count(how) for how in ("same", "undecided", "opposite", "none")} | {"of": len(mine)}


def section(ev: Evidence) -> dict:
    """The chart, its alt text and the table behind it; empty for a single run."""
    if len(ev.runs) < 2:
        return {}
    rows = ratios(ev)
    if not rows:
        return {}
    agree = agreement(rows)
    machines = [run.trials["machine"].iloc[0] for run in ev.runs if len(run.trials)]
    titles = {name: f"{name}\n{c['same']} of {c['of']} the same, {c['opposite']} opposite"
                    + (f"\n{c['none']} decided on no machine" if c["none"] else "")
              for name in dict.fromkeys(r["ratio"] for r in rows) for c in [counts(agree, name)]}
    return {"png": machine_chart.draw(rows, agree, machines, titles),
            "alt": alt_text(rows, agree, machines),
            "machines": machines, "table": _table(rows, agree, machines)}


def alt_text(rows: list[dict], agree: dict, machines: list[str]) -> str:
    names = list(dict.fromkeys(r["ratio"] for r in rows))
    parts = []
    for name in names:
        c = counts(agree, name)
        flipped = [case for (ratio, case), how in agree.items() if ratio == name and how == "opposite"]
        parts.append(f"{name}: the same side of 1 on every machine in {c['same']} of {c['of']} "
                     f"cases, decided on some machines only in {c['undecided']}, opposite sides in "
                     f"{c['opposite']}" + (f" ({', '.join(flipped)})" if flipped else "")
                     + (f", decided on no machine in {c['none']}" if c["none"] else ""))
    return (f"Dot plots, one panel per ratio of server CPU-µs per request ({', '.join(names)}), "
            f"one row per case, one colour per machine ({', '.join(machines)}), each with its 95% "
            f"interval and a line at 1; a row is shaded red where the machines put the ratio on "
            f"opposite sides of 1, grey where it is decided on some machines only. "
            + "; ".join(parts) + ".")


def _table(rows: list[dict], agree: dict, machines: list[str]) -> list[dict]:
    """Per (ratio, case): each machine's estimate as text and whether they agree."""
    by = {}
    for r in rows:
        by.setdefault((r["ratio"], r["case"]), {})[r["machine"]] = r["est"].text("{:.2f}")
    return [{"ratio": ratio, "case": case, "cells": [cells.get(m, "–") for m in machines],
             "agree": {"same": "yes", "opposite": "no: opposite sides",
                       "undecided": "no: decided on some only",
                       "none": "decided on none"}.get(agree.get((ratio, case)), "–")}
            for (ratio, case), cells in by.items()]
