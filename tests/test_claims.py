"""The speed claims' decision rules on runs whose numbers the test chose."""
import re

import pytest

from harness.claims import CLAIMS, VERDICTS
from harness.analysis.evidence import Evidence
from harness.analysis.run_spread import RunSpread
from harness.claims import judge
from harness.paths import ROOT
from tests.runfactory import trial, write_run

ARTICLE = ROOT / "docs" / "article-quotes.md"  # the quoted passages, verbatim, with their source


# a machine whose runs repeat each other exactly: the rules' logic without the run-to-run floor
STEADY = RunSpread(0.0, 0.0, 9, "a machine that repeats itself")


def verdicts(*paths):
    return {item["claim"].key: item["verdict"] for item in judge(Evidence.from_dirs(paths))}


def test_flask_clearly_faster_and_middleware_dearer(tmp_path):
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 500.0, "django": 1000.0,
                                                  "django-stripped": 600.0, "baseline": 300.0}))
    assert v["speed"].verdict == "supported"
    assert v["layers"].verdict == "supported"      # Django/stripped 1.67, wholly above 1
    assert v["modest"].verdict == "refuted"        # Django/Flask 2.0: beyond 1.5x
    assert v["trivial"].verdict == "refuted"
    assert "middleware step is 74% of the Django/Flask gap" in v["layers"].summary  # log 1.67 / log 2


def test_instruction_counts_are_cited_but_never_decide(tmp_path):
    """Counts that say the opposite of the CPU-µs figures: the verdicts stay the CPU-µs ones."""
    counts = {"flask": 750_000, "django": 500_000, "django-stripped": 400_000}
    records = [{"target": t, "endpoint": "/json", "instructions_per_request": n} for t, n in counts.items()]
    run = write_run(tmp_path / "r", costs={"flask": 500.0, "django": 1000.0, "django-stripped": 600.0},
                    instructions={"counts": records})
    v = verdicts(run)
    assert v["speed"].verdict == "supported" and v["layers"].verdict == "supported"
    assert "context only), Flask/Django: /json 1.50." in v["speed"].summary
    assert v["speed"].numbers["instructions flask/django"] == {"/json": 1.5}
    assert v["layers"].numbers["instructions django/stripped"] == {"/json": 1.25}


def test_django_faster_refutes_speed_and_layers(tmp_path):
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 1000.0, "django": 700.0}))
    assert v["speed"].verdict == "refuted" and "Django cheaper" in v["speed"].summary
    assert v["layers"].verdict == "refuted"


def test_near_equal_cost_is_trivial_and_refutes_speed_by_equivalence(tmp_path):
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 800.0, "django": 830.0}, spread=0.01,
                           run_spread=STEADY))
    assert v["modest"].verdict == "supported"
    assert v["trivial"].verdict == "supported"
    assert v["speed"].verdict == "refuted" and "Equivalent" in v["speed"].summary


def test_equivalence_needs_more_than_one_run_on_a_machine_that_moves_between_runs(tmp_path):
    """The same near-equal costs on the dev VM's run-to-run spread: one run of two scenarios
    cannot show a gap under 5% (its floor alone is wider), four runs judged together can."""
    runs = [write_run(tmp_path / f"r{i}", costs={"flask": 800.0, "django": 810.0}, spread=0.01,
                      seed=i) for i in range(4)]
    one = verdicts(runs[0])
    assert one["speed"].verdict == "inconclusive" and one["trivial"].verdict == "inconclusive"
    assert verdicts(*runs)["speed"].verdict == "refuted"


def test_middleware_that_costs_nothing_refutes_layers(tmp_path):
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 500.0, "django": 1000.0,
                                                  "django-stripped": 990.0}, spread=0.01,
                           run_spread=STEADY))
    assert v["speed"].verdict == "supported"
    assert v["layers"].verdict == "refuted" and "middleware layers cost less" in v["layers"].summary


