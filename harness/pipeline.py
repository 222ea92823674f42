"""The flows the commands run, stage after stage: trials into the store, then the measurements
that need no load, then the report and the claims (`fdbench bench`); the scaling sweep and its
report; comparing two stored runs; counting instructions. cli.py only turns the command line
into these calls, so each flow reads top to bottom in one place."""
import math
import time
from pathlib import Path

from rich.console import Console

from scenarios.matrix import PROFILES

from .analysis import compare as comparing
from .infra import db as dbmod
from .paths import REPORTS, RESULTS
from .analysis.evidence import Evidence
from .errors import FdbenchError
from .report import degraded, summary as summarising, terminal
from .report.html import compare_page, render
from .run import bench as benching
from .run import sweep
from .run.bench import console


def bench(cfg, db, out=None, resume=None, static=None, instructions=None, report=True, cycles=None):
    """`fdbench bench`: the trials, the summary tables, the no-load passes, the report, the
    claims table, and last what made the figures worth less. `out`: the --out folder or None."""
    with dbmod.database(db, cfg.server_cpus) as database:  # a throwaway cluster ends here
        run = benching.bench(cfg, database.url, Path(out or RESULTS), resume, database.server_pids)
        adapt(run, database.url, database.server_pids)
        out_console = Console(width=max(Console().width, 110))
        out_console.print(terminal.summary_table(run.trials()))
        out_console.print(terminal.ratios_table(run.trials()))
        out_console.print(terminal.problems_table(run.trials()) or "no trial failed or was flagged")
        page = after_trials(run, database.url, static, instructions,
                            report and report_path(run.path, out), cycles)
    terminal.print_claims(run.path, out_console)
    out_console.print(f"run {run.meta['status']}: {run.path}")
    if page:
        out_console.print(f"report: {page}")
    wanted = PROFILES[run.meta["profile"]].instructions if instructions is None else instructions
    terminal.print_warnings(out_console, degraded.warnings(run.path, wanted))
    return run


BLOCK = 10      # cycles per extra block: the spread, and so the need, is read again after each
MIN_BLOCK = 2   # A B then B A: a block's drift cancels within it, as over the planned cycles


def adapt(run, db_url, db_pids=()):
    """The adaptive phase of an alternating run: what the run's budget leaves after its trials
    so far goes to extra cycles of the scenarios whose Django/Flask interval is still open
    (claims/precision.py), cheapest first. Recorded in run.json's `adaptive` entry as it goes;
    Ctrl-C keeps every finished slice and leaves the run partial. On --resume it runs again on
    what is stored, with what the budget still leaves."""
    from .run.config import stored_config

    cfg = stored_config(run.meta.get("config"))  # the run's own, on --resume too
    if not cfg.alternate:
        return
    if len(cfg.deployments) > 1 and cfg.budget_s > 0:
        console.print("adaptive cycles: none, the run has several deployments (each is judged "
                      "on its planned cycles)", highlight=False)
        return
    entry = benching.adaptive_entry(run)
    planned = sum(part.get("planned_s", 0.0) for part in entry.get("scenarios", {}).values())
    entry.update(budget_s=cfg.budget_s, precision_pct=cfg.precision_pct,
                 trials_s=round(planned, 1), used_s=entry.get("used_s", 0.0))
    run.meta["status"] = "running"
    try:
        stopped = adaptive_cycles(
            lambda: verdict_state(run, cfg.precision_pct)[0],
            lambda scenario, cycles: extra_block(run, scenario, cycles, db_url, cfg, db_pids),
            lambda scenario, cycles, blocks: benching.block_estimate(run, cfg, scenario, cycles,
                                                                     blocks),
            cfg.budget_s - entry["trials_s"] - entry["used_s"], cfg.budget_s,
            lambda text: console.print(f"adaptive: {text}", highlight=False, soft_wrap=True),
        ) if cfg.budget_s > 0 else None
    except BaseException:
        run.finish("partial")
        raise
    record_stops(run, cfg, stopped)
    run.finish("complete")


