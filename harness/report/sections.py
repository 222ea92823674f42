"""The report's sections beyond the load test's own: one per static measurement (a table drawn
from static/<name>.json; add a measurement's section to SECTIONS), the scaling sweep
(throughput vs workers, efficiency, latency vs offered load, skipped points and why) and the
per-database cost table (SQLite vs PostgreSQL side by side, DB server CPU apart) and the cost
of each framework release (versions.json: a chart per endpoint, the table, what was not measured). Each is its
own function so that one can change without the page; they read stored runs only."""
import json
import math
import statistics

from jinja2 import Environment
from markupsafe import Markup

from .. import store
from ..analysis import by_path, stats, sweep_stats
from ..analysis import versions as release_counts
from ..claims.speed import clean
from . import charts, rows

# static/<name>.json -> (section id, heading, the tables drawn from it)
SECTIONS = {
    "loc": ("code-size", "Code size", lambda s, ev: rows.loc_rows(s["loc"])),
    "admin": ("admin", "Admin for an MVP",
              lambda s, ev: rows.admin_rows(s["loc"], s["footprint"], s.get("security"))),
    "footprint": ("footprint", "Footprint: dependencies and start-up",
                  lambda s, ev: rows.footprint_rows(s["footprint"])),
    "layers": ("layers", "Layers", lambda s, ev: rows.layers_rows(s["layers"])),
    "security": ("security", "Security out of the box", lambda s, ev: rows.security_rows(s["security"])),
    "databases": ("databases", "Databases", lambda s, ev: rows.databases_rows(s["databases"])),
    "microbench": ("microbench", "In-process micro-benchmarks", lambda s, ev: rows.microbench_rows(
        s["microbench"], by_path.load_ratios(ev),
        ev.per_endpoint(("flask", "django"), lambda f, d: f / d))),
}
NEEDS = {"admin": ("loc", "footprint")}  # a section drawn from other files


def static_sections(ev) -> list[dict]:
    """Tables for every static measurement fdbench knows; raw JSON for any other file."""
    static, out = ev.static, []
    for name, (sid, heading, build) in SECTIONS.items():
        if all(n in static for n in NEEDS.get(name, (name,))):
            out.append({"id": sid, "heading": heading, "tables": build(static, ev)})
    out += [{"id": f"static-{name}", "heading": name, "raw": json.dumps(value, indent=2, sort_keys=True)}
            for name, value in static.items() if name not in SECTIONS]
    return out


def versions_sections(ev) -> list[dict]:
    """One per run holding versions.json: a chart per endpoint (Flask and Django side by side,
    cost against release; with `--load` a second, of served CPU-µs), the table, and the
    releases not measured with their reasons."""
    out = []
    for run in ev.runs:
        data = run.versions
        if not data:
            continue
        names = release_counts.frameworks(data)
        figures = []
        for endpoint in release_counts.endpoints(data):
            panels = {fw: [(r["series"], release_counts.count(r, endpoint),
                            release_counts.count(r, endpoint, "served"))
                           for r in release_counts.releases(data, fw)] for fw in names}
            panels = {fw: points for fw, points in panels.items() if points}
            if panels:
                figures.append({"png": charts.versions(endpoint, panels),
                                "alt": f"{endpoint}: instructions per request against release, "
                                       f"{' and '.join(panels)} side by side, change per step"})
            served = {fw: [(r["series"], cost) for r in release_counts.releases(data, fw)
                           if (cost := release_counts.served_cost(r, endpoint))] for fw in names}
            served = {fw: points for fw, points in served.items() if points}
            if served:
                figures.append({"png": charts.versions_load(endpoint, served),
                                "alt": f"{endpoint}: served CPU-µs per request against release "
                                       f"at saturation, {' and '.join(served)} side by side, "
                                       "medians with 95% intervals"})
        out.append({"run_id": run.run_id, "charts": figures, "table": rows.versions_rows(data),
                    "not_measured": [f"{r['framework']} {r['series']}: {r['status']}: {r.get('reason')}"
                                     for r in release_counts.not_measured(data)]})
    return out


TEMPLATE = """
{% if dbs %}
<h2 id="databases">Cost by database (CPU-µs per request, median of trials)</h2>
<p>app server = the app's processes (and a proxy in front, if any); DB = the PostgreSQL
server's processes when fdbench ran it (SQLite runs inside the app, so its cost is all in the
app server's column). Medians of the slices the verdicts use; flagged slices are left out.</p>
<table><thead><tr><th>scenario</th><th>target</th>{% for e in engines %}<th>{{ e }}: app server</th><th>{{ e }}: DB</th><th>{{ e }}: total</th>{% endfor %}</tr></thead><tbody>
{% for (case, target), by_engine in dbs.items() %}<tr><td>{{ case }}</td><td>{{ target }}</td>
{% for e in engines %}{% set c = by_engine.get(e, {}) %}<td class="num">{{ c.get('cpu', '–') }}</td><td class="num">{{ c.get('db', '–') }}</td><td class="num">{{ c.get('total', '–') }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>
{% endif %}
{% for s in sweeps %}
<h2 id="scaling-{{ s.run_id }}">Scaling ({{ s.run_id }})</h2>
<p>Server CPUs {{ s.server_cpus }}; load generator CPUs {{ s.load_cpus }}.</p>
{% for p in s.skipped %}<p class="warn">Skipped {{ p.workers }} workers ({{ p.worker_class }}): {{ p.reason }}.</p>{% endfor %}
<table><thead><tr><th>scenario</th><th>target</th><th>class</th><th>workers</th><th>rps (median)</th><th>efficiency</th></tr></thead><tbody>
{% for r in s.rows %}<tr><td>{{ r.scenario }}</td><td>{{ r.target }}</td><td>{{ r.worker_class }}</td><td class="num">{{ r.workers }}</td><td class="num">{{ r.rps }}</td><td class="num">{{ r.efficiency }}</td></tr>{% endfor %}
</tbody></table>
{% if not s.has_efficiency %}<p class="warn">No scaling efficiency here: it needs at least two workers on two server cores.</p>{% endif %}
<img class="chart" alt="Scaling ({{ s.run_id }}): closed-loop requests/s against the number of gunicorn workers, one line per scenario, app and worker class (solid sync, dashed gthread)" src="data:image/png;base64,{{ s.throughput_chart }}">
{% if s.latency_chart %}<img class="chart" alt="Scaling ({{ s.run_id }}): p50 and p99 latency in ms (log scale) against the offered load as a percentage of each app's measured capacity, open loop, one colour per app" src="data:image/png;base64,{{ s.latency_chart }}">{% endif %}
{% endfor %}
"""


