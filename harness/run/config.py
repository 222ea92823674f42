"""What a run decides before its first trial: the profile and the command line's overrides,
checked into one frozen config (bench's or the scaling sweep's), and the split of the CPUs
between the server and the load generator. A resumed run takes its stored config back."""
import os
from dataclasses import KW_ONLY, MISSING, dataclass, fields

from scenarios.matrix import PROFILES, SCENARIOS

from ..errors import FdbenchError
from ..infra import deployments as deployment_defs
from ..infra.deployments import DEFAULT as DEFAULT_DEPLOYMENT
from ..infra.serve import WORKER_CLASSES
from ..targets import TARGETS
from .external import check_url

MAX_USERS = 1024


@dataclass(frozen=True)
class RunShape:
    """What every kind of run (bench, scaling) decides before its first trial."""
    profile: str
    targets: tuple
    scenarios: tuple
    rounds: int
    warmup_s: float
    duration_s: float
    users: int
    server_cpus: tuple
    load_cpus: tuple
    _: KW_ONLY
    generator_processes: int = 1      # local locust processes; above 1: master/worker mode
    locust_workers: int = 0           # workers joining from other machines (needs target_url)
    master_port: int | None = None    # where those workers join
    target_url: str | None = None     # an app served elsewhere (loopback/tunnel): no gunicorn of ours
    paired: bool = False              # cost trials serve every target at once, sharing the rate
    alternate: bool = False           # one app under load at a time, in slices (run/alternate.py)
    levels: tuple = ()                # alternating: None (saturation) and fractions of capacity
    probe_s: float = 0.0              # alternating: a perf-counted slice per target (run/kernel_probe.py)
    steadiness_s: float = 4.0         # the server CPUs' speedometer before the trials (run/steadiness.py)
    deployments: tuple = (DEFAULT_DEPLOYMENT,)  # how the apps are served, each measured in turn


@dataclass(frozen=True)
class BenchConfig(RunShape):
    workers: int
    worker_class: str
    modes: tuple
    open_loop_fraction: float
    closed_rounds: int | None = None  # closed-loop trials only in the first N rounds (None: all)
    budget_s: float = 0.0             # alternating: wall-clock cap of all trials (adaptive cycles)
    precision_pct: float | None = None  # adaptive cycles also until every interval is this narrow


def split_cpus():
    """Server on the first half of the usable CPUs, load generator on the rest."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return tuple(cpus), tuple(cpus)
    half = len(cpus) // 2
    return tuple(cpus[:half]), tuple(cpus[half:])


def check_numbers(repeat, warmup, duration, users):
    """The command-line numbers every run shares; None means the profile's own."""
    for name, value in (("--repeat", repeat), ("--users", users)):
        if value is not None and value < 1:
            raise FdbenchError(f"{name} must be at least 1, not {value}")
    if warmup is not None and not 0 <= warmup <= 600:
        raise FdbenchError(f"--warmup must be between 0 and 600 seconds, not {warmup}")
    if duration is not None and not 0 < duration <= 600:
        raise FdbenchError(f"--duration must be above 0 and at most 600 seconds, not {duration}")
    if users is not None and users > MAX_USERS:  # the load generator's own bound
        raise FdbenchError(f"--users must be at most {MAX_USERS}, not {users}")


def adaptive_options(budget_min, precision, alternate, default_min):
    """--budget (minutes) and --precision, checked; the profile's budget where none is given.
    Extra cycles are alternating ones: a paired, separate or --target run gets none."""
    if budget_min is not None and not 0 <= budget_min <= 24 * 60:
        raise FdbenchError(f"--budget must be between 0 and 1440 minutes, not {budget_min:g}")
    if precision is not None and not 0 < precision < 100:
        raise FdbenchError(f"--precision must be above 0 and below 100 percent, not {precision:g}")
    if not alternate:
        if budget_min or precision:
            raise FdbenchError("--budget and --precision add alternating cycles: not with "
                               "--paired, --separate, --target or --generator-processes")
        return {"budget_s": 0.0, "precision_pct": None}
    minutes = default_min if budget_min is None else budget_min
    return {"budget_s": round(60.0 * minutes, 1), "precision_pct": precision}


def choose(kind, asked, known):
    if not asked:
        raise FdbenchError(f"no {kind} given: choose from {', '.join(known)}")
    unknown = [a for a in asked if a not in known]
    if unknown:
        raise FdbenchError(f"unknown {kind} {unknown[0]!r}: choose from {', '.join(known)}")
    return tuple(asked)


