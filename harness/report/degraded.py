"""What made a run's figures less trustworthy, in words: run.json, trials.jsonl and the report
keep every flag, but the terminal at the end of `fdbench bench` is what a user reads."""
import json
import shutil
from collections import Counter

from ..analysis import steadiness
from ..store import Run

# Each trial flag, as "N of M trials ..." reads, with what it costs the figures.
TRIAL_FLAGS = {
    "failed": "failed: they have no figures (see the table above for why)",
    "errors": "got non-2xx responses or connection errors",
    "contended": "shared the server CPUs with other work or the hypervisor (over 10%): "
                 "their CPU-µs are inflated",
    "generator_bound": "were limited by the load generator (over 90% of its cores): their "
                       "throughput is the generator's, not the server's",
    "near_generator_ceiling": "ran within 10% of the generator's calibrated ceiling",
    "worker_exited": "lost a gunicorn worker during the window",
    "db_process_exited": "lost a database server process during the window (runs before reaped backends were counted)",
    "server_not_sampled": "loaded a server bench did not start: no server CPU or memory",
}


def warnings(run_path, instructions_wanted=False):
    """One line per thing that degraded the run at `run_path`; [] when nothing did.
    `instructions_wanted`: the instruction pass was asked for, so its absence is news."""
    run = Run.open(run_path)
    lines = []
    if run.meta.get("status") != "complete":
        lines.append(f"the run is {run.meta.get('status')}: `fdbench bench --resume {run.path}` "
                     "runs the missing trials")
    trials = run.trials()
    seen = Counter(flag for t in trials for flag in set(t.get("flags") or []))
    for flag in [f for f in TRIAL_FLAGS if f in seen] + sorted(set(seen) - set(TRIAL_FLAGS)):
        why = TRIAL_FLAGS.get(flag, "were flagged")
        lines.append(f"{seen[flag]} of {len(trials)} trials {why} ({flag})")
    unsteady = steadiness.warning(run.meta.get("steadiness"))
    if unsteady:
        lines.append(unsteady)
    return lines + instruction_warnings(run, instructions_wanted)


def instruction_warnings(run, wanted):
    path = run.path / "instructions.json"
    if not path.exists():
        if not wanted:
            return []
        if shutil.which("valgrind") is None:
            return ["no instruction counts: valgrind is not installed (`make system-deps`)"]
        return ["no instruction counts: the callgrind pass did not finish"]
    facts = json.loads(path.read_text())
    lines = []
    if not facts.get("clock_frozen"):
        lines.append("instruction counts taken with the clock running (libfaketime not "
                     "installed: `make system-deps`): they may move between runs")
    if not facts.get("aslr_disabled"):
        lines.append("instruction counts taken with address randomisation on (`setarch -R` "
                     "refused here): they may move between runs")
    return lines
