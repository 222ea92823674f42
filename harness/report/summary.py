"""The short form of a report, built once as a plain dict and written as GitHub-flavoured
Markdown (for a CI job's step summary) or JSON (for scripts): the Django/Flask cost ratio per
case with its interval and instruction ratio, each claim's verdict with one line of numbers,
and how many trials were flagged. `fdbench compare` gets the same two forms of its changes.
The page's headline chart and compact claims table read the same dict, so all three agree."""
import json
from collections import Counter

from scenarios.matrix import SCENARIOS

from ..analysis import ratios, run_spread, steadiness
from ..analysis.evidence import Evidence
from ..claims import answer, judge, speed
from .rows import change_cells

LINE_MAX = 160   # a claim's one line of numbers; the full figures stay in the page


def summary(ev: Evidence, claims: list | None = None) -> dict:
    """`claims`: judge(ev) when the caller already has it (deciding takes a while)."""
    claims = judge(ev) if claims is None else claims
    return {"runs": [{"id": r.run_id, "label": _label(r), "profile": r.meta.get("profile"),
                      "status": r.meta.get("status"),
                      "steadiness": steadiness.describe(r.meta.get("steadiness"))} for r in ev.runs],
            "answer": answer.sentence(ev, claims),
            "headline": headline(ev),
            "claims": [{"key": i["claim"].key, "quote": i["claim"].quote,
                        "verdict": i["verdict"].verdict, "line": one_line(i)} for i in claims],
            "flags": flag_counts(ev), "warnings": [w for r in ev.runs for w in r.warnings]}


def _label(run) -> str:
    return run.trials["machine"].iloc[0] if len(run.trials) else run.label


def headline(ev: Evidence) -> list[dict]:
    """Per run: Django/Flask CPU-µs per request (>1: Django costs more) overall (95%) and per
    scenario (load levels pooled, simultaneous intervals), as the cost verdicts read them, with
    the in-process instruction (and estimated-cycle) ratio of the scenario's path where counted."""
    out = []
    for run in ev.runs:
        fam = speed.family(ev, speed.DJANGO_FLASK, trials=run.trials,
                           spread=run_spread.recorded(run.meta))
        if fam.overall is None:
            continue
        counts = _instruction_ratios(ev, run.run_id)
        cycles = _instruction_ratios(ev, run.run_id, "cycles")
        conf = fam.family_confidence()
        rows = [("overall", fam.overall.estimate(), 0.95)]
        rows += [(s, r.estimate(conf), conf) for s, r in fam.scenarios.items()]
        for name, est, level in rows:
            path = SCENARIOS.get(name)
            out.append({"case": name, "run": run.run_id, "label": _label(run),
                        "django/flask": est.as_dict(), "confidence": level,
                        "instructions django/flask": counts.get(path),
                        "cycles django/flask": cycles.get(path)})
    return out


def _instruction_ratios(ev: Evidence, run_id: str, column="instructions") -> dict:
    """{path: Django/Flask in-process instructions (or estimated cycles) per request} of one run."""
    counts = ev.instructions[ev.instructions["run_id"] == run_id].dropna(subset=[column])
    by = {(r["case"], r["target"]): r[column] for r in counts.to_dict("records")}
    return {path: by[(path, "django")] / by[(path, "flask")]
            for path, target in by if target == "flask" and by.get((path, "django"))}


def one_line(item) -> str:
    """The claim's figures in one line: for the cost claims the overall ratio and what decided
    it (their full text cites every scenario and level); the first sentence of the others, cut
    at LINE_MAX."""
    v = item["verdict"]
    n = v.numbers or {}
    overall = (n.get("django/flask") or {}).get("overall")
    if overall and n.get("reason"):
        return _cut(f"Django/Flask overall {_est(overall)}; {n['reason']}")
    return _cut(v.summary.split(". ")[0].rstrip("."))


def _side(e: dict) -> int:
    """-1 if the interval lies below 1, +1 above, 0 if it holds 1 or there is none."""
    if e.get("low") is None:
        return 0
    return -1 if e["high"] < 1 else 1 if e["low"] > 1 else 0


def _est(e: dict, fmt="{:.2f}") -> str:
    if e.get("value") is None:
        return "–"
    ci = f" [{fmt.format(e['low'])}, {fmt.format(e['high'])}]" if e.get("low") is not None else " (no CI)"
    return fmt.format(e["value"]) + ci


