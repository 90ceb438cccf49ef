"""The ``labourwatch`` command: a global ``--config`` option, the command groups, and clean startup errors."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from db.errors import SchemaOutOfDateError
from labourwatch import __version__
from labourwatch.config import CONFIG_ENV, config_path
from labourwatch.context import AppContext, pass_app
from labourwatch.errors import ConfigError, LabourwatchError

EXIT_USAGE = 2




class LazyGroup(click.Group):
    """A group whose commands (``_COMMANDS``) are imported when they are run or listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS and cmd_name not in self.commands:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Config file [default: ${CONFIG_ENV} or ./config.yaml].")
@click.version_option(__version__, prog_name="labourwatch")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Monitor reporting on North Korean overseas labour: crawl sources, keep article versions and diffs."""
    ctx.obj = AppContext(config_file=config_path(config_file))
    ctx.call_on_close(ctx.obj.close)


@cli.command("check-config")
@pass_app
def check_config(app: AppContext) -> None:
    """Validate the config file; list every problem with its path (exit 2 when there are any)."""
    config = app.config
    click.echo(f"{app.config_file}: OK — {len(config.sources)} sources "
               f"({sum(s.enabled for s in config.sources)} enabled), database {config.model.database.url}")
    for warning in config.warnings:
        click.echo(f"warning: {warning}", err=True)


# Commands are imported when they are run (or listed by --help): every command would otherwise pay for
# importing all the others' libraries (apprise, rich, the fixture web…) on start-up.
_COMMANDS = {
    "db": "database:db", "crawl": "crawl:crawl", "sources": "listing:sources", "articles": "listing:articles",
    "diffs": "listing:diffs", "claims": "claims:claims", "events": "events:events", "alerts": "alerts:alerts",
    "run": "run:run", "demo": "demo:demo", "web": "web:web", "status": "status:status",
    "evidence": "evidence:evidence",
}


def _load(name: str) -> click.Command:
    module_name, attr = _COMMANDS[name].split(":")
    module = importlib.import_module(f"labourwatch.commands.{module_name}")
    command: click.Command = getattr(module, attr)
    if name == "claims" and isinstance(command, click.Group):
        from labourwatch.commands import matching

        for sub in matching.COMMANDS:
            command.add_command(sub)
    return command


def load_all_commands() -> click.Group:
    """The CLI with every command imported (for tools that walk ``cli.commands``)."""
    for name in _COMMANDS:
        if name not in cli.commands:
            cli.add_command(_load(name), name)
    return cli


def _fail(lines: list[str], code: int) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def main() -> None:
    """Entry point: run the CLI, turning expected errors into messages and exit codes, never tracebacks."""
    try:
        cli.main(standalone_mode=True)
    except ConfigError as exc:
        _fail([f"{exc.source}: invalid configuration ({len(exc.problems)} problem(s)):",
               *(f"  {problem}" for problem in exc.problems)], EXIT_USAGE)
    except SchemaOutOfDateError as exc:
        _fail([f"error: {exc}"], EXIT_USAGE)
    except OperationalError as exc:
        _fail([f"error: cannot use the database: {exc.orig}"], 1)
    except (LabourwatchError, SQLAlchemyError) as exc:
        _fail([f"error: {exc}"], 1)
