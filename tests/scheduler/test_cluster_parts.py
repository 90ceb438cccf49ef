"""Cluster mode's parts, in process: periods as crons, politeness keys, the engine's schema and its migration."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import procrastinate
import pytest
from alembic import command
from sqlalchemy import inspect, text

from analysis.cron import every_cron
from analysis.urls import politeness_key
from db.engine import Database
from db.migrate import MIGRATIONS, alembic_config, current_revision, head_revision, upgrade
from scheduler.cluster import ClusterDaemon, engine_conninfo
from scheduler.health import Health


@contextmanager
def cluster_nodes(db_url: str, tmp_path: Path, count: int = 1) -> Iterator[list[ClusterDaemon]]:
    """``count`` cluster nodes (not started) on the test's PostgreSQL database and one config without sources."""
    from bench.cluster_bench import write_config
    from labourwatch.commands.run import prepare, stage_reload
    from labourwatch.context import AppContext
    from tests.receivers import free_port

    app = AppContext(config_file=write_config(tmp_path / "config.yaml", db_url, [], free_port()))
    try:
        yield [ClusterDaemon(app.database(), prepare(app), lambda: stage_reload(app), url=db_url)
               for _ in range(count)]
    finally:
        app.database(at_head=False).dispose()


@pytest.mark.parametrize(("every", "cron"), [
    (timedelta(seconds=1), "* * * * * */1"), (timedelta(seconds=5), "* * * * * */5"),
    (timedelta(seconds=30), "* * * * * */30"), (timedelta(minutes=1), "*/1 * * * *"),
    (timedelta(minutes=15), "*/15 * * * *"), (timedelta(hours=1), "0 * * * *"),
])
def test_a_period_on_the_clock_grid_is_a_cron(every: timedelta, cron: str) -> None:
    assert every_cron(every) == cron


@pytest.mark.parametrize("every", [timedelta(seconds=7), timedelta(seconds=1.5), timedelta(seconds=90),
                                   timedelta(minutes=7), timedelta(hours=2), timedelta(0)])
def test_a_period_off_the_grid_is_refused(every: timedelta) -> None:
    with pytest.raises(ValueError, match="must divide a minute or an hour"):
        every_cron(every)


@pytest.mark.parametrize(("url", "key"), [
    ("https://Example.org/rss", "example.org:443"),
    ("http://example.org/a?b=1", "example.org:80"),
    ("http://example.org:8080/a", "example.org:8080"),
    ("https://example.org:443/x", "example.org:443"),
    ("http://[::1]:9000/feed", "[::1]:9000"),
    ("ftp://example.org/x", "ftp://example.org/x"),
    ("http://example.org:99999/x", "http://example.org:99999/x"),
])
def test_politeness_key_is_host_and_port(url: str, key: str) -> None:
    assert politeness_key(url) == key


def test_the_engine_connects_with_the_databases_credentials() -> None:
    assert engine_conninfo("postgresql+psycopg://lw:s%40cret@db.example:5433/labourwatch") == \
        "postgresql://lw:s%40cret@db.example:5433/labourwatch"


def test_the_vendored_schema_is_the_installed_engines() -> None:
    installed = Path(procrastinate.__file__).with_name("sql") / "schema.sql"
    assert (MIGRATIONS / "procrastinate_schema.sql").read_bytes() == installed.read_bytes()


def test_the_engine_schema_comes_and_goes_with_migration_0012(db_url: str) -> None:
    db = Database(db_url)
    try:
        upgrade(db)
        engine_tables = {t for t in inspect(db.engine).get_table_names() if t.startswith("procrastinate_")}
        if db.engine.dialect.name == "postgresql":
            assert {"procrastinate_jobs", "procrastinate_workers", "procrastinate_periodic_defers"} <= engine_tables
        else:
            assert engine_tables == set()  # SQLite: the revision changes nothing
        command.downgrade(alembic_config(db), "0011")
        assert current_revision(db) == "0011"
        assert not [t for t in inspect(db.engine).get_table_names() if t.startswith("procrastinate_")]
        upgrade(db)  # and back: nothing the downgrade left behind is in the way
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()


def test_health_reports_the_engine_worker_of_a_cluster_node_only() -> None:
    health = Health(timedelta(minutes=10))
    health.scheduler_running(True)
    assert health.snapshot()["engine_worker"] is None and health.reasons() == []  # a single node has none
    health.engine_running(True)
    assert health.snapshot()["engine_worker"] == {"running": True, "error": None} and health.reasons() == []
    health.engine_running(False, "ConnectorException: Database error.")
    assert health.snapshot()["engine_worker"] == {"running": False, "error": "ConnectorException: Database error."}
    assert health.reasons() == ["the cluster engine worker is not running: ConnectorException: Database error."]


def test_run_refuses_a_listen_address_that_is_not_host_and_port(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from labourwatch.cli import cli

    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'lw.db'}'}}\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "run", "--listen", "9464"])
    assert result.exit_code == 2 and "not host:port: '9464'" in result.output, result.output
    assert not (tmp_path / "lw.db").exists()


