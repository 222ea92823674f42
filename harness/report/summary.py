"""The table `fdbench bench` prints at the end: medians per scenario × target, with the
Flask/Django and framework/baseline ratios of CPU-µs per request. Throughput of a
generator-bound trial is shown in brackets: it is the generator's limit, not the server's."""
import pandas as pd
from rich.table import Table


def frame(trials):
    rows = []
    for t in trials:
        lat = t.get("latency_us") or {}
        rows.append({"scenario": case(t), "target": t["target"], "mode": t["mode"],
                     "ok": t["status"] == "ok" and "errors" not in t["flags"],
                     "rps": t.get("rps"), "p50": lat.get("p50"), "p99": lat.get("p99"),
                     "cpu_us": t.get("cpu_us_per_request"), "flags": t["flags"]})
    return pd.DataFrame(rows)


def case(trial):
    """Closed-loop trials by scenario; fixed-rate ones apart, labelled with their rate."""
    if trial["mode"] == "closed":
        return trial["scenario"]
    return f"{trial['scenario']} @{trial.get('rate') or 0:g}/s"


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


def table(trials):
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
    med = medians(trials)
    t = Table(title="Django / Flask, CPU-µs per request (>1: Django costs more)")
    for col in ("scenario", "django / flask", "django-stripped / flask"):
        t.add_column(col, justify="left" if col == "scenario" else "right")
    for scenario in med["scenario"].unique() if not med.empty else []:
        t.add_row(scenario, fmt(ratio(med, scenario, "django", "flask"), "{:.2f}"),
                  fmt(ratio(med, scenario, "django-stripped", "flask"), "{:.2f}"))
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
