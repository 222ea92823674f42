"""What fdbench prints in the terminal, all as rich tables: the summary `fdbench bench` ends
with (medians per scenario × target, the Flask/Django and framework/baseline ratios of CPU-µs
per request, and every failed or flagged trial), the claims table, `fdbench compare`'s table,
`fdbench instructions`' counts, and the static measurements (`fdbench loc`, `fdbench
footprint`), these drawn from the same rows as the HTML report (rows.py). Throughput of a
generator-bound trial is shown in brackets: it is the generator's limit, not the server's."""
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from ..analysis import ratios, stats
from ..analysis.evidence import Evidence
from ..claims import answer, judge, speed
from . import rows as report_rows
from .rows import change_cells


# --- static measurements --------------------------------------------------------------------

def to_rich(rows: report_rows.Rows) -> Table:
    table = Table(title=rows.title, caption=rows.note or None)
    for i, column in enumerate(rows.header):
        table.add_column(column, justify="right" if i in rows.numeric else "left")
    for i, row in enumerate(rows.rows):
        table.add_row(*row, style="bold" if i in rows.bold else None)
    return table


def loc_tables(result) -> list[Table]:
    return [to_rich(r) for r in report_rows.loc_rows(result)]


def footprint_tables(result) -> list[Table]:
    return [to_rich(r) for r in report_rows.footprint_rows(result)]


# --- the bench summary ----------------------------------------------------------------------

def frame(trials):
    first = next((t["deployment"] for t in trials if t.get("deployment")), "")
    rows = []
    for t in trials:
        lat = t.get("latency_us") or {}
        rows.append({"scenario": case(t, first), "target": t["target"], "mode": t["mode"],
                     "ok": t["status"] == "ok" and "errors" not in t["flags"],
                     "rps": t.get("rps"), "p50": lat.get("p50"), "p99": lat.get("p99"),
                     "cpu_us": t.get("cpu_us_per_request"), "flags": t["flags"]})
    return pd.DataFrame(rows)


def case(trial, first):
    """Closed-loop trials by scenario; fixed-rate ones apart, labelled with their rate; a
    deployment other than the run's first named beside the scenario, as the analysis does."""
    scenario = stats.labelled(trial["scenario"], trial.get("deployment") or first, first)
    if trial["mode"] == "closed":
        return scenario
    return f"{scenario} @{trial.get('rate') or 0:g}/s"


def medians(trials):
    df = frame(trials)
    if df.empty:
        return df
    good = df[df["ok"]]
    med = good.groupby(["scenario", "target"])[["rps", "p50", "p99", "cpu_us"]].median()
    flags = df.groupby(["scenario", "target"])["flags"].agg(lambda fs: sorted({f for f in fs for f in f}))
    return med.join(flags, how="outer").reset_index()


def ratio(med, scenario, num, den):
    rows = med.set_index(["scenario", "target"])["cpu_us"]
    try:
        return rows[(scenario, num)] / rows[(scenario, den)]
    except KeyError:
        return None


def fmt(value, pattern="{:,.0f}"):
    return "–" if value is None or pd.isna(value) else pattern.format(value)


def summary_table(trials):
    med = medians(trials)
    t = Table(title="fdbench: medians per scenario × app (@N/s: open loop at a fixed rate)")
    for col in ("scenario", "app", "rps", "p50 µs", "p99 µs", "CPU-µs/req", "vs baseline", "flags"):
        t.add_column(col, justify="left" if col in ("scenario", "app", "flags") else "right")
    for _, r in med.iterrows():
        bound = "generator_bound" in r["flags"]
        rps = fmt(r["rps"])
        t.add_row(r["scenario"], r["target"], f"[{rps}]" if bound else rps, fmt(r["p50"]),
                  fmt(r["p99"]), fmt(r["cpu_us"], "{:,.1f}"),
                  fmt(ratio(med, r["scenario"], r["target"], "baseline"), "{:.2f}×"),
                  ", ".join(r["flags"]))
    return t


def ratios_table(trials):
    """Per case, the paired ratios the verdicts read: geometric mean over cycles with its 95%
    interval, flagged slices left out (a ratio of medians would say something else)."""
    df = speed.clean(stats.trials_frame(trials))
    t = Table(title="Django / Flask, CPU-µs per request (>1: Django costs more; paired cycles, "
                    "95% interval)")
    for col in ("case", "django / flask", "django-stripped / flask"):
        t.add_column(col, justify="left" if col == "case" else "right")
    for case in stats.cases(df) if not df.empty else []:
        ests = [ratios.paired_ratio(df, case, num, "flask") for num in ("django", "django-stripped")]
        t.add_row(case, *(e.text("{:.2f}") if e else "–" for e in ests))
    return t


