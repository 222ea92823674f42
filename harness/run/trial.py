"""One trial: a fresh gunicorn, a readiness probe, the load generator's warm-up (discarded),
the measured window with the server's CPU sampled at its edges, then a clean stop."""
import contextlib

from ..errors import FdbenchError
from ..infra.deployments import DEFAULT as DEFAULT_DEPLOYMENT
from ..infra.serve import Server, ServeConfig
from .generator import load_process
from .records import db_cost, failed_record, record_for
from .sampling import Window


def open_load(spec, url, load_cpus, generators=None):
    return load_process(url, spec.path, spec.users, spec.warmup_s, spec.duration_s, spec.mode,
                        spec.rate, load_cpus, generators)


def measure(spec, servers, load_cpus, db_pids=(), generators=None, server_cpus=()):
    """Drive the load and sample each server, and the DB server apart when we run it; returns
    (a sample per server, DB sample or None, generator result). Several servers: a paired
    trial, the load going to each in turn. A sample's `cores` says what else ran on the server
    CPUs (our servers and DB server are not counted as other)."""
    window = Window([server.pids for server in servers], db_pids, server_cpus)
    with open_load(spec, [server.url for server in servers], load_cpus, generators) as load:
        load.expect("measure-start")
        window.begin()
        load.expect("measure-end")
        samples, db_sample = window.end()
        return samples, db_sample, load.expect("result")


def serve_config(spec, db_url, server_cpus):
    return ServeConfig(app=spec.app, variant=spec.variant, db_url=db_url, workers=spec.workers,
                       worker_class=spec.worker_class, cpus=list(server_cpus),
                       deployment=getattr(spec, "deployment", DEFAULT_DEPLOYMENT))


def run_trial(spec, db_url, server_cpus=(), load_cpus=(), ceiling_rps=None, db_pids=(),
              generators=None):
    """Returns (record, histogram or None). A failure becomes a failed record, not an exception,
    so one broken trial never ends the run; Ctrl-C still propagates. db_pids: the DB server's
    root pids when fdbench runs it, so its CPU counts as part of each request's cost.
    generators: a generator.Generators for locust's master/worker mode (None: one process)."""
    try:
        with Server(serve_config(spec, db_url, server_cpus)) as server:
            (sample,), db_sample, result = measure(spec, [server], load_cpus, db_pids, generators,
                                                   server_cpus)
            if server.proc.poll() is not None:
                return failed_record(spec, f"gunicorn master exited: {server.log_tail(3)}")
            db = db_cost(db_url, db_sample, sample, result["requests"])
            record, hist = record_for(spec, server, sample, result, ceiling_rps, db)
            return record, hist
    except FdbenchError as exc:
        return failed_record(spec, str(exc))


def run_paired(specs, db_url, server_cpus=(), load_cpus=(), ceiling_rps=None):
    """One open-loop trial of several targets at once: all served side by side on the server
    CPUs, the load going to each in turn at the same rate. The machine's speed drifts by more
    than 10% within seconds on a shared VM; servers measured in the same window drift alike,
    so their ratio holds (the spread of Django/Flask CPU-µs per request over three quick runs
    fell from 12-21% to 1.7-2.8% here). Returns a (record, histogram) per spec, in order."""
    records = {}
    try:
        with contextlib.ExitStack() as stack:
            running = []
            for spec in specs:  # one app that cannot start fails alone
                try:
                    running.append((spec, stack.enter_context(Server(serve_config(spec, db_url, server_cpus)))))
                except FdbenchError as exc:
                    records[spec.trial_id] = failed_record(spec, str(exc))
            if running:
                servers = [server for _, server in running]
                samples, _, result = measure(specs[0], servers, load_cpus, server_cpus=server_cpus)
                names = [spec.target for spec, _ in running]
                per_server = result.get("servers") or [{}]  # one server: the totals are its own
                for (spec, server), sample, mine in zip(running, samples, per_server):
                    records[spec.trial_id] = paired_record(
                        spec, server, sample, {**result, **mine, "locust": None}, ceiling_rps, db_url, names)
    except FdbenchError as exc:
        for spec in specs:
            records.setdefault(spec.trial_id, failed_record(spec, str(exc)))
    return [records[spec.trial_id] for spec in specs]


def paired_record(spec, server, sample, result, ceiling_rps, db_url, targets):
    if server.proc.poll() is not None:
        return failed_record(spec, f"gunicorn master exited: {server.log_tail(3)}")
    db = db_cost(db_url, None, sample, result["requests"])
    record, hist = record_for(spec, server, sample, result, ceiling_rps, db)
    record["paired_with"] = [t for t in targets if t != spec.target]
    return record, hist
