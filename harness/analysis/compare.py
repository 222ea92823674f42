"""`fdbench compare BASE NEW`: did anything get slower?

Per scenario x target, the change of the median server CPU-µs/request (and of capacity rps) from
BASE to NEW, with a seeded two-sample bootstrap 95% CI and a two-sided Mann-Whitney U p-value.

Regression rule (chosen here, fixed): a change is a regression when it goes the bad way (more
CPU per request, fewer requests per second) by more than --fail-above percent AND Mann-Whitney
p < 0.05. The p-value, not the CI, decides because it stays honest for small n: with three
trials a side it can never reach 0.05, so noise in a short run cannot fail CI, while a bootstrap
CI of three values is over-confident. The CI is shown beside it.

Runs from different machines (host, CPU, arch or core count differ) are compared by ratios,
never absolutes: framework/baseline per paired round (the bare-WSGI app is the yardstick that
hardware affects alike), with Flask/Django shown for information only.

instructions.json in both runs (same arch): a rise in instructions per request above
INSTRUCTIONS_PCT is a regression by itself; the counts repeat exactly, so no test is needed. The
threshold sits above the ~0.5% that any change to what is loaded moves them by (heap layout).

versions.json in NEW (`fdbench versions`): a step from one release of a framework to the next
whose instructions per request rise by more than --fail-above percent is flagged, since an
upgrade is the change being judged there; in both runs, a release measured at the same
version, endpoints and checkout path in each is held to INSTRUCTIONS_PCT like any count.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as sps

from ..targets import FRAMEWORKS, TARGET_NAMES
from . import stats
from . import versions as release_counts
from .evidence import LoadedRun, instructions_frame, load_run

ALPHA = 0.05
INSTRUCTIONS_PCT = 1.0


@dataclass(frozen=True)
class Change:
    case: str
    subject: str          # a target, or a ratio such as "django/baseline"
    metric: str
    base: stats.Estimate | None
    new: stats.Estimate | None
    change: stats.Estimate | None   # relative: +0.10 = 10% higher in NEW
    p: float | None
    regression: bool

    @property
    def name(self) -> str:
        return f"{self.case} × {self.subject}: {self.metric}"

    def text(self) -> str:
        ch = self.change.text("{:+.1f}", scale=100, unit="%") if self.change else "–"
        p = f"p={self.p:.3g}" if self.p is not None else "p: n/a (n<2)"
        return f"{self.name} {ch}, {p}"


@dataclass
class Comparison:
    base: LoadedRun
    new: LoadedRun
    same_machine: bool
    changes: list[Change]
    notes: list[str]

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.changes if c.regression]


def relative_change(base, new) -> stats.Estimate | None:
    """median(new)/median(base) - 1 with a two-sample bootstrap CI (None below MIN_N_CI)."""
    b, n = np.asarray(stats._finite(base)), np.asarray(stats._finite(new))
    if not len(b) or not len(n):
        return None
    point = float(np.median(n) / np.median(b) - 1)
    size = min(len(b), len(n))
    if size < stats.MIN_N_CI:
        return stats.Estimate(point, None, None, size)
    if np.ptp(b) == 0 and np.ptp(n) == 0:
        return stats.Estimate(point, point, point, size)

    def stat(x, y, axis=-1):
        return np.median(y, axis=axis) / np.median(x, axis=axis) - 1

    res = sps.bootstrap((b, n), stat, n_resamples=stats.RESAMPLES, method="percentile",
                        rng=np.random.default_rng(stats.SEED))
    return stats.Estimate(point, float(res.confidence_interval.low),
                          float(res.confidence_interval.high), size)


def judge_change(case, subject, metric, base, new, fail_above, worse=+1, gate=True) -> Change:
    """Build a Change; `worse` is +1 when higher is worse (cost), -1 when lower is (rps)."""
    change = relative_change(base, new)
    p = stats.mann_whitney(base, new)
    bad = change is not None and worse * change.value * 100 > fail_above
    regression = gate and bad and p is not None and p < ALPHA
    return Change(case, subject, metric, stats.median_ci(base), stats.median_ci(new), change, p,
                  regression)


def _usable(run: LoadedRun, case: str, target: str, column: str) -> list[float]:
    t = run.trials
    sel = t["usable"] & (t["case"] == case) & (t["target"] == target)
    return t.loc[sel, column].dropna().tolist()


def absolute_changes(base: LoadedRun, new: LoadedRun, fail_above: float) -> list[Change]:
    out = []
    for case in stats.cases(base.trials):
        for target in TARGET_NAMES:
            for column, metric, worse in ((stats.COST, "CPU-µs/request", +1),
                                          ("capacity_rps", "capacity rps", -1)):
                b, n = _usable(base, case, target, column), _usable(new, case, target, column)
                if b and n:
                    out.append(judge_change(case, target, metric, b, n, fail_above, worse))
    return out


def _ratios(run: LoadedRun, case: str, a: str, b: str) -> list[float]:
    p = stats.paired(run.trials, case, a, b)
    return (p["a"] / p["b"]).tolist()


def ratio_changes(base: LoadedRun, new: LoadedRun, fail_above: float) -> list[Change]:
    out = []
    pairs = [(t, "baseline", True) for t in FRAMEWORKS] + [("flask", "django", False)]
    for case in stats.cases(base.trials):
        for a, b, gate in pairs:
            rb, rn = _ratios(base, case, a, b), _ratios(new, case, a, b)
            if rb and rn:
                out.append(judge_change(case, f"{a}/{b}", "CPU-µs/request ratio", rb, rn,
                                        fail_above, gate=gate))
    return out


def instruction_changes(base: LoadedRun, new: LoadedRun, notes: list[str]) -> list[Change]:
    """Deterministic counts: any rise above INSTRUCTIONS_PCT is a regression."""
    if not (base.instructions and new.instructions):
        return []
    if base.machine.get("arch") != new.machine.get("arch"):
        notes.append("instruction counts not compared: different CPU architectures")
        return []
    for key, what in (("endpoints", "endpoint lists"), ("root", "checkout paths")):
        if _meta(base.instructions).get(key) != _meta(new.instructions).get(key):
            notes.append(f"instruction counts not compared: measured with different {what} "
                         "(each shifts the heap, and with it the counts, by up to ~1%)")
            return []
    b = instructions_frame(base.instructions, base.run_id).set_index(["case", "target"])
    n = instructions_frame(new.instructions, new.run_id).set_index(["case", "target"])
    out = []
    for key in b.index.intersection(n.index):
        bv, nv = float(b.loc[key, "instructions"]), float(n.loc[key, "instructions"])
        rel = nv / bv - 1
        est = stats.Estimate(rel, rel, rel, 1)
        out.append(Change(key[0], key[1], "instructions/request", stats.Estimate(bv, bv, bv, 1),
                          stats.Estimate(nv, nv, nv, 1), est, None, rel * 100 > INSTRUCTIONS_PCT))
    return out


def _exact(before, after) -> tuple:
    rel = after / before - 1
    return (stats.Estimate(before, before, before, 1), stats.Estimate(after, after, after, 1),
            stats.Estimate(rel, rel, rel, 1))


def upgrade_changes(new: LoadedRun, fail_above: float) -> list[Change]:
    """NEW's release steps (in-process and served counts, estimated cycles when simulated, and
    the served CPU-µs of `--load`): a rise above fail_above is flagged."""
    if not new.versions:
        return []
    out = []
    metrics = {"inprocess": "instructions/request", "served": "instructions/request (served)",
               "cycles": "estimated cycles/request"}
    for mode in release_counts.counted_modes(new.versions):
        for s in release_counts.steps(new.versions, mode):
            b, n, change = _exact(s.before_count, s.after_count)
            out.append(Change(s.endpoint, f"{s.framework} {s.before} → {s.after}", metrics[mode],
                              b, n, change, None, change.value * 100 > fail_above))
    for s in release_counts.load_steps(new.versions):  # measured, so flagged only when its
        ch = s.change                                    # whole interval is above the threshold
        out.append(Change(s.endpoint, f"{s.framework} {s.before} → {s.after}",
                          "CPU-µs/request (served, paired cycles)", s.before_us, s.after_us, ch,
                          None, ch.has_ci and ch.low * 100 > fail_above))
    return out


def release_changes(base: LoadedRun, new: LoadedRun, notes: list[str]) -> list[Change]:
    """The same release counted in both runs: like instructions.json, a rise above
    INSTRUCTIONS_PCT is a regression (of fdbench's app or harness, not of the framework)."""
    if not (base.versions and new.versions):
        return []
    keys = ("endpoints", "root", "requests", "arch")
    if any(base.versions.get(k) != new.versions.get(k) for k in keys):
        notes.append("release counts not compared: measured with different endpoint lists, "
                     "checkout paths, request counts or architectures")
        return []
    out = []
    for framework in release_counts.frameworks(new.versions):
        before = {r["series"]: r for r in release_counts.releases(base.versions, framework)}
        for rec in release_counts.releases(new.versions, framework):
            old = before.get(rec["series"])
            if old is None or old.get("version") != rec.get("version"):
                continue
            for endpoint in release_counts.endpoints(new.versions):
                x, y = release_counts.count(old, endpoint), release_counts.count(rec, endpoint)
                if x and y:
                    b, n, change = _exact(x, y)
                    out.append(Change(endpoint, f"{framework} {rec['version']}", "instructions/request",
                                      b, n, change, None, change.value * 100 > INSTRUCTIONS_PCT))
    return out


def _meta(instructions) -> dict:
    return instructions if isinstance(instructions, dict) else {}


def regime(run: LoadedRun) -> str:
    """How a run loaded its apps: the trial shape decides which cases two runs share."""
    levels = run.trials["level"] if "level" in run.trials else []
    return "one app at a time on a load ladder" if any(isinstance(v, str) for v in levels) \
        else "at fixed rates (paired or separate trials)"


def compare(base_dir: Path, new_dir: Path, fail_above: float = 5.0) -> Comparison:
    base, new = load_run(base_dir), load_run(new_dir)
    same = base.fingerprint == new.fingerprint
    notes = [] if same else [f"different machines ({base.label} vs {new.label}): ratios compared"]
    changes = (absolute_changes if same else ratio_changes)(base, new, fail_above)
    if regime(base) != regime(new):
        notes.append(f"load-test figures not compared: {base.run_id} measured {regime(base)}, "
                     f"{new.run_id} {regime(new)} (different cases: 'json @ 75%' against "
                     "'json (open 400/s)'); rerun the older commit to compare them")
    changes += instruction_changes(base, new, notes)
    changes += upgrade_changes(new, fail_above) + release_changes(base, new, notes)
    return Comparison(base, new, same, changes, notes)
