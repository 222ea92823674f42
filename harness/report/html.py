"""The HTML report: one self-contained index.html per run (or set of runs), claims table first.
It only reads stored runs (no measuring), so `fdbench report` can re-render any run, and the
same run always renders the same verdicts."""
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..analysis import by_path, compare, latency, ratios, stats, steadiness
from ..analysis.evidence import Evidence
from ..claims import judge
from ..claims.margins import MODEST, TRIVIAL
from ..store import write_atomic
from . import by_machine, charts, decomposition, deployments, sections, summary
from .rows import change_cells, instruction_rows

TEMPLATES = Path(__file__).parent / "templates"


def render(run_dirs: list[Path], out: Path) -> Path:
    """Write the page for the given runs to `out` if it names a .html file, else to
    out/index.html; return its path."""
    ev = Evidence.from_dirs(run_dirs)
    html = page(ev)
    path = Path(out) if str(out).endswith(".html") else Path(out) / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, html)
    return path


def report_name(run_dirs) -> str:
    """reports/<run-id>/ for one run; the run ids joined by '+' for several."""
    return "+".join(Path(p).resolve().name for p in run_dirs)


def page(ev: Evidence) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    claims = judge(ev)
    short = summary.summary(ev, claims)
    lines = {c["key"]: c["line"] for c in short["claims"]}
    return env.get_template("report.html").render(
        claims=[{**item, "line": lines[item["claim"].key]} for item in claims], answer=short["answer"],
        headline=_headline(short["headline"]), runs=[_run_info(r) for r in ev.runs], cases=_cases(ev),
        machines=by_machine.section(ev), multi=len(ev.runs) > 1, flagged=_flagged(ev),
        deployments=deployments.section(ev),
        static=sections.static_sections(ev), instructions=_instructions(ev), ladder=_ladder(ev),
        scaling=sections.scaling_and_databases(ev), decomposition=decomposition.tables(ev.runs),
        versions=sections.versions_sections(ev))


def _headline(rows: list[dict]) -> dict:
    """The chart under the title, drawn against the cost claims' own bands, and its alt text."""
    return {"png": charts.headline(rows, TRIVIAL, MODEST) if rows else None,
            "alt": summary.headline_alt(rows),
            "trivial": f"{TRIVIAL - 1:.0%}", "modest": f"{MODEST:g}x",
            "instructions": any(r["instructions django/flask"] for r in rows),
            "cycles": any(r.get("cycles django/flask") for r in rows),
            "runs": len({r["run"] for r in rows})}


def _cases(ev: Evidence) -> list[dict]:
    out = []
    for case in ev.cases:
        rows = ev.summary[ev.summary["case"] == case].to_dict("records")
        rate = _offered_rate(ev, case, rows)
        out.append({"name": case, "rows": [_row_text(r) for r in charts._order(rows)],
                    "headline": _case_headline(ev, case, rows), "rate": rate,
                    "throughput": None if rate else charts.throughput(rows, case),
                    **_latency_chart(ev, case, rows), "cpu": charts.cpu(rows, case),
                    **_alts(case, len(ev.runs) > 1, all(r.get("open") for r in rows)),
                    "ablation_text": _ablation(ev, case),
                    "bound": any(r["generator_bound"] for r in rows)})
    return out


def _alts(case: str, multi: bool, opened: bool) -> dict:
    """What the throughput and cost charts show, for a reader who cannot see them."""
    each = "one bar per app and machine, hatched by machine" if multi else "one bar per app"
    served = "achieved at a fixed offered rate (not capacity)" if opened else "served at saturation"
    return {"throughput_alt": f"{case}: requests/s {served}, median over cycles with "
                              f"its 95% interval, {each}",
            "cpu_alt": f"{case}: server CPU-µs per request, median with its 95% interval, {each}; "
                       f"a dashed line marks the bare WSGI baseline's cost"
                       f"{' on each machine' if multi else ''}, the ceiling"}


def _latency_chart(ev: Evidence, case: str, rows: list[dict]) -> dict:
    """The percentile distribution from the stored histograms; the four percentiles as bars
    for runs whose histograms are missing."""
    curves = [{"target": r["target"], "machine": r["machine"], "points": points}
              for run in ev.runs for r in rows if r["run_id"] == run.run_id
              for points in [latency.distribution(run, case, r["target"])] if points]
    if curves:
        many = len({c["machine"] for c in curves}) > 1
        return {"latency": charts.latency_distribution(curves, case),
                "latency_alt": f"{case}: latency in ms against percentile, 50% to 99.99% on a "
                               f"1/(1-p) axis, one line per app"
                               f"{' (colour) and machine (line style)' if many else ''}, "
                               f"from every request's histogram"}
    return {"latency": charts.latency(rows, case),
            "latency_alt": f"{case}: latency percentiles p50 to p99.9 per app, log scale"}


def _case_headline(ev: Evidence, case: str, rows: list[dict]) -> str:
    """What a collapsed scenario section shows: Django/Flask (per machine) and each target's
    CPU-µs per request."""
    parts = []
    for run in ev.runs:
        est = ratios.paired_ratio(run.trials, case, "django", "flask")
        if est is not None:
            label = f" ({run.trials['machine'].iloc[0]})" if len(ev.runs) > 1 else ""
            parts.append(f"Django/Flask {est.text('{:.2f}').split(' (n=')[0]}{label}")
    costs = ", ".join(f"{r['target']} {r['cpu'].value:,.0f}" for r in charts._order(rows)
                      if r["cpu"] is not None and len(ev.runs) == 1)
    return "; ".join(parts + ([f"CPU-µs/request {costs}"] if costs else []))


