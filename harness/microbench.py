"""Reads pytest-benchmark's JSON (`make microbench`, tests/bench/): each app's WSGI callable
called in-process per endpoint, no network. Gives median µs per call and Flask/Django ratios,
an independent check on the load test's CPU-µs per request."""
BUSY_LOAD = 0.5  # runnable processes besides the benchmark's own above which timings wobble


def summarise(data: dict) -> dict:
    """pytest-benchmark JSON -> {"median_us": {target: {endpoint: µs}}, "ratios": {...}, ...}."""
    median, rounds, timers, load = {}, [], set(), []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        target, endpoint = info.get("target"), info.get("endpoint")
        if target and endpoint:
            median.setdefault(target, {})[endpoint] = bench["stats"]["median"] * 1e6
            rounds.append(bench["stats"]["rounds"])
            timers.add((bench.get("options") or {}).get("timer"))
            load += [info["loadavg"]] if "loadavg" in info else []
    machine = data.get("machine_info") or {}
    return {"median_us": median, "ratios": ratios(median), "machine": machine.get("node"),
            "datetime": data.get("datetime"), "timer": ", ".join(sorted(t for t in timers if t)),
            "min_rounds": min(rounds, default=None), "max_loadavg": max(load, default=None),
            "cores": (machine.get("cpu") or {}).get("count")}


def ratios(median: dict, num="flask", den="django") -> dict:
    """{endpoint: num/den} for every endpoint both targets ran."""
    a, b = median.get(num, {}), median.get(den, {})
    return {e: a[e] / b[e] for e in a if e in b and b[e]}


def busy(summary: dict) -> bool:
    """Did other processes load the machine while the micro-benchmarks ran? The 1-minute load
    average counts the benchmark itself as one."""
    load = summary.get("max_loadavg")
    return load is not None and load - 1 > BUSY_LOAD
