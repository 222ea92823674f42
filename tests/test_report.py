"""The HTML report: self-contained, claims first, deterministic, and it renders in a real
headless Chromium (Debian's /usr/bin/chromium, driven by playwright without its own browser)."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.claims import CLAIMS
from harness.paths import ROOT
from harness.report.html import render
from tests.runfactory import trial, write_run
from tests.staticfactory import STATIC

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
SCREENSHOT = Path("/tmp/fdbench-report.png")
SCENARIO_SHOT = Path("/tmp/fdbench-report-scenario.png")


@pytest.fixture
def flagged_run(tmp_path):
    extra = [trial("plaintext", t, r, c, rps=9000, flags=["generator_bound"])
             for r in range(3) for t, c in (("flask", 500.0), ("django", 800.0))]
    extra.append(trial("json", "django", 7, None, status="failed"))
    static = {**STATIC, "extra_measure": {"note": "a static file no claim reads: shown as-is"}}
    return write_run(tmp_path / "20261125-120000-testbox", extra=extra, static=static)


def test_report_is_self_contained_with_claims_first(flagged_run, tmp_path):
    html = render([flagged_run], tmp_path / "rep").read_text()
    assert html.index('id="claims-table"') < html.index("Scenario json")
    assert not EXTERNAL.search(html), EXTERNAL.search(html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    imgs = re.findall(r'<img[^>]*src="([^"]{0,30})', html)
    # the headline, then per scenario: throughput, latency, cost (the ablation's three bars are
    # the cost chart's own, so its figures are text)
    assert len(imgs) == 1 + 3 * 3 and all(s.startswith("data:image/png;base64,") for s in imgs)
    for needle in ("generator-bound", "r7-json-django", "boom", "Test CPU", "sqlite",
                   "flask 3.1.3", "extra_measure", "p99.9"):
        assert needle in html, needle


def static_tables(html: str) -> dict:
    """{caption: [row cells]} of the static-measurement tables, read back from the HTML."""
    tables = {}
    for caption, body in re.findall(r'<table class="static">\s*<caption>(.*?)</caption>.*?<tbody>(.*?)</tbody>',
                                    html, re.S):
        rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        tables[caption] = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows]
    return tables


def test_static_measurements_are_tables_not_json(flagged_run, tmp_path):
    html = render([flagged_run], tmp_path / "rep").read_text()
    tables = static_tables(html)
    ratio = tables["Django / Flask lines against the article&#39;s 24k / 10k"]
    assert ratio[0] == ["written, all features", "114", "108", "1.06", "2.40"]
    assert ["admin", "20", "2", "0.10"] in tables["Written source lines by feature"]
    deps = {r[0]: r for r in tables["Installed dependencies (transitive)"]}
    assert deps["flask"][1:] == ["2", "click, werkzeug", "5.0", "45,713"]
    assert ["/json", "243 / 5", "304 / 19", "1.25"] in tables[
        "Python function calls per request / stack depth at the view"]
    security = {r[0]: r for r in next(v for k, v in tables.items() if k.startswith("What each framework"))}
    assert security["csrf"][3] == "2 lines, + flask-wtf" and security["csrf"][1].startswith("no:")
    admin = {r[0]: r for r in tables["CRUD admin for Fortune"]}
    assert admin["Flask"][2:5] == ["20", "flask-admin, wtforms", "401"]
    assert admin["Django"][2:5] == ["2", "none (migrate + createsuperuser)", "302"]
    micro = {r[0]: r for r in tables["In-process micro-benchmark against the load test"]}
    assert micro["/json"][4] == "0.70" and micro["/json"][-1] == "yes"   # load test: 560/850 = 0.66
    assert micro["/db"][-1] == "no"                                        # 1.50 against 0.66
    assert "The machine was busy" in html
    # only the file fdbench has no table for stays raw JSON
    assert html.count("<details>") == 1 and "static/extra_measure.json" in html


def test_instruction_tables_put_ratios_beside_the_load_test(tmp_path):
    """Counts with their ratios, the paired CPU-µs ratio at the same path, and a served request
    split into framework, gunicorn and the kernel's share from the trials."""
    counts = {"flask": (560_000, 1_160_000), "django": (750_000, 1_420_000),
              "baseline": (35_000, 655_000)}
    records = [{"target": t, "endpoint": "/json", "instructions_per_request": own,
                "served": {"instructions_per_request": served}} for t, (own, served) in counts.items()]
    run = write_run(tmp_path / "run", instructions={"schema": 1, "counts": records})
    tables = static_tables(render([run], tmp_path / "rep").read_text())
    per_request = tables["Instructions per request, in-process: the framework and app alone"]
    assert per_request[0][:8] == ["/json", "560,000", "750,000", "–", "35,000", "1.34", "16.0", "21.4"]
    assert per_request[0][8].startswith("1.5")    # runfactory: 850 / 560 CPU-µs per request
    served = {r[1]: r for r in tables["A served request&#39;s instructions: framework and app, gunicorn, kernel"]}
    assert served["Flask"] == ["/json", "Flask", "1,160,000", "560,000", "600,000", "48%", "20%"]
    assert served["baseline"][5:] == ["5%", "20%"]


