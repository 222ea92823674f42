"""The `fdbench` command. Every failure the user can fix ends as one line on stderr and exit
code 2; `--debug` shows the traceback instead."""
import signal
import sys

import click

from . import db as dbmod
from .errors import FdbenchError
from .serve import APP_SPECS, WORKER_CLASSES, Server, ServeConfig

DB_HELP = "sqlite (default), postgres, or a database URL; DATABASE_URL is honoured"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--variant", default="default", show_default=True, help="django only: default|stripped")
def serve(app, port, db, workers, worker_class, variant):
    """Serve APP (flask, django, baseline) under gunicorn until Ctrl-C."""
    if app not in APP_SPECS:
        raise FdbenchError(f"unknown app {app!r}: choose from {', '.join(APP_SPECS)}")
    url = dbmod.resolve_url(db)
    dbmod.ensure(url)
    cfg = ServeConfig(app=app, db_url=url, variant=variant, port=port, workers=workers,
                      worker_class=worker_class)
    with Server(cfg) as server:
        click.echo(f"listening on {server.url}")
        sys.stdout.flush()
        try:
            code = server.proc.wait()
        except KeyboardInterrupt:
            click.echo("stopping", err=True)
            return
    raise FdbenchError(f"gunicorn exited with code {code}: {server.log_tail()}")


def main(argv=None):
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    # SIGINT/SIGTERM become KeyboardInterrupt, so every `with` block cleans up on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        cli.main(args=argv, prog_name="fdbench", standalone_mode=False)
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
        click.echo(f"fdbench: error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("fdbench: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
