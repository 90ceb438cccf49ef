"""``labourwatch status``: the report from real rows, its table, and ``--check`` exit codes (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, select, text

from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import outbox
from db import repository as repo
from db.claims import import_claims
from db.engine import Database
from db.events import DeliveryTarget, EventDraft, record_events
from db.models import Delivery, Source
from db.status import status_report
from labourwatch.cli import cli
from labourwatch.config import read_claims
from scheduler.metrics import Metrics

OPTIONS = repo.StoreOptions(revisit=(timedelta(minutes=15), timedelta(hours=1)), keep_raw=False)


@dataclass(frozen=True)
class Spec:
    """What ``repository.sync_sources`` reads from a configured source."""

    id: str
    kind: str = "feed"
    enabled: bool = True

    @property
    def url(self) -> str:
        return f"https://{self.id}.example/feed"

    @property
    def name(self) -> str:
        return self.id.title()


@pytest.fixture(autouse=True)
def _in_process(in_process_cli: None) -> None:
    """Every test here runs the CLI in this process."""


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def config(tmp_path: Path, database: Database, db_url: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db_url}}))
    return path


def status(config: Path, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), "status", *args], env={"COLUMNS": "220"},
                                catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def as_json(result: Result) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    return report


# --- building real rows -------------------------------------------------------------------------------

def add_sources(db: Database, *specs: Spec) -> None:
    with db.write() as session:
        repo.sync_sources(session, specs, disable_missing=False)


def poll(db: Database, source_id: str, at: datetime, error_code: str | None = None) -> None:
    with db.write() as session:
        repo.record_source_result(session, source_id, ok=error_code is None, at=at, items=3, new=1,
                                  not_modified=False, error_code=error_code,
                                  error=f"{error_code} happened" if error_code else None)


def schedule(db: Database, source_id: str, next_poll_at: datetime) -> None:
    # The daemon's scheduler owns this column; no repository function writes it yet.
    with db.write() as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.next_poll_at = next_poll_at


def add_delivery(db: Database, key: str, kind: str, at: datetime, outcome: str = outbox.PENDING) -> None:
    def router(draft: EventDraft) -> list[DeliveryTarget]:
        return [DeliveryTarget("ops", "fp-ops", "json://ops.example/hook")]

    with db.write() as session:
        event_id = record_events(session, [EventDraft(kind, key, key, f"summary of {key}")], router, at)[0]
        ids = list(session.scalars(select(Delivery.id).where(Delivery.event_id == event_id)))
        if outcome == outbox.SENT:
            outbox.mark_sent(session, ids, at)
        elif outcome in (outbox.FAILED, outbox.DEAD):
            outbox.mark_failed(session, ids, "HTTP 500", at + timedelta(minutes=5) if outcome == outbox.FAILED
                               else None)


def add_article(db: Database, n: int, fetched_at: datetime, relevant: bool = True) -> None:
    url = f"https://news.example/a/{n}"
    text = f"Story {n}: North Korean workers were sent to Russia."
    fetch = repo.ArticleFetch(
        doc=ArticleDoc(url=url, canonical_url=url, title=f"Story {n}", text=text, language="en"),
        relevance=Relevance(relevant, 0.8 if relevant else 0.0), content_hash=content_hash(f"Story {n}", text),
        raw=repo.RawCapture(url=url, status=200, headers={}, body=text.encode(), fetched_at=fetched_at),
        source_id=None, discovered_url=url)
    with db.write() as session:
        repo.store_article(session, fetch, OPTIONS, diff_versions)


def add_runs(db: Database, now: datetime) -> int:
    with db.write() as session:
        first = repo.start_run(session, "cli", ["alpha"])
        repo.finish_run(session, first, "ok", {"articles_new": 5}, 0)
    with db.write() as session:
        second = repo.start_run(session, "schedule", ["alpha", "bravo", "atlas"])
        repo.record_error(session, run_id=second, source_id="bravo", url="https://bravo.example/feed",
                          code="http_503", message="Service Unavailable", at=now - timedelta(minutes=10))
        repo.record_error(session, run_id=second, source_id="atlas", url="https://atlas.example/feed",
                          code="timeout", message="no answer in 30 s", at=now - timedelta(minutes=9))
        repo.record_error(session, run_id=second, source_id=None, url="https://news.example/a/9",
                          code="too_large", message="body over 10 MiB", at=now - timedelta(minutes=8))
        repo.finish_run(session, second, "partial", {"articles_new": 2, "errors": 3}, 3)
    return second


@pytest.fixture
def populated(database: Database, now: datetime) -> int:
    """Five sources of every health, articles with one re-check due, deliveries of every status, two runs, events.

    Returns the id of the latest crawl run."""
    add_sources(database, Spec("alpha"), Spec("bravo", "sitemap"), Spec("atlas", "listing"), Spec("delta"),
                Spec("echo", enabled=False))
    poll(database, "alpha", now - timedelta(minutes=10))
    schedule(database, "alpha", now + timedelta(minutes=5))
    for minutes in (30, 10):
        poll(database, "bravo", now - timedelta(minutes=minutes), "http_503")
    poll(database, "atlas", now - timedelta(minutes=9), "timeout")
    for _ in range(5):
        poll(database, "echo", now - timedelta(days=3), "dns_error")  # failing once, disabled since
    add_article(database, 1, now - timedelta(hours=1))  # re-check due 45 minutes ago
    add_article(database, 2, now - timedelta(minutes=5))  # re-check due in 10 minutes
    add_article(database, 3, now - timedelta(hours=1), relevant=False)  # off-topic: never re-checked
    add_delivery(database, "new_article:a1", "new_article", now - timedelta(hours=3), outbox.SENT)
    add_delivery(database, "new_article:a2", "new_article", now - timedelta(hours=2))
    add_delivery(database, "source_failing:bravo", "source_failing", now - timedelta(hours=4), outbox.FAILED)
    add_delivery(database, "claim_updated:v1:s0", "claim_updated", now - timedelta(days=2), outbox.DEAD)
    return add_runs(database, now)


# --- the report -----------------------------------------------------------------------------------------

def test_json_report_from_real_rows(config: Path, populated: int, now: datetime) -> None:
    report = as_json(status(config, "--format", "json"))  # problems, but no --check: exit 0

    sources = report["sources"]
    assert [(s["id"], s["health"], s["consecutive_failures"]) for s in sources] == [
        ("bravo", "failing", 2), ("atlas", "failing", 1), ("delta", "never_polled", 0), ("alpha", "ok", 0),
        ("echo", "disabled", 5)]
    bravo, alpha, delta = sources[0], sources[3], sources[2]
    assert bravo["last_error_code"] == "http_503" and bravo["last_error"] == "http_503 happened"
    assert bravo["kind"] == "sitemap" and bravo["name"] == "Bravo" and bravo["enabled"] is True
    assert bravo["last_polled_at"] == (now - timedelta(minutes=10)).isoformat() and bravo["last_success_at"] is None
    assert alpha["next_poll_at"] == (now + timedelta(minutes=5)).isoformat() and alpha["overdue_seconds"] == 0
    assert delta["next_poll_at"] is None and delta["overdue_seconds"] is None and delta["last_polled_at"] is None
    assert report["health_counts"] == {"failing": 2, "never_polled": 1, "ok": 1, "disabled": 1}

    assert report["rechecks"] == {"due": 1, "next_at": (now + timedelta(minutes=10)).isoformat()}
    assert report["deliveries"] == {"pending": 1, "failed": 1, "sent": 1, "dead": 1,
                                    "oldest_pending_at": (now - timedelta(hours=4)).isoformat()}  # failed: waiting too
    assert [e["code"] for e in report["recent_errors"]] == ["too_large", "timeout", "http_503"]
    assert report["recent_errors"][2]["source_id"] == "bravo"

    last_run = report["last_run"]
    assert {k: last_run[k] for k in ("id", "trigger", "status", "sources", "error_count", "stats")} == {
        "id": populated, "trigger": "schedule", "status": "partial", "sources": 3, "error_count": 3,
        "stats": {"articles_new": 2, "errors": 3}}
    assert last_run["finished_at"] >= last_run["started_at"] and last_run["duration_seconds"] >= 0

    events = report["events_24h"]
    assert events["new_article"] == 2 and events["source_failing"] == 1
    assert events["claim_updated"] == 0  # two days old
    assert set(events) >= {"new_article", "article_edited", "delivery_dead"}  # every type, zeros included

    assert len(report["problems"]) == 3
    assert "bravo" in report["problems"][0] and "atlas" in report["problems"][1]
    assert report["problems"][2].startswith("1 dead delivery")


def test_errors_option_limits_the_recent_errors(config: Path, populated: int) -> None:
    report = as_json(status(config, "--format", "json", "--errors", "2"))
    assert [e["code"] for e in report["recent_errors"]] == ["too_large", "timeout"]


def test_table_lists_sources_worst_first_then_the_sections(config: Path, populated: int, now: datetime) -> None:
    out = status(config).stdout
    positions = [out.index(f" {name} ") for name in ("bravo", "atlas", "delta", "alpha", "echo")]
    assert positions == sorted(positions), out
    assert "sources (failing 2, never_polled 1, ok 1, disabled 1)" in out
    assert (now - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S") in out  # bravo's last poll, to the second
    assert "http_503: http_503 happened" in out and "dns_error" not in out  # a disabled source's error is history
    assert "deliveries: pending 1, failed 1, sent 1, dead 1; oldest waiting since" in out
    assert "re-checks due now: 1; next at" in out
    assert "events in the last 24 h: new_article 2, source_failing 1" in out
    assert f"last run: #{populated} (schedule) partial" in out and "articles_new 2, errors 3" in out
    assert "recent errors" in out and "body over 10 MiB" in out


def test_empty_database(config: Path) -> None:
    report = as_json(status(config, "--format", "json", "--check"))
    assert report["sources"] == [] and report["recent_errors"] == [] and report["last_run"] is None
    assert report["rechecks"] == {"due": 0, "next_at": None}
    assert report["deliveries"] == {"pending": 0, "failed": 0, "sent": 0, "dead": 0, "oldest_pending_at": None}
    assert not any(report["events_24h"].values()) and report["problems"] == []
    out = status(config).stdout
    assert "(nothing to show)" in out and "last run: none recorded" in out and "recent errors: none" in out
    # Nothing to match claim sentences against: said, in both formats (not a failed check: a choice one can make).
    assert report["known_claims"] == 0 and report["warnings"] and "no known claims" in report["warnings"][0]
    assert "warning: no known claims" in status(config).stderr


def test_no_claims_warning_once_claims_are_imported(config: Path, database: Database) -> None:
    with database.write() as session:
        import_claims(session, read_claims(Path(__file__).resolve().parents[1] / "known_claims.yaml"))
    report = as_json(status(config, "--format", "json"))
    assert report["known_claims"] > 0 and report["warnings"] == []


def test_overdue_seconds_for_a_given_now(database: Database, now: datetime) -> None:
    add_sources(database, Spec("alpha"), Spec("bravo"))
    schedule(database, "alpha", now - timedelta(minutes=20))
    schedule(database, "bravo", now + timedelta(seconds=1))
    with database.read() as session:
        report = status_report(session, now, error_limit=1)
    assert {s["id"]: s["overdue_seconds"] for s in report["sources"]} == {"alpha": 1200, "bravo": 0}
    assert report["generated_at"] == now.isoformat()


# --- --check ----------------------------------------------------------------------------------------------

def test_check_passes_on_a_healthy_monitor(config: Path, database: Database, now: datetime) -> None:
    add_sources(database, Spec("alpha"), Spec("bravo"), Spec("retired", enabled=False))
    poll(database, "alpha", now - timedelta(minutes=5))
    poll(database, "bravo", now - timedelta(minutes=5))
    schedule(database, "bravo", now - timedelta(minutes=5))  # late, but within 15 minutes
    poll(database, "retired", now - timedelta(days=1), "http_404")  # disabled: its failures do not count
    schedule(database, "retired", now - timedelta(days=1))  # nor its lateness
    add_delivery(database, "new_article:a1", "new_article", now, outbox.SENT)
    add_delivery(database, "new_article:a2", "new_article", now, outbox.FAILED)  # retrying is not dead
    result = status(config, "--check")
    assert "check failed" not in result.stderr and "alpha" in result.stdout


@pytest.mark.parametrize(("problem", "expected"), [
    ("failing", "check failed: source bravo is failing: 1 failure(s) in a row, last error http_500"),
    ("overdue", "check failed: source bravo is overdue by 12"),
    ("dead", "check failed: 1 dead delivery"),
    ("never", "check failed: source bravo has never been polled"),
])
def test_check_fails_and_says_why(config: Path, database: Database, now: datetime, problem: str,
                                  expected: str) -> None:
    add_sources(database, Spec("alpha"), Spec("bravo"))
    poll(database, "alpha", now)
    if problem == "never":
        # Added long ago (by a crawl or a reload that failed), never polled, nothing scheduled.
        with database.write() as session:
            source = session.get(Source, "bravo")
            assert source is not None
            source.created_at = now - timedelta(hours=2)
    else:
        poll(database, "bravo", now - timedelta(minutes=20), "http_500" if problem == "failing" else None)
    if problem == "overdue":
        schedule(database, "bravo", now - timedelta(minutes=20, seconds=30))
    if problem == "dead":
        add_delivery(database, "delivery_dead:1", "delivery_dead", now, outbox.DEAD)
    table = status(config).stdout  # without --check the same state is only reported: exit 0
    assert ("(overdue 12" in table) is (problem == "overdue")
    result = status(config, "--check", "--format", "json", code=1)
    assert expected in result.stderr
    report = as_json(result)  # stdout stays one JSON document
    assert len(report["problems"]) == 1 and report["problems"][0] in result.stderr


# --- cluster mode ------------------------------------------------------------------------------------------

def cluster_rows(url: str) -> tuple[int, int]:
    """Through the engine's own API on the test database: two nodes (workers), one of them silent for a minute;
    four crawl jobs deferred with their keys' locks, two of them running on the live node. The two worker ids."""
    from procrastinate import App, PsycopgConnector

    from scheduler.cluster import QUEUE, engine_conninfo

    async def build() -> tuple[int, int]:
        app = App(connector=PsycopgConnector(conninfo=engine_conninfo(url)))

        @app.task(name="labourwatch.crawl", queue=QUEUE)
        async def crawl(key: str) -> None:
            """Never run here."""

        async with app.open_async():
            live, silent = await app.job_manager.register_worker(), await app.job_manager.register_worker()
            for key in ("a.example:443", "b.example:443", "c.example:443", "d.example:443"):
                await crawl.configure(lock=f"crawl:{key}", queueing_lock=f"crawl:{key}").defer_async(key=key)
            for _ in range(2):
                assert await app.job_manager.fetch_job(queues=[QUEUE], worker_id=live) is not None
        return live, silent

    live, silent = asyncio.run(build())
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '60 seconds' "
                                "WHERE id = :id"), {"id": silent})
    engine.dispose()
    return live, silent


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_cluster_in_status_and_metrics(config: Path, database: Database, db_url: str) -> None:
    live, silent = cluster_rows(db_url)
    cluster = as_json(status(config, "--format", "json"))["cluster"]
    nodes = {node["worker_id"]: node for node in cluster["nodes"]}
    assert set(nodes) == {live, silent}
    assert nodes[live]["running_jobs"] == 2 and not nodes[live]["silent"] and nodes[live]["heartbeat_age_seconds"] < 30
    assert nodes[silent]["running_jobs"] == 0 and nodes[silent]["silent"]  # the default stall window is 30 s
    assert nodes[silent]["heartbeat_age_seconds"] >= 60
    assert cluster["jobs"] == {"todo": 2, "doing": 2, "succeeded": 0, "failed": 0, "cancelled": 0, "aborted": 0}
    assert cluster["locked_keys"] == [{"key": "crawl:a.example:443", "worker_id": live},
                                      {"key": "crawl:b.example:443", "worker_id": live}]
    assert isinstance(cluster["deadlocks"], int)
    out = status(config).stdout
    assert "cluster nodes: 2:" in out and "SILENT" in out and "cluster jobs: todo 2, doing 2" in out
    assert "cluster keys locked: 2: crawl:a.example:443" in out
    body = Metrics(database).render().decode()
    for sample in ("labourwatch_cluster_nodes 2.0", 'labourwatch_cluster_jobs{state="doing"} 2.0',
                   'labourwatch_cluster_jobs{state="todo"} 2.0', "labourwatch_cluster_locked_keys 2.0",
                   f'labourwatch_cluster_heartbeat_age_seconds{{worker="{live}"}}', "labourwatch_db_deadlocks_total"):
        assert sample in body, body


def test_no_cluster_on_sqlite(tmp_path: Path, sqlite_database: Database) -> None:
    path = tmp_path / "sqlite.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": sqlite_database.url}}))
    report = as_json(status(path, "--format", "json"))
    assert report["cluster"] is None and "cluster" not in status(path).stdout
    assert "labourwatch_cluster" not in Metrics(sqlite_database).render().decode()
