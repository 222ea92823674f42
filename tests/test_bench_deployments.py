"""`fdbench bench --deployments`: a real short run of Flask and Django under gunicorn's sync
worker (one-shot connections) and Granian (keep-alive), then what the analysis, the claims and
the report make of it: no statistic mixes two deployments, each is judged on its own cases."""
import pytest

from harness.analysis.evidence import Evidence
from harness.claims import judge
from harness.errors import FdbenchError
from harness.report.html import render
from harness.run import bench as benching
from harness.run.config import make_config
from harness.run.plan import planned_trials
from harness.store import Run

DEPLOYMENTS = ["gunicorn-sync", "granian"]


@pytest.fixture(scope="module")
def served_run(tmp_path_factory, db_url):
    cfg = make_config("quick", targets=["flask", "django"], scenarios=["json"], repeat=4,
                      warmup=0.2, duration=0.3, deployments=DEPLOYMENTS)
    run = benching.bench(cfg, db_url, tmp_path_factory.mktemp("results"))
    return Run.open(run.path)


def test_default_deployment_plans_exactly_as_before():
    """gunicorn-sync alone (make bench): ids, order and count as they always were."""
    cfg = make_config("default")
    specs = planned_trials(cfg)
    assert cfg.deployments == ("gunicorn-sync",)
    assert len(specs) == 6 * 3 * 10 * 4
    assert specs[0].trial_id == "json-saturation-c0-flask"
    assert {s.deployment for s in specs} == {"gunicorn-sync"}


def test_every_slice_records_how_it_was_served(served_run):
    trials = served_run.trials()
    assert {t["deployment"] for t in trials} == set(DEPLOYMENTS)
    assert all(t["status"] == "ok" for t in trials), [t["reason"] for t in trials]
    granian = [t for t in trials if t["deployment"] == "granian"]
    assert all(t["trial_id"].startswith("granian-json-") for t in granian)
    assert all(t["served_by"]["deployment"] == "granian" and t["served_by"]["keep_alive"]
               for t in granian)
    # keep-alive: a connection per user per slice, many requests on each
    assert all(t["keepalive"] and t["requests_per_connection"] > 5 for t in granian)
    sync = [t for t in trials if t["deployment"] == "gunicorn-sync"]
    assert not any(t.get("keepalive") for t in sync)   # the half-closing one-shot client


def test_no_statistic_mixes_two_deployments(served_run):
    ev = Evidence.from_dirs([served_run.path])
    assert ev.deployments == DEPLOYMENTS
    assert ev.cost_cases == ["json @ saturation", "json @ 75%"]          # the first deployment's
    assert ev.cases_of("granian") == ["json [granian] @ saturation", "json [granian] @ 75%"]
    claims = {i["claim"].key: i["verdict"] for i in judge(ev)}
    assert set(claims["speed"].numbers["by_deployment"]) == set(DEPLOYMENTS)
    assert "By deployment" in claims["speed"].summary
    assert claims["tools_speedup"].verdict in ("supported", "refuted", "inconclusive")
    assert "flask granian" in claims["tools_speedup"].summary


def test_report_has_the_deployments_section(served_run, tmp_path):
    html = render([served_run.path], tmp_path / "rep").read_text()
    assert 'id="deployments"' in html and "json [granian]" not in html.split('id="deployments"')[1][:3000]
    assert html.count('alt="Server CPU-µs per request at saturation, one panel per scenario') == 1


def test_unknown_deployment_and_a_non_alternating_run_are_one_line_errors():
    with pytest.raises(FdbenchError, match="unknown deployment 'apache'"):
        make_config("quick", deployments=["apache"])
    with pytest.raises(FdbenchError, match="--deployments needs an alternating run"):
        make_config("quick", deployments=["granian"], paired=True)


def test_a_deployment_that_cannot_start_fails_alone(tmp_path, db_url, monkeypatch):
    """nginx missing: its slices are failed records that say why, the other deployment is
    measured, and the analysis judges what was measured."""
    monkeypatch.setenv("FDBENCH_NGINX", "/nonexistent/nginx")
    cfg = make_config("quick", targets=["flask", "django"], scenarios=["json"], repeat=2,
                      warmup=0.2, duration=0.3, deployments=["gunicorn-sync", "nginx"])
    run = Run.open(benching.bench(cfg, db_url, tmp_path).path)
    by = {d: [t for t in run.trials() if t["deployment"] == d] for d in ("gunicorn-sync", "nginx")}
    assert by["nginx"] and all(t["status"] == "failed" and "nginx not found" in t["reason"]
                               for t in by["nginx"])
    assert by["gunicorn-sync"] and all(t["status"] == "ok" for t in by["gunicorn-sync"])
    assert Evidence.from_dirs([run.path]).cost_cases == ["json @ saturation", "json @ 75%"]


def test_compare_keeps_deployments_apart(served_run, tmp_path):
    """Comparing a run with itself: every change is within one deployment's case."""
    from harness.analysis.compare import compare

    cases = {c.case for c in compare(served_run.path, served_run.path).changes}
    assert any("[granian]" in c for c in cases) and any("[granian]" not in c for c in cases)


def test_a_libraries_run_judges_orjson_per_framework(tmp_path, db_url):
    """Each app beside its orjson variant in one alternating run: the variants serve the same
    JSON, every slice is measured, and tools_speedup cites each framework's library speedup."""
    cfg = make_config("libraries", scenarios=["json"], repeat=3, warmup=0.2, duration=0.3)
    assert cfg.targets == ("flask", "flask-orjson", "django", "django-orjson")
    run = Run.open(benching.bench(cfg, db_url, tmp_path).path)
    assert all(t["status"] == "ok" for t in run.trials()), [t["reason"] for t in run.trials()]
    claims = {i["claim"].key: i["verdict"] for i in judge(Evidence.from_dirs([run.path]))}
    assert {"flask|orjson", "django|orjson"} <= set(claims["tools_speedup"].numbers)
    assert "flask orjson" in claims["tools_speedup"].summary
