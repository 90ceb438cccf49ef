"""``labourwatch run``: the daemon, on the embedded asyncio reactor's loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import click
from sqlalchemy.orm import Session

from db import claims as claim_store
from db import repository as repo
from labourwatch.config import Config, parse_listen
from labourwatch.context import AppContext, pass_app
from labourwatch.errors import ConfigError
from scheduler.types import DaemonOptions, Settings

logger = logging.getLogger(__name__)


def settings_of(config: Config) -> Settings:
    """What the daemon takes from a validated config."""
    daemon = config.model.daemon
    options = DaemonOptions(
        poll_every=daemon.poll_every, revisit_every=daemon.revisit_every, dispatch_every=daemon.dispatch_every,
        prune_cron=daemon.prune_cron, misfire_grace=daemon.misfire_grace, shutdown_timeout=daemon.shutdown_timeout,
        max_backoff=daemon.max_backoff, stall_after=daemon.stall_after,
        listen=parse_listen(daemon.listen) if daemon.listen else None, keep_errors=daemon.keep_errors,
        keep_sent=daemon.keep_sent)
    return Settings(sources=tuple(config.sources), crawl=config.crawl_options, topic=config.topic,
                    routes=tuple(config.routes), alerts=config.alert_options, daemon=options)


@dataclass(frozen=True)
class Staged:
    """A validated config, not applied yet (a ``StagedConfig``). Loading it read and checked the claims file
    it names (``Config.known_claims``), so a broken claims file never gets this far."""

    app: AppContext
    config: Config
    settings: Settings

    def write(self, session: Session) -> None:
        """The sources table and the known claims, in the caller's transaction."""
        repo.sync_sources(session, self.config.sources)
        if self.config.known_claims is not None:
            claim_store.import_claims(session, self.config.known_claims)

    def switch(self) -> None:
        """Make it the current config: ``app.config``, logging and its redacted secrets."""
        self.app.use_config(self.config)


def stage_reload(app: AppContext) -> Staged:
    """The config file read again and validated, with the claims file it names; nothing is changed.
    ConfigError when it cannot be used."""
    config = app.read_config()
    if config.database_url != app.config.database_url:
        # The daemon keeps its connections: a new database needs a restart (and its own `db upgrade`).
        raise ConfigError(["database.url: changed; restart the daemon to use another database"],
                          str(app.config_file))
    return Staged(app, config, settings_of(config))


def prepare(app: AppContext) -> Settings:
    """Bring the database in line with the current config (sources, known claims; one transaction, after
    both are validated) and return the settings."""
    staged = Staged(app, app.config, settings_of(app.config))
    with app.database().write() as session:
        staged.write(session)
    return staged.settings


@click.command()
@pass_app
def run(app: AppContext) -> None:
    """Run the monitor: poll sources on their schedules, re-check articles, send alerts, until stopped.

    SIGTERM or SIGINT stop it cleanly (exit 0); SIGHUP reloads the config file. Health and metrics are
    served on daemon.listen (GET /healthz, /metrics)."""
    # Scrapy first: the asyncio reactor must be installed before anything else touches the event loop.
    from crawler import reactor
    from scheduler.daemon import Daemon

    settings = prepare(app)
    for warning in app.config.warnings:
        logger.warning("config: %s", warning)
    loop = reactor.ensure_reactor()
    daemon = Daemon(app.database(), settings, lambda: stage_reload(app))
    try:
        loop.run_until_complete(daemon.run())
    finally:
        reactor.shutdown()
