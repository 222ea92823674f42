"""The report's callgrind tables: instructions per request with the Django/Flask and
framework/baseline ratios beside the load test's CPU-µs ratio, and a served request split into
framework, gunicorn and kernel shares. Pure: counts, ratios and shares come in as arguments."""
import pandas as pd

from .rows import Rows, _name, _ratio

TARGETS = ("flask", "django", "django-stripped", "baseline")


def instruction_rows(counts: pd.DataFrame, load=None, kernel=None) -> list[Rows]:
    """counts: Evidence.instructions; load: {path: Django/Flask CPU-µs Estimate}; kernel:
    {path: {target: kernel share of the server's CPU time}}. Two tables per run."""
    out = []
    runs = list(dict.fromkeys(counts["run_id"]))
    for run_id in runs:
        rows = counts[counts["run_id"] == run_id]
        suffix = f" ({run_id})" if len(runs) > 1 else ""
        by = {(r.case, r.target): r for r in rows.itertuples()}
        paths = list(dict.fromkeys(rows["case"]))
        out += [_per_request(paths, by, load or {}, suffix),
                _served(paths, by, kernel or {}, suffix)]
    return out


def _count(by, path, target, field="instructions"):
    row = by.get((path, target))
    value = getattr(row, field) if row is not None else None
    return None if value is None or pd.isna(value) else value


def _n(value):
    return f"{value:,.0f}" if value is not None else "–"


def _per_request(paths, by, load, suffix) -> Rows:
    rows = []
    for path in paths:
        f, d, s, b = (_count(by, path, t) for t in TARGETS)
        est = load.get(path)
        rows.append([path, _n(f), _n(d), _n(s), _n(b), _ratio(d, f), _ratio(f, b, "{:.1f}"),
                     _ratio(d, b, "{:.1f}"), est.text("{:.2f}") if est else "–"])
    header = ["endpoint", *map(_name, TARGETS), "Django / Flask", "Flask / baseline",
              "Django / baseline", "Django / Flask CPU-µs, load test (95% CI)"]
    return Rows("Instructions per request, in-process: the framework and app alone" + suffix,
                header, rows, numeric=tuple(range(1, 9)),
                note="callgrind, N requests minus none after warm-up, hash seed, clock and "
                     "database copy fixed. The CPU-µs ratio is the paired load test's at the same "
                     "path; it includes gunicorn and the kernel, which cost every app alike, and "
                     "the machine's cycles per instruction. Counts repeat exactly for one "
                     "checkout, but depend on the heap's layout: the same commit at another "
                     "checkout path counted up to 4% apart (Flask /queries?queries=20), so the "
                     "ratios are good to a few percent.")


def _served(paths, by, kernel, suffix) -> Rows:
    rows = []
    for path in paths:
        for target in TARGETS:
            served, own = _count(by, path, target, "served"), _count(by, path, target)
            if served is None or own is None:
                continue
            share = kernel.get(path, {}).get(target)
            rows.append([path, _name(target), _n(served), _n(own), _n(served - own),
                         f"{own / served:.0%}", f"{share:.0%}" if share is not None else "–"])
    header = ["endpoint", "target", "served", "framework and app", "gunicorn", "framework share",
              "kernel share of CPU time (load test)"]
    return Rows("A served request's instructions: framework and app, gunicorn, kernel" + suffix,
                header, rows, numeric=(2, 3, 4, 5, 6),
                note="Served: gunicorn's sync worker parses, calls the app, writes and closes, "
                     "under callgrind; gunicorn = served minus in-process. callgrind counts user "
                     "space only, so the kernel's part is the load test's: the server's system "
                     "time over its CPU time over all the run's trials at that path. /proc samples"
                     " it in 10 ms ticks: a default run pools about 350 ticks per cell, good to "
                     "about ±4 points by counting alone; a quick run's figures are rougher.")
