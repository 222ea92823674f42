"""The rows of the report's tables, as text: the static measurements (code size, footprint,
layers, security, admin, databases, micro-benchmarks), built once from the stored JSON and
drawn twice, by rich in the terminal (terminal.py) and by Jinja in the HTML page (html.py), so
the two never disagree; and the callgrind tables (instructions per request with the
Django/Flask and framework/baseline ratios beside the load test's CPU-µs ratio, a served
request split into framework, gunicorn and kernel shares). Pure: counts, ratios and shares
come in as arguments."""
from dataclasses import dataclass

import pandas as pd

from ..analysis import cross_checks, security_gaps
from ..analysis import versions as release_counts
from ..targets import ENDPOINTS, LABELS, TARGET_NAMES

KINDS = ("python", "templates", "config", "migrations")
FEATURES = (*ENDPOINTS, "form", "admin", "shared")
# What each admin's login is; the probe only sees whether it asks for one.
ADMIN_LOGIN = {"django": "user accounts in the DB, a login form, sessions, per-model permissions",
               "flask": "HTTP Basic, one account from the config (Flask-Admin has no login of its own)"}


@dataclass
class Rows:
    """One table: a title, a header, rows of text; `numeric` columns align right, `bold` rows
    are totals."""
    title: str
    header: list
    rows: list
    numeric: tuple = ()
    bold: tuple = ()
    note: str = ""


def _name(key):
    return LABELS.get(key, key)


def _ratio(num, den, fmt="{:.2f}"):
    return fmt.format(num / den) if num and den else "–"


# --- code size ------------------------------------------------------------------------------

def loc_rows(loc) -> list[Rows]:
    return [_loc_kinds(loc["apps"]), _loc_features(loc["apps"]), _loc_ratio(loc)]


def _loc_kinds(apps) -> Rows:
    header = ["kind"] + [f"{_name(a)} written / generated" for a in apps]
    rows = [[kind] + [_pair(apps[a]["by_kind"].get(kind)) for a in apps] for kind in KINDS]
    rows.append(["total"] + [_pair(apps[a]["totals"]) for a in apps])
    rows.append(["variant-only (not counted)"] + [str(apps[a]["totals"]["variant"]) for a in apps])
    return Rows("Source lines by kind", header, rows, numeric=tuple(range(1, len(header))), bold=(len(KINDS),))


def _pair(counts):
    return f"{counts['written']} / {counts['generated']}" if counts else "0 / 0"


def _loc_features(apps) -> Rows:
    seen = {f for a in apps.values() for f in a["by_feature"]}
    features = [f for f in FEATURES if f in seen] + sorted(seen - set(FEATURES))
    header = ["feature"] + [_name(a) for a in apps] + ["Django / Flask"]
    rows = [[f] + [str(apps[a]["by_feature"].get(f, 0)) for a in apps]
            + [_ratio(apps.get("django", {}).get("by_feature", {}).get(f),
                      apps.get("flask", {}).get("by_feature", {}).get(f))] for f in features]
    return Rows("Written source lines by feature", header, rows, numeric=tuple(range(1, len(header))))


def _loc_ratio(loc) -> Rows:
    d, f, r = loc["apps"]["django"]["totals"], loc["apps"]["flask"]["totals"], loc["ratio"]
    article = f"{r['article']:.2f}"
    rows = [["written, all features", str(d["written"]), str(f["written"]), f"{r['written']:.2f}", article],
            ["written, six endpoints only", str(d["endpoints_written"]), str(f["endpoints_written"]),
             f"{r['endpoints_written']:.2f}", article],
            ["written + generated", str(d["written"] + d["generated"]), str(f["written"] + f["generated"]),
             f"{r['written_plus_generated']:.2f}", article]]
    return Rows("Django / Flask lines against the article's 24k / 10k",
                ["lines counted", "Django", "Flask", "Django / Flask", "article"], rows,
                numeric=(1, 2, 3, 4), bold=(0,), note=loc.get("method", ""))


# --- footprint ------------------------------------------------------------------------------

def footprint_rows(fp) -> list[Rows]:
    return [_stacks(fp["stacks"]), _startup(fp["apps"])]


def _stacks(stacks) -> Rows:
    rows = [[name, str(s["dependency_count"]), ", ".join(s["dependencies"]) or "none",
             f"{s['installed_mb']:.1f}", f"{s['py_lines']:,}"] for name, s in stacks.items()]
    return Rows("Installed dependencies (transitive)",
                ["stack", "dependencies", "names", "installed MB", "Python lines"], rows, numeric=(1, 3, 4))


