"""``labourwatch run``: the daemon, on the embedded asyncio reactor's loop."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import click
from sqlalchemy.orm import Session

from db import claims as claim_store
from db import repository as repo
from labourwatch.config import Config, parse_listen
from labourwatch.context import AppContext, pass_app
from labourwatch.errors import ConfigError, LabourwatchError
from scheduler.types import ClusterOptions, DaemonOptions, Settings

logger = logging.getLogger(__name__)


def settings_of(config: Config) -> Settings:
    """What the daemon takes from a validated config."""
    daemon = config.model.daemon
    options = DaemonOptions(
        poll_every=daemon.poll_every, revisit_every=daemon.revisit_every, dispatch_every=daemon.dispatch_every,
        prune_cron=daemon.prune_cron, misfire_grace=daemon.misfire_grace, shutdown_timeout=daemon.shutdown_timeout,
        max_backoff=daemon.max_backoff, stall_after=daemon.stall_after, mode=daemon.mode,
        cluster=ClusterOptions(concurrency=daemon.cluster.concurrency, plan_every=daemon.cluster.plan_every,
                               heartbeat=daemon.cluster.heartbeat, stall_window=daemon.cluster.stall_window),
        listen=parse_listen(daemon.listen) if daemon.listen else None, keep_errors=daemon.keep_errors,
        keep_sent=daemon.keep_sent)
    return Settings(sources=tuple(config.sources), crawl=config.crawl_options, topic=config.topic,
                    routes=tuple(config.routes_to_send("the daemon, which sends alerts")),
                    alerts=config.alert_options, daemon=options)


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


def cluster_mode(app: AppContext, flag: bool) -> bool:
    """Whether this run is a node of a cluster (``--cluster`` or ``daemon.mode: cluster``); ConfigError when the
    database cannot hold one (SQLite)."""
    if not flag and app.config.model.daemon.mode != "cluster":
        return False
    url = app.config.database_url
    if not url.startswith("postgresql"):
        raise ConfigError(["daemon.mode: cluster mode needs PostgreSQL, and database.url is "
                           f"{url.split(':', 1)[0]}: the nodes share their work through the database. "
                           "Use daemon.mode: single (without --cluster) for one node on SQLite"],
                          str(app.config_file))
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        raise LabourwatchError("cluster mode needs its job engine: pip install 'labourwatch[cluster]'") from None
    return True


def _listen(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, int] | None:
    if value is None:
        return None
    try:
        return parse_listen(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


@click.command()
@click.option("--cluster", is_flag=True,
              help="Run as one node of a cluster on PostgreSQL (same as daemon.mode: cluster).")
@click.option("--listen", metavar="HOST:PORT", callback=_listen,
              help="Serve /healthz and /metrics here instead of on daemon.listen (one port per node when several "
                   "nodes run on one machine: the systemd template unit passes its instance name).")
@pass_app
def run(app: AppContext, cluster: bool, listen: tuple[str, int] | None) -> None:
    """Run the monitor: poll sources on their schedules, re-check articles, send alerts, until stopped.

    SIGTERM or SIGINT stop it cleanly (exit 0); SIGHUP reloads the config file. Health and metrics are
    served on daemon.listen (GET /healthz, /metrics). With --cluster, every node started so on one PostgreSQL
    database shares the work (README, Cluster mode)."""
    clustered = cluster_mode(app, cluster)
    # Scrapy first: the asyncio reactor must be installed before anything else touches the event loop.
    from crawler import reactor
    from scheduler.daemon import Daemon

    settings = prepare(app)
    if listen is not None:
        settings = replace(settings, daemon=replace(settings.daemon, listen=listen))
    for warning in app.config.warnings:
        logger.warning("config: %s", warning)
    loop = reactor.ensure_reactor()
    if clustered:
        from scheduler.cluster import ClusterDaemon

        settings = replace(settings, daemon=replace(settings.daemon, mode="cluster"))
        daemon: Daemon = ClusterDaemon(app.database(), settings, lambda: stage_reload(app),
                                       url=app.config.database_url)
    else:
        daemon = Daemon(app.database(), settings, lambda: stage_reload(app))
    try:
        loop.run_until_complete(daemon.run())
    finally:
        reactor.shutdown()
