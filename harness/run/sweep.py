"""`fdbench scaling`: how each app's throughput grows with gunicorn workers (1, 2, 4) and
worker class (sync, gthread), and how its latency grows with offered load (open loop at
25/50/75/90% of its measured capacity).

A point that needs more cores than the server gets is skipped, with the reason stored in
run.json, never run oversubscribed: a second worker on the same core measures time-slicing,
not scaling. Each sweep point is its own scenario name (`db@2w-gthread`), so the stats never
pool trials of different server configurations. At each point the apps are served together and
loaded one at a time in alternating slices (run/alternate.py: A B, B A, ...), so each round
gives a Flask/Django pair measured moments apart, whose efficiencies the scalability claim
compares round by round."""
import os
from dataclasses import asdict, dataclass

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from scenarios.matrix import SCENARIOS

from ..analysis.sweep_stats import capacity, point_name
from ..infra import db as dbmod
from ..store import Run
from ..targets import TARGETS
from .alternate import SATURATION, level_name
from .bench import ceiling_rps, console, run_meta, run_specs
from .config import RunShape, check_numbers, choose, split_cpus
from .plan import TrialSpec, cycle_order

WORKERS = (1, 2, 4)
WORKER_CLASSES = ("sync", "gthread")
LOAD_FRACTIONS = (0.25, 0.5, 0.75, 0.9)
# The claim's interval is a t-interval over rounds: at 2 rounds its quantile is 12.7, at 10
# it is 2.26 (and the design asks for at least 10 pairs per case by default).
ROUNDS = 10


@dataclass(frozen=True)
class ScalingConfig(RunShape):
    workers: tuple = WORKERS
    worker_classes: tuple = WORKER_CLASSES
    fractions: tuple = LOAD_FRACTIONS


def make_config(targets=None, scenarios=None, repeat=None, warmup=None, duration=None, users=None):
    check_numbers(repeat, warmup, duration, users)
    server_cpus, load_cpus = sweep_cpus()
    return ScalingConfig(
        profile="scaling",
        targets=choose("app", targets or ("flask", "django"), TARGETS),
        scenarios=choose("scenario", scenarios or ("db",), SCENARIOS),
        rounds=repeat or ROUNDS,
        warmup_s=1.0 if warmup is None else warmup,
        duration_s=duration or 3.0,
        users=users or 16,
        server_cpus=server_cpus,
        load_cpus=load_cpus,
        alternate=True,
    )


def sweep_cpus():
    """All CPUs but one for the server, the last for the load generator: the sweep runs one
    generator process, which uses one core, so every other core can take a worker."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 3:  # the same split as bench's
        return split_cpus()
    return tuple(cpus[:-1]), tuple(cpus[-1:])


def points(cfg):
    """(feasible points, skipped points with the reason) of the worker sweep."""
    cores = len(cfg.server_cpus)
    machine = len(set(cfg.server_cpus) | set(cfg.load_cpus))
    feasible, skipped = [], []
    for workers in cfg.workers:
        for worker_class in cfg.worker_classes:
            point = {"workers": workers, "worker_class": worker_class}
            if workers > cores:
                skipped.append(point | {"cores_needed": workers + 1, "reason": (
                    f"{workers} workers need {workers} server cores and one for the load "
                    f"generator, {workers + 1} cores in all; this machine has "
                    f"{machine}, {cores} of them for the server")})
            else:
                feasible.append(point)
    return feasible, skipped


def load_point(feasible):
    """Where latency vs offered load is measured: every server core busy, sync workers."""
    sync = [p for p in feasible if p["worker_class"] == "sync"] or feasible
    return max(sync, key=lambda p: p["workers"])


def _spec(cfg, trial_id, order, rnd, scenario, target, point, level, mode="closed", rate=None):
    app, variant = TARGETS[target]
    return TrialSpec(
        trial_id=trial_id, round=rnd, order=order, target=target, app=app, variant=variant,
        scenario=f"{scenario}@{point_name(**point)}", path=SCENARIOS[scenario], mode=mode,
        users=cfg.users, rate=rate, warmup_s=cfg.warmup_s, duration_s=cfg.duration_s,
        workers=point["workers"], worker_class=point["worker_class"], level=level)


def closed_trials(cfg, feasible):
    """Throughput per point: its rounds one after another, each a slice per target, the order
    reversed every other round (plan.cycle_order), so a linear drift cancels over two rounds.
    The specs of one point and scenario are adjacent: `bench.run_specs` runs them as one
    alternating batch."""
    specs = []
    for point in feasible:
        for scenario in cfg.scenarios:
            for rnd in range(cfg.rounds):
                for target in cycle_order(cfg.targets, rnd):
                    tid = f"r{rnd}-{scenario}@{point_name(**point)}-{target}"
                    specs.append(_spec(cfg, tid, len(specs), rnd, scenario, target, point,
                                       SATURATION))
    return specs


def open_trials(cfg, point, capacities, first_order):
    """Open loop at each fraction of the app's own capacity at `point` (the rate is set here,
    not by the alternating runner's ladder, which offers every app the slower one's rate)."""
    specs = []
    for scenario in cfg.scenarios:
        for step, fraction in enumerate(cfg.fractions):
            for target in cycle_order(cfg.targets, step):
                cap = capacities.get((f"{scenario}@{point_name(**point)}", target))
                if not cap:
                    continue
                tid = f"load{round(fraction * 100)}-{scenario}@{point_name(**point)}-{target}"
                specs.append(_spec(cfg, tid, first_order + len(specs), 0, scenario, target, point,
                                   level_name(fraction), mode="open",
                                   rate=round(fraction * cap, 1)))
    return specs


def meta(cfg, feasible, skipped):
    """What run.json records about the sweep, so the report can say what was skipped and why."""
    return {"points": feasible, "skipped": skipped, "fractions": list(cfg.fractions),
            "load_point": load_point(feasible), "config": asdict(cfg)}


def run(cfg, db_url, out_dir, db_pids=()):
    """Closed-loop sweep, then open loop at the load point; returns the stored Run."""
    feasible, skipped = points(cfg)
    dbmod.ensure(db_url)
    stored = Run.create(out_dir, run_meta(cfg, db_url, bool(db_pids)) | {"scaling": meta(cfg, feasible, skipped)})
    for point in skipped:
        console.print(f"[yellow]skipped {point_name(point['workers'], point['worker_class'])}:[/] {point['reason']}")
    closed = closed_trials(cfg, feasible)
    status = "partial"
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=console) as progress:
            task = progress.add_task("scaling", total=len(closed))
            run_specs(stored, closed, db_url, cfg, ceiling_rps(), progress, task, db_pids)
            capacities = capacity(stored.trials())
            opened = open_trials(cfg, load_point(feasible), capacities, len(closed))
            progress.update(task, total=len(closed) + len(opened))
            run_specs(stored, opened, db_url, cfg, ceiling_rps(), progress, task, db_pids)
        stored.meta["scaling"]["capacity_rps"] = {f"{s}|{t}": v for (s, t), v in capacities.items()}
        status = "complete"
    finally:
        stored.finish(status)
    return stored
