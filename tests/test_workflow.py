"""The CI workflow is valid (actionlint) and does what the README promises."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.paths import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"


@pytest.fixture(scope="module")
def actionlint():
    """The binary the dev extra installs next to this interpreter."""
    path = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert path, "actionlint missing: pip install -e '.[dev]'"
    return path


def lint(actionlint, path):
    return subprocess.run([actionlint, "-no-color", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_actionlint_passes(actionlint):
    res = lint(actionlint, WORKFLOW)
    assert res.returncode == 0, res.stdout + res.stderr


def test_actionlint_catches_a_broken_workflow(actionlint, tmp_path):
    broken = tmp_path / ".github" / "workflows" / "bench.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: bench", "needs: no-such-job"))
    res = lint(actionlint, broken)
    assert res.returncode != 0 and "no-such-job" in res.stdout


def test_matrix_bench_upload_report_and_compare():
    wf = yaml.safe_load(WORKFLOW.read_text())
    bench, report = wf["jobs"]["bench"], wf["jobs"]["report"]
    assert set(bench["strategy"]["matrix"]["runner"]) == {"ubuntu-24.04", "ubuntu-24.04-arm"}
    runs = " ".join(s.get("run", "") for s in bench["steps"])
    assert "make bench PROFILE=quick" in runs
    assert any("upload-artifact" in s.get("uses", "") and s["with"]["path"] == "results/"
               for s in bench["steps"])
    assert report["needs"] == "bench"
    script = " ".join(s.get("run", "") for s in report["steps"])
    assert "fdbench report" in script and "fdbench compare" in script
