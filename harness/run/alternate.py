"""Cost with one app under load at a time. Every target of a scenario is served at once (an
idle server sleeps) and the load goes to one of them per slice, in the order A B C D, D C B A,
A B C D, ... A cycle's slices see nearly the same moments of the machine, so a ratio of two apps
within one cycle cancels the VM's drift (more than 10% within seconds here) without the
co-residency of a paired trial, where each request found caches warmed by another app.

The load ladder is measured per scenario: saturation first (closed loop, which also gives each
app's capacity), then open-loop levels at fractions of the slower framework's capacity, the same
rate for every app."""
import json
import subprocess
import time
from contextlib import ExitStack
from dataclasses import replace

from ..analysis import sweep_stats
from ..errors import FdbenchError
from ..infra import deployments
from ..infra.serve import Server
from ..targets import FRAMEWORKS  # the slower of these sets the ladder
from . import kernel_probe
from .generator import LoadProcess
from .records import db_cost, failed_record, record_for
from .sampling import Window
from .trial import serve_config

SATURATION = "saturation"


def level_name(fraction):
    """None (closed loop) -> 'saturation'; 0.75 -> '75%'."""
    return SATURATION if fraction is None else f"{fraction:.0%}"


class AlternatingLoad(LoadProcess):
    """The lean generator, told slice by slice which server to load (`--alternate`)."""

    stdin = subprocess.PIPE

    def __init__(self, urls, path, users, cpus=(), keepalive=False):
        super().__init__(list(urls), path, users, 0.0, 1.0, "closed", None, cpus,
                         keepalive=keepalive)
        self.args.append("--alternate")

    def ready(self):
        self.expect("ready")

    def slice(self, server, seconds, rate=None):
        """Load one server for `seconds` (closed loop, or `rate` requests/s); its figures."""
        self.deadline = time.monotonic() + seconds + 60
        self.proc.stdin.write(json.dumps({"server": server, "seconds": seconds, "rate": rate}) + "\n")
        self.proc.stdin.flush()
        return self.expect("slice")

    def stop(self):
        if self.proc is not None and self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()  # the generator's cue to quit
            except OSError:
                pass
        super().stop()


def ladder_rate(capacity, fraction):
    """Requests/s at `fraction` of the slower framework's measured capacity (of the slowest
    target when no framework ran), the same for every app; None without a capacity."""
    frameworks = [rps for target, rps in capacity.items() if target in FRAMEWORKS and rps]
    basis = min(frameworks or [rps for rps in capacity.values() if rps], default=0.0)
    return round(fraction * basis, 1) if basis > 0 else None


def capacity_of(records):
    """Median rps of each target's usable saturation slices (one scenario's)."""
    return {target: rps for (_, target), rps in sweep_stats.capacity(records).items()}


def measure_slice(load, index, server, seconds, rate, server_cpus, db_pids=()):
    """One slice: the server is idle before and after it (the generator drains its requests),
    so sampling its CPU at those moments counts exactly that slice's work; the DB server's too,
    since no other app sends it queries meanwhile. Returns (sample, DB sample or None, result)."""
    window = Window([server.pids], db_pids, server_cpus)
    window.begin()
    result = load.slice(index, seconds, rate)
    (sample,), db_sample = window.end()
    return sample, db_sample, result


def run_scenario(specs, db_url, server_cpus=(), load_cpus=(), ceiling_rps=None, warmup_s=1.0,
                 db_pids=(), probe_s=0.0, on_probe=None):
    """Yields a (record, histogram) per spec as its slice ends, in the specs' order (levels
    as planned, saturation first). Specs of open-loop levels carry `fraction`; their rate is
    set here from the capacities just measured, unless the spec has one (extra cycles keep the
    rates of the run's planned ones). A target that cannot start fails alone.
    `probe_s`: then one more saturated slice per target, counted by perf (run/kernel_probe.py),
    handed to `on_probe(record)`."""
    targets = list(dict.fromkeys(spec.target for spec in specs))
    with ExitStack() as stack:
        running, failed = {}, {}
        for target in targets:
            first = next(s for s in specs if s.target == target)
            try:
                running[target] = stack.enter_context(Server(serve_config(first, db_url, server_cpus)))
            except FdbenchError as exc:
                failed[target] = str(exc)
        order = list(running)
        if order:
            keepalive = deployments.get(specs[0].deployment).keep_alive
            load = stack.enter_context(AlternatingLoad(
                [running[t].url for t in order], specs[0].path, specs[0].users, load_cpus,
                keepalive))
            load.ready()
            for index in range(len(order)):  # warm every server up, discarded
                load.slice(index, warmup_s)
        saturated, rates, served_by = [], {}, {}
        for spec in specs:
            if spec.target in failed:
                yield failed_record(spec, failed[spec.target])
                continue
            if spec.fraction is not None and spec.rate is None:
                if spec.fraction not in rates:
                    rates[spec.fraction] = ladder_rate(capacity_of(saturated), spec.fraction)
                rate = rates[spec.fraction]
                if not rate:
                    yield failed_record(spec, "no capacity measured at saturation to set the rate")
                    continue
                spec = replace(spec, rate=rate)
            server = running[spec.target]
            sample, db_sample, result = measure_slice(load, order.index(spec.target), server,
                                                      spec.duration_s, spec.rate, server_cpus,
                                                      db_pids)
            if server.proc.poll() is not None:
                yield failed_record(spec, f"{server.deployment.process} exited: {server.log_tail(3)}")
                continue
            record, hist = record_for(spec, server, sample, result, ceiling_rps,
                                      db_cost(db_url, db_sample, sample, result["requests"]))
            record["alternated_with"] = [t for t in order if t != spec.target]
            if spec.target not in served_by:
                served_by[spec.target] = server.describe()
            record["served_by"] = served_by[spec.target]
            if spec.mode == "closed":
                saturated.append(record)
            yield record, hist
        if probe_s and on_probe:
            for target in order:
                on_probe(probe_record(load, order.index(target), target, running[target],
                                      specs[0], probe_s))
        for server in running.values():
            server.interrupt()


def probe_record(load, index, target, server, spec, seconds):
    """One target's kernel probe (a saturated slice with perf attached), as kernel.jsonl holds it."""
    figures, reason = kernel_probe.probe(lambda s: load.slice(index, s),
                                         kernel_probe.server_pids(server.proc.pid), seconds)
    return {"scenario": spec.scenario, "deployment": spec.deployment, "target": target, "path": spec.path,
            **(figures or {"reason": reason})}