def _offered_rate(ev: Evidence, case: str, rows: list[dict], within=0.02) -> str | None:
    """The fixed rate of an open-loop case whose every target achieved it (within 2%), on
    every machine (each its own rate): its throughput chart would be bars all of one height,
    so the page says the rate instead."""
    if not rows or not all(r.get("open") for r in rows):
        return None
    rates = {}
    for run in ev.runs:
        t = run.trials
        offered = t.loc[(t["case"] == case) & t["usable"], "rate"].dropna()
        if offered.empty:
            continue
        if offered.nunique() > 1:
            return None
        rates[t["machine"].iloc[0]] = float(offered.iloc[0])
    if not rates or any(r["machine"] not in rates for r in rows):
        return None
    for r in rows:
        rate, achieved = rates[r["machine"]], r["rps_achieved"]
        if achieved is None or abs(achieved.value - rate) > within * rate:
            return None
    if len(ev.runs) == 1:
        return f"{next(iter(rates.values())):g} requests/s"
    return "rate (" + ", ".join(f"{m}: {v:g}/s" for m, v in rates.items()) + ")"


def _ladder(ev: Evidence) -> dict:
    """The load ladder's table: levels as columns, a row per (run, scenario, target), and the
    Django/Flask ratio per level; empty for runs that did not alternate."""
    table = stats.ladder(ev.trials)
    if table.empty:
        return {}
    levels = list(dict.fromkeys(lv for costs in table["cost_us"] for lv in costs))
    rows = []
    for r in table.to_dict("records"):
        ratio = {lv: ratios.paired_ratio(ev.trials, f"{r['scenario']} @ {lv}", "django", "flask")
                 for lv in levels} if r["target"] == "django" else {}
        rows.append({**r, "costs": [_num(r["cost_us"].get(lv)) for lv in levels],
                     "ratios": [ratio[lv].text("{:.2f}") if ratio.get(lv) else "" for lv in levels],
                     "capacity": _num(r["capacity_rps"]), "marginal": _num(r["marginal_us"]),
                     "idle": _num(r["idle_ms_per_s"], "{:,.1f}")})
    return {"levels": levels, "rows": rows}


def _num(value, fmt="{:,.0f}") -> str:
    return "–" if value is None or value != value else fmt.format(value)


def _row_text(r: dict) -> dict:
    def est(e, fmt="{:,.0f}"):
        return e.text(fmt) if e is not None else "–"

    rps = est(r["rps"]) if r["rps"] is not None else (
        f"not capacity: generator-bound ({est(r['rps_bound'])})" if r["rps_bound"] else "–")
    return {"machine": r["machine"], "target": r["target"], "n": r["n"],
            "excluded": r["n_excluded"], "rps": rps, "cpu": est(r["cpu"], "{:,.1f}"),
            **{p: _ms(r[p]) for p in (*stats.PERCENTILES, "max")},
            "rss": f"{r['rss']:.1f}" if r["rss"] is not None else "–",
            "generator_bound": r["generator_bound"]}


def _ms(us) -> str:
    return f"{us / 1000:,.2f}" if us is not None else "–"


def _ablation(ev: Evidence, case: str) -> list[str]:
    """Per machine, Django - Flask and Django - stripped Django (the middleware's cost) in µs
    from paired rounds: absolute µs are never pooled across runs."""
    lines = []
    for run in ev.runs:
        label = f"{run.trials['machine'].iloc[0]}: " if len(ev.runs) > 1 and len(run.trials) else ""
        for a, b, what in (("django", "flask", "Django − Flask"),
                           ("django", "django-stripped", "Django − stripped Django (middleware)")):
            est = stats.paired_stat(run.trials, case, a, b, lambda x, y: x - y)
            if est is not None:
                lines.append(f"{label}{what} {est.text('{:,.1f}', unit=' µs')}")
    return lines or ["no paired Flask / Django / stripped Django trials"]


def _run_info(run) -> dict:
    return {"id": run.run_id, "label": run.trials["machine"].iloc[0] if len(run.trials) else run.label,
            "status": run.meta.get("status"), "profile": run.meta.get("profile"),
            "machine": run.machine, "python": run.meta.get("python"),
            "packages": run.meta.get("packages") or {}, "config": run.meta.get("config") or {},
            "db": run.meta.get("db") or {}, "git": run.meta.get("git") or {},
            "started": run.meta.get("started"), "ended": run.meta.get("ended"),
            "steadiness": steadiness.describe(run.meta.get("steadiness")),
            "warnings": run.warnings}


def _flagged(ev: Evidence) -> list[dict]:
    t = ev.trials
    hit = t[(t["flags"].map(len) > 0) | (t["status"] != "ok") | ~t["usable"]]
    cols = ["machine", "trial_id", "case", "target", "status", "errors", "reason"]
    return [{**{c: r[c] for c in cols}, "flags": ", ".join(r["flags"]),
             "excluded": not r["usable"]} for _, r in hit.iterrows()]


def _instructions(ev: Evidence) -> list:
    if ev.instructions.empty:
        return []
    return instruction_rows(ev.instructions, by_path.load_ratios(ev, "django", "flask"),
                            by_path.kernel_shares(ev))


def compare_page(cmp, path: Path, fail_above: float) -> Path:
    """`fdbench compare`'s page; its text on the rule is analysis.compare's own docstring."""
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html"]))
    html = env.get_template("compare.html").render(
        cmp=cmp, rows=[change_cells(c) for c in cmp.changes], fail_above=fail_above, alpha=compare.ALPHA,
        regressions=[c.text() for c in cmp.regressions], doc=compare.__doc__)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, html)
    path.chmod(0o644)
    return path
