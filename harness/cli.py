"""The `fdbench` command. Every failure the user can fix ends as one line on stderr and exit
code 2; `--debug` shows the traceback instead."""
import json
import signal
import sys
from pathlib import Path

import click
from rich.console import Console

from .errors import FdbenchError
from .infra import db as dbmod
from .infra import reaper
from .infra.deployments import DEPLOYMENTS
from .infra.serve import APP_SPECS, WORKER_CLASSES, Server, ServeConfig
from scenarios.matrix import PROFILES

DB_HELP = "sqlite (default), postgres, or a database URL; DATABASE_URL is honoured"
FORMATS = ("html", "md", "json")
OUT_HELP = ("put the run in DIR/<run-id>/ and its report in DIR/<run-id>/report.html "
            "[default: results/<run-id>/ and reports/<run-id>/index.html]")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fdbench", prog_name="fdbench")  # from the installed metadata
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx, debug):
    """fdbench: Flask vs Django, measured."""
    ctx.obj = {"debug": debug}


@cli.group("db")
def db_group():
    """The benchmark database."""


@db_group.command("init")
@click.option("--db", default=None, help=DB_HELP)
def db_init(db):
    """Create the schema and seed 10,000 World rows and the 12 fortunes."""
    url = dbmod.resolve_url(db)
    dbmod.init(url)
    click.echo(f"seeded {url}")


@cli.command()
@click.argument("app")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--db", default=None, help=DB_HELP)
@click.option("--workers", type=int, default=1, show_default=True)
@click.option("--worker-class", default="sync", show_default=True, help="|".join(WORKER_CLASSES))
@click.option("--variant", default="default", show_default=True,
              help="default|orjson, and for django: stripped")
@click.option("--deployment", default="gunicorn-sync", show_default=True,
              help="|".join(DEPLOYMENTS) + "; NAME@N: N worker processes per CPU")
def serve(app, port, db, workers, worker_class, variant, deployment):
    """Serve APP (flask, django, baseline) under a deployment (gunicorn by default) until Ctrl-C."""
    if app not in APP_SPECS:
        raise FdbenchError(f"unknown app {app!r}: choose from {', '.join(APP_SPECS)}")
    cfg = ServeConfig(app=app, db_url="", variant=variant, port=port, workers=workers,
                      worker_class=worker_class, deployment=deployment)
    cfg.validate()  # bad input is one line before a database is made
    with dbmod.database(db) as database:
        cfg.db_url = database.url
        _serve(cfg)


def _serve(cfg):
    dbmod.ensure(cfg.db_url)
    with Server(cfg) as server:
        try:  # the line included: a reader may stop us as soon as it reads it
            click.echo(f"listening on {server.url}")
            sys.stdout.flush()
            name, code = server.wait()
        except KeyboardInterrupt:
            click.echo("stopping", err=True)
            return
    raise FdbenchError(f"{name} exited with code {code}: {server.log_tail()}")


