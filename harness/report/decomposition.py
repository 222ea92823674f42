"""The report's "where the time goes" tables: a served request's CPU time split into the
framework's (timed natively in-process), gunicorn's and the kernel's, per app and endpoint, and
the Django/Flask ratio of every part beside the measured one (analysis/decomposition.py)."""
from ..analysis import decomposition
from .rows import Rows, _name

NOTE = ("Saturation, one app under load at a time. served: median CPU-µs per request of the "
        "slices; kernel: its system-time share pooled over them (tick-sampled); framework + app: "
        "the same requests timed natively in-process with the cyclic GC off, as callgrind counts "
        "them; served natively in-process: those requests through gunicorn's worker code on real "
        "loopback sockets, its kernel work included; gunicorn: its estimated cycles at the ns "
        "per cycle gunicorn's code takes on the bare WSGI baseline; left over: served less the three (gunicorn's loop around the counted "
        "accept, the arbiter, and the framework's code running with caches it shares with "
        "gunicorn and the kernel, where the in-process timing runs it back to back). syscalls: "
        "perf's count in a separate probe slice.")


def _us(value):
    return f"{value:,.0f}" if value is not None and value == value else "–"


def _x(value, fmt="{:.2f}"):
    return fmt.format(value) if value is not None and value == value else "–"


def parts_table(table) -> Rows:
    rows = [[r["path"], _name(r["target"]), _us(r["served_us"]),
             f"{_us(r['kernel_us'])} ({r['kernel_share']:.0%})", _us(r["framework_us"]),
             _us(r["gunicorn_us"]), _us(r["predicted_us"]), _us(r["rest_us"]),
             _us(r.get("served_native_us")),
             _x(r["syscalls"], "{:.1f}"), _x(r["ctx_voluntary"] + r["ctx_involuntary"], "{:.2f}"),
             _x(r["ns_per_cycle"], "{:.3f}")]
            for r in table]
    header = ["endpoint", "target", "served", "kernel", "framework + app", "gunicorn",
              "sum of parts", "left over", "served natively in-process", "syscalls",
              "context switches",
              "ns per estimated cycle (in-process)"]
    return Rows("Where a served request's CPU time goes (µs per request)", header, rows,
                numeric=tuple(range(2, len(header))), note=NOTE)


def ratio_table(ratios) -> Rows:
    keys = ("served_us", "predicted_us", "residual", "simulated_us", "simulated_residual",
            "served_native_us", "served_native_residual", "framework_us", "gunicorn_us",
            "kernel_us", "instructions", "cycles", "ns_per_cycle", "syscalls")
    rows = [[path] + [_x(parts.get(k), "{:+.1%}" if k.endswith("residual") else "{:.2f}")
                      for k in keys]
            for path, parts in ratios.items()]
    header = ["endpoint", "served (measured)", "sum of parts", "measured / sum - 1",
              "callgrind alone + kernel", "measured / that - 1", "served natively in-process",
              "measured / that - 1", "framework + app (native)",
              "gunicorn", "kernel", "instructions (callgrind)", "estimated cycles",
              "ns per estimated cycle", "syscalls"]
    return Rows("Django / Flask, part by part", header, rows, numeric=tuple(range(1, len(header))),
                note="Estimated cycles = L1 hits + 5 x last-level hits + 35 x RAM accesses of "
                     "callgrind's cache simulation (the iai weighting). 'callgrind alone + kernel' "
                     "prices every served estimated cycle, the framework's too, at what gunicorn's "
                     "take on the baseline. Where the instruction and cycle ratios stand above the "
                     "native one, Django's code runs faster per instruction than Flask's on this "
                     "CPU: the ns per estimated cycle column.")


def tables(runs) -> list[Rows]:
    """The two tables for each run that has what they need (a run with cycles: --cycles or the
    full profile); none otherwise."""
    out = []
    for run in runs:
        table = decomposition.rows(run)
        if table:
            suffix = f" ({run.run_id})" if len(runs) > 1 else ""
            parts, ratio = parts_table(table), ratio_table(decomposition.ratios(table))
            parts.title += suffix
            ratio.title += suffix
            out += [parts, ratio]
    return out
