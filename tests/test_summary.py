"""The short form of the report and of compare (Markdown for a CI step summary, JSON for
scripts), on runs whose numbers the test chose: the headline ratios, verdict lines and flag
counts must be the ones those numbers give."""
import json

from harness.analysis.compare import compare
from harness.analysis.evidence import Evidence
from harness.cli import main
from harness.report import summary
from tests.runfactory import trial, write_run

COUNTS = {"flask": 560_000, "django": 750_000, "baseline": 35_000}


def _instructions():
    return {"schema": 1, "counts": [{"target": t, "endpoint": "/json", "instructions_per_request": c}
                                    for t, c in COUNTS.items()]}


def test_headline_claims_and_flags(tmp_path):
    extra = [trial("json", "django", 11, None, status="failed")]
    run = write_run(tmp_path / "run", instructions=_instructions(), extra=extra)
    data = summary.summary(Evidence.from_dirs([run]))
    by_case = {h["case"]: h for h in data["headline"]}
    assert set(by_case) == {"overall", "json", "db"}
    ratio = by_case["json"]["django/flask"]
    assert abs(ratio["value"] - 850 / 560) < 0.05 and ratio["low"] < ratio["value"] < ratio["high"]
    assert abs(by_case["json"]["instructions django/flask"] - 750 / 560) < 1e-9
    assert by_case["db"]["instructions django/flask"] is None     # /db was not counted
    claims = {c["key"]: c for c in data["claims"]}
    assert claims["speed"]["verdict"] == "supported"
    assert claims["speed"]["line"].startswith("Django/Flask overall 1.")
    assert "Flask cheaper overall by more than the 5% that counts" in claims["speed"]["line"]
    assert data["answer"].startswith("On this machine (gunicorn-sync, no keep-alive, sqlite")
    assert all(len(c["line"]) <= summary.LINE_MAX for c in data["claims"])
    assert data["flags"]["flagged"] == 1 and data["flags"]["excluded"] == 1


def test_markdown_and_json_through_the_cli(tmp_path, capsys):
    x86 = write_run(tmp_path / "x86")
    arm = write_run(tmp_path / "arm", seed=5, rounds=7, machine={"host": "armbox", "arch": "aarch64"})
    assert main(["report", str(x86), str(arm), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.startswith("## fdbench: Flask vs Django")
    assert "| machine | scenario | Django/Flask CPU-µs | n | instructions |" in md
    assert "| armbox aarch64 | json |" in md and "| speed | **supported** |" in md
    # n: the Flask/Django pairs behind each ratio, one per round of each run
    rows = {(r[0], r[1]): r[3] for r in (line.split(" | ") for line in md.splitlines())
            if r[0] in ("| testbox x86_64", "| armbox aarch64")}
    assert rows == {("| testbox x86_64", "json"): "10", ("| testbox x86_64", "db"): "10",
                    ("| testbox x86_64", "overall"): "20", ("| armbox aarch64", "overall"): "14",
                    ("| armbox aarch64", "json"): "7", ("| armbox aarch64", "db"): "7"}
    assert not (tmp_path / "x86" / "index.html").exists()
    assert main(["report", str(x86), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["key"] for c in data["claims"]][0] == "speed"
    assert data["runs"][0]["id"] == "x86"


def test_compare_formats_keep_the_exit_code(tmp_path, capsys):
    base = write_run(tmp_path / "base", seed=1)
    new = write_run(tmp_path / "new", seed=2, costs={"django": 850.0 * 1.4})
    assert main(["compare", str(base), str(new), "--format", "md"]) == 1
    md = capsys.readouterr().out
    assert md.startswith("## fdbench compare: `base` → `new`")
    assert "**regression**: json × django" in md
    assert main(["compare", str(base), str(base), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["regressions"] == [] and data["changes"]
    assert summary.compare_summary(compare(base, new), 5.0)["regressions"]
