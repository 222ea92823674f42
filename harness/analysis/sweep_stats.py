"""What a scaling sweep's trials say, read back from the store: each sweep point is its own
scenario name (`db@2w-gthread`), so the names are made and parsed here, beside the medians
and scaling efficiencies drawn from them. Pure functions of trial records: the sweep uses
them to set its open-loop rates from what it stored, the report and the scalability claim
to read it."""
import statistics


def point_name(workers, worker_class):
    return f"{workers}w-{worker_class}"


def capacity(trials):
    """Median closed-loop rps per (scenario name with point, target)."""
    rates = {}
    for t in trials:
        if t["mode"] == "closed" and t["status"] == "ok" and not t.get("errors"):
            rates.setdefault((t["scenario"], t["target"]), []).append(t["rps"])
    return {k: statistics.median(v) for k, v in rates.items()}


def split_scenario(name):
    """`db@2w-gthread` → ("db", 2, "gthread"); a plain scenario name → (name, None, None)."""
    base, _, point = name.partition("@")
    if not point:
        return base, None, None
    workers, _, worker_class = point.partition("w-")
    return base, int(workers), worker_class


def throughput_table(trials):
    """Median closed-loop rps per (scenario, target, worker_class, workers), usable trials only."""
    cells = {}
    for t in trials:
        base, workers, worker_class = split_scenario(t["scenario"])
        if workers is None or t["mode"] != "closed" or t["status"] != "ok" or t.get("errors"):
            continue
        cells.setdefault((base, t["target"], worker_class, workers), []).append(t["rps"])
    return {k: statistics.median(v) for k, v in cells.items()}


def efficiency(trials):
    """Scaling efficiency rps(n) / (n · rps(1)) for every n > 1 measured, per (scenario,
    target, worker_class): 1.0 is perfect, 1/n is no gain at all."""
    table = throughput_table(trials)
    out = {}
    for (base, target, worker_class, workers), rps in table.items():
        one = table.get((base, target, worker_class, 1))
        if workers > 1 and one:
            out[(base, target, worker_class, workers)] = rps / (workers * one)
    return out


def fraction_of(trial, capacities):
    """The share of capacity an open-loop trial offered (None for closed loop)."""
    cap = capacities.get((trial["scenario"], trial["target"]))
    if trial["mode"] != "open" or not cap:
        return None
    return trial["rate"] / cap