def record_stops(run, cfg, stopped):
    """Each scenario's cycles and blocks in the end, and (when there was a budget) why it
    stopped: as the loop gave up on it, else decided (or precision reached), or no interval."""
    judged = verdict_state(run, cfg.precision_pct)[1] if stopped is not None else set()
    for scenario in cfg.scenarios:
        part = benching.adaptive_entry(run, scenario)
        part.update(cycles=benching.cycles_of(run, scenario), blocks=part.get("blocks", 0))
        if stopped is not None:
            part["stopped"] = stopped.get(scenario) or (
                "no interval: too few usable pairs" if scenario not in judged
                else "precision reached" if cfg.precision_pct else "decided")
    entry = benching.adaptive_entry(run)
    if stopped is not None:
        console.print(f"adaptive cycles: {entry['used_s']:.0f} s of the {cfg.budget_s:.0f} s "
                      f"budget (the planned trials took {entry['trials_s']:.0f} s)",
                      highlight=False)


def verdict_state(run, precision_pct):
    """needs() on the run as stored, and the scenarios with a Django/Flask interval at all
    (needs() names none of those without one: too few unflagged pairs)."""
    from .claims.precision import needs
    from .claims.speed import DJANGO_FLASK, family

    ev = Evidence.from_dirs([run.path])
    judged = {s for s, r in family(ev, DJANGO_FLASK).scenarios.items() if r.se is not None}
    return needs(ev, precision_pct), judged


def adaptive_cycles(ask, run_block, estimate, left, budget, say=lambda text: None):
    """Blocks of extra cycles for the cheapest open scenario, needs asked again after each,
    until none is open or none fits in the `left` seconds. ask(): precision.needs now;
    estimate(scenario, cycles, blocks): seconds; run_block(scenario, cycles): seconds it took.
    Returns why each scenario it gave up on stopped (the others were decided): `budget` when
    what is left is too little, `hopeless` when even the whole `budget` would be."""
    stopped, had = {}, {}
    while True:
        chosen = None
        for need in ask():
            scenario, more = need.scenario, max(need.more, MIN_BLOCK)
            if scenario in stopped:
                continue
            cost = estimate(scenario, more, math.ceil(more / BLOCK))
            if had.get(scenario) == (need.have, need.cycles):  # its last block changed nothing
                stopped[scenario] = "no new pairs"
            elif cost > left:
                stopped[scenario] = ("budget" if cost <= budget else _hopeless(need))
            else:
                chosen = need
                break
            say(f"{scenario}: {stopped[scenario]} ({need.why}; {need.more} more cycles would "
                f"take about {cost:.0f} s, {max(left, 0):.0f} s left)")
        if chosen is None:
            return stopped
        cycles = min(max(chosen.more, MIN_BLOCK), BLOCK)
        say(f"{chosen.scenario} +{cycles} cycles ({chosen.why}; has {chosen.have} per level, "
            f"about {chosen.cycles} would decide it)")
        had[chosen.scenario] = (chosen.have, chosen.cycles)
        left -= run_block(chosen.scenario, cycles)


def _hopeless(need) -> str:
    from .claims.precision import NEVER

    if need.cycles < NEVER:
        return f"hopeless: needs {need.cycles} cycles"
    return "hopeless: no number of cycles decides it (on a bound, or nearer one than the run-to-run spread)"


def extra_block(run, scenario, cycles, db_url, cfg, db_pids):
    """One block of extra cycles, its time counted against the budget even when cut short."""
    started = time.monotonic()
    try:
        benching.more_cycles(run, scenario, cycles, db_url, cfg, db_pids)
    finally:
        took = time.monotonic() - started
        entry = benching.adaptive_entry(run)
        entry["used_s"] = round(entry.get("used_s", 0.0) + took, 1)
        part = benching.adaptive_entry(run, scenario)
        part["blocks"] = part.get("blocks", 0) + 1
        run.save()
    return took


def load_releases(data, endpoints, load_cycles, console):
    """Each framework's measured releases served and loaded in turn (run/releases.py): every
    record gets `load` (CPU-µs per request per cycle and endpoint). A framework whose servers
    fail keeps its counts and says why."""
    from .analysis import versions as release_counts
    from .measure.venvs import python_of
    from .run.config import split_cpus
    from .run.releases import SLICE_S, load_releases as served

    server_cpus, load_cpus = split_cpus()
    url = dbmod.resolve_url("sqlite")
    dbmod.ensure(url)
    data["load"] = {"cycles": load_cycles, "slice_s": SLICE_S, "endpoints": list(endpoints)}
    for framework in release_counts.frameworks(data):
        recs = release_counts.releases(data, framework)
        if not recs:
            continue
        console.print(f"{framework}: served cost of {len(recs)} release(s), {load_cycles} cycles "
                      f"per endpoint", highlight=False)
        try:
            costs = served(framework, {r["series"]: str(python_of(r["environment"])) for r in recs},
                           endpoints, url, load_cycles, server_cpus, load_cpus)
        except FdbenchError as exc:
            console.print(f"{framework}: no served cost: {exc}", soft_wrap=True, highlight=False)
            data["load"].setdefault("failed", {})[framework] = str(exc)
            continue
        for rec in recs:
            rec["load"] = costs[rec["series"]]
    return data


