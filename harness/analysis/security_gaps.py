"""What the stored security probes (static/security.json) say about an app: the probes its
defaults fail, and what closing them takes. Reads the probes' results only; the probing
itself is harness.measure.security."""


def gaps(probes, app) -> list[str]:
    """The probes an app fails with its defaults."""
    return [p for p, by_app in probes.items() if app in by_app and not by_app[app]["protected"]]


def closing_cost(probes, app) -> dict:
    """What closing every gap of an app takes: distinct remedies' lines and packages, and the
    gaps no remedy was written for."""
    fixes, unwritten = {}, []
    for gap in gaps(probes, app):
        fix = probes[gap][app].get("remedy") or {}
        if fix.get("lines") is None:
            unwritten.append(gap)
        else:
            fixes[fix["code"]] = fix
    return {"lines": sum(f["lines"] for f in fixes.values()), "unwritten": unwritten,
            "packages": sorted({p for f in fixes.values() for p in f["packages"]})}
