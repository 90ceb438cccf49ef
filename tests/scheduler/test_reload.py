"""The daemon object on a real database (SQLite and PostgreSQL), wired as ``labourwatch run`` wires it: reloads
apply all or nothing, removed digest jobs leave /healthz, and crawl runs a dead process left are closed at start.

Every source is disabled, so no crawl runs: what is under test is the configuration, the database side of a
reload, the jobs and the health endpoint."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from db import repository as repo
from db.engine import Database
from db.models import CrawlRun, KnownClaim, Source
from labourwatch.commands.run import prepare, stage_reload
from labourwatch.context import AppContext
from scheduler.daemon import Daemon
from tests.databases import own_migrated_url

OLD_SECRET, NEW_SECRET = "old-token-5d1c9e", "new-token-8a7f2b"
CLAIM = {"id": "K1", "text": "About 2,000 North Korean workers arrived in Vladivostok in 2024.",
         "figures": [{"value": 2000, "unit": "workers", "qualifier": "about"}]}
CLAIM_2 = {"id": "K2", "text": "More than 10,000 North Korean workers were sent to Russia in 2024."}


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """The app sets up the root logger (handlers, level, redaction); put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def apps() -> Iterator[list[AppContext]]:
    """App contexts made by a test; their database connections are closed afterwards."""
    made: list[AppContext] = []
    yield made
    for app in made:
        app.database(at_head=False).dispose()


def write_config(folder: Path, db_url: str, *, claims: list[dict[str, Any]], secret_env: str,
                 sources: list[dict[str, Any]], digest: bool) -> AppContext:
    """Config and claims files in ``folder``; the app context of the config."""
    (folder / "claims.yaml").write_text(yaml.safe_dump({"claims": claims}))
    routes: list[dict[str, Any]] = [
        {"name": "ops", "urls": [f"json://127.0.0.1:9/hook?token=${{{secret_env}}}"], "events": ["source_failing"]}]
    if digest:
        routes.append({"name": "monthly", "urls": ["json://127.0.0.1:9/digest"], "mode": "digest",
                       "cron": "0 7 1 * *"})
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": db_url},
        "claims": {"file": "claims.yaml"},
        "daemon": {"listen": "127.0.0.1:0", "shutdown_timeout": "5s"},
        "alerts": {"routes": routes},
        "sources": [{**source, "kind": "feed", "enabled": False} for source in sources],
    }))
    return AppContext(config_file=path)


def new_app(apps: list[AppContext], folder: Path, db_url: str, **files: Any) -> AppContext:
    """``write_config``, with the app remembered by the ``apps`` fixture."""
    app = write_config(folder, db_url, **files)
    apps.append(app)
    return app


@asynccontextmanager
async def running(daemon: Daemon) -> AsyncIterator[Daemon]:
    """The daemon running on this loop, until it has started its endpoint; stopped cleanly afterwards."""
    task = asyncio.ensure_future(daemon.run())
    for _ in range(300):
        if task.done():
            task.result()  # raises what stopped it
        if daemon.server is not None and daemon.server.port:
            break
        await asyncio.sleep(0.05)
    try:
        yield daemon
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 30)


async def healthz(daemon: Daemon) -> tuple[int, dict[str, Any]]:
    """GET /healthz of the running daemon: (status, JSON)."""
    assert daemon.server is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def stored(db: Database) -> tuple[dict[str, tuple[str, bool]], list[str]]:
    """The sources table (id → url, enabled) and the stored claim ids."""
    with db.read() as session:
        sources = {row.id: (row.url, row.enabled) for row in session.scalars(select(Source))}
        claims = list(session.scalars(select(KnownClaim.id).order_by(KnownClaim.id)))
    return sources, claims


def logged(capsys: pytest.CaptureFixture[str], *values: str) -> str:
    """What the app's log handler wrote so far, after logging ``values`` through it (to see what it redacts)."""
    logging.getLogger("test").warning("values: %s", " ".join(values))
    return capsys.readouterr().err


def test_a_reload_with_a_broken_claims_file_changes_nothing_and_a_good_one_switches_everything(
        db_url: str, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, apps: list[AppContext]) -> None:
    monkeypatch.setenv("LW_OLD_TOKEN", OLD_SECRET)
    monkeypatch.setenv("LW_NEW_TOKEN", NEW_SECRET)
    app = new_app(apps, tmp_path, db_url, claims=[CLAIM], secret_env="LW_OLD_TOKEN", digest=True,
                  sources=[{"id": "a", "url": "https://a.example/rss.xml"}])
    settings = prepare(app)
    old_config = app.config
    daemon = Daemon(app.database(), settings, lambda: stage_reload(app))
    before = stored(database)
    assert before == ({"a": ("https://a.example/rss.xml", False)}, ["K1"])

    async def scenario() -> None:
        async with running(daemon):
            status, health = await healthz(daemon)
            assert status == 200 and "digest:monthly" in health["jobs"], health

            # New sources, no digest route, a new secret — and a claims file that does not validate.
            write_config(tmp_path, db_url, claims=[CLAIM, {"id": "K2"}], secret_env="LW_NEW_TOKEN", digest=False,
                         sources=[{"id": "a", "url": "https://a.example/new.xml"},
                                  {"id": "b", "url": "https://b.example/rss.xml"}])
            assert await daemon.apply_reload() is False
            assert (app.config, daemon.settings) == (old_config, settings)
            assert daemon.jobs is not None and daemon.jobs.settings is settings
            assert stored(database) == before
            status, health = await healthz(daemon)
            assert status == 200 and "digest:monthly" in health["jobs"], health
            assert daemon.scheduler is not None and daemon.scheduler.get_job("digest:monthly") is not None
            log = logged(capsys, OLD_SECRET, NEW_SECRET)
            [refusal] = [line for line in log.splitlines() if "reload refused" in line]
            assert "nothing changed (still running the previous configuration)" in refusal
            assert f"{tmp_path / 'claims.yaml'}: claim K2: `id` and `text` are required" in refusal
            assert "configuration reloaded" not in log
            # Log redaction still knows the running config's secret, and only that one.
            assert OLD_SECRET not in log and f"values: [redacted] {NEW_SECRET}" in log

            # The same config with a valid claims file: everything switches.
            write_config(tmp_path, db_url, claims=[CLAIM, CLAIM_2], secret_env="LW_NEW_TOKEN", digest=False,
                         sources=[{"id": "a", "url": "https://a.example/new.xml"},
                                  {"id": "b", "url": "https://b.example/rss.xml"}])
            assert await daemon.apply_reload() is True
            assert app.config is not old_config and daemon.settings is not settings
            assert daemon.jobs.settings is daemon.settings
            assert [route.name for route in daemon.settings.routes] == ["ops"]
            assert stored(database) == ({"a": ("https://a.example/new.xml", False),
                                         "b": ("https://b.example/rss.xml", False)}, ["K1", "K2"])
            status, health = await healthz(daemon)
            assert status == 200, health
            assert sorted(health["jobs"]) == ["dispatch", "poll", "prune", "revisit"]
            assert daemon.scheduler.get_job("digest:monthly") is None
            log = logged(capsys, OLD_SECRET, NEW_SECRET)
            assert "configuration reloaded: 0 sources enabled, 1 routes" in log
            assert NEW_SECRET not in log and f"values: {OLD_SECRET} [redacted]" in log

    asyncio.run(scenario())


