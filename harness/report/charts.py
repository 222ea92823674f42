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
from ..targets import COLORS, TARGETS  # noqa: E402

SIZE = (6.4, 3.2)
PALETTE = 32
MACHINE_COLORS = ("#1f4e99", "#d95f02", "#7570b3", "#1b9e77", "#e7298a")
HATCHES = ("", "////", "....", "xxxx")    # one per machine, in a chart of several
STYLES = ("-", "--", ":", "-.")


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


RANK = {t: i for i, t in enumerate(TARGETS)}  # every chart lists targets in this order


def _order(rows):
    return sorted(rows, key=lambda r: (RANK.get(r["target"], 99), r["machine"]))


def _bars(ax, rows, key, err=True):
    """One bar per (target, machine) row with its CI as an error bar when it has one. Several
    machines: a group of bars per target, one hatch per machine (machine_legend names them),
    so a tick is a target's name alone, not a name and a machine squeezed under each bar."""
    machines = _machines(rows)
    targets = list(dict.fromkeys(r["target"] for r in rows))
    width = 0.8 / len(machines)
    x = [targets.index(r["target"]) + (machines.index(r["machine"]) - (len(machines) - 1) / 2) * width
         for r in rows]
    values = [_value(r[key]) for r in rows]
    lows = [v - r[key].low if err and r[key] is not None and r[key].has_ci else 0
            for v, r in zip(values, rows)]
    highs = [r[key].high - v if err and r[key] is not None and r[key].has_ci else 0
             for v, r in zip(values, rows)]
    bars = ax.bar(x, values, width * 0.95, color=[COLORS.get(r["target"], "#bbb") for r in rows],
                  yerr=[lows, highs], capsize=3, edgecolor="white", linewidth=0)
    for bar, r in zip(bars, rows):
        bar.set_hatch(HATCHES[machines.index(r["machine"]) % len(HATCHES)])
    ax.set_xticks(range(len(targets)), targets, fontsize=8)
    return bars


def _machines(rows) -> list[str]:
    return list(dict.fromkeys(r["machine"] for r in sorted(rows, key=lambda r: r["machine"])))


def _value(est) -> float:
    return est.value if est is not None else 0.0


def _tick(row, rows) -> str:
    machines = {r["machine"] for r in rows}
    return row["target"] if len(machines) < 2 else f"{row['target']} {row['machine']}"


def _figure(size=SIZE):
    """A figure whose legends may sit outside the axes (constrained layout makes room)."""
    return plt.subplots(figsize=size, layout="constrained")