def headline_alt(rows: list[dict]) -> str:
    """The headline chart's alt text: what it shows and what it says."""
    if not rows:
        return "No Flask/Django cost ratio: no paired trials of both."
    scen = [r for r in rows if r["case"] != "overall"]
    sides = [_side(r["django/flask"]) for r in scen]
    overall = [_est(r["django/flask"]) for r in rows if r["case"] == "overall"]
    counted = sum(bool(r["instructions django/flask"]) for r in rows)
    return (f"Dot plot of the Django/Flask server CPU-µs per request, overall ({', '.join(overall)}, "
            f"95% interval) and for {len(scen)} scenarios (load levels pooled, simultaneous "
            f"intervals{', per machine' if len({r['label'] for r in rows}) > 1 else ''}), against "
            f"a line at 1 and the trivial and modest bands shaded: Django costs more in "
            f"{sides.count(1)} scenarios, less in {sides.count(-1)}, undecided in {sides.count(0)}"
            + (f"; hollow diamonds give the instruction-count ratio for {counted} scenarios" if counted else "")
            + ("; crosses the estimated-cycle ratio" if any(r.get("cycles django/flask") for r in rows) else "")
            + ".")


def _cut(text: str) -> str:
    if len(text) <= LINE_MAX:
        return text
    return text[:LINE_MAX - 1].rsplit(" ", 1)[0].rstrip(",;:(") + " …"


def flag_counts(ev: Evidence) -> dict:
    t = ev.trials
    flagged = t[(t["flags"].map(len) > 0) | (t["status"] != "ok") | ~t["usable"]]
    return {"trials": int(len(t)), "flagged": int(len(flagged)),
            "excluded": int((~t["usable"]).sum()),
            "by_flag": dict(sorted(Counter(f for fs in t["flags"] for f in fs).items()))}


# --- writing it ------------------------------------------------------------------------------

def to_json(data: dict) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ratio_cell(value) -> str:
    return f"{value:.2f}" if value else "–"


def _md_table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]


def to_markdown(data: dict) -> str:
    runs = "; ".join(f"`{r['id']}` ({r['label']}, {r['profile']}, {r['status']})" for r in data["runs"])
    out = ["## fdbench: Flask vs Django", "", f"Runs: {runs}.", ""]
    out += [f"**{data['answer']}**", ""] if data.get("answer") else []
    out += ["Django/Flask server CPU-µs per request (>1: Django costs more), the geometric mean "
            "over paired cycles: overall with its 95% interval, per scenario (load levels "
            "pooled) with simultaneous intervals; n: the Flask/Django pairs behind it; "
            "instructions: in-process callgrind counts; est. cycles: their cache simulation's "
            "estimate.", ""]
    multi = len(data["runs"]) > 1
    rows = [([h["label"]] if multi else []) + [h["case"], _est(h["django/flask"]),
            h["django/flask"]["n"], _ratio_cell(h["instructions django/flask"]),
            _ratio_cell(h.get("cycles django/flask"))]
            for h in data["headline"]]
    out += _md_table((["machine"] if multi else []) + ["scenario", "Django/Flask CPU-µs", "n",
                                                       "instructions", "est. cycles"],
                     rows) if rows else ["No paired Flask/Django trials."]
    out += ["", "### Claims", ""]
    out += _md_table(["claim", "verdict", "numbers"],
                     [[c["key"], f"**{c['verdict']}**", c["line"]] for c in data["claims"]])
    f = data["flags"]
    by = ", ".join(f"{k} {v}" for k, v in f["by_flag"].items()) or "none"
    out += ["", f"**Flags**: {f['flagged']} of {f['trials']} trials failed or flagged "
                f"({f['excluded']} failed or with errors, never paired; contended, worker_exited and "
                f"generator_bound slices stay out of the verdicts); by flag: {by}."]
    out += [f"- warning: {w}" for w in data["warnings"]]
    out += [f"- CPU steadiness of `{r['id']}`: {r['steadiness']}" for r in data["runs"]
            if r.get("steadiness")]
    return "\n".join(out) + "\n"


def compare_summary(cmp, fail_above: float) -> dict:
    return {"base": cmp.base.run_id, "new": cmp.new.run_id, "same_machine": cmp.same_machine,
            "fail_above_pct": fail_above,
            "changes": [{"case": c.case, "subject": c.subject, "metric": c.metric,
                         "base": c.base and c.base.as_dict(), "new": c.new and c.new.as_dict(),
                         "change": c.change and c.change.as_dict(), "p": c.p,
                         "regression": c.regression} for c in cmp.changes],
            "regressions": [c.text() for c in cmp.regressions], "notes": list(cmp.notes)}


def compare_markdown(cmp, fail_above: float) -> str:
    out = [f"## fdbench compare: `{cmp.base.run_id}` → `{cmp.new.run_id}`", ""]
    out += _md_table(["scenario", "subject", "metric", "base", "new", "change (95% CI)", "p", "verdict"],
                     [change_cells(c) for c in cmp.changes]) if cmp.changes else ["No changes compared."]
    out += [""] + [f"- note: {n}" for n in cmp.notes]
    out += [f"- **regression**: {c.text()}" for c in cmp.regressions]
    if not cmp.regressions:
        out.append(f"No significant regression above {fail_above:g}%.")
    return "\n".join(out) + "\n"
