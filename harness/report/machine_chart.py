"""The chart of several runs: one panel per cost ratio, one row per case, one dot per machine
with its 95% interval, and a line at 1; a row is shaded red where the machines put the ratio
on opposite sides of 1 and grey where only some decide it, so a reader sees at once where a
verdict does not hold on every machine."""
import math

from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from .charts import MACHINE_COLORS, _png, plt

SHADES = {"opposite": ("#f4c4c4", "opposite sides of 1"),
          "undecided": ("#e6e6e6", "decided on some machines only")}
TICKS = (0.5, 0.67, 0.8, 0.9, 1, 1.11, 1.25, 1.5, 2, 3, 4, 6, 8)


def draw(rows: list[dict], agree: dict, machines: list[str], titles: dict) -> str:
    """rows: by_machine.ratios; agree: by_machine.agreement; machines in the runs' order;
    titles: {ratio name: the panel's title}."""
    names = list(dict.fromkeys(r["ratio"] for r in rows))
    cases = list(dict.fromkeys(r["case"] for r in rows))
    fig, axes = plt.subplots(1, len(names), sharey=True, layout="constrained", squeeze=False,
                             figsize=(11, 1.3 + 0.22 * len(cases) * max(1, len(machines) ** 0.5)))
    step = 0.6 / len(machines)
    for ax, name in zip(axes[0], names):
        mine = [r for r in rows if r["ratio"] == name]
        for (ratio, case), how in agree.items():
            if ratio == name and how in SHADES:
                ax.axhspan(cases.index(case) - 0.5, cases.index(case) + 0.5, color=SHADES[how][0],
                           zorder=0)
        ax.axvline(1, color="#333", lw=1, zorder=1)
        for i, machine in enumerate(machines):
            _dots(ax, [r for r in mine if r["machine"] == machine], cases,
                  (i - (len(machines) - 1) / 2) * step, MACHINE_COLORS[i % len(MACHINE_COLORS)])
        _ratio_axis(ax, mine)
        ax.set_title(titles[name], fontsize=8.5)
    axes[0][0].set_yticks(range(len(cases)), cases, fontsize=8)
    axes[0][0].set_ylim(len(cases) - 0.5, -0.5)
    fig.supxlabel("server CPU-µs per request, ratio (> 1: the first named costs more)", fontsize=8)
    handles = [Line2D([], [], color=MACHINE_COLORS[i % len(MACHINE_COLORS)], marker="o", ms=4,
                      lw=1, label=m) for i, m in enumerate(machines)]
    handles += [Patch(color=color, label=label) for color, label in SHADES.values()]
    fig.legend(handles=handles, loc="outside upper center", ncol=min(len(handles), 5),
               fontsize=8, frameon=False)
    return _png(fig)


def _dots(ax, rows, cases, offset, color):
    y = [cases.index(r["case"]) + offset for r in rows]
    x = [r["est"].value for r in rows]
    err = [[v - r["est"].low if r["est"].has_ci else 0 for v, r in zip(x, rows)],
           [r["est"].high - v if r["est"].has_ci else 0 for v, r in zip(x, rows)]]
    ax.errorbar(x, y, xerr=err, fmt="o", ms=3.5, color=color, capsize=1.5, lw=1, zorder=3)


def _ratio_axis(ax, rows):
    """Log axis spanning the panel's intervals and 1, with round ticks far enough apart."""
    ends = [v for r in rows for v in (r["est"].value, r["est"].low, r["est"].high) if v] + [1]
    low, high = min(ends) / 1.06, max(ends) * 1.06
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(_spaced([t for t in TICKS if low <= t <= high], math.log(high / low) / 6) or [1])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.tick_params(axis="x", labelsize=7.5)
    ax.grid(axis="x", color="#ddd", lw=0.5, zorder=0)


def _spaced(ticks, gap) -> list[float]:
    """The ticks, keeping 1, dropping any closer than `gap` (in log units) to one kept."""
    kept = [1] if 1 in ticks else []
    for t in sorted(ticks, key=lambda t: abs(math.log(t))):
        if all(abs(math.log(t / k)) >= gap for k in kept):
            kept.append(t)
    return sorted(kept)
