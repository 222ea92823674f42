"""Latency histograms: every request's time at microsecond resolution (locust's own stats
round to whole milliseconds, far too coarse for 0.2–5 ms requests)."""
from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def new():
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record(hist, micros):
    hist.record_value(min(max(int(round(micros)), LOWEST_US), HIGHEST_US))


def summary(hist):
    """Percentiles, max and mean in µs; None values for an empty histogram."""
    if hist.get_total_count() == 0:
        return {**{k: None for k in PERCENTILES}, "max": None, "mean": None}
    out = {name: hist.get_value_at_percentile(p) for name, p in PERCENTILES.items()}
    out["max"] = hist.get_max_value()
    out["mean"] = round(hist.get_mean_value(), 1)
    return out


def encode(hist):
    return hist.encode().decode("ascii")


def decode(text):
    return HdrHistogram.decode(text.encode("ascii") if isinstance(text, str) else text)


def merge(encoded):
    """One histogram from several (locust worker processes, repeated trials)."""
    total = new()
    for text in encoded:
        total.add(decode(text))
    return total
