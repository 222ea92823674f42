"""What one trial's record says: the load generator's figures, the server's CPU per request
(and the DB server's apart), memory, and the flags that keep a number out of a verdict. Pure:
samples and the generator's result come in, a trials.jsonl record goes out."""
from dataclasses import asdict

from .. import histogram

GENERATOR_BOUND_PCT = 90.0      # locust above this share of its cores: it, not the server, limits
NEAR_CEILING = 0.9              # rps within 10% of the generator's calibrated ceiling
CONTENDED_PCT = 10.0            # others used more than this share of the server's cores
# Keep-alive trials: more of the requests than this share needed a new connection. The client
# closes its connections only between slices, so a server that keeps them ends none (an idle
# timeout needs a user idle for seconds, a worker restart is rare); one that caps requests per
# connection at N ends requests/N (nginx's old keepalive_requests default, 100, is this 1%, its
# current 1000 is 0.1%). A new connection cost gunicorn gthread 55-110 CPU-us here (one-shot
# against keep-alive client, baseline /json at 190-320 us a request), so 1% adds about 1 us,
# under 1% of the cheapest request: far inside the per-pair noise. Above it, the trial no
# longer measures the keep-alive regime it is labelled with.
SERVER_CLOSED_SHARE = 0.01


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
        "server_kernel": sample.get("kernel"),
        "cpu_us_per_request": round(1e6 * sample["cpu_s"] / requests, 2) if requests else None,
        **(db or {}),
        "rss_mb": {"master": round(sample["rss_mb"].get(master, 0.0), 1), "workers": workers,
                   "worker_peak": max(workers, default=None)},
        "generator_cpu_pct": result["generator_cpu_pct"],
        "sampler_cpu_s": round(sample["sampler_cpu_s"], 5),
        "server_cores": sample.get("cores"),
        "flags": flags_for(rps, result["errors"], result["generator_cpu_pct"],
                           sample["vanished"], ceiling_rps, generator_cores(result),
                           sample.get("cores")) + keepalive_flags(result),
        "status": "ok",
        "reason": None,
        **generator_fields(result),
        **connection_fields(result),
    }, hist


def generator_cores(result):
    return (result.get("generator") or {}).get("cores", 1)


def generator_fields(result):
    """Only a distributed trial says how its load was made (processes, cores, per worker)."""
    return {"generator": result["generator"]} if result.get("generator") else {}


def connection_fields(result):
    """Only a keep-alive trial says how its connections went (the one-shot client opens one
    per request by design): opened, lost to the server (reconnects), requests sent again."""
    if "connections" not in result:
        return {}
    opened = result["connections"]
    return {"keepalive": True, "connections": opened, "reconnects": result["reconnects"],
            "retries": result["retries"],
            "requests_per_connection": round(result["requests"] / opened, 1) if opened else None}


def keepalive_flags(result):
    """`server_closed_keepalive`: the server ended connections it was expected to keep."""
    if "connections" in result and result["reconnects"] > SERVER_CLOSED_SHARE * result["requests"]:
        return ["server_closed_keepalive"]
    return []


def failed_record(spec, reason):
    return {**asdict(spec), "requests": 0, "errors": None, "rps": None, "latency_us": None,
            "cpu_us_per_request": None, "flags": ["failed"], "status": "failed", "reason": reason}, None