def test_a_config_naming_another_database_is_refused(
        db_url: str, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, apps: list[AppContext]) -> None:
    monkeypatch.setenv("LW_OLD_TOKEN", OLD_SECRET)
    app = new_app(apps, tmp_path, db_url, claims=[CLAIM], secret_env="LW_OLD_TOKEN", digest=False,
                  sources=[{"id": "a", "url": "https://a.example/rss.xml"}])
    daemon = Daemon(app.database(), prepare(app), lambda: stage_reload(app))

    async def scenario() -> None:
        async with running(daemon):
            write_config(tmp_path, f"sqlite:///{tmp_path / 'other.db'}", claims=[CLAIM, CLAIM_2],
                         secret_env="LW_OLD_TOKEN", digest=False,
                         sources=[{"id": "b", "url": "https://b.example/rss.xml"}])
            assert await daemon.apply_reload() is False

    asyncio.run(scenario())
    assert stored(database) == ({"a": ("https://a.example/rss.xml", False)}, ["K1"])
    assert "database.url: changed; restart the daemon to use another database" in capsys.readouterr().err


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own."""
    yield from own_migrated_url(request, tmp_path, "postgresql", "reload")


def test_the_database_side_of_a_reload_is_one_transaction(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        apps: list[AppContext]) -> None:
    """PostgreSQL refuses a claim id longer than the column (32) while the claims are imported, after the
    sources were synced in the same transaction: the sources must be as they were."""
    monkeypatch.setenv("LW_OLD_TOKEN", OLD_SECRET)
    app = new_app(apps, tmp_path, pg_url, claims=[CLAIM], secret_env="LW_OLD_TOKEN", digest=False,
                  sources=[{"id": "a", "url": "https://a.example/rss.xml"}])
    daemon = Daemon(app.database(), prepare(app), lambda: stage_reload(app))
    database = Database(pg_url)

    async def scenario() -> None:
        async with running(daemon):
            write_config(tmp_path, pg_url, claims=[CLAIM, {**CLAIM_2, "id": "K" * 40}], secret_env="LW_OLD_TOKEN",
                         digest=False, sources=[{"id": "b", "url": "https://b.example/rss.xml"}])
            assert await daemon.apply_reload() is False

    try:
        asyncio.run(scenario())
        assert stored(database) == ({"a": ("https://a.example/rss.xml", False)}, ["K1"])
    finally:
        database.dispose()
    [refusal] = [line for line in capsys.readouterr().err.splitlines() if "reload refused" in line]
    assert "StringDataRightTruncation" in refusal or "value too long" in refusal, refusal


def test_the_daemon_closes_crawl_runs_a_dead_process_left_running(
        db_url: str, database: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, apps: list[AppContext]) -> None:
    monkeypatch.setenv("LW_OLD_TOKEN", OLD_SECRET)
    with database.write() as session:
        stale = [repo.start_run(session, "daemon", ["a"]) for _ in range(2)]
        done = repo.start_run(session, "cli", ["a"])
        repo.finish_run(session, done, "ok", {}, 0)
    app = new_app(apps, tmp_path, db_url, claims=[CLAIM], secret_env="LW_OLD_TOKEN", digest=False,
                  sources=[{"id": "a", "url": "https://a.example/rss.xml"}])
    daemon = Daemon(app.database(), prepare(app), lambda: stage_reload(app))

    async def scenario() -> None:
        async with running(daemon):
            pass

    asyncio.run(scenario())
    with database.read() as session:
        runs = {run.id: (run.status, run.finished_at is not None) for run in session.scalars(select(CrawlRun))}
    assert runs == {stale[0]: ("aborted", True), stale[1]: ("aborted", True), done: ("ok", True)}
    assert "start-up: closed 2 crawl run(s) left running" in capsys.readouterr().err

    # The next start finds none left.
    daemon = Daemon(app.database(), prepare(app), lambda: stage_reload(app))
    asyncio.run(scenario())
    assert "start-up: closed 0 crawl run(s)" in capsys.readouterr().err
