"""One trial: a fresh gunicorn, a readiness probe, the load generator's warm-up (discarded),
the measured window with the server's CPU sampled at its edges, then a clean stop."""
from dataclasses import asdict, dataclass

from . import histogram
from .errors import FdbenchError
from .load import LoadProcess
from .sample import ServerSampler
from .serve import Server, ServeConfig

GENERATOR_BOUND_PCT = 90.0      # locust above this share of a core: it, not the server, limits
NEAR_CEILING = 0.9              # rps within 10% of the generator's calibrated ceiling


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


def flags_for(rps, errors, generator_cpu_pct, vanished, ceiling_rps):
    flags = []
    if generator_cpu_pct > GENERATOR_BOUND_PCT:
        flags.append("generator_bound")
    if ceiling_rps and rps >= NEAR_CEILING * ceiling_rps:
        flags.append("near_generator_ceiling")
    if errors:
        flags.append("errors")
    if vanished:
        flags.append("worker_exited")
    return flags


def measure(spec, server, load_cpus):
    """Drive the load and sample the server; returns (sample, generator result)."""
    sampler = ServerSampler([server.proc.pid])
    with LoadProcess(server.url, spec.path, spec.users, spec.warmup_s, spec.duration_s,
                     spec.mode, spec.rate, load_cpus) as load:
        load.expect("measure-start")
        sampler.begin()
        load.expect("measure-end")
        sample = sampler.end()
        return sample, load.expect("result")


def record_for(spec, server, sample, result, ceiling_rps):
    hist = histogram.decode(result["histogram"])
    elapsed, requests = result["elapsed_s"], result["requests"]
    rps = requests / elapsed if elapsed else 0.0
    master = server.proc.pid
    workers = [round(mb, 1) for pid, mb in sample["rss_mb"].items() if pid != master]
    return {
        **asdict(spec),
        "duration_s": elapsed,
        "requests": requests,
        "errors": result["errors"],
        "rps": round(rps, 1),
        "latency_us": histogram.summary(hist),
        "latency_locust_ms": result["locust"],
        "server_cpu_s": round(sample["cpu_s"], 4),
        "cpu_us_per_request": round(1e6 * sample["cpu_s"] / requests, 2) if requests else None,
        "rss_mb": {"master": round(sample["rss_mb"].get(master, 0.0), 1), "workers": workers,
                   "worker_peak": max(workers, default=None)},
        "generator_cpu_pct": result["generator_cpu_pct"],
        "sampler_cpu_s": round(sample["sampler_cpu_s"], 5),
        "flags": flags_for(rps, result["errors"], result["generator_cpu_pct"],
                           sample["vanished"], ceiling_rps),
        "status": "ok",
        "reason": None,
    }, hist


def failed_record(spec, reason):
    return {**asdict(spec), "requests": 0, "errors": None, "rps": None, "latency_us": None,
            "cpu_us_per_request": None, "flags": ["failed"], "status": "failed", "reason": reason}, None


def run_trial(spec, db_url, server_cpus=(), load_cpus=(), ceiling_rps=None):
    """Returns (record, histogram or None). A failure becomes a failed record, not an exception,
    so one broken trial never ends the run; Ctrl-C still propagates."""
    cfg = ServeConfig(app=spec.app, variant=spec.variant, db_url=db_url, workers=spec.workers,
                      worker_class=spec.worker_class, cpus=list(server_cpus))
    try:
        with Server(cfg) as server:
            sample, result = measure(spec, server, load_cpus)
            if server.proc.poll() is not None:
                return failed_record(spec, f"gunicorn master exited: {server.log_tail(3)}")
            return record_for(spec, server, sample, result, ceiling_rps)
    except FdbenchError as exc:
        return failed_record(spec, str(exc))
