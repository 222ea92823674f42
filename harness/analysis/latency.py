"""Latency distributions from the stored histograms: each (run, case, target)'s usable trials
merged into one HdrHistogram and read at percentiles spaced evenly on the 1/(1-p) axis that
HdrHistogram's own plots use, so the tail is drawn as finely as the median. Only percentiles
the request count supports are read (99.99% needs 10,000 requests), never an extrapolation."""
from pathlib import Path

import numpy as np

from .. import histogram
from .evidence import LoadedRun

LOWEST, HIGHEST = 50.0, 99.99   # percent
POINTS = 60


def distribution(run: LoadedRun, case: str, target: str) -> list[tuple[float, float]] | None:
    """[(percentile, latency µs)] of the merged histogram, or None if no trial stored one."""
    t = run.trials
    names = t.loc[(t["case"] == case) & (t["target"] == target) & t["usable"], "histogram"]
    texts = [_read(run.path, name) for name in names.dropna()]
    texts = [x for x in texts if x]
    merged = histogram.new()
    for text in texts:
        try:
            merged.add(histogram.decode(text))
        except Exception:  # noqa: BLE001 - a damaged file is left out, as a damaged trial line is
            continue
    count = merged.get_total_count()
    if count == 0:
        return None
    top = min(HIGHEST, 100 * (1 - 1 / count))
    if top <= LOWEST:
        return None
    spread = np.logspace(np.log10(1 / (1 - LOWEST / 100)), np.log10(1 / (1 - top / 100)), POINTS)
    return [(float(p), float(merged.get_value_at_percentile(p))) for p in 100 * (1 - 1 / spread)]


def _read(run_path: Path, name: str) -> str | None:
    path = run_path / name
    try:
        return path.read_text() if path.is_file() else None
    except OSError:
        return None