def _startup(apps) -> Rows:
    rows = []
    for name, a in apps.items():
        top = ", ".join(f"{k} {v:.0f}" for k, v in list(a["import"]["by_package_ms"].items())[:4])
        rows.append([_name(name), f"{a['import']['total_ms']:.0f}", top, f"{a['cold_start_s']:.2f}",
                     f"{a['idle_worker_rss_mb']:.1f}"])
    return Rows("Start-up", ["app", "import ms (median)", "slowest imports ms", "cold start to first "
                             "response s", "idle worker RSS MB"], rows, numeric=(1, 3, 4))


# --- layers ---------------------------------------------------------------------------------

def layers_rows(layers) -> list[Rows]:
    return [_calls(layers["targets"]), _middleware(layers["targets"])]


def _calls(targets) -> Rows:
    paths = list(dict.fromkeys(p for t in targets.values() for p in t["paths"]))
    header = ["endpoint"] + [f"{_name(t)} calls / depth" for t in targets] + ["Django / Flask calls"]
    rows = []
    for path in paths:
        cells = [targets[t]["paths"].get(path, {}) for t in targets]
        calls = {t: targets.get(t, {}).get("paths", {}).get(path, {}).get("python_calls")
                 for t in ("flask", "django")}
        rows.append([path] + [f"{c.get('python_calls', '–')} / {c.get('view_depth', '–')}" for c in cells]
                    + [_ratio(calls["django"], calls["flask"])])
    return Rows("Python function calls per request / stack depth at the view", header, rows,
                numeric=tuple(range(1, len(header))))


def _middleware(targets) -> Rows:
    rows = [[_name(t), str(v["middleware"]["count"]),
             ", ".join(n.rsplit(".", 1)[-1] for n in v["middleware"]["names"]) or "–"]
            for t, v in targets.items()]
    return Rows("Middleware", ["target", "count", "names"], rows, numeric=(1,))


# --- security -------------------------------------------------------------------------------

def security_rows(sec) -> list[Rows]:
    probes = sec["probes"]
    apps = [a for a in ("flask", "django") if any(a in p for p in probes.values())]
    header = ["probe"] + [f"{_name(a)} by default" for a in apps] + [f"closing {_name(a)}'s gap" for a in apps]
    rows = [[probe] + [_default(by_app.get(a)) for a in apps] + [_fix(by_app.get(a)) for a in apps]
            for probe, by_app in probes.items()]
    rows.append(["all gaps"] + [f"{len(security_gaps.gaps(probes, a))} open" for a in apps]
                + [_total(security_gaps.closing_cost(probes, a)) for a in apps])
    note = (sec.get("settings", "") + "; admin_login probes each admin as the app builds it (the Flask "
            "app adds its own HTTP Basic login: see the admin table)")
    return [Rows("What each framework gives by default, and what closing each gap takes", header, rows,
                 bold=(len(rows) - 1,), note=note)]


def _default(result):
    if result is None:
        return "not probed"
    return f"{'yes' if result['protected'] else 'no'}: {result['observed'] or 'absent'}"


def _fix(result):
    if result is None or result["protected"]:
        return "–"
    fix = result.get("remedy")
    if not fix or fix["lines"] is None:
        return "not costed"
    return _cost(fix["lines"], fix["packages"])


def _cost(lines, packages):
    added = f"+ {', '.join(packages)}" if packages else "no package"
    return f"{lines} line{'s' if lines != 1 else ''}, {added}"


def _total(cost):
    text = _cost(cost["lines"], cost["packages"])
    return text + (f", plus unwritten code for {', '.join(cost['unwritten'])}" if cost["unwritten"] else "")


# --- admin ----------------------------------------------------------------------------------

def admin_rows(loc, fp, sec) -> list[Rows]:
    """Lines and packages of each CRUD admin, and whether it asks for a login."""
    s = fp["stacks"]
    flask_added = set(s["flask app"]["versions"]) - set(s["flask app (no admin)"]["versions"])
    added = {"django": [], "flask": sorted(flask_added)}
    login = (sec or {}).get("probes", {}).get("admin_login", {})
    rows = []
    for app, admin in (("django", "django.contrib.admin"), ("flask", "Flask-Admin")):
        probe = login.get(app)
        rows.append([_name(app), admin, str(loc["apps"][app]["by_feature"].get("admin", 0)),
                     ", ".join(added[app]) or "none (migrate + createsuperuser)",
                     probe["observed"].split("-> ")[-1] if probe else "not probed",
                     ADMIN_LOGIN[app] if probe and probe["protected"] else "none: it lets everyone in"])
    return [Rows("CRUD admin for Fortune", ["framework", "admin", "written lines", "packages added",
                                            "anonymous GET of the list", "login"], rows, numeric=(2,))]


