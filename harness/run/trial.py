"""One trial: a fresh gunicorn, a readiness probe, the load generator's warm-up (discarded),
the measured window with the server's CPU sampled at its edges, then a clean stop."""
import contextlib
from dataclasses import asdict, dataclass

from .. import histogram
from ..errors import FdbenchError
from .generator import load_process
from .sampling import CoreMonitor, ServerSampler
from ..infra.serve import Server, ServeConfig

GENERATOR_BOUND_PCT = 90.0      # locust above this share of its cores: it, not the server, limits
NEAR_CEILING = 0.9              # rps within 10% of the generator's calibrated ceiling
CONTENDED_PCT = 10.0            # others used more than this share of the server's cores


@dataclass
class TrialSpec:
    trial_id: str
    round: int
    order: int
    target: str
    app: str
    variant: str
    scenario: str
    path: str
    mode: str
    users: int
    rate: float | None
    warmup_s: float
    duration_s: float
    workers: int
    worker_class: str
    level: str | None = None       # an alternating trial's load level ('saturation', '75%', ...)
    fraction: float | None = None  # its share of the slower framework's capacity (open loop)


def flags_for(rps, errors, generator_cpu_pct, vanished, ceiling_rps, generator_cores=1,
              cores=None):
    """generator_cores: cores the generator processes could use together (one process: 1);
    their summed CPU is compared with that many cores, the calibrated ceiling scaled by it.
    cores: CoreMonitor's figures for the server's CPUs (None: not measured)."""
    flags = []
    if cores and cores["other_pct"] + cores["steal_pct"] > CONTENDED_PCT:
        flags.append("contended")
    if generator_cpu_pct > GENERATOR_BOUND_PCT * generator_cores:
        flags.append("generator_bound")
    if ceiling_rps and rps >= NEAR_CEILING * ceiling_rps * generator_cores:
        flags.append("near_generator_ceiling")
    if errors:
        flags.append("errors")
    if vanished:
        flags.append("worker_exited")
    return flags


def open_load(spec, url, load_cpus, generators=None):
    return load_process(url, spec.path, spec.users, spec.warmup_s, spec.duration_s, spec.mode,
                        spec.rate, load_cpus, generators)


def measure(spec, servers, load_cpus, db_pids=(), generators=None, server_cpus=()):
    """Drive the load and sample each server, and the DB server apart when we run it; returns
    (a sample per server, DB sample or None, generator result). Several servers: a paired
    trial, the load going to each in turn. A sample's `cores` says what else ran on the server
    CPUs (our servers and DB server are not counted as other)."""
    samplers = [ServerSampler([server.proc.pid]) for server in servers]
    db_sampler = ServerSampler(db_pids) if db_pids else None
    cores = CoreMonitor(server_cpus)
    with open_load(spec, [server.url for server in servers], load_cpus, generators) as load:
        load.expect("measure-start")
        cores.begin()
        for sampler in samplers:
            sampler.begin()
        if db_sampler:
            db_sampler.begin()
        load.expect("measure-end")
        samples = [sampler.end() for sampler in samplers]
        db_sample = db_sampler.end() if db_sampler else None
        ours = sum(s["cpu_s"] for s in samples) + (db_sample["cpu_s"] if db_sample else 0.0)
        shared = cores.end(ours)
        for sample in samples:
            sample["cores"] = shared
        return samples, db_sample, load.expect("result")


def per_request(cpu_s, requests):
    return round(1e6 * cpu_s / requests, 2) if requests and cpu_s is not None else None


def db_cost(db_url, db_sample, sample, requests):
    """DB server CPU apart, and the total a request costs. SQLite runs inside the workers, so
    the total is the server's; an external server we cannot sample leaves the total unknown."""
    if db_sample is not None:
        db_cpu = db_sample["cpu_s"]
        total = sample["cpu_s"] + db_cpu
    else:
        db_cpu = None
        total = sample["cpu_s"] if db_url.startswith("sqlite") else None
    return {"db_cpu_s": None if db_cpu is None else round(db_cpu, 4),
            "db_cpu_us_per_request": per_request(db_cpu, requests),
            "total_cpu_us_per_request": per_request(total, requests)}


def load_fields(spec, result):
    """What the load generator measured: (the record's first fields, histogram, rps)."""
    hist = histogram.decode(result["histogram"])
    elapsed, requests = result["elapsed_s"], result["requests"]
    rps = requests / elapsed if elapsed else 0.0
    return {
        **asdict(spec),
        "duration_s": elapsed,
        "requests": requests,
        "errors": result["errors"],
        "rps": round(rps, 1),
        "latency_us": histogram.summary(hist),
        "latency_locust_ms": result["locust"],
    }, hist, rps


def record_for(spec, server, sample, result, ceiling_rps, db=None):
    """db: db_cost()'s fields, or None when the trial had no DB figures to add."""
    fields, hist, rps = load_fields(spec, result)
    requests = result["requests"]
    master = server.proc.pid
    workers = [round(mb, 1) for pid, mb in sample["rss_mb"].items() if pid != master]
    return {
        **fields,
        "server_cpu_s": round(sample["cpu_s"], 4),
        "server_sys_s": round(sample["sys_s"], 2),
        "cpu_us_per_request": round(1e6 * sample["cpu_s"] / requests, 2) if requests else None,
        **(db or {}),
        "rss_mb": {"master": round(sample["rss_mb"].get(master, 0.0), 1), "workers": workers,
                   "worker_peak": max(workers, default=None)},
        "generator_cpu_pct": result["generator_cpu_pct"],
        "sampler_cpu_s": round(sample["sampler_cpu_s"], 5),
        "server_cores": sample.get("cores"),
        "flags": flags_for(rps, result["errors"], result["generator_cpu_pct"],
                           sample["vanished"], ceiling_rps, generator_cores(result),
                           sample.get("cores")),
        "status": "ok",
        "reason": None,
        **generator_fields(result),
    }, hist


def generator_cores(result):
    return (result.get("generator") or {}).get("cores", 1)


def generator_fields(result):
    """Only a distributed trial says how its load was made (processes, cores, per worker)."""
    return {"generator": result["generator"]} if result.get("generator") else {}


def failed_record(spec, reason):
    return {**asdict(spec), "requests": 0, "errors": None, "rps": None, "latency_us": None,
            "cpu_us_per_request": None, "flags": ["failed"], "status": "failed", "reason": reason}, None


def serve_config(spec, db_url, server_cpus):
    return ServeConfig(app=spec.app, variant=spec.variant, db_url=db_url, workers=spec.workers,
                       worker_class=spec.worker_class, cpus=list(server_cpus))


def run_trial(spec, db_url, server_cpus=(), load_cpus=(), ceiling_rps=None, db_pids=(),
              generators=None):
    """Returns (record, histogram or None). A failure becomes a failed record, not an exception,
    so one broken trial never ends the run; Ctrl-C still propagates. db_pids: the DB server's
    root pids when fdbench runs it, so its CPU counts as part of each request's cost.
    generators: a load.Generators for locust's master/worker mode (None: one process)."""
    try:
        with Server(serve_config(spec, db_url, server_cpus)) as server:
            (sample,), db_sample, result = measure(spec, [server], load_cpus, db_pids, generators,
                                                   server_cpus)
            if server.proc.poll() is not None:
                return failed_record(spec, f"gunicorn master exited: {server.log_tail(3)}")
            db = db_cost(db_url, db_sample, sample, result["requests"])
            record, hist = record_for(spec, server, sample, result, ceiling_rps, db)
            if db_sample and db_sample["vanished"]:  # a backend's CPU time was lost
                record["flags"].append("db_process_exited")
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
