"""Estimated cycles (callgrind's cache simulation), the same requests timed natively, the kernel's
counters per trial, and the decomposition of a served request that sets them side by side.
Real callgrind, real processes; the decomposition's arithmetic on numbers chosen here."""
import json
import math
import os
import subprocess
import sys

import pandas as pd
import pytest

from harness.analysis import decomposition
from harness.analysis.evidence import Evidence, load_run
from harness.measure import cache, instructions as instr, native
from harness.report.html import render
from harness.run import kernel_probe
from harness.run.sampling import kernel_counters
from tests.runfactory import write_run

needs_valgrind = pytest.mark.usefixtures("valgrind")

TOTALS = {"Ir": 1000, "Dr": 400, "Dw": 200, "I1mr": 10, "D1mr": 20, "D1mw": 10, "ILmr": 2,
          "DLmr": 3, "DLmw": 1, "Bc": 150, "Bcm": 9, "Bi": 10, "Bim": 1}


def test_estimated_cycles_weigh_hits_by_level():
    d = cache.derived(TOTALS)
    assert d["l1_hits"] == 1600 - 40 and d["ll_hits"] == 40 - 6 and d["ram"] == 6
    assert d["estimated_cycles"] == 1560 + 5 * 34 + 35 * 6
    assert (d["branches"], d["mispredicted"]) == (160, 10)


def test_per_request_subtracts_the_empty_phase():
    empty = dict.fromkeys(TOTALS, 0)
    with_ = {k: 10 * v for k, v in TOTALS.items()}
    assert cache.per_request(empty, with_, 10) == cache.derived(TOTALS)


def test_cache_options_are_fixed_caches_valgrind_accepts():
    """valgrind rejects a cache whose sets are not a power of two; the options name all three."""
    for size, ways, line in cache.CACHES.values():
        sets = size // (ways * line)
        assert sets & (sets - 1) == 0
    assert {o.split("=")[0] for o in cache.VALGRIND_OPTIONS} >= {"--I1", "--D1", "--LL", "--cache-sim"}


@needs_valgrind
def test_cache_simulation_repeats_and_keeps_counts_close():
    """Two simulated runs give the same estimated cycles, and the simulation leaves the counts
    close to a plain run's. Not always equal: one CI machine counted baseline /json 41,785
    per request simulated and 41,689 plain (0.23%), while this VM counts the same in both.
    The cause is not established; a likely one is valgrind's own memory use, larger with the
    simulation, moving where the client's memory lands, and dicts keyed by address (json's
    circular check) probing differently."""
    plain = instr.measure(["baseline"], ["/json"], requests=3)
    simulated = [instr.measure(["baseline"], ["/json"], requests=3, cache_sim=True) for _ in range(2)]
    a, b = (run["counts"][0] for run in simulated)
    p = plain["counts"][0]
    for sim, ref in ((a, p), (a["served"], p["served"])):
        assert math.isclose(sim["instructions_per_request"], ref["instructions_per_request"], rel_tol=0.01), \
            (sim["instructions_per_request"], ref["instructions_per_request"])
    exact = simulated[0]["aslr_disabled"] and simulated[0]["clock_frozen"]
    for x, y in ((a["cache"], b["cache"]), (a["served"]["cache"], b["served"]["cache"])):
        assert x["estimated_cycles"] > 0 and x["l1_hits"] > x["ll_hits"] >= x["ram"]
        if exact:
            assert x == y, (x, y)
        else:
            assert math.isclose(x["estimated_cycles"], y["estimated_cycles"], rel_tol=1e-3)
    assert "cache" not in plain["counts"][0]
    assert simulated[0]["cache_sim"]["weights"] == {"l1_hits": 1, "ll_hits": 5, "ram": 35}


def test_native_timing_runs_the_same_driver_and_alternates_targets():
    seen = []
    data = native.measure(["baseline", "flask"], ["/json", "/db"], requests=20, phases=3, rounds=2,
                          progress=lambda target, number: seen.append((target, number)))
    assert seen == [("baseline", 0), ("flask", 0), ("flask", 1), ("baseline", 1)]
    assert len(data["timings"]) == 8
    for t in data["timings"]:
        assert len(t["phases_us"]) == 3 and t["us_per_request"] == min(t["phases_us"]) > 0
        # through gunicorn's worker on real sockets: the same requests and more work around them
        assert t["served_us_per_request"] == min(t["served_phases_us"]) > t["us_per_request"]
    by = {(t["target"], t["endpoint"]): t["us_per_request"] for t in data["timings"] if t["round"] == 0}
    assert by[("flask", "/json")] > by[("baseline", "/json")]  # a framework does more than a bare app


def test_a_failing_app_is_one_clear_error(tmp_path):
    broken = instr.Target("broken", "baseline", "default", "nowhere:app", str(tmp_path))
    with pytest.raises(instr.FdbenchError, match="native timing of broken failed"):
        native.measure([broken], ["/json"], requests=2, phases=1, rounds=1)


def test_kernel_counters_sum_every_thread():
    before = kernel_counters([_Self()])
    sum(range(3_000_000))
    after = kernel_counters([_Self()])
    assert after["user_s"] >= before["user_s"] and after["user_s"] + after["sys_s"] > 0
    assert after["ctx_voluntary"] >= before["ctx_voluntary"] >= 0
    assert kernel_counters([_Gone()]) == dict.fromkeys(before, 0)


class _Self:
    pid = os.getpid()


