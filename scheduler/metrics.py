"""The daemon's Prometheus metrics: counters the jobs feed as they run, and a collector that reads the database.

Every ``Metrics`` owns its registry (never the process-wide default), so any number can coexist in one
process. Metric names all start with ``labourwatch_``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from db import retries, status
from db.cluster_status import cluster_report
from db.engine import Database
from db.events import EVENT_TYPES
from db.models import Delivery, Event, utcnow
from db.outbox import STATUSES

logger = logging.getLogger(__name__)

# The client's default adds a `_created` series (a creation timestamp) beside every counter and histogram, which
# doubles the body and says nothing a scrape's own time does not. The switch is process-wide; labourwatch is the
# only user of prometheus_client in its process.
disable_created_metrics()

CRAWL_JOBS = ("poll", "revisit")
POLL_OUTCOMES = ("ok", "failed", "unanswered")
ARTICLE_ACTIONS = ("new", "new_offtopic", "changed", "unchanged", "duplicate")
VERSION_ACTIONS = ("new", "new_offtopic", "changed")  # each of these stored a version
CLAIM_LABELS = ("corroborates", "updates", "new")
# released: handed back unsent (its destination failed earlier in the pass, or the pass reached its lease
# deadline); lease_lost: an outcome not recorded because another dispatcher held the delivery by then.
DELIVERY_OUTCOMES = ("sent", "failed", "dead", "deferred", "released", "lease_lost")
SOURCE_HEALTH = status.HEALTHS

CRAWL_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800)
DISPATCH_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
LOOP_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
POLL_LAG_BUCKETS = (0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600)


def _inc(counter: Counter, amount: int | float) -> None:
    # Counter.inc refuses negative amounts; a ledger never has them, but a bad one must not break a job.
    if amount > 0:
        counter.inc(amount)


class Metrics:
    """The daemon's metrics; ``render()`` is the body of ``GET /metrics``."""

    def __init__(self, db: Database | None = None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._polls = Counter("labourwatch_polls", "Sources polled, by job and outcome", ["job", "outcome"],
                              registry=r)
        self._responses = Counter("labourwatch_responses", "Crawl responses by HTTP status", ["status"],
                                  registry=r)
        self._not_modified = Counter("labourwatch_not_modified", "Conditional GETs answered 304", ["what"],
                                     registry=r)
        self._articles = Counter("labourwatch_articles", "Articles fetched, by what the store did",
                                 ["action"], registry=r)
        self._versions = Counter("labourwatch_versions", "Article versions stored", registry=r)
        self._claims = Counter("labourwatch_claim_sentences", "Claim sentences matched, by label", ["label"],
                               registry=r)
        self._problems = Counter("labourwatch_crawl_problems", "Crawl errors and warnings recorded", ["severity"],
                                 registry=r)
        self._crawl_seconds = Histogram("labourwatch_crawl_duration_seconds", "Duration of one crawl pass",
                                        ["job"], buckets=CRAWL_BUCKETS, registry=r)
        self._dispatch_seconds = Histogram("labourwatch_dispatch_duration_seconds", "Duration of one dispatch pass",
                                           buckets=DISPATCH_BUCKETS, registry=r)
        self._deliveries = Counter("labourwatch_deliveries_attempted", "Delivery attempts, by outcome", ["outcome"],
                                   registry=r)
        self._loop_lag = Histogram("labourwatch_loop_lag_seconds", "How late the event loop woke a sleeper",
                                   buckets=LOOP_LAG_BUCKETS, registry=r)
        self._loop_lag_max = Gauge("labourwatch_loop_lag_max_seconds", "Largest event-loop lag since start",
                                   registry=r)
        self._poll_lag = Histogram("labourwatch_poll_lag_seconds", "How long after its due time a source was polled",
                                   buckets=POLL_LAG_BUCKETS, registry=r)
        self._polls_missed = Counter("labourwatch_polls_missed", "Scheduled polls skipped (misfired)", registry=r)
        self._job_errors = Counter("labourwatch_job_errors", "Job runs that ended in an exception", ["job"],
                                   registry=r)
        started = Gauge("labourwatch_start_time_seconds", "When the daemon started (Unix time)", registry=r)
        started.set(time.time())
        self._max_lag = 0.0
        self._prefill()
        self.registry.register(RetryCollector())
        if db is not None:
            self.registry.register(DatabaseCollector(db))

    def _prefill(self) -> None:
        # Label sets known in advance are exported at 0 from the start, so rate() and alerts see them at once.
        for job in CRAWL_JOBS:
            self._crawl_seconds.labels(job)
            for outcome in POLL_OUTCOMES:
                self._polls.labels(job, outcome)
        for what in ("document", "article"):
            self._not_modified.labels(what)
        for action in ARTICLE_ACTIONS:
            self._articles.labels(action)
        for label in CLAIM_LABELS:
            self._claims.labels(label)
        for severity in ("error", "warning"):
            self._problems.labels(severity)
        for outcome in DELIVERY_OUTCOMES:
            self._deliveries.labels(outcome)

    def crawl_finished(self, job: str, stats: Mapping[str, int], sources: Mapping[str, bool | None],
                       seconds: float) -> None:
        """One crawl pass ended: its ledger ``stats``, each source's outcome (True ok, False failed, None
        unanswered) and how long it took."""
        for ok in sources.values():
            self._polls.labels(job, "unanswered" if ok is None else "ok" if ok else "failed").inc()
        for key, value in stats.items():
            status = key.removeprefix("http_")
            if status != key and status.isdigit():
                _inc(self._responses.labels(status), value)
        _inc(self._not_modified.labels("document"), stats.get("documents_not_modified", 0))
        _inc(self._not_modified.labels("article"), stats.get("articles_not_modified", 0))
        for action in ARTICLE_ACTIONS:
            _inc(self._articles.labels(action), stats.get(f"articles_{action}", 0))
        _inc(self._versions, sum(stats.get(f"articles_{action}", 0) for action in VERSION_ACTIONS))
        for label in CLAIM_LABELS:
            _inc(self._claims.labels(label), stats.get(f"claims_{label}", 0))
        _inc(self._problems.labels("error"), stats.get("errors", 0))
        _inc(self._problems.labels("warning"), stats.get("warnings", 0))
        self._crawl_seconds.labels(job).observe(max(0.0, seconds))

    def poll_started(self, lag_seconds: float) -> None:
        """A source is being polled ``lag_seconds`` after it was due (call once per source)."""
        self._poll_lag.observe(max(0.0, lag_seconds))

    def poll_missed(self, count: int = 1) -> None:
        """Scheduled poll runs that were skipped."""
        _inc(self._polls_missed, count)

    def dispatch_finished(self, sent: int, failed: int, dead: int, deferred: int, seconds: float, *,
                          released: int = 0, lease_lost: int = 0) -> None:
        """One dispatch pass ended with these delivery outcomes."""
        counts = (sent, failed, dead, deferred, released, lease_lost)
        for outcome, count in zip(DELIVERY_OUTCOMES, counts, strict=True):
            _inc(self._deliveries.labels(outcome), count)
        self._dispatch_seconds.observe(max(0.0, seconds))

    def loop_lag(self, seconds: float) -> None:
        """The event loop woke a sleeper ``seconds`` late."""
        seconds = max(0.0, seconds)
        self._loop_lag.observe(seconds)
        if seconds > self._max_lag:
            self._max_lag = seconds
            self._loop_lag_max.set(seconds)

    def job_error(self, job: str) -> None:
        """A job run ended in an exception."""
        self._job_errors.labels(job).inc()

    def forget_job(self, job: str) -> None:
        """Drop the series of a job that no longer exists (a digest route removed by a reload)."""
        # A series that never got a sample is simply not there: nothing to drop.
        with contextlib.suppress(KeyError):
            self._job_errors.remove(job)

    def render(self) -> bytes:
        """The text exposition of every metric. Blocking (it queries the database): run it in a thread."""
        return generate_latest(self.registry)


class RetryCollector:
    """This process's transactions run again after PostgreSQL aborted them for a race (``db.retries``)."""

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily("labourwatch_db_retries", "Transactions run again after PostgreSQL aborted "
                                     "them for a race with another (deadlock, serialization failure)",
                                     labels=["reason"])
        for reason, count in sorted(retries.COUNTS.snapshot().items()):
            family.add_metric([reason], count)
        return [family]


class DatabaseCollector:
    """Metrics read from the database at scrape time; ``labourwatch_database_up`` is 0 when that failed."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> Iterable[Metric]:
        # Lets the registry refuse a second collector with the same names; samples come from collect().
        return [*self._families(), GaugeMetricFamily("labourwatch_database_up", "")]

    def collect(self) -> Iterable[Metric]:
        try:
            with self.db.read() as session:
                families = self._families(session, utcnow())
        except Exception as exc:
            # A scrape must still answer while the database is down: that is when it matters most.
            logger.warning("metrics: database query failed: %s", exc)
            return [GaugeMetricFamily("labourwatch_database_up", "Whether the database answered", value=0)]
        return [*families, GaugeMetricFamily("labourwatch_database_up", "Whether the database answered", value=1)]

    def _families(self, session: Session | None = None, now: datetime | None = None) -> list[Metric]:
        events = CounterMetricFamily("labourwatch_events", "Events stored, by type", labels=["type"])
        deliveries = GaugeMetricFamily("labourwatch_deliveries", "Deliveries in the outbox, by status",
                                       labels=["status"])
        sources = GaugeMetricFamily("labourwatch_sources", "Sources by health", labels=["health"])
        due = GaugeMetricFamily("labourwatch_due_rechecks", "Articles whose re-check is due")
        if session is None or now is None:
            return [events, deliveries, sources, due]
        for kind, count in status.count_by(session, Event.type, EVENT_TYPES).items():
            events.add_metric([kind], count)
        for state, count in status.count_by(session, Delivery.status, STATUSES).items():
            deliveries.add_metric([state], count)
        for health, count in status.health_counts(session).items():
            sources.add_metric([health], count)
        due.add_metric([], status.due_rechecks_count(session, now))
        return [events, deliveries, sources, due, *self._cluster(session, now)]

    def _cluster(self, session: Session | None, now: datetime | None) -> list[Metric]:
        """On PostgreSQL, the cluster as ``db.cluster_status`` reads it (the same figures as ``status``)."""
        if self.db.engine.dialect.name != "postgresql":
            return []
        nodes = GaugeMetricFamily("labourwatch_cluster_nodes", "Cluster nodes (engine workers) registered")
        heartbeat = GaugeMetricFamily("labourwatch_cluster_heartbeat_age_seconds",
                                      "Seconds since each cluster node's last heartbeat", labels=["worker"])
        jobs = GaugeMetricFamily("labourwatch_cluster_jobs", "Cluster jobs by state", labels=["state"])
        locked = GaugeMetricFamily("labourwatch_cluster_locked_keys", "Keys whose cluster job is running")
        deadlocks = CounterMetricFamily("labourwatch_db_deadlocks", "Deadlocks PostgreSQL detected in this database "
                                        "(each aborted a transaction, which was run again)")
        families = [nodes, heartbeat, jobs, locked, deadlocks]
        report = cluster_report(session, now) if session is not None and now is not None else None
        if report is None:
            return families
        nodes.add_metric([], len(report["nodes"]))
        for node in report["nodes"]:
            heartbeat.add_metric([str(node["worker_id"])], node["heartbeat_age_seconds"])
        for state, count in report["jobs"].items():
            jobs.add_metric([state], count)
        locked.add_metric([], len(report["locked_keys"]))
        deadlocks.add_metric([], report["deadlocks"])
        return families