def test_microbench_agreement_rule():
    from harness.analysis.cross_checks import agreement, busy
    from harness.analysis.stats import Estimate

    load = Estimate(0.80, 0.75, 0.85, 5)
    assert agreement(0.84, load) == "yes" and agreement(0.60, load) == "same direction"
    assert agreement(1.10, load) == "no" and agreement(1.0, None) == "no load-test trials"
    assert busy({"max_loadavg": 1.2}) is False and busy({"max_loadavg": 2.0}) is True


def test_same_run_renders_byte_identical(flagged_run, tmp_path):
    a = render([flagged_run], tmp_path / "a").read_bytes()
    b = render([flagged_run], tmp_path / "b").read_bytes()
    assert a == b


def test_two_machines_side_by_side(tmp_path):
    x86 = write_run(tmp_path / "x86")
    arm = write_run(tmp_path / "arm", seed=5, machine={"host": "armbox", "arch": "aarch64"},
                    costs={"flask": 900.0, "django": 1400.0, "django-stripped": 1000.0,
                           "baseline": 600.0})
    html = render([x86, arm], tmp_path / "rep").read_text()
    assert "Ratios by machine" in html
    assert "testbox x86_64" in html and "armbox aarch64" in html
    assert "armbox aarch64: Django − Flask" in html   # absolute µs labelled, never pooled


def test_cli_report_and_claims(flagged_run, tmp_path):
    from harness.cli import main

    assert main(["claims", str(flagged_run)]) == 0
    assert main(["report", str(tmp_path / "missing")]) == 2


