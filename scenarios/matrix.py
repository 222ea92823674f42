"""The scenario matrix: which endpoint each scenario requests, and the profiles that pick
scenarios, windows and rounds.

Adding a scenario is one line in SCENARIOS (a name and the request path) and one in
COST_RATES. It is then available to `fdbench bench --scenarios NAME`; add its name to a
profile to run it by default.
"""
from dataclasses import dataclass, field

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

# target -> (app, variant): what a trial serves
TARGETS = {
    "flask": ("flask", "default"),
    "django": ("django", "default"),
    "django-stripped": ("django", "stripped"),
    "baseline": ("baseline", "default"),
}


@dataclass(frozen=True)
class Profile:
    scenarios: tuple
    rounds: int            # each round runs every (scenario, target) once, in a new order
    warmup_s: float        # discarded
    duration_s: float      # measured window
    modes: tuple = ("closed", "open")  # closed: throughput; open: cost at COST_RATES
    closed_rounds: int | None = None   # closed-loop trials only in the first N rounds
    users: int = 16        # connections (closed loop: all busy; open loop: a pool to send from)
    open_loop_fraction: float = 0.0   # >0: also an open-loop trial at this share of capacity
    paired: bool = True    # cost trials of a round and scenario serve all targets side by side
    instructions: bool = True  # the callgrind pass after the trials (minutes: not in quick)
    static: bool = True        # code size, footprint, layers, security, databases (~1 min)
    targets: tuple = field(default=tuple(TARGETS))


PROFILES = {
    # CI-sized: the cost (CPU-µs per request at a fixed rate) of three scenarios, one round,
    # all apps paired in each window. 6 s windows: Django/Flask spread 1.7-2.8% over three
    # runs (3 s windows: 2.5-3.2%), about 45 s for the whole run on 2 cores.
    "quick": Profile(scenarios=("json", "db", "fortunes"), rounds=1, warmup_s=1.0,
                     duration_s=6.0, modes=("open",), instructions=False, static=False),
    # make bench: throughput and cost, interleaved rounds, in about 15 minutes on 2 cores
    # (plaintext and queries-1 tell little that json and db do not: they are in `full`).
    # Cost (the verdicts' metric) in 3 rounds, enough for a confidence interval; throughput once.
    "default": Profile(scenarios=("json", "db", "queries-5", "queries-20", "fortunes", "updates-5"),
                       rounds=3, closed_rounds=1, warmup_s=1.0, duration_s=3.0),
    # Longer windows, five rounds, and open-loop latency at half of each app's capacity.
    "full": Profile(scenarios=tuple(SCENARIOS), rounds=5, warmup_s=2.0, duration_s=8.0,
                    open_loop_fraction=0.5),
}
