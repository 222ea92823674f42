"""matplotlib charts for the report, each returned as a base64 PNG so the page stays one
self-contained file. Charts read the per-(run, case, target) summary; they compute nothing."""
import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullLocator  # noqa: E402

from ..analysis.stats import PERCENTILES  # noqa: E402
from ..targets import TARGET_NAMES  # noqa: E402

COLORS = {"flask": "#1f77b4", "django": "#2ca02c", "django-stripped": "#98df8a",
          "baseline": "#7f7f7f"}
SIZE = (6.4, 3.2)
PALETTE = 32


def _png(fig) -> str:
    """The figure as a 32-colour PNG: the charts are a few flat colours, and a palette makes a
    chart about a third of its full-colour size, which keeps a default run's page small."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    image = Image.open(buf).convert("RGB").quantize(colors=PALETTE, method=Image.Quantize.MEDIANCUT,
                                                    dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="png", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _order(rows):
    rank = {t: i for i, t in enumerate(TARGET_NAMES)}
    return sorted(rows, key=lambda r: (rank.get(r["target"], 99), r["machine"]))


def _bars(ax, rows, key, err=True):
    """One bar per (target, machine) row with its CI as an error bar when it has one."""
    x = np.arange(len(rows))
    values = [_value(r[key]) for r in rows]
    lows = [v - r[key].low if err and r[key] is not None and r[key].has_ci else 0
            for v, r in zip(values, rows)]
    highs = [r[key].high - v if err and r[key] is not None and r[key].has_ci else 0
             for v, r in zip(values, rows)]
    bars = ax.bar(x, values, color=[COLORS.get(r["target"], "#bbb") for r in rows],
                  yerr=[lows, highs], capsize=3)
    ax.set_xticks(x, [_tick(r, rows) for r in rows], rotation=20, ha="right", fontsize=8)
    return bars


def _value(est) -> float:
    return est.value if est is not None else 0.0


def _tick(row, rows) -> str:
    machines = {r["machine"] for r in rows}
    return row["target"] if len(machines) < 2 else f"{row['target']}\n{row['machine']}"


def throughput(rows: list[dict], case: str) -> str:
    """Capacity rps; generator-bound trials drawn hatched and labelled, never as capacity."""
    rows = _order(rows)
    fig, ax = plt.subplots(figsize=SIZE)
    opened = all(r.get("open") for r in rows)
    shown = [{**r, "rps": r["rps"] or r["rps_bound"] or (r["rps_achieved"] if opened else None)}
             for r in rows]
    bars = _bars(ax, shown, "rps")
    for bar, r in zip(bars, rows):
        if r["rps"] is None and r["rps_bound"] is not None:
            bar.set_hatch("//")
            bar.set_alpha(0.5)
            ax.annotate("generator-bound", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7, color="#b00")
    ax.set_ylabel("requests/s (median)")
    what = "achieved rps at a fixed offered rate (not capacity)" if opened else "throughput"
    ax.set_title(f"{case}: {what}", fontsize=10)
    return _png(fig)


def latency(rows: list[dict], case: str) -> str:
    """Latency percentiles per target, log scale: the tail is the point."""
    rows = _order(rows)
    fig, ax = plt.subplots(figsize=SIZE)
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(PERCENTILES))
    for i, r in enumerate(rows):
        ys = [(r[p] or 0) / 1000 for p in PERCENTILES]
        ax.bar(x + i * width, ys, width, label=_tick(r, rows).replace("\n", " "),
               color=COLORS.get(r["target"], "#bbb"), edgecolor="white")
    ax.set_xticks(x + width * (len(rows) - 1) / 2, PERCENTILES)
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (median of trials)")
    ax.set_title(f"{case}: latency percentiles", fontsize=10)
    ax.legend(fontsize=7)
    return _png(fig)


def latency_distribution(curves: list[dict], case: str) -> str:
    """HdrHistogram's percentile plot: latency against percentile on the 1/(1-p) axis, one
    line per target (and machine), from the stored histograms (analysis.latency)."""
    fig, ax = plt.subplots(figsize=SIZE)
    many = len({c["machine"] for c in curves}) > 1
    styles = ["-", "--", ":", "-."]
    machines = list(dict.fromkeys(c["machine"] for c in curves))
    for c in sorted(curves, key=lambda c: (TARGET_NAMES.index(c["target"])
                                           if c["target"] in TARGET_NAMES else 99, c["machine"])):
        x = [1 / (1 - p / 100) for p, _ in c["points"]]
        y = [us / 1000 for _, us in c["points"]]
        ax.plot(x, y, styles[machines.index(c["machine"]) % 4], color=COLORS.get(c["target"], "#bbb"),
                lw=1.4, label=f"{c['target']} {c['machine']}" if many else c["target"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [2, 10, 100, 1000, 10000]
    ax.set_xticks(ticks, ["50%", "90%", "99%", "99.9%", "99.99%"])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(2, 10000)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    ax.tick_params(axis="y", which="both", labelsize=7)
    ax.set_xlabel("percentile", fontsize=8)
    ax.set_ylabel("latency, ms", fontsize=8)
    ax.grid(color="#ddd", lw=0.5, which="both")
    ax.set_title(f"{case}: latency by percentile (all requests)", fontsize=10)
    ax.legend(fontsize=7)
    return _png(fig)


def cpu(rows: list[dict], case: str) -> str:
    """Server CPU-µs per request with the bare-WSGI baseline drawn as the ceiling."""
    rows = _order(rows)
    fig, ax = plt.subplots(figsize=SIZE)
    _bars(ax, rows, "cpu")
    for r in rows:
        if r["target"] == "baseline" and r["cpu"] is not None:
            ax.axhline(r["cpu"].value, ls="--", color="#444", lw=1)
            ax.annotate(f"baseline ceiling ({r['machine']})", (0, r["cpu"].value),
                        xytext=(2, 2), textcoords="offset points", fontsize=7)
    ax.set_ylabel("server CPU-µs / request")
    ax.set_title(f"{case}: cost per request (lower is better)", fontsize=10)
    return _png(fig)


def ablation(rows: list[dict], case: str) -> str:
    """Flask, Django without middleware, Django: how much of the gap the middleware is."""
    rows = [r for r in _order(rows) if r["target"] in ("flask", "django-stripped", "django")]
    fig, ax = plt.subplots(figsize=(SIZE[0], 2.4))
    y = np.arange(len(rows))
    ax.barh(y, [_value(r["cpu"]) for r in rows],
            color=[COLORS[r["target"]] for r in rows])
    ax.set_yticks(y, [_tick(r, rows).replace("\n", " ") for r in rows], fontsize=8)
    ax.set_xlabel("server CPU-µs / request")
    ax.set_title(f"{case}: Django with and without middleware vs Flask", fontsize=10)
    return _png(fig)


def headline(rows: list[dict], trivial: float, modest: float) -> str:
    """The answer in one picture: Django/Flask CPU-µs per request per case (summary.headline
    rows; >1: Django costs more) with its 95% interval, one marker per machine, against a line
    at 1 and the claim rules' bands: a gap g is a ratio between 1-g and 1/(1-g). Instruction
    ratios, where counted, as hollow diamonds: what the code costs without the machine's noise."""
    cases = list(dict.fromkeys(r["case"] for r in rows))
    labels = list(dict.fromkeys(r["label"] for r in rows))
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.26 * len(cases) * max(1, len(labels) ** 0.5)))
    for gap, shade, name in ((modest, "#f3ecd2", "modest"), (trivial, "#dcefd9", "trivial")):
        ax.axvspan(1 - gap, 1 / (1 - gap), color=shade, zorder=0,
                   label=f"{name}: gap < {gap:.0%}")
    ax.axvline(1, color="#333", lw=1, zorder=1)
    step = 0.6 / max(len(labels), 1)
    palette = ["#1f4e99", "#d95f02", "#7570b3", "#1b9e77", "#e7298a"]
    for i, label in enumerate(labels):
        mine = [r for r in rows if r["label"] == label]
        y = [cases.index(r["case"]) + (i - (len(labels) - 1) / 2) * step for r in mine]
        est = [r["django/flask"] for r in mine]
        x = [e["value"] for e in est]
        err = [[v - e["low"] if e["low"] is not None else 0 for v, e in zip(x, est)],
               [e["high"] - v if e["high"] is not None else 0 for v, e in zip(x, est)]]
        color = palette[i % len(palette)]
        ax.errorbar(x, y, xerr=err, fmt="o", ms=4, color=color, capsize=2, lw=1, zorder=3,
                    label=f"CPU-µs, 95% interval{f' ({label})' if len(labels) > 1 else ''}")
        counted = [(r["instructions django/flask"], yy) for r, yy in zip(mine, y)
                   if r["instructions django/flask"]]
        if counted:
            ax.plot(*zip(*counted), "D", ms=5, mfc="none", color=color, zorder=4,
                    label=f"instructions{f' ({label})' if len(labels) > 1 else ''}")
    ax.set_yticks(range(len(cases)), cases, fontsize=9)
    ax.set_ylim(len(cases) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(_ratio_ticks(rows, modest), minor=False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("Django / Flask server CPU-µs per request  (< 1: Django cheaper, > 1: Flask cheaper)",
                  fontsize=9)
    ax.set_title("Flask vs Django: cost per request, per case", fontsize=11, pad=24)
    ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False)
    ax.grid(axis="x", color="#ddd", lw=0.5, zorder=0)
    return _png(fig)


def _ratio_ticks(rows, modest) -> list[float]:
    """Round ratios on the log axis, from the lower band edge to the highest interval end."""
    ends = [v for r in rows for v in (r["django/flask"]["low"], r["django/flask"]["high"],
                                      r["django/flask"]["value"], r["instructions django/flask"]) if v]
    low, high = min(ends + [1 - modest]), max(ends + [1 / (1 - modest)])
    ticks = (0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1, 1.11, 1.25, 1.5, 1.75, 2, 3, 4)
    return [t for t in ticks if low * 0.95 <= t <= high * 1.05]
