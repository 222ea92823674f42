"""Reads pytest-benchmark's JSON (`make microbench`, tests/bench/): each app's WSGI callable
called in-process per endpoint, no network. Gives median µs per call and Flask/Django ratios,
an independent check on the load test's CPU-µs per request."""


def summarise(data: dict) -> dict:
    """pytest-benchmark JSON -> {"median_us": {target: {endpoint: µs}}, "ratios": {...}}."""
    median = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        target, endpoint = info.get("target"), info.get("endpoint")
        if target and endpoint:
            median.setdefault(target, {})[endpoint] = bench["stats"]["median"] * 1e6
    return {"median_us": median, "ratios": ratios(median),
            "machine": (data.get("machine_info") or {}).get("node"), "datetime": data.get("datetime")}


def ratios(median: dict, num="flask", den="django") -> dict:
    """{endpoint: num/den} for every endpoint both targets ran."""
    a, b = median.get(num, {}), median.get(den, {})
    return {e: a[e] / b[e] for e in a if e in b and b[e]}