def report_path(run_path, out):
    """reports/<run-id>/ by default; with --out, inside the run folder, so a run put somewhere
    else keeps its report with it."""
    return run_path / "report.html" if out else REPORTS / run_path.name


def after_trials(run, db_url, static=None, instructions=None, report=True, cycles=None):
    """The measurements that need no load, then the report. Returns the report's path.
    `static`/`instructions`/`cycles` None: as the run's profile says (the quick profile skips
    the first two, only the full one has cycles: they add minutes).
    `report`: where to write it (True: reports/<run-id>/), or False for no report."""
    profile = PROFILES[run.meta["profile"]]
    if static is None and not profile.static:
        console.print(f"{run.meta['profile']} profile: no code size, footprint or security "
                      "measurements (--static adds them)")
    elif static is not False:
        from .measure import collect

        console.print("measuring code size, footprint, layers and security ...")
        collect.collect(run.path, db_url)
    if instructions is None and not profile.instructions:
        console.print(f"{run.meta['profile']} profile: no instruction counts (--instructions "
                      "adds them)")
    elif instructions is not False:
        from .measure import instructions as instr

        cycles = profile.cycles if cycles is None else cycles
        console.print("counting instructions per request under callgrind"
                      f"{' with its cache simulation' if cycles else ''} ...")
        targets = run.meta["config"]["targets"]
        try:
            # always all six endpoints, whatever the run's scenarios: the list is part of what
            # the driver loads, and a shorter one moved some counts by 0.8% (see instructions.measure)
            instr.write(run.path, instr.measure(targets, db_url=db_url, cache_sim=cycles))
        except instr.ValgrindMissing as exc:
            console.print(f"[yellow]{exc}[/]")
        if cycles:
            from .measure import native

            console.print("timing the same requests natively, in-process ...")
            native.write(run.path, native.measure(targets, cpus=run.meta["config"]["server_cpus"]))
    if report:
        return render([run.path], REPORTS / run.path.name if report is True else report)
    return None


def scaling(cfg, db, out=None, report=True):
    """`fdbench scaling`: the sweep into a run folder, then its report. Returns (run, page)."""
    with dbmod.database(db, cfg.server_cpus) as database:
        result = sweep.run(cfg, database.url, Path(out or RESULTS), database.server_pids)
    page = render([result.path], report_path(result.path, out)) if report else None
    return result, page


def compare(base_dir, new_dir, fail_above, html_path, console) -> int:
    """`fdbench compare`: table, HTML page, regressions named; the exit code."""
    cmp = comparing.compare(base_dir, new_dir, fail_above)
    console.print(terminal.compare_table(cmp))
    for note in cmp.notes:
        console.print(note)
    html_path = html_path or REPORTS / f"compare-{cmp.base.run_id}-vs-{cmp.new.run_id}" / "index.html"
    console.print(f"compare page: {compare_page(cmp, html_path, fail_above)}")
    for c in cmp.regressions:
        console.print(f"[bold red]regression:[/] {c.text()}", soft_wrap=True)
    if not cmp.regressions:
        console.print(f"no significant regression above {fail_above:g}%")
    return 1 if cmp.regressions else 0