@cli.command()
@click.option("--profile", default="default", show_default=True, help="|".join(PROFILES))
@click.option("--apps", "targets", default=None, help="comma list: flask,django,django-stripped,baseline")
@click.option("--scenarios", default=None, help="comma list of scenario names (scenarios/matrix.py)")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--repeat", type=int, default=None, help="rounds (default: the profile's)")
@click.option("--warmup", type=float, default=None, help="seconds discarded before each window")
@click.option("--duration", type=float, default=None, help="seconds measured per trial")
@click.option("--users", type=int, default=None, help="connections per load generator")
@click.option("--modes", default=None, help="closed (throughput), open (cost at a fixed rate), or both")
@click.option("--workers", type=int, default=None, help="gunicorn workers (default: one per server CPU)")
@click.option("--worker-class", default="sync", show_default=True, help="|".join(WORKER_CLASSES))
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR", help=OUT_HELP)
@click.option("--resume", type=click.Path(), default=None, help="finish the missing trials of RUN")
@click.option("--static/--no-static", default=None,
              help="code size, footprint, layers, security [default: the profile's choice]")
@click.option("--instructions/--no-instructions", default=None,
              help="callgrind instruction counts [default: the profile's choice]")
@click.option("--cycles/--no-cycles", default=None,
              help="with the instruction counts: estimated cycles (cache simulation) and native "
                   "in-process timings, minutes more [default: the profile's choice]")
@click.option("--no-report", is_flag=True, help="skip the HTML report")
@click.option("--paired/--separate", default=None,
              help="cost trials: all apps served side by side in one window (paired), or one "
                   "app per trial [default: the profile's choice, paired]")
@click.option("--generator-processes", type=int, default=1, show_default=True,
              help="locust processes on the load CPUs; above 1: locust's master/worker mode")
@click.option("--target", default=None,
              help="load an app already served at this loopback URL (fdbench serve, or an SSH tunnel)")
@click.option("--locust-workers", type=int, default=0, show_default=True,
              help="with --target: also wait for N workers joining from other machines (README)")
@click.option("--master-port", type=int, default=5557, show_default=True,
              help="where --locust-workers join the locust master")
@click.option("--budget", type=float, default=None, metavar="MINUTES",
              help="wall-clock minutes for all the trials; what the planned cycles leave adds "
                   "cycles to scenarios whose Django/Flask interval is still open, 0: none "
                   "[default: the profile's: quick 0, default 10, full 90]")
@click.option("--precision", type=float, default=None, metavar="PCT",
              help="with --budget: also add cycles until every scenario's interval is within "
                   "±PCT%")
@click.option("--deployments", default=None,
              help="comma list of " + ",".join(DEPLOYMENTS) + " (NAME@N: N workers per server "
                   "CPU), each measured in turn [default: the profile's: gunicorn-sync; the "
                   "deployments profile: all]")
def bench(profile, targets, scenarios, db, repeat, warmup, duration, users, modes, workers,
          worker_class, out, resume, static, instructions, cycles, no_report, paired,
          generator_processes, target, locust_workers, master_port, budget, precision,
          deployments):
    """Run the benchmark matrix, store the run, print the summary and write the report."""
    from . import pipeline
    from .run.config import make_config

    cfg = make_config(profile, split(targets), split(scenarios), repeat, warmup, duration,
                      users, workers, worker_class, split(modes), generator_processes,
                      locust_workers, master_port, target, paired, budget, precision,
                      split(deployments))
    pipeline.bench(cfg, db, out, resume, static, instructions, not no_report, cycles)


@cli.command()
@click.option("--apps", "targets", default=None, help="comma list [default: flask,django]")
@click.option("--scenarios", default=None, help="comma list [default: db]")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--repeat", type=int, default=None, help="rounds per sweep point [default: 2]")
@click.option("--warmup", type=float, default=None, help="seconds discarded [default: 1]")
@click.option("--duration", type=float, default=None, help="seconds measured [default: 3]")
@click.option("--users", type=int, default=None, help="closed-loop connections [default: 16]")
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR", help=OUT_HELP)
@click.option("--no-report", is_flag=True, help="skip the HTML report")
def scaling(targets, scenarios, db, repeat, warmup, duration, users, out, no_report):
    """Sweep gunicorn workers (1, 2, 4) and class (sync, gthread), then open-loop latency at
    25/50/75/90% of capacity; points needing more cores than the server gets are skipped."""
    from . import pipeline
    from .run.sweep import make_config

    cfg = make_config(split(targets), split(scenarios), repeat, warmup, duration, users)
    result, page = pipeline.scaling(cfg, db, out, not no_report)
    click.echo(f"run {result.meta['status']}: {result.path}")
    if page:
        click.echo(f"report: {page}")


@cli.command()
@click.option("--duration", type=float, default=5.0, show_default=True)
@click.option("--users", type=int, default=16, show_default=True)
def calibrate(duration, users):
    """Measure the load generator's ceiling against the bare WSGI app on this machine, beside
    wrk's when wrk is installed."""
    from .run.calibrate import calibrate as run_calibration

    result = run_calibration(duration, users)
    wrk = (f"; wrk {result['wrk_rps']:,.0f} rps, generator/wrk {result['of_wrk']:.2f}"
           if result["wrk_rps"] else "; wrk not installed (apt-get install wrk) for a comparison")
    click.echo(f"generator ceiling: {result['ceiling_rps']:,.0f} rps on /json of the bare WSGI "
               f"app (generator CPU {result['generator_cpu_pct']:.0f}%){wrk}; saved to "
               f"{result['path']}")


@cli.command("loc")
@click.option("--json", "as_json", is_flag=True, help="Print the measurement as JSON.")
def loc_cmd(as_json):
    """Code size of each reference app (pygount); generated lines counted apart."""
    from .measure import loc
    from .report import terminal

    _print_static(loc.measure(), terminal.loc_tables, as_json)


@cli.command("footprint")
@click.option("--db", default=None, help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the measurement as JSON.")
def footprint_cmd(db, as_json):
    """Dependencies, import time, cold start and idle RSS of each framework."""
    from .measure import footprint
    from .report import terminal

    with dbmod.database(db) as database:
        dbmod.ensure(database.url)
        _print_static(footprint.measure(database.url), terminal.footprint_tables, as_json)


def _print_static(result, tables, as_json):
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    console = Console()
    for table in tables(result):
        console.print(table)


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="a .html file, or a folder that gets index.html [default: reports/<run-id>/]")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: write the page; md, json: print a summary to stdout instead")
def report(runs, out, fmt):
    """Render reports/<run-id>/index.html from stored RUNS (several: side by side)."""
    from .paths import REPORTS
    from .report.html import render, report_name

    warn_damaged(*runs)
    if fmt != "html":
        from . import pipeline

        click.echo(pipeline.summary(list(runs), fmt), nl=False)
        return
    click.echo(render(list(runs), out or REPORTS / report_name(runs)))


@cli.command()
@click.argument("run", type=click.Path(path_type=Path))
def claims(run):
    """Print the claims table of a stored RUN."""
    from .report.terminal import print_claims

    warn_damaged(run)
    print_claims(run)


@cli.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-save", is_flag=True, help="Print the estimate without saving it.")
def spread(runs, no_save):
    """Measure this machine's run-to-run spread from 3 or more stored RUNS of it (same
    profile); the runs made afterwards carry it in their cost intervals."""
    from . import pipeline

    warn_damaged(*runs)
    pipeline.spread(runs, save=not no_save)


@cli.command()
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--fail-above", type=float, default=5.0, show_default=True,
              help="percent change that counts as a regression when significant")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="where to write the HTML page (default reports/compare-BASE-vs-NEW/)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: the table and the page; md, json: the comparison on stdout instead "
                   "(the page only with --html)")
