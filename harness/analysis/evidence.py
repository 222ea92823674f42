"""What a claim is decided on: one or more stored runs (docs/results-format.md), read once.
Several runs (e.g. from different machines) pool their trials; pairs are only ever formed
within one run's round, so hardware cancels out of every ratio."""
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from .. import store
from ..errors import FdbenchError
from ..targets import target_of
from . import run_spread, stats
from . import versions as release_counts


@dataclass
class LoadedRun:
    """One run folder as the analysis reads it: run.json, the trials as a frame, static/*.json,
    instructions.json, native.json, kernel.jsonl and versions.json (store.Run is the folder
    itself, which runs write)."""
    path: Path
    meta: dict
    trials: pd.DataFrame
    static: dict = field(default_factory=dict)
    instructions: dict | None = None
    native: dict | None = None
    kernel: list = field(default_factory=list)
    versions: dict | None = None
    warnings: list = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.meta.get("run_id") or self.path.name

    @property
    def machine(self) -> dict:
        return self.meta.get("machine") or {}

    @property
    def fingerprint(self) -> tuple:
        """What makes absolute numbers comparable: same host, CPU, arch and core count."""
        m = self.machine
        return (m.get("host"), m.get("cpu_model"), m.get("arch"), m.get("cores"))

    @property
    def label(self) -> str:
        m = self.machine
        return " ".join(str(x) for x in (m.get("host"), m.get("arch")) if x) or self.run_id


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FdbenchError(f"cannot read {path}: {exc}") from None


def load_run(path) -> LoadedRun:
    """Read a run folder through the store; a missing or unreadable folder is a one-line
    FdbenchError, a damaged trial line is skipped and noted in `warnings`."""
    path = Path(path)
    if not path.is_dir():
        raise FdbenchError(f"{path} is not a run folder")
    stored = store.Run.open(path)
    warnings: list[str] = []
    run = LoadedRun(path, stored.meta, pd.DataFrame(), warnings=warnings)
    primary = ((stored.meta.get("config") or {}).get("deployments") or [None])[0]
    run.trials = stats.trials_frame(stored.trials(warn=warnings.append), run.run_id, run.label,
                                    primary)
    run.static = {p.stem: _read_json(p) for p in sorted((path / "static").glob("*.json"))}
    if (path / "instructions.json").is_file():
        run.instructions = _read_json(path / "instructions.json")
    if (path / "native.json").is_file():
        run.native = _read_json(path / "native.json")
    run.kernel = stored.lines("kernel.jsonl")
    run.versions = release_counts.read(path)
    return run


def _unique_labels(runs: list[LoadedRun]) -> None:
    """Two runs on one machine still need distinct labels in charts and tables."""
    labels = [r.label for r in runs]
    for r in runs:
        if labels.count(r.label) > 1:
            r.trials["machine"] = f"{r.label} {r.run_id}"


