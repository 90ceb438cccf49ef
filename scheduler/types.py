"""What the daemon is configured with; the shell builds these from the validated config."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Protocol

from sqlalchemy.orm import Session

from alerts.types import AlertOptions, RouteSpec
from analysis.types import Topic
from analysis.urls import politeness_key
from crawler.types import CrawlOptions, SourceSpec


@dataclass(frozen=True)
class ClusterOptions:
    """Cluster mode's job engine on one node: concurrent jobs, the planning period, the worker's heartbeat and
    the stall window after which a silent worker's jobs run again elsewhere."""

    concurrency: int = 12
    plan_every: timedelta = timedelta(seconds=5)
    heartbeat: timedelta = timedelta(seconds=10)
    stall_window: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class DaemonOptions:
    """Job intervals, the shutdown bound, the source backoff cap, the health endpoint and retention."""

    poll_every: timedelta = timedelta(seconds=30)
    revisit_every: timedelta = timedelta(minutes=2)
    dispatch_every: timedelta = timedelta(seconds=10)
    prune_cron: str = "17 3 * * *"
    misfire_grace: timedelta = timedelta(minutes=2)
    shutdown_timeout: timedelta = timedelta(seconds=20)
    max_backoff: timedelta = timedelta(hours=6)
    stall_after: timedelta = timedelta(minutes=10)
    listen: tuple[str, int] | None = ("127.0.0.1", 9464)
    keep_errors: timedelta = timedelta(days=90)
    keep_sent: timedelta = timedelta(days=90)
    # Sources due this soon after a poll starts join it: one batched crawl instead of several back to back.
    batch_window: timedelta = timedelta(seconds=2)
    # "cluster": the work is shared with other nodes through the job engine on PostgreSQL (scheduler/cluster.py).
    mode: str = "single"
    cluster: ClusterOptions = field(default_factory=ClusterOptions)


@dataclass(frozen=True)
class Settings:
    """Everything one configuration gives the daemon; replaced whole on reload."""

    sources: tuple[SourceSpec, ...]
    crawl: CrawlOptions
    topic: Topic
    routes: tuple[RouteSpec, ...] = ()
    alerts: AlertOptions = field(default_factory=AlertOptions)
    daemon: DaemonOptions = field(default_factory=DaemonOptions)

    # Cached (the settings are frozen; a reload makes new ones): the jobs look sources up here for every due poll,
    # and building the dict each time was a tenth of a cluster node's CPU at 1,000 sources. Not to be changed.
    @cached_property
    def enabled(self) -> dict[str, SourceSpec]:
        """The enabled sources by id."""
        return {spec.id: spec for spec in self.sources if spec.enabled}

    @cached_property
    def enabled_by_key(self) -> dict[str, tuple[str, ...]]:
        """The ids of the enabled sources by politeness key (``analysis.urls.politeness_key``): a cluster's crawl
        of one key reads only its own sources' schedules."""
        keys: dict[str, list[str]] = {}
        for source_id, spec in self.enabled.items():
            keys.setdefault(politeness_key(spec.url), []).append(source_id)
        return {key: tuple(ids) for key, ids in keys.items()}


class StagedConfig(Protocol):
    """A configuration that has been read and fully validated (the config file and the claims file it names)
    but not applied yet: what the daemon's reload loads before it changes anything."""

    @property
    def settings(self) -> Settings:
        """What the daemon takes from it."""
        ...

    def write(self, session: Session) -> None:
        """Its database side (the sources table, the known claims), inside the caller's transaction."""
        ...

    def switch(self) -> None:
        """Make it the process's configuration outside the scheduler (the config object, log redaction).
        Called only after ``write`` committed; it must not fail."""
        ...