def compare(base, new, fail_above, html_path, fmt):
    """Compare two stored runs; exit 1 on a significant regression above --fail-above."""
    from . import pipeline

    warn_damaged(base, new)
    if fmt != "html":
        raise click.exceptions.Exit(pipeline.compare_summary(base, new, fail_above, html_path, fmt))
    raise click.exceptions.Exit(pipeline.compare(base, new, fail_above, html_path, Console()))


@cli.command("instructions")
@click.option("--apps", "targets", default=None, help="comma list: flask,django,django-stripped,baseline")
@click.option("--endpoints", default=None, help="comma list, e.g. /json,/db (default: all six)")
@click.option("--requests", type=int, default=None, help="measured requests per endpoint [default: 10]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="a .json file or a run folder (default: results/instructions-<run-id>.json)")
@click.option("--cycles", is_flag=True,
              help="also simulate caches and branches: estimated cycles per request (slower)")
def instructions_cmd(targets, endpoints, requests, out, cycles):
    """Instructions per request under callgrind: in-process and through gunicorn's worker."""
    from . import pipeline
    from .measure.instructions import DEFAULT_REQUESTS

    pipeline.instructions(split(targets), split(endpoints), requests or DEFAULT_REQUESTS, out, cycles)


@cli.command("versions")
@click.option("--flask", "flask_series", default=None, metavar="SERIES",
              help="comma list of Flask release series, e.g. 2.3,3.0,3.1")
@click.option("--django", "django_series", default=None, metavar="SERIES",
              help="comma list of Django release series, e.g. 4.2,5.0,5.1,5.2")
@click.option("--endpoints", default=None, help="comma list, e.g. /json,/db (default: all six)")
@click.option("--requests", type=int, default=None, help="measured requests per endpoint [default: 10]")
@click.option("--modes", default="inprocess,served", show_default=True,
              help="inprocess, served, or both")
@click.option("--out", type=click.Path(file_okay=False), default=None, metavar="DIR", help=OUT_HELP)
@click.option("--cycles", is_flag=True,
              help="also simulate caches and branches: estimated cycles per request (slower)")
@click.option("--load", "load_cycles", type=int, default=0, metavar="CYCLES",
              help="also served CPU-µs per request: CYCLES cycles of 0.5 s saturated slices, "
                   "one release under load at a time (10 gives a 95% interval)")
@click.option("--no-report", is_flag=True, help="skip the HTML report")
def versions_cmd(flask_series, django_series, endpoints, requests, modes, out, cycles, load_cycles,
                 no_report):
    """Instructions per request for each framework release, each in its own environment
    under var/versions/ (reused while its requirements stay the same). Without --flask and
    --django: every series from Flask 2.3 and Django 4.2 on that installs on this Python;
    with either, only the frameworks named."""
    from . import pipeline
    from .measure import versions
    from .measure.instructions import DEFAULT_REQUESTS, MODES

    chosen = split(modes) or MODES
    if unknown := [m for m in chosen if m not in MODES]:
        raise FdbenchError(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    given = {"flask": flask_series, "django": django_series}
    named = {fw: text for fw, text in given.items() if text is not None} or dict.fromkeys(given)
    selection = {fw: versions.parse_series(fw, text) for fw, text in named.items()}
    if load_cycles < 0:
        raise FdbenchError(f"--load must be at least 1 cycle, not {load_cycles}")
    run, page = pipeline.versions(selection, split(endpoints), requests or DEFAULT_REQUESTS,
                                  tuple(chosen), out, not no_report, cycles, load_cycles)
    click.echo(f"run {run.meta['status']}: {run.path}")
    if page:
        click.echo(f"report: {page}")


def warn_damaged(*runs):
    """Readers skip a damaged trials.jsonl line: say so on stderr, never drop it silently."""
    from .store import Run

    for path in runs:
        Run.open(path).trials(warn=lambda msg: click.echo(f"fdbench: warning: {msg}", err=True))


def split(value):
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def main(argv=None):
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    # SIGINT/SIGTERM become KeyboardInterrupt, so every `with` block cleans up on the way out.
    signal.signal(signal.SIGTERM, reaper.on_signal)
    signal.signal(signal.SIGINT, reaper.on_signal)  # even when started with SIGINT ignored
    try:
        # Not standalone: click returns (not raises) a command's Exit code, e.g. compare's 1.
        code = cli.main(args=argv, prog_name="fdbench", standalone_mode=False)
        if isinstance(code, int):
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("fdbench: interrupted", err=True)
        return 130
    except click.UsageError as exc:
        click.echo(f"fdbench: error: {exc.format_message()}", err=True)
        return 2
    except FdbenchError as exc:
        if debug:
            raise
        # One line even when the cause spans several (a driver's hint, a log's tail).
        lines = filter(None, (line.strip() for line in str(exc).splitlines()))
        click.echo(f"fdbench: error: {' | '.join(lines)}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("fdbench: interrupted", err=True)
        return 130
    finally:
        reaper.kill_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
