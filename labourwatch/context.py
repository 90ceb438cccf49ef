"""What every command receives: the config path, and the config and database, each loaded when first asked for.

Its own module, so that the command modules need not import the CLI that loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from analysis.claims import semantic
from db.engine import Database
from db.migrate import require_head
from labourwatch.config import Config, load_config
from labourwatch.logs import setup_logging


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
        return self.use_config(self.read_config())

    def read_config(self) -> Config:
        """Read and validate the config file without using it (ConfigError if invalid)."""
        return load_config(self.config_file)

    def use_config(self, config: Config) -> Config:
        """Make ``config`` the current one: ``config`` returns it and logging follows it (its level, format
        and the secrets it resolved, which are redacted from then on)."""
        self._config = config
        semantic.configure(config.model.claims.semantic)
        logging_config = config.model.logging
        setup_logging(logging_config.level, logging_config.format, config.secrets)
        return config

    def close(self) -> None:
        """Close the database's connections: a command run in a process that goes on (tests, a shell embedding
        the CLI) must not leave them open."""
        if self._db is not None:
            self._db.dispose()
            self._db = None

    def database(self, *, at_head: bool = True) -> Database:
        """The configured database; by default it must be at the migration head."""
        if self._db is None:
            self._db = Database(self.config.database_url)
        if at_head:
            require_head(self._db)
        return self._db


pass_app = click.make_pass_decorator(AppContext)
