"""A run's versions.json as the report and `fdbench compare` read it: each framework's
releases in version order, their counts per endpoint, and the step from one release to the
next (the cost of that upgrade to a request)."""
import json
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..errors import FdbenchError
from . import stats

SCHEMA = 1
MODES = ("inprocess", "served")


@dataclass(frozen=True)
class Step:
    framework: str
    endpoint: str
    mode: str              # inprocess | served | cycles (in-process estimated cycles)
    before: str            # release series, e.g. "5.1"
    after: str
    before_count: int
    after_count: int

    @property
    def change(self) -> float:
        """Relative: +0.05 = the newer release costs 5% more instructions per request."""
        return self.after_count / self.before_count - 1


def read(run_dir) -> dict | None:
    """versions.json of a run folder, or None when it has none."""
    path = Path(run_dir) / "versions.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FdbenchError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise FdbenchError(f"{path}: unknown versions.json schema {data.get('schema')!r}"
                           if isinstance(data, dict) else f"{path} is not a versions.json")
    return data


def _order(series: str):
    try:
        return (0, Version(series))
    except InvalidVersion:
        return (1, series)


def releases(data: dict, framework: str, status: str | None = "ok") -> list[dict]:
    """The framework's records (those measured, by default) in version order."""
    recs = [r for r in data.get("versions", []) if r.get("framework") == framework
            and (status is None or r.get("status") == status)]
    return sorted(recs, key=lambda r: _order(r.get("series", "")))


def frameworks(data: dict) -> list[str]:
    return list(dict.fromkeys(r.get("framework") for r in data.get("versions", [])))


def count(record: dict, endpoint: str, mode: str = "inprocess") -> int | None:
    for c in record.get("counts", []):
        if c.get("endpoint") == endpoint:
            value = c if mode == "inprocess" else (c.get("served") or {})
            return value.get("instructions_per_request")
    return None


def cycles(record: dict, endpoint: str) -> int | None:
    """In-process estimated cycles (a sweep run with --cycles), or None."""
    for c in record.get("counts", []):
        if c.get("endpoint") == endpoint:
            return (c.get("cache") or {}).get("estimated_cycles")
    return None


def endpoints(data: dict) -> list[str]:
    return list(data.get("endpoints") or dict.fromkeys(
        c["endpoint"] for r in data.get("versions", []) for c in r.get("counts", [])))


def figure(record: dict, endpoint: str, mode: str) -> int | None:
    return cycles(record, endpoint) if mode == "cycles" else count(record, endpoint, mode)


def counted_modes(data: dict) -> tuple:
    """The exact figures a sweep holds: instructions in and out of gunicorn, and estimated
    cycles when it simulated caches."""
    return MODES + (("cycles",) if data.get("cycles") else ())


def steps(data: dict, mode: str = "inprocess") -> list[Step]:
    """Every consecutive pair of measured releases of a framework, per endpoint."""
    out = []
    for framework in frameworks(data):
        recs = releases(data, framework)
        for endpoint in endpoints(data):
            for a, b in zip(recs, recs[1:]):
                x, y = figure(a, endpoint, mode), figure(b, endpoint, mode)
                if x and y:
                    out.append(Step(framework, endpoint, mode, a["series"], b["series"], x, y))
    return out


@dataclass(frozen=True)
class LoadStep:
    """One upgrade's served cost: the newer release's CPU-µs per request over the older's,
    cycle by cycle (the two loaded in adjacent slices), as a median with its interval."""
    framework: str
    endpoint: str
    before: str
    after: str
    before_us: stats.Estimate
    after_us: stats.Estimate
    ratio: stats.Estimate

    @property
    def change(self) -> stats.Estimate:
        """The ratio less one: +0.05 = the newer release costs 5% more CPU per request."""
        r = self.ratio
        shift = (lambda v: None if v is None else v - 1)
        return stats.Estimate(r.value - 1, shift(r.low), shift(r.high), r.n)


def served_cost(record: dict, endpoint: str) -> stats.Estimate | None:
    """Median CPU-µs per request over the `--load` cycles, or None without them."""
    return stats.median_ci((record.get("load") or {}).get(endpoint) or [])


def load_steps(data: dict) -> list[LoadStep]:
    """Every consecutive pair of releases loaded with `--load`, per endpoint."""
    out = []
    for framework in frameworks(data):
        recs = [r for r in releases(data, framework) if r.get("load")]
        for endpoint in endpoints(data):
            for a, b in zip(recs, recs[1:]):
                pairs = [y / x for x, y in zip(a["load"].get(endpoint) or [],
                                               b["load"].get(endpoint) or []) if x and y]
                ratio = stats.median_ci(pairs)
                if ratio:
                    out.append(LoadStep(framework, endpoint, a["series"], b["series"],
                                        served_cost(a, endpoint), served_cost(b, endpoint), ratio))
    return out


def not_measured(data: dict) -> list[dict]:
    """Releases reported unsupported or failed, with their reasons."""
    return [r for r in data.get("versions", []) if r.get("status") != "ok"]
