"""fdbench compare on runs whose change the test chose: a real slowdown fails, noise does not."""
import json
import re

from harness.cli import main
from harness.analysis.compare import compare, relative_change
from tests.runfactory import write_run

SLOWER = {"django": 850.0 * 1.4, "django-stripped": 620.0 * 1.4}


def run_cli(capsys, *args):
    code = main(["compare", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_same_run_exits_0_and_writes_html(tmp_path, capsys):
    run = write_run(tmp_path / "run")
    code, out = run_cli(capsys, run, run, "--html", tmp_path / "cmp.html")
    assert code == 0, out
    assert "no significant regression" in out
    html = (tmp_path / "cmp.html").read_text()
    assert "No significant regression" in html and "Mann" in html


def test_slower_django_exits_1_and_is_named(tmp_path, capsys):
    base = write_run(tmp_path / "base", seed=1)
    new = write_run(tmp_path / "new", seed=2, costs=SLOWER)
    code, out = run_cli(capsys, base, new, "--html", tmp_path / "cmp.html")
    assert code == 1, out
    named = [line for line in out.splitlines() if line.startswith("regression:")]
    hit = [re.search(r"json × django: CPU-µs/request \+(\d+\.\d)%", line) for line in named]
    assert any(m and 30 < float(m.group(1)) < 50 for m in hit), named
    assert any("db × django-stripped: CPU-µs/request" in line for line in named), named
    assert not any("flask" in line or "baseline" in line for line in named), named
    assert "REGRESSION" in (tmp_path / "cmp.html").read_text()


def test_noise_and_changes_below_the_threshold_pass(tmp_path, capsys):
    base = write_run(tmp_path / "base", seed=1, spread=0.03)
    new = write_run(tmp_path / "new", seed=3, spread=0.03, costs={"django": 850.0 * 1.03})
    assert run_cli(capsys, base, new, "--html", tmp_path / "c.html")[0] == 0
    assert run_cli(capsys, base, new, "--fail-above", "1", "--html", tmp_path / "c.html")[0] == 1


def test_faster_is_not_a_regression(tmp_path):
    base = write_run(tmp_path / "base", seed=1)
    new = write_run(tmp_path / "new", seed=2, costs={"flask": 300.0})
    assert compare(base, new).regressions == []


def test_other_machine_compares_ratios_not_absolutes(tmp_path, capsys):
    base = write_run(tmp_path / "base")
    doubled = {t: 2 * c for t, c in {"flask": 560.0, "django": 850.0, "django-stripped": 620.0,
                                       "baseline": 360.0}.items()}
    arm = {"host": "armbox", "arch": "aarch64", "cpu_model": "Neoverse"}
    new = write_run(tmp_path / "new", seed=2, machine=arm, costs=doubled)
    cmp = compare(base, new)
    assert not cmp.same_machine and cmp.regressions == []
    assert {c.metric for c in cmp.changes} == {"CPU-µs/request ratio"}
    worse = write_run(tmp_path / "worse", seed=2, machine=arm, costs={**doubled, "django": 2 * 850.0 * 1.3})
    code, out = run_cli(capsys, base, worse, "--html", tmp_path / "c.html")
    assert code == 1 and "django/baseline" in out


def test_instruction_count_rise_is_a_regression_alone(tmp_path):
    def counts(django):
        return {"schema": 1, "counts": [
            {"target": "flask", "endpoint": "/json", "instructions_per_request": 347000},
            {"target": "django", "endpoint": "/json", "instructions_per_request": django}]}

    base = write_run(tmp_path / "base", instructions=counts(640000))
    same = write_run(tmp_path / "same", seed=2, instructions=counts(642000))    # +0.3%
    more = write_run(tmp_path / "more", seed=2, instructions=counts(672000))    # +5%
    assert compare(base, same).regressions == []
    regs = compare(base, more).regressions
    assert [(r.case, r.subject, r.metric) for r in regs] == [("/json", "django", "instructions/request")]


def test_instruction_counts_from_other_endpoint_lists_are_not_compared(tmp_path):
    """The list of endpoints the driver measured shapes its heap: such counts do not compare."""
    def counts(django, endpoints):
        return {"schema": 1, "endpoints": endpoints, "root": "/src/fdbench", "counts": [
            {"target": "django", "endpoint": "/json", "instructions_per_request": django}]}

    base = write_run(tmp_path / "base", instructions=counts(640000, ["/json", "/db"]))
    more = write_run(tmp_path / "more", seed=2, instructions=counts(672000, ["/json"]))
    cmp = compare(base, more)
    assert cmp.regressions == [] and not any(c.metric == "instructions/request" for c in cmp.changes)
    assert any("different endpoint lists" in n for n in cmp.notes), cmp.notes


def test_relative_change_ci_and_small_n():
    est = relative_change([100, 101, 99, 100, 102], [120, 121, 119, 122, 120])
    assert 0.17 < est.low < est.value < est.high < 0.24
    assert not relative_change([100], [120]).has_ci


def test_missing_run_exits_2(tmp_path, capsys):
    code, out = run_cli(capsys, tmp_path / "nope", tmp_path / "nope")
    assert code == 2 and "not a run folder" in out and "Traceback" not in out


def test_runs_of_different_trial_shapes_say_their_load_figures_are_not_compared(tmp_path):
    old = write_run(tmp_path / "old")
    new = write_run(tmp_path / "new")
    laddered = [json.dumps({**json.loads(line), "level": "saturation"})
                for line in (new / "trials.jsonl").read_text().splitlines()]
    (new / "trials.jsonl").write_text("\n".join(laddered) + "\n")
    notes = compare(old, new).notes
    assert any("load-test figures not compared" in n and "load ladder" in n for n in notes), notes
    assert not any("not compared" in n for n in compare(old, write_run(tmp_path / "again")).notes)
