"""The one place every verdict comes from. A claim is registered with its exact quote, what is
measured and the decision rule, written down before any number is looked at; its `decide`
function turns the evidence of a run into a Verdict that cites the numbers."""
from dataclasses import dataclass, field
from typing import Callable

VERDICTS = ("supported", "refuted", "mixed", "inconclusive", "not testable here")


@dataclass(frozen=True)
class Verdict:
    verdict: str          # one of VERDICTS
    summary: str          # the numbers (with CI) that decided it, one or two sentences
    numbers: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


@dataclass(frozen=True)
class Claim:
    key: str
    quote: str            # exact words from the article
    measured: str         # what fdbench measures to test it
    rule: str             # the decision rule, in words
    decide: Callable      # Evidence -> Verdict


CLAIMS: list[Claim] = []


def claim(key, quote, measured, rule):
    """Register the decorated `decide(evidence) -> Verdict` function as a claim."""

    def register(decide):
        if any(c.key == key for c in CLAIMS):
            raise ValueError(f"claim {key!r} registered twice")
        CLAIMS.append(Claim(key, quote, measured, rule, decide))
        return decide

    return register