def problems_table(trials):
    """Every failed or flagged trial, whatever its mode, with the reason: nothing goes unseen."""
    t = Table(title="trials that failed or were flagged")
    t.add_column("trial", no_wrap=True)  # an id cut in two could not be searched for
    for col in ("status", "errors", "flags", "reason"):
        t.add_column(col, overflow="fold")
    for trial in trials:
        flags = [f for f in trial.get("flags") or [] if f != "failed"]
        if trial.get("status") != "ok" or flags:
            t.add_row(trial["trial_id"], trial.get("status", "?"), fmt(trial.get("errors")),
                      ", ".join(flags), trial.get("reason") or "")
    return t if t.row_count else None


# --- claims, compare, instructions ----------------------------------------------------------

def claims_table(claims: list) -> Table:
    """The claims table for the terminal: judge(ev)'s items."""
    table = Table(title="fdbench: the article's claims", show_lines=True)
    for col in ("claim", "quote", "verdict", "numbers"):
        table.add_column(col, overflow="fold")
    for item in claims:
        table.add_row(item["claim"].key, item["claim"].quote, item["verdict"].verdict,
                      item["verdict"].summary)
    return table


def print_claims(run_dir: Path, console: Console | None = None) -> None:
    """The claims table, then the one sentence that answers the question."""
    console = console or Console()
    ev = Evidence.from_dirs([run_dir])
    claims = judge(ev)
    console.print(claims_table(claims))
    said = answer.sentence(ev, claims)
    if said:
        console.print(f"[bold]{said}[/]", highlight=False)


def compare_table(cmp) -> Table:
    """A Comparison (analysis.compare), one row per change."""
    t = Table(title=f"fdbench compare: {cmp.base.run_id} → {cmp.new.run_id}")
    for col in ("scenario", "subject", "metric", "base", "new", "change (95% CI)", "p", "verdict"):
        t.add_column(col, overflow="fold")
    for c in cmp.changes:
        t.add_row(*change_cells(c))
    return t


def _times(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def instructions_table(data):
    """Rows per endpoint and target: in-process and served counts, and their ratios; with the
    cache simulation, in-process estimated cycles and their ratio to Flask's too."""
    t = Table(title=f"instructions per request (callgrind, N={data['requests']}, {data['arch']})")
    cycles = "cache_sim" in data
    names = ("endpoint", "target", "in-process", "served", "gunicorn part", "/ flask", "/ baseline",
             *(("est. cycles", "cycles / flask") if cycles else ()))
    for name in names:
        t.add_column(name, justify="left" if name in ("endpoint", "target") else "right")
    index = {(r["endpoint"], r["target"]): r for r in data["counts"]}
    for r in data["counts"]:
        own, served = r["instructions_per_request"], (r["served"] or {}).get("instructions_per_request")
        flask = index.get((r["endpoint"], "flask"), {})
        base = index.get((r["endpoint"], "baseline"), {}).get("instructions_per_request")
        row = [r["endpoint"], r["target"], f"{own:,}", f"{served:,}" if served else "-",
               f"{served - own:,}" if served else "-", _times(own, flask.get("instructions_per_request")),
               _times(own, base)]
        if cycles:
            est = (r.get("cache") or {}).get("estimated_cycles")
            row += [f"{est:,}" if est else "-",
                    _times(est, (flask.get("cache") or {}).get("estimated_cycles"))]
        t.add_row(*row)
    return t


def print_warnings(console, lines):
    """The last thing bench prints: what makes these figures worth less, or that nothing did."""
    if not lines:
        console.print("Warnings: none")
        return
    console.print("[bold yellow]Warnings:[/]")
    for line in lines:
        console.print(f"  - {line}", soft_wrap=True)


def versions_table(data):
    """The report's table of releases (rows.versions_rows) in the terminal; the releases not
    measured, with their reasons, as its caption."""
    rows = report_rows.versions_rows(data)
    t = Table(title=rows["title"])
    for i, name in enumerate(rows["header"]):
        t.add_column(name, justify="right" if i in rows["numeric"] else "left")
    for cells in rows["rows"]:
        t.add_row(*cells)
    notes = [f"{r['framework']} {r['series']}: {r['status']}: {r.get('reason')}"
             for r in data.get("versions", []) if r.get("status") != "ok"]
    t.caption = "\n".join(notes) or None
    return t