def chromium_check(report: Path, profile: Path, shot: Path) -> dict:
    """Open the report; return what rendered and every request that was not the file itself."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 1000})
        outside = []
        ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("file://", "data:")) else (outside.append(route.request.url), route.abort()))
        page = ctx.new_page()
        page.goto(report.as_uri(), wait_until="load")
        found = page.evaluate("""() => ({
            claims: [...document.querySelectorAll('#claims-table tr.claim')].map(
                r => [r.dataset.key, r.querySelector('.verdict').textContent]),
            charts: [...document.querySelectorAll('img.chart')].map(
                i => [i.alt, i.complete && i.naturalWidth > 100 && i.naturalHeight > 50]),
            top: document.querySelector('h2').textContent,
            answer: (() => { const a = document.querySelector('#answer');
                             const i = document.querySelector('img.headline');
                             return a && [a.textContent, a.getBoundingClientRect().bottom
                                          <= i.getBoundingClientRect().top]; })(),
            speed: document.querySelector('#claims-table tr.claim[data-key="speed"]').textContent,
            first: (() => { const i = document.querySelector('img');
                            const t = document.querySelector('#claims-table');
                            return [i.classList.contains('headline'), i.complete && i.naturalWidth > 500,
                                    i.getBoundingClientRect().bottom <= t.getBoundingClientRect().top]; })(),
            static: Object.fromEntries([...document.querySelectorAll('table.static')].map(
                t => [t.caption.textContent, [...t.tBodies[0].rows].map(
                    r => [...r.cells].map(c => c.textContent))]))})""")
        page.screenshot(path=str(shot))
        section = page.locator("details.case").first    # collapsed: open it as a reader would
        section.locator("summary").click()
        found["opened"] = section.evaluate("d => d.open")
        section.screenshot(path=str(shot.with_name("scenario.png")))
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        found["width"] = page.evaluate("document.documentElement.scrollWidth")
        ctx.close()
    return {**found, "outside": outside}


def test_report_renders_in_chromium(flagged_run, tmp_path):
    assert CHROMIUM.exists(), "chromium not installed: `make system-deps` installs it"
    report = render([flagged_run], tmp_path / "rep")
    shot = tmp_path / "report.png"
    found = chromium_check(report, tmp_path / "profile", shot)
    assert found["top"] == "The article's claims"
    assert [k for k, _ in found["claims"]] == [c.key for c in CLAIMS]
    assert all(v.strip() for _, v in found["claims"])
    assert found["first"] == [True, True, True]   # the headline chart first, above the claims
    assert len(found["charts"]) == 1 + 9 and all(ok for _, ok in found["charts"]), found["charts"]
    assert found["outside"] == []
    # the sentence above the chart, the chart's figures and the claims table say one thing
    sentence, above = found["answer"]
    assert above
    overall = re.search(r"Django costs (\d\.\d\d)x Flask's CPU per request overall "
                        r"(\[\d\.\d\d, \d\.\d\d\])", sentence)
    figure = f"{overall.group(1)} {overall.group(2)}"
    assert f"Django/Flask overall {figure}" in found["speed"]
    assert f"overall ({figure}, 95% interval)" in found["charts"][0][0]
    assert "Flask is faster (supported)" in sentence and "supported" in found["speed"]
    ratio = found["static"]["Django / Flask lines against the article's 24k / 10k"]
    assert ratio[0][3:] == ["1.06", "2.40"]
    assert len(found["static"]) == 11, list(found["static"])
    assert shot.stat().st_size > 20_000
    assert found["opened"] and shot.with_name("scenario.png").stat().st_size > 20_000
    assert found["width"] <= 1280      # every section open, nothing wider than the window
    shutil.copy(shot, SCREENSHOT)
    shutil.copy(shot.with_name("scenario.png"), SCENARIO_SHOT)


def test_real_quick_run_end_to_end(tmp_path):
    """A real tiny `fdbench bench` (one scenario, one round, short windows), then its report."""
    out = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "bench", "--profile", "quick", "--scenarios", "json",
         "--repeat", "1", "--warmup", "0.3", "--duration", "1", "--out", str(out),
         "--no-static", "--no-instructions", "--no-report"],  # rendered below, into tmp_path
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "the article's claims" in proc.stdout   # bench prints the claims table
    (run_dir,) = out.iterdir()
    html = render([run_dir], tmp_path / "rep").read_text()
    assert "Scenario json" in html and run_dir.name in html
    assert "n=1, no CI" in html        # one round: said, not hidden
    # quick: two load levels, each with three charts, less the throughput chart of the 75% level
    # when every app served its fixed rate (bars all of one height)
    assert len(re.findall(r'<img class="chart"', html)) in (3 + 2, 3 * 2)
    assert not EXTERNAL.search(html)


def test_headline_chart_and_compact_claims(flagged_run, tmp_path):
    """The answer first: one chart with alt text, then a claims table whose rule and full
    figures are behind a click and still in the page."""
    from harness.analysis.evidence import Evidence
    from harness.claims import judge

    html = render([flagged_run], tmp_path / "rep").read_text()
    first = re.search(r'<img class="chart headline" alt="([^"]*)"', html)
    assert first and html.index(first.group(0)) < html.index('id="claims-table"')
    assert html.index(first.group(0)) == html.index("<img")
    assert first.group(1).startswith("Dot plot of the Django/Flask server CPU-µs per request")
    table = html[html.index('id="claims-table"'):html.index("</table>", html.index('id="claims-table"'))]
    assert table.count('<details class="figures">') == len(CLAIMS)
    from markupsafe import escape
    for item in judge(Evidence.from_dirs([flagged_run])):   # nothing lost behind the click
        assert str(escape(item["verdict"].summary)) in table and str(escape(item["claim"].rule)) in table


def test_fixed_rate_served_by_all_has_no_throughput_chart(tmp_path):
    """Open-loop trials that all achieved their rate: the chart would be equal bars, so the
    section says the rate instead; a scenario section is collapsed behind its headline."""
    extra = []
    for r in range(6):
        for target, cpu in (("flask", 560.0), ("django", 850.0)):
            t = trial("json", target, r, cpu, rps=400.0, mode="open")
            extra.append({**t, "trial_id": f"open-{r}-{target}", "rate": 400.0})
    html = render([write_run(tmp_path / "run", extra=extra)], tmp_path / "rep").read_text()
    section = html[html.index('id="case-json (open 400/s)"'):]
    section = section[:section.index("</details>")]
    assert "fixed 400 requests/s and served it" in section
    assert ": requests/s achieved" not in section and "latency percentiles" in section
    assert re.search(r"<summary><h2>Scenario json \(open 400/s\)</h2> <span class=\"headfig\">"
                     r"Django/Flask 1\.5\d \[", section)


def test_latency_is_drawn_as_a_distribution_from_the_histograms(tmp_path):
    """Stored histograms give HdrHistogram's percentile plot; the percentiles read are the
    merged requests', and none beyond what the request count supports."""
    import json

    from harness import histogram
    from harness.analysis import latency
    from harness.analysis.evidence import load_run

    run_dir = write_run(tmp_path / "run", scenarios=("json",), rounds=6)
    for line in (run_dir / "trials.jsonl").read_text().splitlines():
        rec = json.loads(line)
        hist = histogram.new()
        for us in range(1, 1001):   # 1..1000 µs, so p50 is 500 µs
            histogram.record(hist, us * (2 if rec["target"] == "django" else 1))
        (run_dir / rec["histogram"]).write_text(histogram.encode(hist))
    points = latency.distribution(load_run(run_dir), "json", "flask")
    assert points[0][0] == 50.0 and abs(points[0][1] - 500) <= 1
    assert points[-1][0] <= 100 * (1 - 1 / 6000) and points[-1][1] <= 1001
    html = render([run_dir], tmp_path / "rep").read_text()
    assert "latency in ms against percentile, 50% to 99.99% on a 1/(1-p) axis" in html


