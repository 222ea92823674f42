"""`fdbench calibrate`: the highest rate the load generator drives on its CPUs, against the
cheapest server there is (the bare WSGI app's /plaintext). Trials whose throughput comes near
this ceiling measure the generator, not the app, and are flagged."""
import datetime as dt
import json

from . import db as dbmod
from . import fingerprint
from .paths import VAR
from .plan import split_cpus
from .store import write_atomic
from .trial import TrialSpec, run_trial


def calibrate(duration_s=5.0, users=32):
    server_cpus, load_cpus = split_cpus()
    url = dbmod.resolve_url("sqlite")
    dbmod.ensure(url)
    spec = TrialSpec("calibrate", 0, 0, "baseline", "baseline", "default", "plaintext",
                     "/plaintext", "closed", users, None, 1.0, duration_s, len(server_cpus), "sync")
    record, _ = run_trial(spec, url, server_cpus, load_cpus)
    if record["status"] != "ok":
        from .errors import FdbenchError
        raise FdbenchError(f"calibration trial failed: {record['reason']}")
    result = {
        "ceiling_rps": record["rps"],
        "generator_cpu_pct": record["generator_cpu_pct"],
        "server_cpu_pct": 100 * record["server_cpu_s"] / record["duration_s"],
        "users": users, "server_cpus": server_cpus, "load_cpus": load_cpus,
        "machine": fingerprint.machine(),
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "calibration.json"
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    return result | {"path": str(path)}
