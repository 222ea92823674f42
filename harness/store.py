"""The results store (docs/results-format.md): one folder per run, written as the run goes so
that an interrupted run keeps every finished trial. Every whole-file write is atomic."""
import datetime as dt
import json
import os
import socket
import tempfile
from pathlib import Path

from . import histogram
from .errors import FdbenchError

SCHEMA = 1


def now():
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def write_atomic(path, text):
    """Temp file, fsync, rename: a reader (or a crash) never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)  # mkstemp makes it private; results and reports are for reading
    os.replace(tmp, path)


def new_run_dir(parent):
    """`YYYYmmdd-HHMMSS-<host>`; mkdir without exist_ok, so two runs never share a folder."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    host = socket.gethostname().split(".")[0] or "host"
    for suffix in [""] + [f"-{i}" for i in range(2, 100)]:
        path = parent / f"{stamp}-{host}{suffix}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FdbenchError(f"could not create a run folder in {parent}")


class Run:
    def __init__(self, path, meta):
        self.path = Path(path)
        self.meta = meta

    @classmethod
    def create(cls, parent, meta):
        path = new_run_dir(parent)
        (path / "histograms").mkdir()
        run = cls(path, {"schema": SCHEMA, "run_id": path.name, "status": "running",
                         "started": now(), "ended": None, **meta})
        run.save()
        (path / "trials.jsonl").touch()
        return run

    @classmethod
    def open(cls, path):
        path = Path(path)
        if not path.is_dir():
            raise FdbenchError(f"{path} is not a run folder")
        try:
            meta = json.loads((path / "run.json").read_text())
        except FileNotFoundError:
            raise FdbenchError(f"{path} is not a run folder (no run.json)") from None
        except (OSError, ValueError) as exc:
            raise FdbenchError(f"cannot read {path / 'run.json'}: {exc}") from None
        if not isinstance(meta, dict):
            raise FdbenchError(f"{path / 'run.json'} is not an fdbench run description")
        if meta.get("schema") != SCHEMA:
            raise FdbenchError(f"{path}: unknown results schema {meta.get('schema')!r}")
        return cls(path, meta)

    @classmethod
    def reopen(cls, path):
        """A run to resume: it must hold what `create` wrote, or trials would land nowhere."""
        run = cls.open(path)
        if not (run.path / "trials.jsonl").is_file() or not (run.path / "histograms").is_dir():
            raise FdbenchError(f"{run.path} is not a run folder fdbench can resume "
                               "(no trials.jsonl or histograms/)")
        return run

    def save(self):
        write_atomic(self.path / "run.json", json.dumps(self.meta, indent=2, sort_keys=True) + "\n")

    def finish(self, status):
        self.meta.update(status=status, ended=now())
        self.save()

    def add_trial(self, record, hist=None):
        """Histogram first, then one appended, fsynced line: a trial is on disk whole or not at all."""
        if hist is not None:
            name = f"histograms/{record['trial_id']}.hdr"
            write_atomic(self.path / name, histogram.encode(hist))
            record = {**record, "histogram": name}
        self.add_line("trials.jsonl", record)

    def add_line(self, name, record):
        """One appended, fsynced JSON line in `name` (trials.jsonl, kernel.jsonl)."""
        with open(self.path / name, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def lines(self, name):
        """The readable JSON lines of `name` (a damaged one skipped), [] when it is missing."""
        try:
            text = (self.path / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def drop_lines(self, name, dropped):
        """Rewrite `name` without the records for which `dropped(record)` is true."""
        records = self.lines(name)
        kept = [r for r in records if not dropped(r)]
        if len(kept) != len(records):
            write_atomic(self.path / name, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))

    def drop_trials(self, trial_ids):
        """Rewrite trials.jsonl without these trials (a scenario about to run again whole)."""
        path = self.path / "trials.jsonl"
        if not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if _trial_id(line) not in trial_ids]
        if len(kept) != len(lines):
            write_atomic(path, "".join(kept))

    def trials(self, warn=None):
        """Every readable trial; a damaged line is reported through `warn`, then skipped."""
        out = []
        try:
            lines = (self.path / "trials.jsonl").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return out
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                if warn:
                    warn(f"{self.path.name}/trials.jsonl line {number} is damaged: skipped")
        return out


def _trial_id(line):
    try:
        return json.loads(line).get("trial_id")
    except ValueError:
        return None  # a damaged line stays, for trials() to report
