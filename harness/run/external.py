"""Trials against an app fdbench did not start (`fdbench bench --target URL`), served by
`fdbench serve` on this machine or, through an SSH tunnel, on another one. There is no gunicorn
of ours to sample, so server CPU, CPU-µs per request and RSS stay empty and the trial says why:
nothing is estimated. The load still goes only to this machine's loopback (as run/loadgen.py
insists): `ssh -L 8000:127.0.0.1:8000 apphost` makes another host's app answer on it."""
import urllib.request
from urllib.parse import urlsplit

from ..errors import FdbenchError
from .records import failed_record, flags_for, generator_cores, generator_fields, load_fields
from .trial import open_load

LOOPBACK = ("127.0.0.1", "localhost", "::1")  # the same rule as loadgen's
NOT_SAMPLED = "server_not_sampled"
REASON = "served elsewhere (--target): server CPU and memory not measured, no CPU-µs/request"


def check_url(url):
    """A loopback http URL, or one clear error saying how to reach another host."""
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        raise FdbenchError(f"--target {url!r} has a bad port") from None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise FdbenchError(f"--target must be a loopback URL such as http://127.0.0.1:8000, not "
                           f"{url!r}: load only goes to this machine's loopback; reach another host "
                           "through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 apphost), see README")
    return url.rstrip("/")


def probe(url, timeout=5.0):
    try:
        with urllib.request.urlopen(url + "/json", timeout=timeout) as resp:
            if resp.status == 200:
                return
    except OSError:
        pass
    raise FdbenchError(f"nothing answers at {url}/json: start the app there with "
                       "`fdbench serve APP --port N` (or its SSH tunnel) first")


def run_target_trial(spec, url, load_cpus=(), ceiling_rps=None, generators=None):
    """Returns (record, histogram or None), as trial.run_trial does."""
    try:
        with open_load(spec, url, load_cpus, generators) as load:
            load.expect("measure-end")
            result = load.expect("result")
    except FdbenchError as exc:
        return failed_record(spec, str(exc))
    fields, hist, rps = load_fields(spec, result)
    flags = flags_for(rps, result["errors"], result["generator_cpu_pct"], [], ceiling_rps,
                      generator_cores(result))
    return {
        **fields,
        "server_url": url,
        "server_cpu_s": None,
        "cpu_us_per_request": None,
        "rss_mb": None,
        "generator_cpu_pct": result["generator_cpu_pct"],
        "flags": flags + [NOT_SAMPLED],
        "status": "ok",
        "reason": REASON,
        **generator_fields(result),
    }, hist
