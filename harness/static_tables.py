"""rich tables for the static measurements (`fdbench loc`, `fdbench footprint`)."""
from rich.table import Table

KINDS = ("python", "templates", "config", "migrations")


def loc_tables(result) -> list[Table]:
    apps = result["apps"]
    kinds = Table(title="Source lines by kind (written / generated)")
    kinds.add_column("kind")
    for app in apps:
        kinds.add_column(app, justify="right")
    for kind in KINDS:
        kinds.add_row(kind, *(_pair(apps[a]["by_kind"].get(kind)) for a in apps))
    kinds.add_row("total", *(f"{t['written']} / {t['generated']}" for t in (apps[a]["totals"] for a in apps)),
                  style="bold")
    kinds.add_row("variant-only files", *(str(apps[a]["totals"]["variant"]) for a in apps), style="dim")
    features = Table(title="Written source lines by feature")
    features.add_column("feature")
    for app in apps:
        features.add_column(app, justify="right")
    for feature in sorted({f for a in apps.values() for f in a["by_feature"]}):
        features.add_row(feature, *(str(apps[a]["by_feature"].get(feature, 0)) for a in apps))
    return [kinds, features, _ratio_table(result["ratio"])]


def _pair(counts):
    return f"{counts['written']} / {counts['generated']}" if counts else "0 / 0"


def _ratio_table(ratio) -> Table:
    table = Table(title="Django / Flask")
    table.add_column("lines counted")
    table.add_column("ratio", justify="right")
    table.add_row("article (24k / 10k)", f"{ratio['article']:.2f}")
    table.add_row("written, all features", f"{ratio['written']:.2f}")
    table.add_row("written, six endpoints only", f"{ratio['endpoints_written']:.2f}")
    table.add_row("written + generated", f"{ratio['written_plus_generated']:.2f}")
    return table


def footprint_tables(result) -> list[Table]:
    stacks = Table(title="Installed dependencies (transitive)")
    for col in ("stack", "deps", "names", "installed MB", "Python lines"):
        stacks.add_column(col)
    for name, s in result["stacks"].items():
        stacks.add_row(name, str(s["dependency_count"]), ", ".join(s["dependencies"]),
                       f"{s['installed_mb']:.1f}", f"{s['py_lines']:,}")
    apps = Table(title="Start-up")
    for col in ("app", "import ms (median)", "top imports ms", "cold start s", "idle worker RSS MB"):
        apps.add_column(col)
    for name, a in result["apps"].items():
        top = ", ".join(f"{k} {v:.0f}" for k, v in list(a["import"]["by_package_ms"].items())[:4])
        apps.add_row(name, f"{a['import']['total_ms']:.0f}", top, f"{a['cold_start_s']:.2f}",
                     f"{a['idle_worker_rss_mb']:.1f}")
    return [stacks, apps]
