"""`fdbench bench`: run the planned trials with a progress bar, storing each one as it
finishes, so that Ctrl-C (or a crash) leaves a `partial` run that `--resume` can complete; and,
block by block, extra alternating cycles of one scenario (the adaptive phase, pipeline.py)."""
import itertools
import json
import time
from dataclasses import asdict, replace

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..analysis import run_spread, sweep_stats
from ..infra import db as dbmod
from ..infra.deployments import DEFAULT as DEFAULT_DEPLOYMENT
from ..infra import fingerprint, reaper
from ..paths import VAR
from ..store import Run
from ..targets import FRAMEWORKS
from . import steadiness
from .alternate import run_scenario
from .config import stored_config
from .external import probe, run_target_trial
from .generator import Generators
from .plan import more_slices, open_loop_trials, planned_trials, rated_levels
from .trial import run_paired, run_trial

console = Console(stderr=True)
CALIBRATION = VAR / "calibration.json"


def ceiling_rps():
    """The generator's own ceiling from `fdbench calibrate`, if it was run on this machine."""
    try:
        data = json.loads(CALIBRATION.read_text())
    except (OSError, ValueError):
        return None
    same_machine = data.get("machine", {}).get("host") == fingerprint.machine()["host"]
    return data.get("ceiling_rps") if same_machine else None


def run_meta(cfg, db_url, throwaway=False):
    """What the run was measured on, the server CPUs' steadiness included (a few seconds)."""
    env = fingerprint.collect()
    if cfg.target_url:  # the served app's database is its own; bench never sees it
        db = {"served_by": cfg.target_url, "note": "the app's own database, not seen by bench"}
    else:
        db = dbmod.describe(db_url) | {"throwaway_cluster": throwaway,
                                       "cpus": list(cfg.server_cpus) if throwaway else None}
    steady = None if cfg.target_url else steadiness.probe(cfg.server_cpus, cfg.steadiness_s)
    spread = run_spread.for_host(env["machine"]["host"])
    return {"profile": cfg.profile, "config": asdict(cfg) | {"db_url": db_url}, "db": db,
            "steadiness": steady, "run_spread": asdict(spread), **env}


def batches(specs, cfg):
    """Specs that run as one trial: alternating, a scenario's slices; with pairing, a round's
    cost trials of one scenario (same rate); every other spec alone."""
    def key(spec):
        if cfg.alternate:
            return (spec.deployment, spec.scenario)
        if cfg.paired and spec.mode == "open":
            return (spec.round, spec.scenario, spec.rate)
        return (spec.trial_id,)
    return [list(group) for _, group in itertools.groupby(specs, key)]


def run_alternating(run, batch, db_url, cfg, ceiling, progress, task, db_pids):
    """A scenario's slices, each stored as it ends. A scenario cut short runs again whole on
    resume (its rates come from capacities measured in the same sitting), so its earlier slices
    are dropped first. How long it took is kept: the adaptive cycles are planned from it."""
    run.drop_trials({spec.trial_id for spec in batch})
    scenario, deployment = batch[0].scenario, batch[0].deployment
    progress.update(task, description=f"{scenario:<11} alternating")
    run.drop_lines("kernel.jsonl", lambda line: line.get("scenario") == scenario
                   and line.get("deployment", DEFAULT_DEPLOYMENT) == deployment)
    timing = store_slices(run, batch, db_url, cfg, ceiling, db_pids, progress, task, cfg.probe_s)
    if deployment == cfg.deployments[0]:  # the adaptive cycles are the first deployment's
        keep_timing(run, scenario, timing, planned_s=timing["wall_s"])


def store_slices(run, specs, db_url, cfg, ceiling, db_pids, progress, task, probe_s=0.0):
    """Run one scenario's slices (run_scenario), storing each as it ends. Returns its timing:
    `wall_s` in all, `setup_s` before the first slice (servers, warm-up), `slice_s` per slice."""
    started = time.monotonic()
    ended = []
    for record, hist in run_scenario(specs, db_url, cfg.server_cpus, cfg.load_cpus, ceiling,
                                     cfg.warmup_s, db_pids, probe_s,
                                     lambda probe: run.add_line("kernel.jsonl", probe)):
        reaper.check()  # a slice cut short by Ctrl-C is not stored
        ended.append(time.monotonic())
        run.add_trial(record, hist)
        if record["status"] != "ok":
            console.print(f"[red]trial {record['trial_id']} failed:[/] {record['reason']}")
        served = "" if record["deployment"] == DEFAULT_DEPLOYMENT else f"{record['deployment']} "
        progress.update(task, description=f"{served}{record['scenario']:<11} {record['level']:<10} "
                                          f"{record['target']:<16} cycle {record['round'] + 1}")
        progress.advance(task)
    wall = time.monotonic() - started
    if not ended:
        return {"wall_s": round(wall, 1), "setup_s": round(wall, 1), "slice_s": None}
    slice_s = (ended[-1] - ended[0]) / (len(ended) - 1) if len(ended) > 1 else cfg.duration_s
    return {"wall_s": round(wall, 1), "setup_s": round(max(ended[0] - started - slice_s, 0.0), 2),
            "slice_s": round(slice_s, 3)}


def adaptive_entry(run, scenario=None):
    """run.json's `adaptive` entry (docs/results-format.md), or one scenario's part of it."""
    entry = run.meta.setdefault("adaptive", {})
    return entry.setdefault("scenarios", {}).setdefault(scenario, {}) if scenario else entry


def keep_timing(run, scenario, timing, **more):
    """A scenario's latest per-slice timing (and `more`) into run.json, to plan from."""
    if timing["slice_s"]:
        adaptive_entry(run, scenario).update(setup_s=timing["setup_s"], slice_s=timing["slice_s"])
    adaptive_entry(run, scenario).update(more)
    run.save()