def load_options(processes, remote, port, target, targets, users):
    """--generator-processes, --locust-workers, --master-port and --target, checked."""
    if not 1 <= processes <= 64:
        raise FdbenchError(f"--generator-processes must be between 1 and 64, not {processes}")
    if remote < 0:
        raise FdbenchError(f"--locust-workers must be at least 0, not {remote}")
    if remote and not target:
        raise FdbenchError("--locust-workers needs --target: workers on other machines reach the "
                           "app through their own SSH tunnel to a fixed port")
    if users < processes + remote:
        raise FdbenchError(f"--users ({users}) must be at least the number of locust workers "
                           f"({processes + remote})")
    if target and (targets is None or len(targets) != 1):
        raise FdbenchError("--target needs --apps naming the one app that URL serves")
    return {"generator_processes": processes, "locust_workers": remote,
            "master_port": port if remote else None,
            "target_url": check_url(target) if target else None}


def make_config(profile="default", targets=None, scenarios=None, repeat=None, warmup=None,
                duration=None, users=None, workers=None, worker_class="sync", modes=None,
                generator_processes=1, locust_workers=0, master_port=5557, target=None,
                paired=None, budget=None, precision=None, deployments=None):
    if profile not in PROFILES:
        raise FdbenchError(f"unknown profile {profile!r}: choose from {', '.join(PROFILES)}")
    p = PROFILES[profile]
    check_numbers(repeat, warmup, duration, users)
    if workers is not None and workers < 1:
        raise FdbenchError(f"--workers must be at least 1, not {workers}")
    for mode in modes or ():
        if mode not in ("closed", "open"):
            raise FdbenchError(f"unknown mode {mode!r}: choose from closed, open")
    if worker_class not in WORKER_CLASSES:
        raise FdbenchError(f"unknown worker class {worker_class!r}: choose from {', '.join(WORKER_CLASSES)}")
    alternate = p.alternate and paired is None and generator_processes == 1 and not target
    deployments = tuple(p.deployments if deployments is None else deployments)
    if not deployments:
        raise FdbenchError(f"no deployment given: choose from {', '.join(deployment_defs.DEPLOYMENTS)}")
    for name in deployments:
        deployment_defs.get(name)  # an unknown name or a bad @N says so before any trial
    if deployments != (DEFAULT_DEPLOYMENT,) and not alternate:
        raise FdbenchError("--deployments needs an alternating run (not --paired, --separate, "
                           "--target or several generator processes)")
    if modes and alternate:
        raise FdbenchError("--modes applies to --paired or --separate trials: alternating runs "
                           "measure their load ladder (saturation, then shares of capacity)")
    server_cpus, load_cpus = split_cpus()
    return BenchConfig(
        profile=profile,
        targets=choose("app", p.targets if targets is None else targets, TARGETS),
        scenarios=choose("scenario", p.scenarios if scenarios is None else scenarios, SCENARIOS),
        rounds=repeat or p.rounds,
        warmup_s=p.warmup_s if warmup is None else warmup,
        duration_s=duration or p.duration_s,
        users=users or p.users,
        workers=workers or len(server_cpus),
        worker_class=worker_class,
        modes=modes or p.modes,
        open_loop_fraction=p.open_loop_fraction,
        server_cpus=server_cpus,
        load_cpus=load_cpus,
        closed_rounds=p.closed_rounds if repeat is None else None,  # --repeat: every round
        # one locust process with one server each: a paired or alternating trial needs both
        paired=(p.paired if paired is None else paired) and generator_processes == 1 and not target,
        alternate=alternate,
        levels=p.levels,
        probe_s=p.probe_s if alternate else 0.0,
        steadiness_s=p.steadiness_s,
        deployments=deployments,
        **adaptive_options(budget, precision, alternate, p.budget_min),
        **load_options(generator_processes, locust_workers, master_port, target, targets,
                       users or p.users),
    )


def stored_config(config):
    """The BenchConfig a run recorded in run.json: `--resume` plans that run's trials, not
    whatever the command line would plan now."""
    names = {f.name for f in fields(BenchConfig)}
    required = {f.name for f in fields(BenchConfig) if f.default is MISSING}
    if not isinstance(config, dict) or required - set(config):
        raise FdbenchError("run.json holds no complete bench config: this run cannot be resumed")
    return BenchConfig(**{k: tuple(v) if isinstance(v, list) else v
                          for k, v in config.items() if k in names})
