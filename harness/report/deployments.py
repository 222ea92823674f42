"""The report's answer to "does the verdict survive the way people deploy?": for runs that
served the apps under several deployments, what each choice costs a request side by side
(framework and deployment, per scenario, at saturation), each app's capacity, and the cost
verdicts judged on each deployment's own cases. Empty for a run of one deployment."""
import numpy as np
from jinja2 import Environment
from markupsafe import Markup

from ..analysis import stats
from ..claims import speed
from ..claims.deployments import FRAMEWORKS, saturated
from . import charts


def section(ev) -> Markup:
    if len(ev.deployments) < 2:
        return Markup("")
    judged = speed.by_deployment(ev)
    cells = _saturated(ev)
    scenarios = list(dict.fromkeys(s for s, _, _ in cells))
    verdicts = [{"deployment": d, "overall": speed.overall_text(j["family"]),
                 "scenarios": _by_scenario(j["family"]),
                 **{name: j[name] for name in ("speed", "modest", "trivial")}}
                for d, j in judged.items()]
    metrics = (("cpu", "{:,.0f}"), ("db", "{:,.0f}"), ("rps", "{:,.0f}"))
    rows = [{"scenario": s, "deployment": d,
             **{f"{t}_{m}": _fmt(cells.get((s, d, t), {}).get(m), pattern)
                for t in FRAMEWORKS for m, pattern in metrics}}
            for s in scenarios for d in ev.deployments]
    db_server = any(c.get("db") for c in cells.values())
    chart = charts.deployment_costs(scenarios, ev.deployments, cells)
    alt = (f"Server CPU-µs per request at saturation, one panel per scenario ({', '.join(scenarios)}), "
           f"bars per deployment ({', '.join(ev.deployments)}), Flask and Django side by side, "
           "medians with 95% intervals"
           + (", the database server's CPU-µs per request stacked on each" if db_server else ""))
    return Markup(Environment(autoescape=True).from_string(TEMPLATE).render(
        verdicts=verdicts, rows=rows, scenarios=scenarios, chart=chart, alt=alt,
        db_server=db_server))


def _by_scenario(fam) -> dict:
    """Scenario (its deployment's label dropped) -> the ratio with its simultaneous interval."""
    conf = fam.family_confidence()
    return {stats.unlabelled(name): r.estimate(conf).text("{:.2f}").split(" (n=")[0]
            for name, r in fam.scenarios.items()}


def _saturated(ev) -> dict:
    """(scenario, deployment, target) -> {"cpu", "db", "rps": Estimate} of the saturated,
    unflagged slices; "db" (the database server's CPU, apart from the app server's) is None
    where the database runs inside the app (SQLite)."""
    out = {}
    for key, g in saturated(ev).groupby(["base", "deployment", "target"], sort=False):
        db = g[stats.DB_COST].dropna()
        out[key] = {"cpu": stats.median_ci(g[stats.COST]), "db": stats.median_ci(db) if len(db) else None,
                    "rps": stats.median_ci(g["capacity_rps"].dropna())}
    return out


def _fmt(est, pattern) -> str:
    if est is None or not np.isfinite(est.value):
        return "–"
    return est.text(pattern).split(" (n=")[0]


TEMPLATE = """
<h2 id="deployments">By deployment: does the verdict survive the way people deploy?</h2>
<p>The same apps served under each deployment (server, keep-alive, proxy; README "Serving one app
by hand"), one app under load at a time, each deployment in its own slices: ratios never mix two
deployments. The claims table judges the first; the rows below judge each on its own cases by the
same rules (docs/verdicts.md § Deployments).</p>
<table><thead><tr><th>deployment</th><th>Django/Flask overall</th>{% for s in scenarios %}<th>{{ s }}</th>{% endfor %}<th>speed</th><th>modest</th><th>trivial</th></tr></thead><tbody>
{% for v in verdicts %}<tr><td>{{ v.deployment }}</td><td class="num">{{ v.overall }}</td>{% for s in scenarios %}<td class="num">{{ v.scenarios.get(s, '–') }}</td>{% endfor %}<td>{{ v.speed }}</td><td>{{ v.modest }}</td><td>{{ v.trivial }}</td></tr>
{% endfor %}</tbody></table>
<img class="chart" alt="{{ alt }}" src="data:image/png;base64,{{ chart }}">
<table><caption>At saturation: server CPU-µs per request (the proxy's CPU included){% if db_server %}, the database server's apart{% endif %}, and capacity in requests/s, medians with 95% intervals</caption>
<thead><tr><th>scenario</th><th>deployment</th><th>Flask CPU-µs</th><th>Django CPU-µs</th>{% if db_server %}<th>Flask DB CPU-µs</th><th>Django DB CPU-µs</th>{% endif %}<th>Flask rps</th><th>Django rps</th></tr></thead><tbody>
{% for r in rows %}<tr><td>{{ r.scenario }}</td><td>{{ r.deployment }}</td><td class="num">{{ r.flask_cpu }}</td><td class="num">{{ r.django_cpu }}</td>{% if db_server %}<td class="num">{{ r.flask_db }}</td><td class="num">{{ r.django_db }}</td>{% endif %}<td class="num">{{ r.flask_rps }}</td><td class="num">{{ r.django_rps }}</td></tr>
{% endfor %}</tbody></table>
"""
