"""The ``labourwatch`` command: a global ``--config`` option, the command groups, and clean startup errors."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from db.engine import Database
from db.errors import SchemaOutOfDateError
from db.migrate import require_head
from labourwatch import __version__
from labourwatch.config import CONFIG_ENV, Config, config_path, load_config
from labourwatch.errors import ConfigError, LabourwatchError
from labourwatch.logs import setup_logging

EXIT_USAGE = 2


@dataclass
class AppContext:
    """What every command receives: the config path, and the config and database once loaded."""

    config_file: Path
    _config: Config | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        """The validated config (loaded once; ConfigError if invalid)."""
        return self._config if self._config is not None else self.reload_config()

    def reload_config(self) -> Config:
        """Read the config file (again), set up logging by it; ConfigError if invalid, and the old one stays."""
        config = load_config(self.config_file)
        self._config = config
        logging_config = config.model.logging
        setup_logging(logging_config.level, logging_config.format, config.secrets)
        return config

    def database(self, *, at_head: bool = True) -> Database:
        """The configured database; by default it must be at the migration head."""
        if self._db is None:
            self._db = Database(self.config.database_url)
        if at_head:
            require_head(self._db)
        return self._db


pass_app = click.make_pass_decorator(AppContext)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Config file [default: ${CONFIG_ENV} or ./config.yaml].")
@click.version_option(__version__, prog_name="labourwatch")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """Monitor reporting on North Korean overseas labour: crawl sources, keep article versions and diffs."""
    ctx.obj = AppContext(config_file=config_path(config_file))


@cli.command("check-config")
@pass_app
def check_config(app: AppContext) -> None:
    """Validate the config file; list every problem with its path (exit 2 when there are any)."""
    config = app.config
    click.echo(f"{app.config_file}: OK — {len(config.sources)} sources "
               f"({sum(s.enabled for s in config.sources)} enabled), database {config.model.database.url}")


def _register() -> None:
    from labourwatch.commands import (
        alerts,
        claims,
        crawl,
        database,
        demo,
        events,
        listing,
        matching,
        run,
        status,
        web,
    )

    cli.add_command(database.db)
    cli.add_command(crawl.crawl)
    cli.add_command(listing.sources)
    cli.add_command(listing.articles)
    cli.add_command(listing.diffs)
    cli.add_command(claims.claims)
    cli.add_command(events.events)
    cli.add_command(alerts.alerts)
    cli.add_command(run.run)
    cli.add_command(demo.demo)
    cli.add_command(web.web)
    cli.add_command(status.status)
    for command in matching.COMMANDS:
        claims.claims.add_command(command)


_register()


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
