"""`fdbench calibrate`: the highest rate the load generator drives on its CPUs against the
cheapest server there is (the bare WSGI app's /json), beside wrk's on the same server when wrk
is installed. Runs of the two take turns, so the VM's drift falls on both alike. Trials whose
throughput comes near this ceiling measure the generator, not the app, and are flagged."""
import datetime as dt
import json
import re
import shutil
import statistics
import subprocess

from ..errors import FdbenchError
from ..infra import db as dbmod
from ..infra import fingerprint, reaper
from ..infra.serve import Server, ServeConfig
from ..paths import VAR
from ..store import write_atomic
from .alternate import AlternatingLoad
from .config import split_cpus

TURNS = 3


def wrk_rps(url, users, duration_s, cpus):
    """wrk's requests/s (one thread, `users` connections), pinned to the load CPUs."""
    cmd = ["wrk", "-t1", f"-c{users}", f"-d{duration_s:g}s", url]
    with reaper.starting():
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=reaper.child_setup(cpus))
        reaper.track(proc.pid)
    try:
        out, err = proc.communicate(timeout=duration_s + 30)
    finally:
        reaper.kill(proc.pid)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if proc.returncode or not found:
        raise FdbenchError(f"wrk failed: {(err or out).strip()[-200:]}")
    return float(found.group(1))


def calibrate(duration_s=5.0, users=16):
    server_cpus, load_cpus = split_cpus()
    url = dbmod.resolve_url("sqlite")
    dbmod.ensure(url)
    wrk = shutil.which("wrk")
    lean, by_wrk, generator_pct = [], [], []
    config = ServeConfig(app="baseline", variant="default", db_url=url,
                         workers=len(server_cpus), cpus=list(server_cpus))
    with Server(config) as server, AlternatingLoad([server.url], "/json", users, load_cpus) as load:
        load.ready()
        load.slice(0, 1.0)  # warm-up
        for _ in range(TURNS):
            result = load.slice(0, duration_s)
            if result["errors"]:
                raise FdbenchError(f"calibration: {result['errors']} errors from the bare WSGI app")
            lean.append(result["requests"] / result["elapsed_s"])
            generator_pct.append(result["generator_cpu_pct"])
            if wrk:
                by_wrk.append(wrk_rps(server.url + "/json", users, duration_s, load_cpus))
    ceiling = statistics.median(lean)
    result = {
        "ceiling_rps": round(ceiling, 1), "runs_rps": [round(r, 1) for r in lean],
        "generator_cpu_pct": statistics.median(generator_pct),
        "wrk_rps": round(statistics.median(by_wrk), 1) if by_wrk else None,
        "wrk_runs_rps": by_wrk,
        "of_wrk": round(ceiling / statistics.median(by_wrk), 3) if by_wrk else None,
        "path": "/json", "users": users, "server": "baseline, gunicorn sync",
        "server_cpus": server_cpus, "load_cpus": load_cpus, "machine": fingerprint.machine(),
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    VAR.mkdir(parents=True, exist_ok=True)
    path = VAR / "calibration.json"
    write_atomic(path, json.dumps(result, indent=2) + "\n")
    return result | {"path": str(path)}
