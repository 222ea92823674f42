"""Measurements that need no load (code size, footprint, layers, security, and the in-process
micro-benchmarks when `make microbench` has saved them), written to <run>/static/<name>.json."""
import json
from pathlib import Path

from ..infra import db as dbmod
from ..paths import RESULTS
from ..store import write_atomic
from . import databases, footprint, layers, loc, microbench, security


def write_json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, indent=1))


def collect(run_dir: Path, db_url: str) -> None:
    """Run every static measurement and write static/<name>.json under run_dir."""
    dbmod.ensure(db_url)
    out = Path(run_dir) / "static"
    measures = {
        "loc": loc.measure,
        "footprint": lambda: footprint.measure(db_url),
        "layers": lambda: layers.measure(db_url),
        "security": security.measure,
        "databases": databases.measure,  # SQLite and a throwaway PostgreSQL, whatever the run's DB
    }
    for name, measure in measures.items():
        write_json(out / f"{name}.json", measure())
    saved = RESULTS / "microbench.json"
    if saved.is_file():
        write_json(out / "microbench.json", microbench.summarise(json.loads(saved.read_text())))
