"""The article's "specific libraries and tools" sentence, decided on runs that served the apps
under several deployments (`fdbench bench --deployments`, the `deployments` profile) by the
rule of docs/verdicts.md § tools_speedup, written before any such run was read."""
import numpy as np

from ..analysis import ratios, stats
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


def tools_rule(found: dict) -> tuple[str, str]:
    """docs/verdicts.md § tools_speedup."""
    if not found:
        return "inconclusive", f"no deployment beside {BASE} was measured with both frameworks"
    confidence = 1 - ALPHA / len(found)   # Bonferroni over every (framework, deployment)
    faster = {f: [d for (g, d), r in found.items() if g == f and r.interval(confidence)[0] > TRIVIAL]
              for f in FRAMEWORKS}
    none = [f for f in FRAMEWORKS if all(r.interval(confidence)[1] < TRIVIAL
                                         for (g, _), r in found.items() if g == f)]
    if all(faster.values()):
        return "supported", "both frameworks served faster: " + "; ".join(
            f"{f} under {', '.join(ds)}" for f, ds in faster.items())
    if none:
        return "refuted", f"no measured deployment makes {' or '.join(none)} faster by {percent(TRIVIAL)}"
    return "inconclusive", "some speedups' intervals reach below the margin"


@claim(
    "tools_speedup",
    quote="By utilizing specific libraries and tools, both web frameworks can still be operated more quickly.",
    measured="Per framework, CPU-µs per request at saturation under each measured deployment "
             f"against {BASE} (gunicorn's default sync worker, no keep-alive), scenarios pooled: "
             "the tools measured are the servers and their keep-alive (deployments); libraries "
             "such as orjson are not measured yet, and Django's cached template loader is "
             "already on in the app (Django's default).",
    rule=f"Supported if, for Flask and for Django, some deployment's speedup over {BASE} has "
         f"its whole simultaneous interval (Bonferroni over framework × deployment) above "
         f"{TRIVIAL:g}; refuted if for either framework every deployment's interval lies below "
         f"{TRIVIAL:g}; inconclusive otherwise or with no such run (docs/verdicts.md § "
         f"tools_speedup).",
)
def tools_speedup(ev) -> Verdict:
    found = speedups(ev)
    verdict, why = tools_rule(found)
    confidence = 1 - ALPHA / max(len(found), 1)
    cited = "; ".join(f"{f} {d} {r.estimate(confidence).text('{:.2f}', unit='x')}"
                      for (f, d), r in sorted(found.items()))
    text = f"{why[0].upper()}{why[1:]}."
    if cited:
        text += (f" CPU-µs per request under {BASE} over each deployment's (> 1: faster), "
                 f"simultaneous {confidence:.1%} intervals: {cited}.")
    return Verdict(verdict, text, {f"{f}|{d}": r.estimate(confidence).as_dict()
                                   for (f, d), r in found.items()})