def test_a_crawl_line_names_each_due_poll_and_reads_back() -> None:
    from datetime import UTC, datetime

    from scheduler.jobs import describe_due, logged_polls

    at = datetime(2026, 12, 4, 0, 24, 21, 383468, tzinfo=UTC)
    line = ("2026-12-04 00:24:25,278 INFO    scheduler.jobs: crawl of 127.0.0.1:43633 (job 24 on node vm:21082): "
            + describe_due([("hanbit-rss", at), ("odd@id", None)]))
    others = "crawl of 127.0.0.1:1 (job 25 on node vm:1): re-checks only\ncrawl 7: ok in 0.3s {}"
    assert logged_polls(f"{line}\n{others}\n") == [("hanbit-rss", at.isoformat(), "job 24 on node vm:21082"),
                                                   ("odd@id", "never", "job 24 on node vm:21082")]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_planning_and_sending_go_before_queued_crawls(database: Database, db_url: str, tmp_path: Path) -> None:
    # A node behind on its crawls must still plan (which hands a dead node's jobs back) and send alerts: the engine
    # runs the queued job of highest priority first, then the oldest.
    from bench.cluster_bench import write_config
    from labourwatch.commands.run import prepare, stage_reload
    from labourwatch.context import AppContext
    from scheduler.cluster import QUEUE, ClusterDaemon
    from tests.receivers import free_port

    app = AppContext(config_file=write_config(tmp_path / "config.yaml", db_url, [], free_port()))
    try:
        daemon = ClusterDaemon(app.database(), prepare(app), lambda: stage_reload(app), url=db_url)
        tasks = daemon.app.tasks

        async def queue_crawls_then_housekeeping() -> None:
            async with daemon.app.open_async():
                for key in ("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"):
                    await tasks["labourwatch.crawl"].configure(lock=f"crawl:{key}").defer_async(key=key)
                await tasks["labourwatch.dispatch"].configure(lock="dispatch").defer_async()
                await tasks["labourwatch.plan"].defer_async(timestamp=0)
                await tasks["labourwatch.prune"].defer_async(timestamp=0)

        asyncio.run(queue_crawls_then_housekeeping())
        with database.engine.connect() as connection:
            # The engine's own order of fetching (its index procrastinate_jobs_priority_idx_v1).
            order = connection.execute(text(
                "SELECT task_name FROM procrastinate_jobs WHERE status = 'todo' AND queue_name = :queue "
                "ORDER BY priority DESC, id ASC"), {"queue": QUEUE}).scalars().all()
        assert order[:3] == ["labourwatch.dispatch", "labourwatch.plan", "labourwatch.prune"], order
        assert order[3:] == ["labourwatch.crawl"] * 3
    finally:
        app.database(at_head=False).dispose()


def test_the_engine_settings_a_reload_changes_are_named_with_their_values() -> None:
    from dataclasses import replace

    from scheduler.cluster import engine_changes
    from scheduler.types import ClusterOptions, DaemonOptions

    before = DaemonOptions()
    assert engine_changes(before, replace(before, poll_every=timedelta(seconds=1))) == []  # not the engine's
    after = replace(before, prune_cron="0 4 * * *", cluster=ClusterOptions(concurrency=2, heartbeat=timedelta(5)))
    assert engine_changes(before, after) == ["daemon.cluster.concurrency 12 → 2",
                                             "daemon.cluster.heartbeat 0:00:10 → 5 days, 0:00:00",
                                             "daemon.prune_cron 17 3 * * * → 0 4 * * *"]