def test_directions_differing_by_scenario_is_mixed(tmp_path):
    costs = {("json", "flask"): 500.0, ("json", "django"): 800.0,
             ("db", "flask"): 900.0, ("db", "django"): 600.0}
    v = verdicts(write_run(tmp_path / "r", costs=costs))
    assert v["speed"].verdict == "mixed"
    assert "Flask cheaper in json, Django in db" in v["speed"].summary


def test_single_round_is_inconclusive_and_says_no_ci(tmp_path):
    v = verdicts(write_run(tmp_path / "r", rounds=1, costs={"flask": 500.0, "django": 1000.0}))
    for key in ("speed", "modest", "trivial", "layers"):
        assert v[key].verdict == "inconclusive", key
        assert "n=1, no CI" in v[key].summary, key


def test_verdicts_cite_numbers_with_ci(tmp_path):
    v = verdicts(write_run(tmp_path / "r"))
    for key in ("speed", "modest", "trivial", "layers"):
        assert re.search(r"\d\S* \[\d\S*, \d\S*\]", v[key].summary), v[key].summary


def test_flagged_slices_stay_out_and_the_text_says_what_they_would_do(tmp_path):
    """Contended Django slices at twice the cost: in, they would make Flask look faster."""
    flagged = [trial("json", t, r, c, flags=("contended",)) | {"trial_id": f"x{r}-{t}", "round": 10 + r}
               for r in range(10) for t, c in (("flask", 800.0), ("django", 1600.0))]
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 800.0, "django": 810.0},
                           scenarios=("json",), spread=0.01, extra=flagged, run_spread=STEADY))
    assert v["speed"].verdict == "refuted"   # equivalent on the clean pairs
    assert v["speed"].numbers["with_flagged"] != "refuted"
    assert "With flagged trials kept in it would be" in v["speed"].summary


def test_same_run_gives_the_same_verdicts(tmp_path):
    path = write_run(tmp_path / "r", spread=0.2, seed=7)
    first, second = verdicts(path), verdicts(path)
    assert {k: (x.verdict, x.summary) for k, x in first.items()} == \
           {k: (x.verdict, x.summary) for k, x in second.items()}


def test_run_without_frameworks_is_inconclusive_not_an_error(tmp_path):
    path = write_run(tmp_path / "r", rounds=3)
    lines = [ln for ln in (path / "trials.jsonl").read_text().splitlines() if '"baseline"' in ln]
    (path / "trials.jsonl").write_text("\n".join(lines) + "\n")
    v = verdicts(path)
    assert v["speed"].verdict == "inconclusive" and "no usable paired trials" in v["speed"].summary


def test_every_registered_claim_decides_a_fixture_run(tmp_path):
    results = judge(Evidence.from_dirs([write_run(tmp_path / "r")]))
    assert len(results) == len(CLAIMS) >= 3
    assert len({item["claim"].key for item in results}) == len(results)
    for item in results:
        assert item["verdict"].verdict in VERDICTS and item["verdict"].summary


def article_paragraphs():
    """The article's paragraphs kept in docs/article-quotes.md (its `> ` lines), each on one line."""
    return [" ".join(p.split()) for p in re.findall(r"^> (.+)$", ARTICLE.read_text(), re.M)]


def test_every_quote_is_the_articles_words():
    paragraphs = article_paragraphs()
    assert len(paragraphs) >= 10
    for c in CLAIMS:
        assert any(c.quote in p for p in paragraphs), c.key


def test_the_kept_passages_say_where_they_come_from():
    text = ARTICLE.read_text()
    assert "SHA-256" in text
    headings = re.findall(r"^## .+ \(lines? \d+(?:-\d+)?\)$", text, re.M)
    assert len(headings) == len(re.findall(r"^## ", text, re.M)) >= 9


