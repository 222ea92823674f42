"""Where things live, relative to the checkout (apps are served from here, never imported)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ROOT / "apps"
RESULTS = ROOT / "results"
REPORTS = ROOT / "reports"
VAR = ROOT / "var"
