"""The one sentence that answers the question, generated from the cost verdicts and their
numbers (never written by hand), so that the report's opening, the terminal and the Markdown
summary say the same thing as the chart below them (docs/verdicts.md § The answer)."""
from .margins import MODEST, TRIVIAL, percent


def sentence(ev, claims: list) -> str:
    """`claims`: judge(ev)'s items. Empty when no Flask/Django pair was measured."""
    v = {item["claim"].key: item["verdict"] for item in claims}
    speed = v.get("speed")
    n = (speed.numbers or {}).get("django/flask") if speed else None
    if not n or not n.get("overall"):
        return ""
    overall = n["overall"]
    text = (f"{_regime(ev)}, Django costs {_x(overall)} Flask's CPU per request overall "
            f"{_ci(overall)}{_cheaper(overall)}")
    text += f": {_speed_words(speed, overall)}; {_size_words(v.get('modest'), v.get('trivial'))}."
    scen = n.get("scenarios") or {}
    if scen:
        conf = n.get("family_confidence", 0.95)
        text += (f" By scenario (load levels pooled, simultaneous {conf:.1%} intervals): "
                 + "; ".join(f"{s} {_x(e)} {_ci(e)}" for s, e in scen.items()) + ".")
    return text


def _regime(ev) -> str:
    """How the figures were served: they hold for this deployment and machine only."""
    dbs = {(r.meta.get("db") or {}).get("engine") for r in ev.runs} - {None}
    served = ev.deployments[0] if ev.deployments else "gunicorn-sync"
    keep = {True: "keep-alive, ", False: "no keep-alive, ", None: ""}[ev.keep_alive(served)]
    configs = [r.meta.get("config") or {} for r in ev.runs]
    if served == "gunicorn-sync" and any(c.get("worker_class") == "gthread" for c in configs):
        served = "gunicorn gthread"
    where = "On this machine" if len(ev.runs) == 1 else f"On these {len(ev.runs)} runs"
    others = f"; other deployments below" if len(ev.deployments) > 1 else ""
    return (f"{where} ({served}, {keep}{'/'.join(sorted(dbs)) or 'database unknown'}; one app "
            f"under load at a time{others})")


def _x(e: dict) -> str:
    return f"{e['value']:.2f}x"


def _ci(e: dict) -> str:
    return f"[{e['low']:.2f}, {e['high']:.2f}]" if e.get("low") is not None else "(no interval)"


def _cheaper(e: dict) -> str:
    """The same ratio as Flask's saving (or Django's), with its interval."""
    if e.get("low") is None:
        return ""
    saving = [1 - 1 / e[k] for k in ("value", "low", "high")]
    if e["value"] >= 1:
        return f" (Flask {saving[0]:.0%} cheaper [{saving[1]:.0%}, {saving[2]:.0%}])"
    return f" (Django {1 - e['value']:.0%} cheaper [{1 - e['high']:.0%}, {1 - e['low']:.0%}])"


def _speed_words(speed, overall) -> str:
    undecided = (f"Flask is cheaper, perhaps by less than the {percent(TRIVIAL)} that counts"
                 if overall.get("low") is not None and overall["low"] > 1
                 else "too imprecise to say which is faster")
    return {"supported": "Flask is faster",
            "refuted": f"Flask is not faster by the {percent(TRIVIAL)} that counts",
            "mixed": "which framework is cheaper depends on the scenario",
            "inconclusive": undecided}.get(speed.verdict, speed.verdict) + f" ({speed.verdict})"


def _size_words(modest, trivial) -> str:
    if modest is None or trivial is None:
        return ""
    size = {"supported": f"a modest difference (within {MODEST:g}x)",
            "refuted": f"not a modest difference (beyond {MODEST:g}x)",
            "inconclusive": "whether it is modest is undecided"}.get(modest.verdict, modest.verdict)
    often = {"supported": f"trivial (within ±{percent(TRIVIAL)}) in most scenarios",
             "refuted": "not frequently trivial",
             "inconclusive": "whether it is frequently trivial is undecided"}.get(
        trivial.verdict, trivial.verdict)
    return f"{size}, {often}"