def machine_legend(fig, machines, line=False, extra=()):
    """Below the plot, one entry per machine (its hatch, or its line style): outside the axes,
    so it covers no bar or line however many machines there are. `extra`: one more entry per
    machine, in a second column beside it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if line:
        handles = [Line2D([], [], color="#444", ls=STYLES[i % len(STYLES)], lw=1.4, label=m)
                   for i, m in enumerate(machines)]
    else:
        handles = [Patch(facecolor="#bbb", edgecolor="white", hatch=HATCHES[i % len(HATCHES)], label=m)
                   for i, m in enumerate(machines)]
    ncol = 2 if extra else min(len(machines), 3)
    fig.legend(handles=handles + list(extra), loc="outside lower center", ncol=ncol, fontsize=7,
               frameon=False, title="machine", title_fontsize=7)


def throughput(rows: list[dict], case: str) -> str:
    """Capacity rps; generator-bound trials drawn hatched and labelled, never as capacity."""
    rows = _order(rows)
    fig, ax = _figure()
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
    if len(_machines(rows)) > 1:
        machine_legend(fig, _machines(rows))
    return _png(fig)


def latency(rows: list[dict], case: str) -> str:
    """Latency percentiles per target, log scale: the tail is the point."""
    rows = _order(rows)
    fig, ax = plt.subplots(figsize=SIZE)
    width = 0.8 / max(len(rows), 1)
    x = np.arange(len(PERCENTILES))
    for i, r in enumerate(rows):
        ys = [(r[p] or 0) / 1000 for p in PERCENTILES]
        ax.bar(x + i * width, ys, width, label=_tick(r, rows),
               color=COLORS.get(r["target"], "#bbb"), edgecolor="white")
    ax.set_xticks(x + width * (len(rows) - 1) / 2, PERCENTILES)
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (median of trials)")
    ax.set_title(f"{case}: latency percentiles", fontsize=10)
    ax.legend(fontsize=7)
    return _png(fig)


def latency_distribution(curves: list[dict], case: str) -> str:
    """HdrHistogram's percentile plot: latency against percentile on the 1/(1-p) axis, one
    line per target (and machine), from the stored histograms (analysis.latency). Several
    machines: colour is the target, line style the machine, each in its own legend."""
    fig, ax = _figure()
    machines = list(dict.fromkeys(sorted(c["machine"] for c in curves)))
    shown = set()
    for c in _order(curves):
        x = [1 / (1 - p / 100) for p, _ in c["points"]]
        y = [us / 1000 for _, us in c["points"]]
        first = c["target"] not in shown
        shown.add(c["target"])
        ax.plot(x, y, STYLES[machines.index(c["machine"]) % len(STYLES)],
                color=COLORS.get(c["target"], "#bbb"), lw=1.4, label=c["target"] if first else None)
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
    if len(machines) > 1:
        machine_legend(fig, machines, line=True)
    return _png(fig)


def cpu(rows: list[dict], case: str) -> str:
    """Server CPU-µs per request with the bare-WSGI baseline drawn as the ceiling (one dashed
    line per machine, in that machine's line style)."""
    from matplotlib.lines import Line2D

    rows = _order(rows)
    machines = _machines(rows)
    fig, ax = _figure()
    _bars(ax, rows, "cpu")
    for r in rows:
        if r["target"] == "baseline" and r["cpu"] is not None:
            i = machines.index(r["machine"])
            ax.axhline(r["cpu"].value, ls=STYLES[1:][i % 3], color="#444", lw=1)
            if len(machines) == 1:
                ax.annotate("baseline ceiling", (0, r["cpu"].value), xytext=(2, 2),
                            textcoords="offset points", fontsize=7)
    ax.set_ylabel("server CPU-µs / request")
    ax.set_title(f"{case}: cost per request (lower is better)", fontsize=10)
    if len(machines) > 1:
        ceilings = [Line2D([], [], color="#444", lw=1, ls=STYLES[1:][i % 3],
                           label=f"baseline ceiling, {m}") for i, m in enumerate(machines)]
        machine_legend(fig, machines, extra=ceilings)
    return _png(fig)


def headline(rows: list[dict], trivial: float, modest: float) -> str:
    """The answer in one picture: Django/Flask CPU-µs per request overall and per scenario
    (summary.headline rows; >1: Django costs more) with the intervals the verdicts read, one
    marker per machine, against a line at 1 and the claim rules' margins: a margin m is the band
    [1/m, m]. Instruction ratios, where counted, as hollow diamonds (estimated cycles as
    crosses): what the code costs without the machine's noise."""
    cases = list(dict.fromkeys(r["case"] for r in rows))
    labels = list(dict.fromkeys(r["label"] for r in rows))
    fig, ax = _figure((11, 1.6 + 0.26 * len(cases) * max(1, len(labels) ** 0.5)))
    for margin, shade, name in ((modest, "#f3ecd2", f"modest: within {modest:g}x"),
                                (trivial, "#dcefd9", f"trivial: within ±{(trivial - 1):.0%}")):
        ax.axvspan(1 / margin, margin, color=shade, zorder=0, label=name)
    ax.axvline(1, color="#333", lw=1, zorder=1)
    step = 0.6 / max(len(labels), 1)
    many = len(labels) > 1
    for i, label in enumerate(labels):
        mine = [r for r in rows if r["label"] == label]
        y = [cases.index(r["case"]) + (i - (len(labels) - 1) / 2) * step for r in mine]
        est = [r["django/flask"] for r in mine]
        x = [e["value"] for e in est]
        err = [[v - e["low"] if e["low"] is not None else 0 for v, e in zip(x, est)],
               [e["high"] - v if e["high"] is not None else 0 for v, e in zip(x, est)]]
        color = MACHINE_COLORS[i % len(MACHINE_COLORS)] if many else MACHINE_COLORS[0]
        ax.errorbar(x, y, xerr=err, fmt="o", ms=4, color=color, capsize=2, lw=1, zorder=3,
                    label=label if many else "CPU-µs, the verdicts' interval")
        counted = [(r["instructions django/flask"], yy) for r, yy in zip(mine, y)
                   if r["instructions django/flask"]]
        if counted:
            ax.plot(*zip(*counted), "D", ms=5, mfc="none", color=color, zorder=4,
                    label=None if many else "instructions (callgrind)")
        cycles = [(r.get("cycles django/flask"), yy) for r, yy in zip(mine, y)
                  if r.get("cycles django/flask")]
        if cycles:
            ax.plot(*zip(*cycles), "x", ms=5, color=color, zorder=4,
                    label=None if many else "estimated cycles (callgrind)")
    ax.set_yticks(range(len(cases)), cases, fontsize=9)
    ax.set_ylim(len(cases) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(_ratio_ticks(rows, modest), minor=False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(axis="x", labelsize=9)
    ax.set_xlabel("Django / Flask server CPU-µs per request  (< 1: Django cheaper, > 1: Flask cheaper)",
                  fontsize=9)
    ax.set_title("Flask vs Django: cost per request, overall and per scenario (load levels "
                 "pooled; scenario intervals simultaneous)", fontsize=10)
    ax.grid(axis="x", color="#ddd", lw=0.5, zorder=0)
    _headline_legend(fig, ax, many)
    return _png(fig)


def _headline_legend(fig, ax, many):
    """Bands and markers; with several machines one colour entry per machine and the marker
    kinds once, in black, rather than every kind repeated per machine."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if many:
        handles += [Line2D([], [], color="#222", marker="o", ms=4, lw=1),
                    Line2D([], [], color="#222", marker="D", ms=5, mfc="none", ls="")]
        labels += ["CPU-µs, the verdicts' interval", "instructions (callgrind)"]
        if any(line.get_marker() == "x" for line in ax.get_lines()):
            handles.append(Line2D([], [], color="#222", marker="x", ms=5, ls=""))
            labels.append("estimated cycles (callgrind)")
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 6),
               fontsize=8, frameon=False)


def _ratio_ticks(rows, modest) -> list[float]:
    """Round ratios on the log axis, from the lower band edge to the highest interval end."""
    ends = [v for r in rows for v in (r["django/flask"]["low"], r["django/flask"]["high"],
                                      r["django/flask"]["value"], r["instructions django/flask"]) if v]
    low, high = min(ends + [1 / modest]), max(ends + [modest])
    ticks = (0.25, 0.33, 0.5, 0.67, 0.8, 0.9, 1, 1.11, 1.25, 1.5, 1.75, 2, 3, 4)
    return [t for t in ticks if low * 0.95 <= t <= high * 1.05]


def deployment_costs(scenarios: list, deployments: list, cells: dict) -> str:
    """What each choice costs a request: one panel per scenario, a group of bars per deployment,
    Flask and Django side by side (medians with their intervals) on one CPU-µs axis, so that a
    framework's gap and a deployment's can be read against each other; a database server's
    CPU-µs per request (PostgreSQL) is stacked on each bar, hatched."""
    fig, axes = plt.subplots(1, len(scenarios), figsize=(3.6 * len(scenarios) + 1, 3.4),
                             sharey=True, squeeze=False, layout="constrained")
    width = 0.38
    for ax, scenario in zip(axes[0], scenarios):
        for i, target in enumerate(("flask", "django")):
            ests = [cells.get((scenario, d, target), {}).get("cpu") for d in deployments]
            x = np.arange(len(deployments)) + (i - 0.5) * width
            values = [e.value if e else 0.0 for e in ests]
            err = [[e.value - e.low if e and e.has_ci else 0 for e in ests],
                   [e.high - e.value if e and e.has_ci else 0 for e in ests]]
            ax.bar(x, values, width, yerr=err, capsize=2, color=COLORS[target], label=target)
            db = [(cells.get((scenario, d, target), {}).get("db") or None) for d in deployments]
            if any(db):
                ax.bar(x, [e.value if e else 0.0 for e in db], width, bottom=values, color="white",
                       edgecolor=COLORS[target], hatch="///", lw=0.5,
                       label="database server" if i == 0 else None)
        ax.set_xticks(range(len(deployments)), deployments, rotation=30, ha="right", fontsize=8)
        ax.set_title(scenario, fontsize=10)
        ax.grid(axis="y", color="#ddd", lw=0.5)
    stacked = any(c.get("db") for c in cells.values())
    axes[0][0].set_ylabel("CPU-µs per request: app server" + (" + database server" if stacked else ""),
                          fontsize=9)
    axes[0][-1].legend(fontsize=8, frameon=False)
    return _png(fig)


def versions(endpoint: str, panels: dict) -> str:
    """Instructions per request against release, one panel per framework side by side, each
    step labelled with its change (served above its line, in-process below). `panels`: framework -> [(series label, in-process, served)]."""
    fig, axes = plt.subplots(1, len(panels), figsize=(SIZE[0], SIZE[1] * 0.95), squeeze=False)
    for ax, (framework, points) in zip(axes[0], panels.items()):
        labels = [p[0] for p in points]
        x = np.arange(len(points))
        for index, style, name in ((1, "-", "in-process"), (2, "--", "served")):
            ys = [p[index] for p in points]
            if not any(ys):
                continue
            ys = [y / 1e6 if y else np.nan for y in ys]
            ax.plot(x, ys, style, marker="o", color=COLORS.get(framework), label=name)
            for i in range(1, len(ys)):
                if ys[i - 1] and ys[i] and ys[i - 1] == ys[i - 1] and ys[i] == ys[i]:
                    ax.annotate(f"{ys[i] / ys[i - 1] - 1:+.1%}", ((x[i - 1] + x[i]) / 2, (ys[i - 1] + ys[i]) / 2),
                                textcoords="offset points", xytext=(0, -12 if index == 1 else 6),
                                ha="center", fontsize=7)
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_xlim(-0.5, len(points) - 0.5)
        ax.set_title(f"{framework} {endpoint}", fontsize=9)
        ax.set_ylabel("M instructions / request", fontsize=8)
        ax.margins(y=0.25)  # not from zero: the steps are a few percent
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _png(fig)


def versions_load(endpoint: str, panels: dict) -> str:
    """Served CPU-µs per request against release (`versions --load`), one panel per framework,
    each release's median with its 95% interval as a bar. `panels`: framework -> [(series
    label, Estimate)]."""
    fig, axes = plt.subplots(1, len(panels), figsize=(SIZE[0], SIZE[1] * 0.95), squeeze=False)
    for ax, (framework, points) in zip(axes[0], panels.items()):
        x = np.arange(len(points))
        y = [e.value for _, e in points]
        err = [[e.value - e.low if e.has_ci else 0 for _, e in points],
               [e.high - e.value if e.has_ci else 0 for _, e in points]]
        ax.errorbar(x, y, yerr=err, fmt="o-", ms=4, color=COLORS.get(framework), capsize=3, lw=1)
        ax.set_xticks(x, [label for label, _ in points], fontsize=8)
        ax.set_xlim(-0.5, len(points) - 0.5)
        ax.set_title(f"{framework} {endpoint} (served, saturated)", fontsize=9)
        ax.set_ylabel("server CPU-µs / request", fontsize=8)
        ax.margins(y=0.25)
    fig.tight_layout()
    return _png(fig)
