"""Where things live, relative to the checkout (apps are served from here, never imported).

FDBENCH_DATA moves what fdbench writes (results/, reports/, var/) to another folder: the test
suite points it at a temporary one, so that running the tests leaves the checkout as it was."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "apps"
DATA = Path(os.environ.get("FDBENCH_DATA") or ROOT)
RESULTS = DATA / "results"
REPORTS = DATA / "reports"
VAR = DATA / "var"