def extra_targets(cfg):
    """The targets of extra cycles: the frameworks (no verdict needs the bare WSGI baseline)."""
    return [t for t in cfg.targets if t in FRAMEWORKS]


def stored_rates(run, scenario):
    """fraction -> the requests/s the run's open-loop slices of `scenario` were offered."""
    return {t["fraction"]: t["rate"] for t in run.trials()
            if t.get("scenario") == scenario and t.get("fraction") is not None and t.get("rate")}


def block_estimate(run, cfg, scenario, cycles, blocks=1):
    """Seconds `cycles` more cycles of `scenario` in `blocks` blocks should take, from how long
    its slices and its servers' start took so far (the planned cycles, then the latest block);
    a scenario never timed counts its slices' length alone."""
    timing = adaptive_entry(run, scenario)
    levels = rated_levels(cfg, stored_rates(run, scenario))
    slices = cycles * len(levels) * len(extra_targets(cfg))
    return blocks * timing.get("setup_s", 0.0) + slices * timing.get("slice_s", cfg.duration_s)


def cycles_of(run, scenario):
    """The cycles a scenario has: its rounds with a usable slice."""
    return len({t["round"] for t in run.trials()
                if t.get("scenario") == scenario and t.get("status") == "ok"})


def more_cycles(run, scenario, cycles, db_url, cfg, db_pids=()):
    """`cycles` more alternating cycles of one scenario into the run, as the planned ones ran
    (every level, one framework under load at a time, the order reversed every other cycle),
    numbered on after the run's last cycle and at the rates its open-loop levels already used.
    Returns the block's timing (store_slices)."""
    stored = [t for t in run.trials() if t.get("scenario") == scenario]
    first = 1 + max((t["round"] for t in stored), default=-1)
    order = 1 + max((t.get("order", 0) for t in run.trials()), default=-1)
    specs = more_slices(cfg, scenario, first, cycles, extra_targets(cfg),
                        stored_rates(run, scenario), order)
    with progress_bar() as progress:
        task = progress.add_task(f"{scenario:<11} +{cycles} cycles", total=len(specs))
        timing = store_slices(run, specs, db_url, cfg, ceiling_rps(), db_pids, progress, task)
    keep_timing(run, scenario, timing)
    return timing


def progress_bar():
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console)


def run_specs(run, specs, db_url, cfg, ceiling, progress, task, db_pids=()):
    done = {t["trial_id"] for t in run.trials() if t.get("status") == "ok"}
    for batch in batches(specs, cfg):
        todo = [spec for spec in batch if spec.trial_id not in done]
        if todo and cfg.alternate:  # a scenario cut short runs again whole
            run_alternating(run, batch, db_url, cfg, ceiling, progress, task, db_pids)
            continue
        progress.advance(task, len(batch) - len(todo))
        if not todo:
            continue
        names = todo[0].target if len(todo) == 1 else "+".join(s.target for s in todo)
        progress.update(task, description=f"{todo[0].scenario:<11} {names:<16} round {todo[0].round + 1}")
        reaper.check()
        if len(todo) > 1:
            results = run_paired(todo, db_url, cfg.server_cpus, cfg.load_cpus, ceiling)
        else:
            results = [one_trial(todo[0], db_url, cfg, ceiling, db_pids)]
        reaper.check()  # a trial cut short by Ctrl-C is not stored
        for record, hist in results:
            run.add_trial(record, hist)
            if record["status"] != "ok":
                console.print(f"[red]trial {record['trial_id']} failed:[/] {record['reason']}")
        progress.advance(task, len(todo))


def one_trial(spec, db_url, cfg, ceiling, db_pids):
    """A trial on a fresh gunicorn of ours, or against --target; one or several generators."""
    generators = Generators(cfg.generator_processes, cfg.locust_workers, cfg.master_port)
    if cfg.target_url:
        return run_target_trial(spec, cfg.target_url, cfg.load_cpus, ceiling, generators)
    return run_trial(spec, db_url, cfg.server_cpus, cfg.load_cpus, ceiling, db_pids, generators)


def bench(cfg, db_url, out_dir, resume=None, db_pids=()):
    """Run the whole matrix into a run folder; returns the Run (complete or partial).
    db_pids: the throwaway PostgreSQL's postmaster, whose CPU each trial records apart."""
    if cfg.target_url:
        probe(cfg.target_url)
    else:
        dbmod.ensure(db_url)
    if db_pids and cfg.paired:  # one DB server for all: its CPU could not be split per app
        # (alternating slices can: one app at a time sends it queries)
        cfg = replace(cfg, paired=False)
    run = Run.reopen(resume) if resume else Run.create(out_dir, run_meta(cfg, db_url, bool(db_pids)))
    if resume:
        cfg = stored_config(run.meta.get("config"))  # the run's own matrix
    run.trials(warn=lambda msg: console.print(f"[yellow]{msg}: that trial runs again[/]"))
    closed = planned_trials(cfg)
    total = len(closed) * (2 if cfg.open_loop_fraction else 1)
    ceiling = ceiling_rps()
    status = "partial"
    try:
        with progress_bar() as progress:
            task = progress.add_task("starting", total=total)
            run_specs(run, closed, db_url, cfg, ceiling, progress, task, db_pids)
            if cfg.open_loop_fraction:
                opened = open_loop_trials(cfg, closed, sweep_stats.capacity(run.trials()))
                progress.update(task, total=len(closed) + len(opened))
                run_specs(run, opened, db_url, cfg, ceiling, progress, task, db_pids)
        status = "complete"
    finally:
        run.finish(status)
    return run