class _Gone:
    pid = 2 ** 22 + 7  # above pid_max's default: no such process


def test_perf_stat_output_is_parsed_per_request():
    text = ("# started on Tue\n\n"
            "12.5,msec,task-clock,12500000,100.00,,\n"
            "40,,context-switches,12500000,100.00,,\n"
            "<not counted>,,page-faults,0,0.00,,\n"
            "1500,,raw_syscalls:sys_enter,12500000,100.00,,\n"
            "100,,syscalls:sys_enter_accept4,12500000,100.00,,\n"
            "0,,syscalls:sys_enter_select,12500000,100.00,,\n")
    counts = kernel_probe.parse(text)
    assert "page-faults" not in counts and counts["raw_syscalls:sys_enter"] == 1500
    figures = kernel_probe.per_request(counts, 100)
    assert figures["syscalls"] == 15 and figures["by_syscall"] == {"accept4": 1.0}
    assert figures["task_clock_us"] == 125.0 and figures["context_switches"] == 0.4


def test_a_machine_without_perf_gets_a_reason_not_a_failure(monkeypatch):
    monkeypatch.setattr(kernel_probe, "unavailable", lambda: "perf not installed")
    figures, reason = kernel_probe.probe(lambda s: pytest.fail("no slice without perf"), [1], 0.1)
    assert figures is None and reason == "perf not installed"


# --- the decomposition, on numbers chosen here --------------------------------------------

SERVED = {"flask": 600.0, "django": 700.0, "baseline": 300.0}
NATIVE = {"flask": 400.0, "django": 420.0, "baseline": 60.0}
CYCLES = {"flask": (1_000_000, 1_600_000), "django": (1_500_000, 2_100_000),
          "baseline": (100_000, 700_000)}  # (in-process, served) estimated cycles


def decomposed_run(path):
    write_run(path, costs={t: v for t, v in SERVED.items()}, scenarios=("json",), spread=0.0)
    lines = []
    for line in (path / "trials.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["target"] in SERVED:
            seconds = t["cpu_us_per_request"] * t["requests"] / 1e6
            t.update(level="saturation", server_kernel={
                "user_s": 0.8 * seconds, "sys_s": 0.2 * seconds, "minflt": 0, "majflt": 0,
                "ctx_voluntary": t["requests"], "ctx_involuntary": 0})
            lines.append(json.dumps(t))
    (path / "trials.jsonl").write_text("\n".join(lines) + "\n")
    counts = [{"target": t, "endpoint": "/json", "instructions_per_request": c // 2,
               "cache": {"estimated_cycles": c}, "served": {"instructions_per_request": s // 2,
                                                            "cache": {"estimated_cycles": s}}}
              for t, (c, s) in CYCLES.items()]
    (path / "instructions.json").write_text(json.dumps({"schema": 1, "counts": counts}))
    timings = [{"target": t, "endpoint": "/json", "round": r, "us_per_request": v + r,
                "served_us_per_request": 2 * v + r} for t, v in NATIVE.items() for r in (-1, 0, 1)]
    (path / "native.json").write_text(json.dumps({"schema": 1, "timings": timings}))
    (path / "kernel.jsonl").write_text(json.dumps(
        {"scenario": "json", "target": "flask", "path": "/json", "per_request": {"syscalls": 15.0}}) + "\n")
    return path


def test_the_parts_add_up_with_gunicorn_priced_on_the_baseline(tmp_path):
    rows = {r["target"]: r for r in decomposition.rows(load_run(decomposed_run(tmp_path / "run")))}
    # baseline: user 240 µs, of it 60 in-process: gunicorn's 600,000 cycles take 180 µs
    ns = 1000 * (0.8 * 300 - 60) / 600_000
    for target in ("flask", "django"):
        r = rows[target]
        assert math.isclose(r["kernel_us"], 0.2 * SERVED[target])
        assert math.isclose(r["gunicorn_us"], ns * 600_000 / 1000)
        assert math.isclose(r["predicted_us"], NATIVE[target] + 180 + 0.2 * SERVED[target])
        assert math.isclose(r["ns_per_cycle"], 1000 * NATIVE[target] / CYCLES[target][0])
        assert r["ctx_voluntary"] == 1.0
    assert rows["flask"]["syscalls"] == 15.0 and rows["django"]["syscalls"] is None
    ratio = decomposition.ratios(list(rows.values()))["/json"]
    predicted = (420 + 180 + 140) / (400 + 180 + 120)
    assert math.isclose(ratio["predicted_us"], predicted)
    assert math.isclose(ratio["residual"], (700 / 600) / predicted - 1)
    assert math.isclose(ratio["cycles"], 1.5)
    simulated = (ns * 2_100_000 / 1000 + 140) / (ns * 1_600_000 / 1000 + 120)
    assert math.isclose(ratio["simulated_residual"], (700 / 600) / simulated - 1)
    assert math.isclose(ratio["served_native_us"], 840 / 800)


def test_no_decomposition_without_native_timings(tmp_path):
    path = decomposed_run(tmp_path / "run")
    (path / "native.json").unlink()
    assert decomposition.rows(load_run(path)) == []


def test_report_shows_where_the_time_goes(tmp_path):
    path = decomposed_run(tmp_path / "run")
    html = render([path], tmp_path / "report").read_text()
    assert 'id="decomposition"' in html and "Django / Flask, part by part" in html
    bare = write_run(tmp_path / "plain", scenarios=("json",))
    assert 'id="decomposition"' not in render([bare], tmp_path / "report2").read_text()
