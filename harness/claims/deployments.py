"""The article's "specific libraries and tools" sentence, decided on runs that served the apps
under several deployments (`fdbench bench --deployments`, the `deployments` profile) or beside
their library variants (the `libraries` profile) by the rule of docs/verdicts.md §
tools_speedup, written before any such run was read."""
import numpy as np

from ..analysis import ratios, stats
from ..targets import LIBRARIES
from .margins import ALPHA, TRIVIAL, percent
from .registry import Verdict, claim
from .speed import clean

BASE = "gunicorn-sync"
FRAMEWORKS = ("flask", "django")


def saturated(ev):
    """Flask's and Django's unflagged, usable saturated slices of every deployment, with
    `base`: their scenario without its deployment's label."""
    t = clean(ev.trials)
    t = t[t["usable"] & (t["level"] == "saturation") & t["target"].isin(FRAMEWORKS)]
    return t.assign(base=t["scenario"].map(stats.unlabelled))


def speedups(ev) -> dict:
    """(framework, deployment) -> LogRatio of gunicorn-sync's CPU-µs per request over the
    deployment's, at saturation, each scenario unpaired (the deployments ran at different
    moments: Welch) and the scenarios pooled with equal weight."""
    t = saturated(ev)
    t = t.assign(log=np.log(t[stats.COST].astype(float)))
    logs = {key: g["log"].to_numpy() for key, g in t.groupby(["target", "deployment", "base"])}
    out = {}
    for (target, deployment, base), x in logs.items():
        if deployment == BASE or (target, BASE, base) not in logs:
            continue
        out.setdefault((target, deployment), []).append(
            ratios.unpaired(logs[(target, BASE, base)], x))
    return {k: r for k, parts in out.items() for r in [ratios.pooled(parts)] if r is not None}


def library_speedups(ev) -> dict:
    """(framework, library) -> LogRatio of the app's CPU-µs per request over its library
    variant's (flask over flask-orjson), at saturation under the first deployment: the two
    alternate within each cycle, so each scenario's ratio is paired by cycle, and the scenarios
    are pooled with equal weight."""
    t = clean(ev.trials)
    cases = [c for c in ev.cost_cases if ratios.level_of(c) == "saturation"]
    out = {}
    for variant, app in LIBRARIES.items():
        if variant in set(t["target"]):
            overall = ratios.family(t, cases, app, variant).overall
            if overall is not None:
                out[(app, variant.removeprefix(f"{app}-"))] = overall
    return out


def tools_rule(found: dict) -> tuple[str, str]:
    """docs/verdicts.md § tools_speedup."""
    if not found:
        return "inconclusive", (f"no deployment beside {BASE} and no library variant was "
                                "measured with both frameworks")
    confidence = 1 - ALPHA / len(found)   # Bonferroni over every (framework, deployment)
    faster = {f: [d for (g, d), r in found.items() if g == f and r.interval(confidence)[0] > TRIVIAL]
              for f in FRAMEWORKS}
    none = [f for f in FRAMEWORKS if all(r.interval(confidence)[1] < TRIVIAL
                                         for (g, _), r in found.items() if g == f)]
    if all(faster.values()):
        return "supported", "both frameworks served faster: " + "; ".join(
            f"{f} under {', '.join(ds)}" for f, ds in faster.items())
    if none:
        return "refuted", f"no measured deployment or library makes {' or '.join(none)} faster by {percent(TRIVIAL)}"
    return "inconclusive", "some speedups' intervals reach below the margin"


@claim(
    "tools_speedup",
    quote="By utilizing specific libraries and tools, both web frameworks can still be operated more quickly.",
    measured="Per framework, CPU-µs per request at saturation under each measured deployment "
             f"against {BASE} (gunicorn's default sync worker, no keep-alive), and the app's "
             "against its orjson variant's, scenarios pooled: the tools are the servers and "
             "their keep-alive (deployments), the library orjson; Django's cached template "
             "loader is already on in the app (Django's default).",
    rule=f"Supported if, for Flask and for Django, some tool's speedup (a deployment over "
         f"{BASE}, or a library over the app as written) has its whole simultaneous interval "
         f"(Bonferroni over framework × tool) above "
         f"{TRIVIAL:g}; refuted if for either framework every deployment's interval lies below "
         f"{TRIVIAL:g}; inconclusive otherwise or with no such run (docs/verdicts.md § "
         f"tools_speedup).",
)
def tools_speedup(ev) -> Verdict:
    found = speedups(ev) | library_speedups(ev)
    verdict, why = tools_rule(found)
    confidence = 1 - ALPHA / max(len(found), 1)
    cited = "; ".join(f"{f} {d} {r.estimate(confidence).text('{:.2f}', unit='x')}"
                      for (f, d), r in sorted(found.items()))
    text = f"{why[0].upper()}{why[1:]}."
    if cited:
        text += (f" CPU-µs per request under {BASE} over each deployment's, and the app's over "
                 f"its library variant's (> 1: faster), simultaneous {confidence:.1%} "
                 f"intervals: {cited}.")
    return Verdict(verdict, text, {f"{f}|{d}": r.estimate(confidence).as_dict()
                                   for (f, d), r in found.items()})