def test_cost_claims_prefer_the_fixed_rate_open_loop_case(tmp_path):
    opened = [{**trial("json", t, r, c), "mode": "open", "rate": 400.0, "trial_id": f"o{r}-{t}"}
              for r in range(10) for t, c in (("flask", 1000.0), ("django", 500.0),
                                             ("django-stripped", 450.0), ("baseline", 300.0))]
    v = verdicts(write_run(tmp_path / "r", costs={"flask": 500.0, "django": 1000.0}, extra=opened))
    assert v["speed"].verdict == "mixed"   # open json: Flask slower; closed db: Flask faster
    assert "json (open 400/s) 0.50" in v["speed"].summary
    assert len(v["speed"].numbers["django/flask"]["scenarios"]) == 2   # json counted once


def test_every_rule_names_its_section_of_docs_verdicts():
    """The rules are written down before the data: each claim's rule text cites its section of
    docs/verdicts.md, and that section exists."""
    sections = set(re.findall(r"^## (\S+)", (ROOT / "docs" / "verdicts.md").read_text(), re.M))
    for c in CLAIMS:
        cited = re.findall(r"docs/verdicts\.md § (\w+)", c.rule)
        assert cited and set(cited) <= sections, (c.key, cited)


@pytest.mark.parametrize("low,words", [(1.03, "Flask is cheaper, perhaps by less than the 5% that counts"),
                                       (0.97, "too imprecise to say which is faster")])
def test_the_answer_says_what_an_inconclusive_speed_leaves_open(low, words):
    """Above 1 but not clear of the margin is not the same as an interval holding 1."""
    from types import SimpleNamespace as NS

    from harness.claims.answer import sentence
    overall = {"value": 1.2, "low": low, "high": 1.4}
    recorded = {"gunicorn-sync": False, "gunicorn-sync@3": False, "granian": True}
    ev = NS(runs=[NS(meta={"db": {"engine": "sqlite"}, "config": {}})], deployments=["gunicorn-sync"],
            keep_alive=recorded.get)
    claims = [{"claim": NS(key="speed"), "verdict": NS(verdict="inconclusive", numbers={
                   "django/flask": {"overall": overall, "scenarios": {}}})},
              {"claim": NS(key="modest"), "verdict": NS(verdict="supported", numbers={})},
              {"claim": NS(key="trivial"), "verdict": NS(verdict="inconclusive", numbers={})}]
    assert f": {words} (inconclusive); a modest difference" in sentence(ev, claims)
    ev.deployments = ["gunicorn-sync@3", "granian"]   # as the trials recorded it, not by name
    assert sentence(ev, claims).startswith("On this machine (gunicorn-sync@3, no keep-alive, sqlite;")
    ev.deployments = ["granian", "gunicorn-sync"]
    assert sentence(ev, claims).startswith("On this machine (granian, keep-alive, sqlite;")
    ev.deployments = ["uwsgi"]   # a run that recorded nothing says nothing
    assert sentence(ev, claims).startswith("On this machine (uwsgi, sqlite;")


def test_a_library_speedup_is_judged_per_framework(tmp_path):
    """orjson makes Flask 25% cheaper and leaves Django as it was: Flask's speedup is above the
    margin, Django's interval lies below it, so 'both can be made faster' is refuted."""
    from harness.analysis.evidence import Evidence
    from harness.claims.deployments import library_speedups, tools_rule
    from tests.ladderfactory import write_ladder_run
    run = write_ladder_run(tmp_path / "lib", costs={"flask": 100, "flask-orjson": 80, "django": 120,
                                                    "django-orjson": 120},
                           targets=("flask", "flask-orjson", "django", "django-orjson"))
    found = library_speedups(Evidence.from_dirs([run]))
    assert set(found) == {("flask", "orjson"), ("django", "orjson")}
    assert found[("flask", "orjson")].ratio == pytest.approx(1.25, rel=0.02)
    assert found[("django", "orjson")].ratio == pytest.approx(1.0, abs=0.02)
    verdict, why = tools_rule(found)
    assert verdict == "refuted" and "django" in why