@pytest.fixture(scope="module")
def two_machines(tmp_path_factory):
    """Two ladder runs: Django costs more than Flask on x86 in every case; on arm it costs less
    at json (the verdict flips) and the same as Flask at db saturation (undecided there)."""
    from tests.ladderfactory import write_ladder_run

    root = tmp_path_factory.mktemp("machines")
    x86 = write_ladder_run(root / "20261125-120000-testbox")
    arm = write_ladder_run(root / "20261125-130000-armbox", seed=5,
                           machine={"host": "armbox", "arch": "aarch64", "cpu_model": "Neoverse-N1"},
                           costs={("json", "django"): 450.0, ("db", "django"): 560.0,
                                  ("db", "flask"): 560.0})
    return root, x86, arm


def test_each_ratio_per_machine_says_where_the_verdict_flips(two_machines):
    """The per-machine chart comes before the scenarios, its alt text and table name the cases
    whose Django/Flask ratio is on opposite sides of 1 on the two machines."""
    from harness.analysis.evidence import Evidence
    from harness.report import by_machine
    from tests.ladderfactory import write_ladder_run

    root, x86, arm = two_machines
    agree = by_machine.agreement(by_machine.ratios(Evidence.from_dirs([x86, arm])))
    flask = {case: how for (ratio, case), how in agree.items() if ratio == "Django / Flask"}
    assert flask == {"json @ saturation": "opposite", "json @ 75%": "opposite", "json @ 25%": "opposite",
                     "db @ saturation": "undecided", "db @ 75%": "undecided", "db @ 25%": "undecided"}
    assert {how for (ratio, _), how in agree.items() if ratio == "Django / baseline"} == {"same"}
    # one cycle: no interval anywhere (a t-interval needs two pairs), so nothing is the same or
    # flips, it is decided nowhere
    short = [write_ladder_run(root / f"short-{m}", cycles=1, machine={"host": m}) for m in ("a", "b")]
    assert set(by_machine.agreement(by_machine.ratios(Evidence.from_dirs(short))).values()) == {"none"}
    html = render([x86, arm], root / "rep").read_text()
    alt = re.search(r'<img class="chart machines" alt="([^"]*)"', html)
    assert alt and html.index(alt.group(0)) < html.index('id="scenarios"')
    assert ("Django / Flask: the same side of 1 on every machine in 0 of 6 cases, decided on some "
            "machines only in 3, opposite sides in 3 (json @ saturation, json @ 75%, json @ 25%)") in alt.group(1)
    assert "testbox x86_64, armbox aarch64" in alt.group(1)
    table = html[html.index("<summary>the figures per machine</summary>"):]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>.*?<td>([^<]*)</td></tr>", table[:table.index("</table>")])
    assert ("Django / Flask", "json @ 75%", "no: opposite sides") in rows
    assert ("Django / baseline", "db @ 25%", "yes") in rows


def test_several_runs_page_grows_in_proportion(two_machines, tmp_path):
    """A second machine adds its bars, lines and table rows and the per-machine chart, not a
    chart per fixed-rate case that every app served (on its own machine's rate)."""
    root, x86, arm = two_machines
    one = render([x86], tmp_path / "one").read_text()
    two = render([x86, arm], tmp_path / "two").read_text()
    assert one.count('<img class="chart"') == two.count('<img class="chart"') == 6 * 2 + 2
    assert two.count("and served it (within 2%)") == 4
    assert "rate (testbox x86_64: 882/s, armbox aarch64: 1667/s)" in two
    assert len(two) < 1.6 * len(one), (len(one), len(two))