# --- databases ------------------------------------------------------------------------------

def databases_rows(dbs) -> list[Rows]:
    rows = []
    for app, found in dbs["apps"].items():
        for engine in dbs["engines"]:
            failed = found["failed"].get(engine, [])
            rows.append([_name(app), f"{engine} {dbs['versions'].get(engine, '')}".strip(),
                         f"{len(found['checks']) - len(failed)}/{len(found['checks'])}",
                         ", ".join(failed) or "–", ", ".join(found["differ"]) or "–"])
    rows += [["–", engine, "not run", why, "–"] for engine, why in dbs.get("unavailable", {}).items()]
    return [Rows("The same app on each database", ["app", "database", "checks passed", "failed",
                                                   "answers that differ between databases"], rows)]


# --- micro-benchmarks -----------------------------------------------------------------------

def microbench_rows(micro, load=None, instructions=None) -> list[Rows]:
    """In-process µs per call beside the load test's paired CPU-µs ratio and the callgrind
    instruction ratio (Flask / Django, each keyed by request path)."""
    load, instructions = load or {}, instructions or {}
    med = micro.get("us_per_call") or micro["median_us"]  # median_us: summaries from before 2026-11-25 15:00
    rows = []
    for endpoint, ratio in micro["ratios"].items():
        path = cross_checks.path_of(micro, endpoint)
        est = load.get(path)
        rows.append([path] + [_us(med.get(t, {}).get(endpoint)) for t in ("flask", "django", "baseline")]
                    + [f"{ratio:.2f}", est.text("{:.2f}") if est else "–",
                       f"{instructions[path]:.2f}" if path in instructions else "–",
                       cross_checks.agreement(ratio, est)])
    header = ["endpoint", "Flask µs", "Django µs", "baseline µs", "Flask / Django in-process",
              "Flask / Django load test CPU-µs (95% CI)", "Flask / Django instructions", "agree?"]
    return [Rows("In-process micro-benchmark against the load test", header, rows,
                 numeric=(1, 2, 3, 4, 6), note=_micro_note(micro))]


def _us(value):
    return f"{value:,.0f}" if value is not None else "–"


def _micro_note(micro):
    note = (f"pytest-benchmark {micro.get('statistic', 'median')} of at least {micro.get('min_rounds') or '?'} "
            f"calls ({micro.get('timer') or 'wall-clock timer'}) on {micro.get('machine')} at "
            f"{micro.get('datetime')}. "
            f"Agree: the in-process ratio is inside the load test's CI or within "
            f"{cross_checks.AGREE:.0%} of it; 'same direction': both say the same framework is cheaper.")
    if cross_checks.busy(micro):
        note += f" The machine was busy (load average up to {micro['max_loadavg']:.1f}): timings wobble."
    return note


# --- instructions per request (callgrind) ---------------------------------------------------

def instruction_rows(counts: pd.DataFrame, load=None, kernel=None) -> list[Rows]:
    """counts: Evidence.instructions; load: {path: Django/Flask CPU-µs Estimate}; kernel:
    {path: {target: kernel share of the server's CPU time}}. Two tables per run."""
    out = []
    runs = list(dict.fromkeys(counts["run_id"]))
    for run_id in runs:
        rows = counts[counts["run_id"] == run_id]
        suffix = f" ({run_id})" if len(runs) > 1 else ""
        by = {(r.case, r.target): r for r in rows.itertuples()}
        paths = list(dict.fromkeys(rows["case"]))
        out += [_per_request(paths, by, load or {}, suffix),
                _served(paths, by, kernel or {}, suffix)]
    return out


def _count(by, path, target, field="instructions"):
    row = by.get((path, target))
    value = getattr(row, field) if row is not None else None
    return None if value is None or pd.isna(value) else value


def _n(value):
    return f"{value:,.0f}" if value is not None else "–"


