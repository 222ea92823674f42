"""Which scenarios still need cycles, and how many, for the cost verdicts to decide
(docs/verdicts.md § Precision). A scenario's simultaneous interval that straddles a margin
(1, the trivial margin, the modest margin, on either side) leaves a verdict open; the cycles it
would take to clear it are planned from the spread its own pairs show, so a run on a noisy
machine asks for more; the run-to-run spread is a floor no cycle narrows. A scenario whose
estimate sits on a margin (or nearer it than that floor allows) would need cycles without end:
it is reported, not chased."""
import math
from dataclasses import dataclass

from scipy import stats as sps

from ..analysis.ratios import scenario_of
from .margins import MODEST, TRIVIAL
from .speed import DJANGO_FLASK, family

BOUNDS = (1 / MODEST, 1 / TRIVIAL, 1.0, TRIVIAL, MODEST)
NEVER = 10 ** 6   # the cycles of a scenario no number of cycles decides


@dataclass(frozen=True)
class Need:
    scenario: str
    cycles: int          # cycles per level in all that would decide it (at the current spread)
    have: int            # cycles per level it has
    why: str

    @property
    def more(self) -> int:
        return max(self.cycles - self.have, 0)


def needs(ev, precision_pct: float | None = None) -> list[Need]:
    """Scenarios whose Django/Flask interval is still open (or wider than ±precision_pct), the
    cheapest to decide first."""
    fam = family(ev, DJANGO_FLASK)
    out = []
    for scenario, r in fam.scenarios.items():
        if r.se is None:
            continue
        levels = sum(1 for c in fam.cases if scenario_of(c) == scenario) or 1
        have = max(round(r.n / levels), 1)   # pairs per level: a flagged slice drops one
        low, high = fam.scenario_interval(scenario)
        open_at = [b for b in BOUNDS if low < b < high]
        # the open bound farthest from the estimate is the cheapest to clear: planned first, so
        # that a verdict a few cycles settle (modest, across 1.5) is not given up with one that
        # would take hundreds (speed, with the estimate near 1); asked again after each block
        target, bound = max(((abs(r.mean - math.log(b)), b) for b in open_at), default=(None, None))
        why = [f"interval [{low:.2f}, {high:.2f}] holds {_name(bound)}"] if open_at else []
        if precision_pct:
            half = math.log(1 + precision_pct / 100)
            if (math.log(high) - math.log(low)) / 2 > half:
                target = half if target is None else min(target, half)
                why.append(f"wider than ±{precision_pct:g}%")
        if target is None:
            continue
        cycles = _cycles_for(r, have, target, fam.family_confidence())
        out.append(Need(scenario, cycles, have, "; ".join(why)))
    return sorted(out, key=lambda n: n.more)


def _cycles_for(r, have: int, half_width: float, confidence: float) -> int:
    """Cycles per level for a half-width of `half_width` on the log scale: the pairs' part of
    the variance falls with the cycles, the run-to-run floor does not. With cycles enough the
    interval's t quantile is the floor's own (its degrees of freedom): a half-width at or under
    that quantile times the floor is never planned for, and cycles are planned with it (the
    normal quantile where there is no floor); asked again after each block."""
    if r.floor:
        quantile = float(sps.t.ppf(0.5 + confidence / 2, r.floor_df))
    else:
        quantile = float(sps.norm.ppf(0.5 + confidence / 2))
    room = (half_width / quantile) ** 2 - r.floor ** 2
    if half_width <= 1e-6 or room <= 0:
        return NEVER
    return int(math.ceil(have * (r.se ** 2 - r.floor ** 2) / room))


def _name(bound: float) -> str:
    return "1" if bound == 1 else f"{bound:.3g}"
