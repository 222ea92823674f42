"""From a config to the list of trials, in the order they run: apps interleaved within each
round and the order rotated between rounds (A B C, B C A, ...), so a slow drift of the machine
never lands on one app alone."""
from dataclasses import dataclass, replace

from scenarios.matrix import COST_RATES, SCENARIOS

from ..infra.deployments import DEFAULT as DEFAULT_DEPLOYMENT
from ..targets import TARGETS


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
    deployment: str = DEFAULT_DEPLOYMENT   # how the app is served (infra/deployments.py)


def rotate(items, n):
    n %= len(items)
    return items[n:] + items[:n]


def planned_trials(cfg):
    """The planned trials: closed-loop (throughput) and fixed-rate (cost) ones, by round."""
    if cfg.alternate:
        return alternating_trials(cfg)
    specs = []
    for rnd in range(cfg.rounds):
        for mode in cfg.modes:
            if mode == "closed" and cfg.closed_rounds is not None and rnd >= cfg.closed_rounds:
                continue
            for scenario in cfg.scenarios:
                for target in rotate(list(cfg.targets), rnd):
                    specs.append(spec_for(cfg, rnd, mode, scenario, target, len(specs)))
    return specs


def cycle_order(items, cycle):
    """The order of one cycle's slices: as given, reversed every other cycle."""
    return list(items) if cycle % 2 == 0 else list(reversed(items))


def alternating_trials(cfg):
    """Per scenario, level and cycle a slice of every target, the order reversed every other
    cycle (A B C D, D C B A, ...) so that a linear drift of the machine cancels over two
    cycles. The rates of open-loop levels are set when the run has measured the capacities."""
    specs = []
    for deployment in cfg.deployments:
        for scenario in cfg.scenarios:
            specs += scenario_slices(cfg, scenario, range(cfg.rounds), cfg.targets, cfg.levels,
                                     first_order=len(specs), deployment=deployment)
    return specs


def more_slices(cfg, scenario, first_cycle, cycles, targets, rates, first_order=0):
    """`cycles` more cycles of one scenario, numbered on from `first_cycle` (so a pair stays
    within its cycle and every id is new), at the open-loop rates the run already used:
    `rates` maps a fraction to its requests/s; a level without a stored rate is left out."""
    return scenario_slices(cfg, scenario, range(first_cycle, first_cycle + cycles), targets,
                           rated_levels(cfg, rates), first_order, rates, cfg.deployments[0])


def rated_levels(cfg, rates):
    """The run's levels that extra cycles can repeat: saturation, and each open-loop level
    with a rate (`rates`: fraction -> requests/s) to offer again."""
    return [f for f in cfg.levels if f is None or rates.get(f)]


def scenario_slices(cfg, scenario, cycles, targets, levels, first_order=0, rates=None,
                    deployment=DEFAULT_DEPLOYMENT):
    """One scenario's slices: levels as given (saturation first), then cycles, then targets in
    the cycle's order. `rates`: fraction -> requests/s already known (else set at run time).
    A deployment other than the default names its slices (the default's ids stay as they were)."""
    from .alternate import level_name

    prefix = "" if deployment == DEFAULT_DEPLOYMENT else f"{deployment}-"
    specs = []
    for fraction in levels:
        level = level_name(fraction)
        for cycle in cycles:
            for target in cycle_order(targets, cycle):
                app, variant = TARGETS[target]
                specs.append(TrialSpec(
                    trial_id=f"{prefix}{scenario}-{level}-c{cycle}-{target}", round=cycle,
                    order=first_order + len(specs), target=target, app=app, variant=variant,
                    scenario=scenario, path=SCENARIOS[scenario],
                    mode="closed" if fraction is None else "open", users=cfg.users,
                    rate=(rates or {}).get(fraction), warmup_s=cfg.warmup_s,
                    duration_s=cfg.duration_s, workers=cfg.workers,
                    worker_class=cfg.worker_class, level=level, fraction=fraction,
                    deployment=deployment))
    return specs


def cost_rate(cfg, scenario):
    """The scenario's fixed rate; a paired trial shares it among its targets, so the server
    CPU is as busy as in a trial of one app."""
    share = len(cfg.targets) if cfg.paired and len(cfg.targets) > 1 else 1
    return round(COST_RATES[scenario] / share, 1)


def spec_for(cfg, rnd, mode, scenario, target, order):
    app, variant = TARGETS[target]
    rate = cost_rate(cfg, scenario) if mode == "open" else None
    prefix = f"r{rnd}" if mode == "closed" else f"r{rnd}-cost"
    return TrialSpec(
        trial_id=f"{prefix}-{scenario}-{target}", round=rnd, order=order, target=target,
        app=app, variant=variant, scenario=scenario, path=SCENARIOS[scenario], mode=mode,
        users=cfg.users, rate=rate, warmup_s=cfg.warmup_s, duration_s=cfg.duration_s,
        workers=cfg.workers, worker_class=cfg.worker_class)


def open_loop_trials(cfg, closed, capacity):
    """One open-loop trial per (scenario, target) at a share of its measured capacity."""
    specs = []
    for spec in closed:
        key = (spec.scenario, spec.target)
        if spec.round != 0 or spec.mode != "closed" or not capacity.get(key):
            continue
        rate = round(cfg.open_loop_fraction * capacity[key], 1)
        specs.append(replace(spec, trial_id=f"open-{spec.scenario}-{spec.target}", round=0,
                             order=len(closed) + len(specs), mode="open", rate=rate))
    return specs