def spread(run_dirs, save=True, console=None):
    """`fdbench spread`: this machine's run-to-run spread from repeated runs of it (one host,
    each run's own Django/Flask figures, flagged slices out), saved for the runs to come."""
    from .analysis import ratios, run_spread
    from .claims.speed import DJANGO_FLASK, clean

    console = console or Console()
    runs = [Evidence.from_dirs([d]) for d in run_dirs]
    hosts = {ev.runs[0].machine.get("host") for ev in runs}
    if len(hosts) > 1:
        raise FdbenchError(f"the runs come from {len(hosts)} machines ({', '.join(map(str, hosts))}): "
                           "the spread is one machine's")
    setups = {(ev.runs[0].meta.get("profile"), (ev.runs[0].meta.get("db") or {}).get("engine"))
              for ev in runs}
    if len(setups) > 1:
        named = "; ".join(f"profile {p} on {e}" for p, e in sorted(setups, key=str))
        raise FdbenchError(f"the runs differ in what they measured ({named}): the spread is "
                           "estimated from repeats of one profile on one database")
    families = [ratios.family(clean(ev.trials), ev.cost_cases, *DJANGO_FLASK) for ev in runs]
    for ev, fam in zip(runs, families):
        overall = fam.overall.estimate().text("{:.3f}") if fam.overall else "no pairs"
        console.print(f"{ev.runs[0].run_id}: Django/Flask overall {overall} (this run's noise only)")
    host = hosts.pop()
    found = run_spread.estimate(families, f"{len(runs)} runs on {host}: "
                                          + ", ".join(ev.runs[0].run_id for ev in runs))
    console.print(f"run-to-run spread (sd, log scale): a scenario block {found.block:.4f}, the "
                  f"whole run {found.run:.4f}, from {found.runs} runs (default: "
                  f"{run_spread.DEFAULT.block:.4f}, {run_spread.DEFAULT.run:.4f})")
    if save:
        run_spread.save(found, host)
        console.print(f"saved to {run_spread.FILE}: runs on {host} from now on carry it")
    return found


def summary(run_dirs, fmt) -> str:
    """`fdbench report --format md|json`: the short form of the report, as text."""
    data = summarising.summary(Evidence.from_dirs(run_dirs))
    return summarising.to_markdown(data) if fmt == "md" else summarising.to_json(data)


def compare_summary(base_dir, new_dir, fail_above, html_path, fmt) -> int:
    """`fdbench compare --format md|json`: the comparison on stdout (the page only where asked
    for, so that stdout stays one document); the same exit code as the table's."""
    import click

    cmp = comparing.compare(base_dir, new_dir, fail_above)
    if html_path:
        compare_page(cmp, html_path, fail_above)
    click.echo(summarising.compare_markdown(cmp, fail_above) if fmt == "md"
               else summarising.to_json(summarising.compare_summary(cmp, fail_above)), nl=False)
    return 1 if cmp.regressions else 0


def instructions(apps, endpoints, requests, out, cache_sim=False):
    """`fdbench instructions`: measure, write, print; a missing valgrind is a message, not a
    failure."""
    from .measure import instructions as instr
    from .targets import TARGET_NAMES

    err = Console(stderr=True)
    try:
        data = instr.measure_with_progress(apps or list(TARGET_NAMES), endpoints, requests, err,
                                           cache_sim)
    except instr.ValgrindMissing as exc:
        err.print(f"fdbench: {exc}", soft_wrap=True)
        return None
    path = instr.write_file(out or instr.default_out(), data)
    Console(width=max(Console().width, 110)).print(terminal.instructions_table(data))
    err.print(f"{len(data['counts'])} counts in {data['duration_s']:.0f} s, written to {path}")
    return path


def versions(selection, endpoints, requests, modes, out=None, report=True, cycles=False,
             load_cycles=0):
    """`fdbench versions`: a run folder whose versions.json grows release by release, the
    counts table, then (`load_cycles`) the releases' served cost, then the report. Ctrl-C
    leaves the run `partial` with every finished release. Returns (run, page)."""
    from .infra import fingerprint
    from .measure import versions as measuring
    from .store import Run

    err = Console(stderr=True)
    endpoints = measuring.check(endpoints, requests)
    run = Run.create(Path(out or RESULTS), {
        "kind": "versions", **fingerprint.collect(),
        "config": {"selection": selection, "endpoints": endpoints, "requests": requests,
                   "modes": list(modes), "cycles": cycles, "load_cycles": load_cycles}})
    try:
        data = measuring.sweep(selection, endpoints, requests, modes, err,
                               lambda d: measuring.write(run.path, d), cycles)
        if load_cycles:
            data = load_releases(data, endpoints, load_cycles, err)
            measuring.write(run.path, data)
    except BaseException:
        run.finish("partial")
        raise
    run.finish("complete")
    Console(width=max(Console().width, 110)).print(terminal.versions_table(data))
    page = render([run.path], report_path(run.path, out)) if report else None
    return run, page
