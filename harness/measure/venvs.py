"""Virtual environments kept under var/versions/, one per requirement set, reused between runs.

A sweep over framework releases needs one environment per release; building one (venv + pip)
takes tens of seconds, and two sweeps of one commit must count the same installed files, so an
environment is kept while its requirements stay the same and rebuilt when they change.

Its stamp file holds the hash of the requirements and of the interpreter that made it, and
what `pip freeze` found. The stamp is written last and atomically: an environment cut short by
Ctrl-C or a failed install has none, and is built again next time. An environment is built at
its final path, never moved: pip compiles the path into every .pyc, and instruction counts
depend on those strings."""
import hashlib
import json
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import FdbenchError
from ..paths import VAR
from ..store import write_atomic

HOME = VAR / "versions"
STAMP = "fdbench-stamp.json"
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


class InstallFailed(FdbenchError):
    """pip could not install a requirement set: the one-line reason is the message."""


@dataclass(frozen=True)
class Environment:
    path: Path
    python: str
    packages: dict   # name (lower case) -> version, from pip freeze
    reused: bool


def requirements_hash(requirements) -> str:
    """What makes an environment: its requirements (order aside) and the interpreter behind it."""
    key = {"requirements": sorted(requirements), "python": platform.python_version(),
           "executable": getattr(sys, "_base_executable", sys.executable)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def python_of(path: Path) -> Path:
    return Path(path) / "bin" / "python"


def read_stamp(path: Path) -> dict | None:
    try:
        stamp = json.loads((Path(path) / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def ensure(name: str, requirements: list[str], home: Path | None = None) -> Environment:
    """The environment `home/name` with exactly these requirements: reused when its stamp
    matches, else built afresh. Raises InstallFailed with pip's reason."""
    path = Path(home or HOME) / name
    digest = requirements_hash(requirements)
    stamp = read_stamp(path)
    if stamp and stamp.get("hash") == digest and python_of(path).exists():
        return Environment(path, str(python_of(path)), stamp["packages"], reused=True)
    build(path, requirements)
    packages = freeze(path)
    write_atomic(path / STAMP, json.dumps({"hash": digest, "requirements": list(requirements),
                                           "python": platform.python_version(),
                                           "packages": packages}, indent=2) + "\n")
    return Environment(path, str(python_of(path)), packages, reused=False)


def build(path: Path, requirements: list[str]) -> None:
    """A new venv at `path` (whatever was there removed, stamp first), then pip install.
    The running interpreter's pip installs into it (`pip --python`), so every environment
    gets the same, current resolver."""
    (path / STAMP).unlink(missing_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        raise InstallFailed(f"cannot create a venv at {path}: {last_line(made.stderr)}")
    done = subprocess.run([*PIP, "--python", str(python_of(path)), "install", "--quiet",
                           *requirements], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise InstallFailed(f"pip cannot install {requirements[0]}: {pip_reason(done.stderr)}")


def freeze(path: Path) -> dict:
    """name -> version of everything installed in the environment (`pip freeze`)."""
    out = subprocess.run([*PIP, "--python", str(python_of(path)), "freeze", "--all"],
                         capture_output=True, text=True, check=True).stdout
    pairs = (line.split("==", 1) for line in out.splitlines() if "==" in line)
    return {name.strip().lower(): version.strip() for name, version in pairs}


def pip_reason(stderr: str) -> str:
    """One line out of pip's error output: the conflicting dependencies when it names them,
    else its last ERROR line that says more than where to read about resolution (warnings
    about this machine's local indexes are left out)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    conflict = [line for line in lines if " depends on " in line]
    if conflict:
        return "; ".join(dict.fromkeys(conflict))
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    named = [line for line in errors if not line.startswith("ResolutionImpossible")]  # a link
    return (named or errors or lines or ["pip failed without a message"])[-1][:300]


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