def _per_request(paths, by, load, suffix) -> Rows:
    rows = []
    for path in paths:
        f, d, s, b = (_count(by, path, t) for t in TARGET_NAMES)
        est = load.get(path)
        rows.append([path, _n(f), _n(d), _n(s), _n(b), _ratio(d, f), _ratio(f, b, "{:.1f}"),
                     _ratio(d, b, "{:.1f}"), est.text("{:.2f}") if est else "–"])
    header = ["endpoint", *map(_name, TARGET_NAMES), "Django / Flask", "Flask / baseline",
              "Django / baseline", "Django / Flask CPU-µs, load test (95% CI)"]
    return Rows("Instructions per request, in-process: the framework and app alone" + suffix,
                header, rows, numeric=tuple(range(1, 9)),
                note="callgrind, N requests minus none after warm-up, hash seed, clock and "
                     "database copy fixed. The CPU-µs ratio is the paired load test's at the same "
                     "path; it includes gunicorn and the kernel, which cost every app alike, and "
                     "the machine's cycles per instruction. Counts repeat exactly for one "
                     "checkout, but depend on the heap's layout: the same commit at another "
                     "checkout path counted up to 4% apart (Flask /queries?queries=20), so the "
                     "ratios are good to a few percent.")


def _served(paths, by, kernel, suffix) -> Rows:
    rows = []
    for path in paths:
        for target in TARGET_NAMES:
            served, own = _count(by, path, target, "served"), _count(by, path, target)
            if served is None or own is None:
                continue
            share = kernel.get(path, {}).get(target)
            rows.append([path, _name(target), _n(served), _n(own), _n(served - own),
                         f"{own / served:.0%}", f"{share:.0%}" if share is not None else "–"])
    header = ["endpoint", "target", "served", "framework and app", "gunicorn", "framework share",
              "kernel share of CPU time (load test)"]
    return Rows("A served request's instructions: framework and app, gunicorn, kernel" + suffix,
                header, rows, numeric=(2, 3, 4, 5, 6),
                note="Served: gunicorn's sync worker parses, calls the app, writes and closes, "
                     "under callgrind; gunicorn = served minus in-process. callgrind counts user "
                     "space only, so the kernel's part is the load test's: the server's system "
                     "time over its CPU time over all the run's trials at that path. /proc samples"
                     " it in 10 ms ticks: a default run pools about 350 ticks per cell, good to "
                     "about ±4 points by counting alone; a quick run's figures are rougher.")


# --- compare ---------------------------------------------------------------------------------

def change_cells(c) -> list[str]:
    """One row of `fdbench compare`'s table: a Change (analysis.compare) as text."""
    def est(e):
        return f"{e.value:,.4g} (n={e.n})" if e is not None else "–"

    return [c.case, c.subject, c.metric, est(c.base), est(c.new),
            c.change.text("{:+.1f}", scale=100, unit="%") if c.change else "–",
            f"{c.p:.3g}" if c.p is not None else "n/a",
            "REGRESSION" if c.regression else "ok"]


def versions_rows(data: dict) -> dict:
    """A row per framework release and endpoint: in-process and served instructions per
    request (and in-process estimated cycles, when simulated), each with its change from the
    framework's previous measured release; with `--load`, the served CPU-µs per request and the
    step's paired change with its 95% interval."""
    figures = [("in-process", lambda r, e: release_counts.count(r, e)),
               ("served", lambda r, e: release_counts.count(r, e, "served"))]
    if data.get("cycles"):
        figures.append(("est. cycles", release_counts.cycles))
    loaded = bool(data.get("load"))
    steps = {(s.framework, s.endpoint, s.after): s for s in release_counts.load_steps(data)}
    rows = []
    for framework in release_counts.frameworks(data):
        previous = {}
        for rec in release_counts.releases(data, framework):
            for endpoint in release_counts.endpoints(data):
                cells = [framework, f"{rec['series']} ({rec.get('version', '?')})", endpoint]
                for name, get in figures:
                    value, before = get(rec, endpoint), previous.get((endpoint, name))
                    cells += [f"{value:,}" if value else "–",
                              f"{value / before - 1:+.1%}" if value and before else ""]
                    previous[(endpoint, name)] = value
                if loaded:
                    cost = release_counts.served_cost(rec, endpoint)
                    step = steps.get((framework, endpoint, rec["series"]))
                    cells += [f"{cost.value:,.0f}" if cost else "–",
                              step.change.text("{:+.1%}") if step else ""]
                rows.append(cells)
    header = ["framework", "release", "endpoint"] + [h for name, _ in figures for h in (name, "change")]
    if loaded:
        header += ["CPU-µs served", "change (95% CI)"]
    note = "change: from the framework's previous measured release."
    if loaded:
        note += (f" CPU-µs served: median over {data['load']['cycles']} cycles of "
                 f"{data['load']['slice_s']:g} s saturated slices, one release under load at a "
                 "time; its change is the median of the cycles' paired ratios.")
    return {"title": f"instructions per request by release (callgrind, N={data.get('requests')})",
            "header": header, "rows": rows, "numeric": set(range(3, len(header))), "bold": set(),
            "note": note}
