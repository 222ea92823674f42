"""Reads pytest-benchmark's JSON (`make microbench`, tests/bench/): each app's WSGI callable
called in-process per endpoint, no network. Gives µs per call and Flask/Django ratios, an
independent check on the load test's CPU-µs per request.

The figure per call is the fastest of the calls (at least 100): on a shared VM noise only ever
adds time, and it comes in phases that can cover one app's calls and not the other's. Two quiet
runs here gave /fortunes Django/Flask 0.69 and 1.14 by their medians, 1.12 and 1.12 by their
minimums."""
from ..targets import ENDPOINTS  # the paths tests/bench/ times

STATISTIC = "min"  # of pytest-benchmark's stats


def summarise(data: dict) -> dict:
    """pytest-benchmark JSON -> {"us_per_call": {target: {endpoint: µs}}, "ratios": {...}, ...}."""
    per_call, paths, rounds, timers, load = {}, {}, [], set(), []
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info") or {}
        target, endpoint = info.get("target"), info.get("endpoint")
        if target and endpoint:
            per_call.setdefault(target, {})[endpoint] = bench["stats"][STATISTIC] * 1e6
            paths[endpoint] = info.get("path") or ENDPOINTS.get(endpoint)
            rounds.append(bench["stats"]["rounds"])
            timers.add((bench.get("options") or {}).get("timer"))
            load += [info["loadavg"]] if "loadavg" in info else []
    machine = data.get("machine_info") or {}
    return {"us_per_call": per_call, "statistic": STATISTIC, "ratios": ratios(per_call), "paths": paths,
            "machine": machine.get("node"), "datetime": data.get("datetime"),
            "timer": ", ".join(sorted(t for t in timers if t)), "min_rounds": min(rounds, default=None),
            "max_loadavg": max(load, default=None), "cores": (machine.get("cpu") or {}).get("count")}


def ratios(per_call: dict, num="flask", den="django") -> dict:
    """{endpoint: num/den} for every endpoint both targets ran."""
    a, b = per_call.get(num, {}), per_call.get(den, {})
    return {e: a[e] / b[e] for e in a if e in b and b[e]}