class Evidence:
    """Trials, per-(run, case, target) summaries, static measurements and instruction counts."""

    def __init__(self, runs: list[LoadedRun]):
        if not runs:
            raise FdbenchError("no run given")
        self.runs = runs
        _unique_labels(runs)

    @classmethod
    def from_dirs(cls, run_dirs) -> "Evidence":
        return cls([load_run(p) for p in run_dirs])

    @cached_property
    def trials(self) -> pd.DataFrame:
        return pd.concat([r.trials for r in self.runs], ignore_index=True)

    @cached_property
    def summary(self) -> pd.DataFrame:
        return stats.summary(self.trials)

    @cached_property
    def spread(self) -> run_spread.RunSpread:
        """The run-to-run spread the runs recorded (the widest, when they differ)."""
        return run_spread.widest(run_spread.recorded(r.meta) for r in self.runs)

    @cached_property
    def cases(self) -> list[str]:
        return stats.cases(self.trials)

    @property
    def multi_machine(self) -> bool:
        return len({r.fingerprint for r in self.runs}) > 1

    @cached_property
    def static(self) -> dict:
        """static/<name>.json by name; the first run that has a name wins."""
        merged = {}
        for r in self.runs:
            for name, value in r.static.items():
                merged.setdefault(name, value)
        return merged

    @cached_property
    def instructions(self) -> pd.DataFrame:
        """Instruction counts per request of every run, one row per (run, target, case)."""
        frames = [instructions_frame(r.instructions, r.run_id) for r in self.runs if r.instructions]
        return pd.concat(frames, ignore_index=True) if frames else instructions_frame(None, "")

    def per_endpoint(self, targets: tuple, stat, column="instructions") -> dict:
        """{path: stat(*in-process counts of targets)}, from the first run that counted all of
        them at that path; paths where stat gives None are left out. `column`: "cycles" for
        the estimated cycles of a run that simulated caches."""
        out = {}
        for (_, case), g in self.instructions.groupby(["run_id", "case"], sort=False):
            by = {t: v for t, v in zip(g["target"], g[column]) if pd.notna(v)}
            if case not in out and all(by.get(t) for t in targets):
                value = stat(*(by[t] for t in targets))
                if value is not None:
                    out[case] = value
        return out

    @cached_property
    def cost_cases(self) -> list[str]:
        """The cases the cost claims decide on, per scenario: every level of the load ladder
        when the run alternated apps; otherwise the fixed-rate open-loop case where Flask and
        Django both ran at it (like with like), else the closed-loop one. Only the first
        deployment's: the others are judged apart (cases_of)."""
        t = self.trials[self.trials["usable"] & self.trials["primary"]]
        out = []
        for scenario in dict.fromkeys(t["scenario"]):
            s = t[t["scenario"] == scenario]
            laddered = list(dict.fromkeys(s.loc[s["level"].notna(), "case"]))
            opened = [c for c in dict.fromkeys(s.loc[s["mode"] == "open", "case"])
                      if {"flask", "django"} <= set(s.loc[s["case"] == c, "target"])]
            out += laddered or opened[:1] or [str(scenario)]
        return out

    @cached_property
    def deployments(self) -> list[str]:
        """The deployments the runs served, the first (the claims') first."""
        if "primary" not in self.trials:   # no trial at all
            return []
        t = self.trials.sort_values("primary", ascending=False, kind="stable")
        return [d for d in dict.fromkeys(t["deployment"]) if d]

    def keep_alive(self, deployment: str) -> bool | None:
        """Whether the deployment kept client connections open, as its trials recorded it
        (served_by); None when no trial says."""
        t = self.trials
        seen = set(t.loc[t["deployment"] == deployment, "keep_alive"].dropna()) if len(t) else set()
        return seen.pop() if len(seen) == 1 else None

    def cases_of(self, deployment: str) -> list[str]:
        """A deployment's laddered cost cases (as cost_cases, for any deployment)."""
        t = self.trials[self.trials["usable"] & (self.trials["deployment"] == deployment)]
        return list(dict.fromkeys(t.loc[t["level"].notna(), "case"]))

    def targets_in(self, case: str) -> set[str]:
        t = self.trials
        return set(t.loc[(t["case"] == case) & t["usable"], "target"])


# instructions.json is written by `fdbench instructions`; read leniently: any list of records
# that name a target (or app + variant), an endpoint/scenario/path and a per-request count.
_COUNT_KEYS = ("instructions_per_request", "per_request", "instructions")


def instructions_frame(data, run_id: str) -> pd.DataFrame:
    rows = []
    for rec in _records(data):
        count = next((rec[k] for k in _COUNT_KEYS if isinstance(rec.get(k), (int, float))), None)
        target = rec.get("target") or _target(rec.get("app"), rec.get("variant"))
        case = rec.get("scenario") or rec.get("endpoint") or rec.get("path")
        served = rec.get("served") or {}
        if count is not None and target and case:
            rows.append({"run_id": run_id, "target": target, "case": str(case),
                         "instructions": float(count),
                         "served": _number(served.get("instructions_per_request")),
                         "cycles": _number((rec.get("cache") or {}).get("estimated_cycles")),
                         "served_cycles": _number((served.get("cache") or {}).get("estimated_cycles"))})
    return pd.DataFrame(rows, columns=["run_id", "target", "case", "instructions", "served",
                                       "cycles", "served_cycles"])


def _number(value):
    return float(value) if isinstance(value, (int, float)) else None


def _records(data):
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return _records(value)
    return []


def _target(app, variant):
    return target_of(app, variant) if app else None