MACHINES_SHOT = Path("/tmp/fdbench-report-machines.png")


def test_several_runs_in_chromium_at_1280_px_and_printed(two_machines, tmp_path):
    """In a real Chromium: the per-machine chart loads above the scenarios, every chart says
    what it shows, the page with every section open fits 1,280 px, and printed (print media,
    and Chromium's own print to PDF) the collapsed sections are open."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "chromium not installed: `make system-deps` installs it"
    root, x86, arm = two_machines
    report = render([x86, arm], tmp_path / "rep")
    inside = "details.case img.chart"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(report.as_uri(), wait_until="load")
        found = page.evaluate("""() => {
            const m = document.querySelector('img.machines');
            return {machines: [m.complete && m.naturalWidth > 800,
                               m.getBoundingClientRect().bottom <= document.querySelector(
                                   'details.case').getBoundingClientRect().top],
                    alts: [...document.images].map(i => i.alt)}; }""")
        assert found["machines"] == [True, True]
        assert len(found["alts"]) == 2 + 6 * 2 + 2 and len(set(found["alts"])) == len(found["alts"])
        headline, machines, *scenario = found["alts"]
        assert headline.startswith("Dot plot of the Django/Flask") and "per machine" in headline
        assert machines.startswith("Dot plots, one panel per ratio")
        assert all(a.startswith(("json @ ", "db @ ")) and "machine" in a for a in scenario), scenario
        shot = tmp_path / "machines.png"
        page.locator("figure#machines").screenshot(path=str(shot))
        assert not page.locator(inside).first.is_visible()        # collapsed on screen
        page.emulate_media(media="print")
        printed = page.evaluate(f"""() => [...document.querySelectorAll('{inside}, details.figures p')]
            .map(e => e.checkVisibility() && e.getBoundingClientRect().height > 0)""")
        assert len(printed) > 12 and all(printed), printed
        page.emulate_media(media="screen")
        page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        pdf = tmp_path / "report.pdf"
        page.pdf(path=str(pdf))
        browser.close()
    assert shot.stat().st_size > 20_000
    shutil.copy(shot, MACHINES_SHOT)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 200_000


def test_cost_by_database_keeps_deployments_apart_and_flagged_slices_out(tmp_path):
    """A PostgreSQL run served under two deployments, beside a SQLite run: each (case, target)
    row is one deployment's, the DB server's CPU is apart, and a contended slice with an absurd
    cost moves no median."""
    import json

    from harness.analysis.evidence import Evidence
    from harness.report.sections import _by_database

    def pg(target, rnd, cpu, db, deployment, flags=()):
        return {**trial("db", target, rnd, cpu, flags=flags), "deployment": deployment,
                "db_cpu_us_per_request": db, "total_cpu_us_per_request": cpu + db}

    sqlite = write_run(tmp_path / "sqlite", scenarios=("db",))
    trials = [pg(target, rnd, cpu, db, dep)
              for rnd in range(3) for dep, scale in (("gunicorn-sync", 1), ("granian", 0.5))
              for target, cpu, db in (("flask", 900 * scale, 140), ("django", 800 * scale, 90))]
    trials.append(pg("flask", 3, 99_000, 9_000, "gunicorn-sync", ("contended",)))
    folder = write_run(tmp_path / "pg", scenarios=("db",), rounds=0)
    meta = json.loads((folder / "run.json").read_text())
    meta["db"] = {"engine": "postgresql"}
    meta["config"]["deployments"] = ["gunicorn-sync", "granian"]
    (folder / "run.json").write_text(json.dumps(meta))
    (folder / "trials.jsonl").write_text("".join(json.dumps(t) + "\n" for t in trials))
    cells, engines = _by_database(Evidence.from_dirs([sqlite, folder]))
    assert engines == ["sqlite", "postgresql"]
    assert cells[("db", "flask")]["postgresql"] == {"cpu": "900", "db": "140", "total": "1,040"}
    assert cells[("db [granian]", "flask")]["postgresql"] == {"cpu": "450", "db": "140", "total": "590"}
    assert cells[("db [granian]", "django")]["postgresql"]["cpu"] == "400"
    assert cells[("db", "django")]["sqlite"]["db"] == "–"