def scaling_and_databases(ev) -> Markup:
    sweeps = [_sweep(r, store.Run(r.path, r.meta).trials()) for r in ev.runs if r.meta.get("scaling")]
    dbs, engines = _by_database(ev)
    html = Environment(autoescape=True).from_string(TEMPLATE).render(
        sweeps=sweeps, dbs=dbs if len(engines) > 1 or _has_db_cpu(dbs) else {}, engines=engines)
    return Markup(html)


MISSING = "–"   # a cell with no value: no such slice, or a figure that was not measured


def _has_db_cpu(dbs) -> bool:
    return any(c["db"] != MISSING for by in dbs.values() for c in by.values())


def _fmt(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return f"{statistics.median(values):,.0f}" if values else MISSING


def _by_database(ev):
    """(case, target) → engine → median app server, DB and total CPU-µs per request, from the
    slices the verdicts use (flagged ones out); cases keep their deployment's label, so no
    median mixes two deployments. Scaling sweeps are apart."""
    engine_of = {r.run_id: (r.meta.get("db") or {}).get("engine", "?")
                 for r in ev.runs if not r.meta.get("scaling")}
    t = clean(ev.trials)
    t = t.loc[t["usable"] & t["run_id"].isin(engine_of)]
    engines = list(dict.fromkeys(engine_of.values()))
    cells = {}
    for (case, target, run_id), g in t.groupby(["case", "target", "run_id"], sort=False):
        cell = cells.setdefault((case, target), {}).setdefault(
            engine_of[run_id], {"cpu": [], "db": [], "total": []})
        for key, column in (("cpu", stats.COST), ("db", stats.DB_COST), ("total", stats.TOTAL_COST)):
            cell[key] += list(g[column])
    out = {k: {e: {m: _fmt(v) for m, v in c.items()} for e, c in by.items()}
           for k, by in sorted(cells.items())}
    return out, engines


def _sweep(run, trials):
    table = sweep_stats.throughput_table(trials)
    eff = sweep_stats.efficiency(trials)
    rows = [{"scenario": b, "target": t, "worker_class": c, "workers": w, "rps": f"{rps:,.0f}",
             "efficiency": f"{eff[(b, t, c, w)]:.2f}" if (b, t, c, w) in eff else "–"}
            for (b, t, c, w), rps in sorted(table.items())]
    config = run.meta["scaling"].get("config", {})
    return {"run_id": run.run_id, "skipped": run.meta["scaling"].get("skipped", []),
            "server_cpus": config.get("server_cpus"), "load_cpus": config.get("load_cpus"),
            "rows": rows, "has_efficiency": bool(eff),
            "throughput_chart": _throughput_chart(table), "latency_chart": _latency_chart(trials)}


def _throughput_chart(table):
    fig, ax = charts.plt.subplots(figsize=charts.SIZE)
    lines = {}
    for (base, target, worker_class, workers), rps in sorted(table.items()):
        lines.setdefault((base, target, worker_class), []).append((workers, rps))
    for (base, target, worker_class), pts in lines.items():
        xs, ys = zip(*pts)
        ax.plot(xs, ys, marker="o", color=charts.COLORS.get(target),
                linestyle="-" if worker_class == "sync" else "--",
                label=f"{target} {worker_class} ({base})")
    ax.set_xlabel("gunicorn workers")
    ax.set_ylabel("requests/s (closed loop)")
    ax.set_xticks(sorted({w for (_, _, _, w) in table}) or [1])
    ax.legend(fontsize=7)
    return charts._png(fig)


def _latency_chart(trials):
    """p50 and p99 against offered load, as a share of each app's own capacity."""
    caps = sweep_stats.capacity(trials)
    pts = {}
    for t in trials:
        share = sweep_stats.fraction_of(t, caps)
        if share is None or t["status"] != "ok" or not t.get("latency_us"):
            continue
        pts.setdefault((t["scenario"], t["target"]), []).append(
            (share, t["latency_us"]["p50"] / 1000, t["latency_us"]["p99"] / 1000))
    if not pts:
        return None
    fig, ax = charts.plt.subplots(figsize=charts.SIZE)
    for (scenario, target), values in sorted(pts.items()):
        values.sort()
        xs = [100 * v[0] for v in values]
        color = charts.COLORS.get(target)
        ax.plot(xs, [v[1] for v in values], marker="o", color=color, label=f"{target} p50 ({scenario})")
        ax.plot(xs, [v[2] for v in values], marker="^", color=color, linestyle=":", label=f"{target} p99")
    ax.set_xlabel("offered load, % of the app's measured capacity (open loop)")
    ax.set_ylabel("latency, ms")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    return charts._png(fig)