@pytest.mark.slow  # the engine's pool gives up opening after 30 s
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_reload_whose_new_engine_cannot_open_keeps_the_running_one(database: Database, db_url: str,
                                                                     tmp_path: Path) -> None:
    import logging
    from dataclasses import replace

    from bench.cluster_bench import write_config
    from labourwatch.commands.run import prepare, stage_reload
    from labourwatch.context import AppContext
    from scheduler.cluster import ClusterDaemon
    from scheduler.types import ClusterOptions
    from tests.receivers import free_port

    app = AppContext(config_file=write_config(tmp_path / "config.yaml", db_url, [], free_port()))
    try:
        daemon = ClusterDaemon(app.database(), prepare(app), lambda: stage_reload(app), url=db_url)
        before, engine = daemon.settings, daemon.engine

        async def reload_onto_a_missing_database() -> None:
            engine.task = asyncio.ensure_future(asyncio.sleep(60))  # stands for the running worker
            daemon._url = db_url.rsplit("/", 1)[0] + "/no_such_database"  # the new engine's pool cannot connect
            daemon.settings = replace(before, daemon=replace(before.daemon, cluster=ClusterOptions(concurrency=3)))
            try:
                await daemon._reconfigure_engine(before)
            finally:
                engine.task.cancel()

        logged: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("scheduler.cluster").addHandler(handler)  # the app's logging set-up does not propagate
        try:
            asyncio.run(reload_onto_a_missing_database())
        finally:
            logging.getLogger("scheduler.cluster").removeHandler(handler)
        assert daemon.engine is engine and not daemon._draining
        assert any("a new engine could not be opened" in line and "concurrency 2 → 3" in line for line in logged), \
            logged
    finally:
        app.database(at_head=False).dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_stalled_job_two_nodes_plans_handle_at_once_is_closed_once(database: Database, db_url: str,
                                                                     tmp_path: Path) -> None:
    # Two periods' plans can overlap on a busy cluster; both read the same stalled jobs. The one that comes second
    # finds each already handled: it goes on, and its plan does not fail (a loaded fault run failed 20 plans so).
    import logging

    from bench.cluster_bench import write_config
    from labourwatch.commands.run import prepare, stage_reload
    from labourwatch.context import AppContext
    from scheduler.cluster import QUEUE, ClusterDaemon
    from tests.receivers import free_port

    app = AppContext(config_file=write_config(tmp_path / "config.yaml", db_url, [], free_port()))
    try:
        first, second = (ClusterDaemon(app.database(), prepare(app), lambda: stage_reload(app), url=db_url)
                         for _ in range(2))
        crawl = first.app.tasks["labourwatch.crawl"]
        logged: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: logged.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("scheduler.cluster").addHandler(handler)

        async def stall_then_handle_twice() -> None:
            async with first.app.open_async(), second.app.open_async():
                manager = first.app.job_manager
                dead = await manager.register_worker()  # a node that took two keys' crawls, then died
                for key in ("127.0.0.1:1", "127.0.0.1:2"):
                    await crawl.configure(lock=f"crawl:{key}", queueing_lock=f"crawl:{key}").defer_async(key=key)
                    assert await manager.fetch_job([QUEUE], dead) is not None
                # The first key's next crawl is queued already: its stalled job is closed, not queued again.
                await crawl.configure(lock="crawl:127.0.0.1:1", queueing_lock="crawl:127.0.0.1:1").defer_async(
                    key="127.0.0.1:1")
                with database.engine.begin() as connection:
                    connection.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now() - "
                                            "interval '1 hour'"))
                manager = second.app.job_manager
                stalled = manager.get_stalled_jobs

                async def read_then_other_node_first(**kwargs: object) -> object:
                    jobs = await stalled(**kwargs)
                    await first._retry_stalled()  # the other node's plan, a moment after this one read
                    return jobs

                manager.get_stalled_jobs = read_then_other_node_first  # type: ignore[method-assign,assignment]
                await second._retry_stalled()

        asyncio.run(stall_then_handle_twice())
        with database.engine.connect() as connection:
            jobs = connection.execute(text(
                "SELECT args->>'key', status::text FROM procrastinate_jobs ORDER BY id")).all()
        assert [tuple(job) for job in jobs] == [("127.0.0.1:1", "failed"), ("127.0.0.1:2", "todo"),
                                                ("127.0.0.1:1", "todo")]
        assert sum("handled by another node" in line for line in logged) == 2, logged
        assert sum("closed: the same work is queued already" in line for line in logged) == 1, logged
        assert sum("of a silent node queued again" in line for line in logged) == 1, logged
    finally:
        logging.getLogger("scheduler.cluster").removeHandler(handler)
        app.database(at_head=False).dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_plan_reads_the_keys_whose_crawl_waits_in_the_queue(database: Database, db_url: str,
                                                                 tmp_path: Path) -> None:
    # The plan defers a key's crawl only when none waits already (each refused defer was a round trip): the keys it
    # skips are those of crawl jobs still to do, not running ones, nor other tasks' jobs.
    from bench.cluster_bench import write_config
    from labourwatch.commands.run import prepare, stage_reload
    from labourwatch.context import AppContext
    from scheduler.cluster import CRAWL_TASK, QUEUE, ClusterDaemon
    from tests.receivers import free_port

    app = AppContext(config_file=write_config(tmp_path / "config.yaml", db_url, [], free_port()))
    try:
        daemon = ClusterDaemon(app.database(), prepare(app), lambda: stage_reload(app), url=db_url)
        crawl, dispatch = daemon.app.tasks[CRAWL_TASK], daemon.app.tasks["labourwatch.dispatch"]

        async def queue_then_read() -> tuple[set[str], set[str]]:
            async with daemon.app.open_async():
                empty = await daemon._queued_keys()
                for key in ("127.0.0.1:1", "127.0.0.1:2", "[::1]:3"):
                    await crawl.configure(lock=f"crawl:{key}", queueing_lock=f"crawl:{key}").defer_async(key=key)
                await dispatch.configure(lock="dispatch", queueing_lock="dispatch").defer_async()
                worker = await daemon.app.job_manager.register_worker()
                # Two jobs taken: dispatch (it goes first) and the oldest crawl, now doing.
                taken = [await daemon.app.job_manager.fetch_job([QUEUE], worker) for _ in range(2)]
                assert [job.task_name if job else None for job in taken] == ["labourwatch.dispatch", CRAWL_TASK]
                return empty, await daemon._queued_keys()

        empty, waiting = asyncio.run(queue_then_read())
        assert empty == set()
        assert waiting == {"127.0.0.1:2", "[::1]:3"}
    finally:
        app.database(at_head=False).dispose()
