"""``labourwatch run``: the daemon, on the embedded asyncio reactor's loop."""

from __future__ import annotations

import click

from db import repository as repo
from labourwatch.cli import AppContext, pass_app
from labourwatch.commands.claims import sync_configured_claims
from labourwatch.config import Config, parse_listen
from scheduler.types import DaemonOptions, Settings


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


def prepare(app: AppContext) -> Settings:
    """Bring the database in line with the current config (sources, known claims) and return the settings."""
    config = app.config
    with app.database().write() as session:
        repo.sync_sources(session, config.sources)
    sync_configured_claims(app)
    return settings_of(config)


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

    def reload() -> Settings:
        app.reload_config()
        return prepare(app)

    loop = reactor.ensure_reactor()
    daemon = Daemon(app.database(), settings, reload)
    try:
        loop.run_until_complete(daemon.run())
    finally:
        reactor.shutdown()
