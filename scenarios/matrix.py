"""The scenario matrix: which endpoint each scenario requests, and the profiles that pick
scenarios, windows and rounds.

Adding a scenario is one line in SCENARIOS (a name and the request path) and one in
COST_RATES. It is then available to `fdbench bench --scenarios NAME`; add its name to a
profile to run it by default.
"""
from dataclasses import dataclass, field

from harness.targets import TARGET_NAMES

# name -> path requested (query string included)
SCENARIOS = {
    "json": "/json",
    "plaintext": "/plaintext",
    "db": "/db",
    "queries-1": "/queries?queries=1",
    "queries-5": "/queries?queries=5",
    "queries-20": "/queries?queries=20",
    "fortunes": "/fortunes",
    "updates-5": "/updates?queries=5",
}

# name -> requests per second offered in open-loop ("cost") trials: the same for every app,
# so that CPU-µs per request compares like with like, and low enough that even Django on a
# slow CI runner keeps up (a trial that cannot keep up shows it in its latency and errors).
# A paired trial (the default) shares the rate among the apps it serves side by side.
COST_RATES = {
    "json": 400,
    "plaintext": 400,
    "db": 300,
    "queries-1": 300,
    "queries-5": 150,
    "queries-20": 50,
    "fortunes": 250,
    "updates-5": 60,
}



@dataclass(frozen=True)
class Profile:
    scenarios: tuple
    rounds: int            # each round (alternating: cycle) runs every target once, in a new order
    warmup_s: float        # discarded (alternating: one slice per server per scenario)
    duration_s: float      # measured window (alternating: one slice)
    modes: tuple = ("closed", "open")  # closed: throughput; open: cost at COST_RATES
    closed_rounds: int | None = None   # closed-loop trials only in the first N rounds
    users: int = 16        # connections (closed loop: all busy; open loop: a pool to send from)
    open_loop_fraction: float = 0.0   # >0: also an open-loop trial at this share of capacity
    paired: bool = False   # cost trials of a round and scenario serve all targets side by side
    alternate: bool = True  # one app under load at a time in slices; rounds = cycles of slices
    levels: tuple = (None, 0.75, 0.25)  # saturation, then shares of the slower framework's capacity
    probe_s: float = 1.0   # per scenario and target, a saturated slice counted by perf (syscalls)
    steadiness_s: float = 4.0  # the server CPUs' speedometer before the trials
    instructions: bool = True  # the callgrind pass after the trials (minutes: not in quick)
    cycles: bool = False   # that pass also simulates caches (estimated cycles) and times natively
    static: bool = True        # code size, footprint, layers, security, databases (~1 min)
    budget_min: float = 0.0    # alternating: wall-clock minutes for all the trials; what the
                               # planned cycles leave adds cycles to scenarios still undecided
    targets: tuple = field(default=TARGET_NAMES)
    deployments: tuple = ("gunicorn-sync",)  # harness/infra/deployments.py, measured in turn


PROFILES = {
    # CI-sized: saturation and 75% of capacity for three scenarios, three cycles of 0.5 s
    # slices per level: n=3 pairs allow no 95% interval (at most 75%), and the report says so.
    # No kernel probe (perf takes 1.4 s to let go of its tracepoints, per target and scenario).
    "quick": Profile(scenarios=("json", "db", "fortunes"), rounds=3, warmup_s=0.3,
                     duration_s=0.5, levels=(None, 0.75), probe_s=0.0, steadiness_s=2.0,
                     instructions=False, static=False),
    # make bench: the load ladder (saturation, 75% and 25% of the slower framework's capacity)
    # for six scenarios, ten cycles of 0.5 s slices per level: ten pairs per ratio, enough for
    # an order-statistic 95% interval of the median (plaintext and queries-1 are in `full`).
    # Its planned trials took 495-517 s here (2026-12-03, other tests running beside); a
    # 10-minute budget leaves the undecided scenarios 1.5-2 minutes (a block of 10 cycles of
    # one: about 55 s), and a whole `fdbench bench` (static and instruction passes included)
    # took 12 min 44 s: within the 15 minutes `make bench` is allowed.
    "default": Profile(scenarios=("json", "db", "queries-5", "queries-20", "fortunes", "updates-5"),
                       rounds=10, warmup_s=0.5, duration_s=0.5, budget_min=10.0),
    # Every scenario, a finer ladder, twenty cycles of 1 s slices (3,200 slices: about an hour),
    # then up to half an hour more for the undecided scenarios.
    "full": Profile(scenarios=tuple(SCENARIOS), rounds=20, warmup_s=1.0, duration_s=1.0,
                    levels=(None, 0.9, 0.75, 0.5, 0.25), cycles=True, budget_min=90.0),
    # Does the verdict survive the way people deploy? Flask and Django under every deployment,
    # and under gunicorn's sync workers at its documented (2 x cores) + 1 = 3 per server CPU,
    # on json, db and fortunes, at saturation (capacity) and 75% of the slower one's: about
    # 25 s per deployment and scenario, 8 minutes in all. The verdicts are judged per
    # deployment; the claims table keeps the first (gunicorn-sync).
    "deployments": Profile(scenarios=("json", "db", "fortunes"), rounds=10, warmup_s=0.5,
                           duration_s=0.5, levels=(None, 0.75), probe_s=0.0, instructions=False,
                           static=False, targets=("flask", "django"),
                           deployments=("gunicorn-sync", "gunicorn-sync@3", "gunicorn-gthread",
                                        "granian", "uwsgi", "nginx")),
    # Does a JSON library make either framework faster? Each app beside its orjson variant,
    # alternating within every cycle, on the scenarios that encode JSON (json: one small
    # object; queries-20: a list of 20 rows), at saturation and 75%: about 2 minutes.
    "libraries": Profile(scenarios=("json", "queries-20"), rounds=10, warmup_s=0.5,
                         duration_s=0.5, levels=(None, 0.75), probe_s=0.0, instructions=False,
                         static=False, targets=("flask", "flask-orjson", "django", "django-orjson")),
}