"""The CLI end to end, in subprocesses, against the fixture news web: set-up, crawl, listings, errors."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from labourwatch.fixtureweb import FixtureWeb
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as running:
        yield running


@pytest.fixture
def config_file(tmp_path: Path, web: FixtureWeb) -> Path:
    config = {
        "database": {"url": "sqlite:///state/lw.db"},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 8,
                  "timeout": "5s", "retries": 0, "revisit": ["0s", "0s"], "max_feed_age": None},
        "sources": web.sources(),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def lw(config: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=180, env=env)
    if check:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_crawl_refuses_a_database_that_is_not_migrated(config_file: Path) -> None:
    result = lw(config_file, "crawl", check=False)
    assert result.returncode == 2
    assert "labourwatch db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_full_cycle_through_the_cli(config_file: Path, web: FixtureWeb) -> None:
    assert "database upgraded" in lw(config_file, "db", "upgrade").stdout
    assert (config_file.parent / "state" / "lw.db").exists()  # relative to the config file
    crawled = lw(config_file, "crawl", "--format", "json")
    report = as_json(crawled)
    assert report["status"] == "ok" and report["stats"]["articles_new"] > 0
    # This config names no claims file and none were imported: the crawl says what that means.
    assert "warning: no known claims" in crawled.stderr

    articles = as_json(lw(config_file, "articles", "list", "--format", "json"))
    assert {"id", "url", "source_id", "title"} <= set(articles[0])
    assert len(articles) == sum(a.on_topic for a in web.articles())
    assert len(as_json(lw(config_file, "articles", "list", "--format", "json", "--limit", "2"))) == 2
    everything = as_json(lw(config_file, "articles", "list", "--all", "--format", "json"))
    assert len(everything) == len(web.articles())

    # Raw evidence older than crawl.raw_retention (365 days by default) goes after a crawl run from the CLI (the
    # daemon's prune job does it for the crawls it runs): one response made 400 days old is gone, the others stay.
    state = config_file.parent / "state" / "lw.db"
    with contextlib.closing(sqlite3.connect(state)) as connection, connection:
        raw_before = connection.execute("SELECT count(*) FROM raw_responses").fetchone()[0]
        connection.execute("UPDATE raw_responses SET fetched_at = ? WHERE id = (SELECT min(id) FROM raw_responses)",
                           ((datetime.now(UTC) - timedelta(days=400)).isoformat(sep=" "),))
    change = web.advance()
    lw(config_file, "crawl")
    with contextlib.closing(sqlite3.connect(state)) as connection:
        raw_after = connection.execute("SELECT count(*) FROM raw_responses WHERE fetched_at < ?",
                                       ((datetime.now(UTC) - timedelta(days=1)).isoformat(sep=" "),)).fetchone()[0]
        raw_kept = connection.execute("SELECT count(*) FROM raw_responses").fetchone()[0]
    assert raw_after == 0 and raw_kept >= raw_before - 1 > 0
    diffs = as_json(lw(config_file, "diffs", "list", "--format", "json"))
    assert {d["url"] for d in diffs} == set(change.edited)
    assert {"id", "article_id", "url", "added", "removed", "created_at"} <= set(diffs[0])
    figure_url, (old, new) = next(iter(change.figure_edits.items()))
    figure_diff = next(d for d in diffs if d["url"] == figure_url)
    shown = lw(config_file, "diffs", "show", str(figure_diff["id"])).stdout
    assert "- " in shown and old in shown and new in shown

    detail = as_json(lw(config_file, "articles", "show", str(figure_diff["article_id"]), "--format", "json"))
    assert [v["number"] for v in detail["versions"]] == [1, 2] and detail["diffs"] == [figure_diff["id"]]

    sources = as_json(lw(config_file, "sources", "list", "--format", "json"))
    assert {s["id"] for s in sources} == {s["id"] for s in web.sources()}
    assert all(s["consecutive_failures"] == 0 and s["last_success_at"] for s in sources)
    table = lw(config_file, "sources", "list").stdout
    assert "labourmonitor-rss" in table


def test_dry_run_prints_what_it_found_and_stores_nothing(config_file: Path, web: FixtureWeb) -> None:
    lw(config_file, "db", "upgrade")
    out = lw(config_file, "crawl", "--dry-run", "--source", "hanbit-rss").stdout
    assert "would be" in out and "new" in out
    assert as_json(lw(config_file, "articles", "list", "--all", "--format", "json")) == []
    assert as_json(lw(config_file, "sources", "list", "--format", "json")) == []


def test_unknown_source_is_a_usage_error(config_file: Path) -> None:
    lw(config_file, "db", "upgrade")
    result = lw(config_file, "crawl", "--source", "nope", check=False)
    assert result.returncode == 2 and "unknown source(s): nope" in result.stderr


def test_missing_ids_are_clean_errors(config_file: Path) -> None:
    lw(config_file, "db", "upgrade")
    result = lw(config_file, "diffs", "show", "999", check=False)
    assert result.returncode == 1 and "no diff 999" in result.stderr and "Traceback" not in result.stderr


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _served_scheme(config: Path, *flags: str) -> str:
    """The scheme the web UI believes a request forwarded as https came in with (from its OpenAPI servers URL)."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "labourwatch", "--config", str(config), "web", "--listen",
                                f"127.0.0.1:{port}", *flags], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def document() -> Any:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/openapi.json",
                                             headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    return json.load(response)
            except OSError:
                return None
        found = wait_until(document, 30, "the web UI to answer")
        return str(found["servers"][0]["url"]).split(":", 1)[0]
    finally:
        process.terminate()
        process.wait(10)


def test_web_takes_the_scheme_from_a_trusted_proxy_only_when_told_to(config_file: Path) -> None:
    lw(config_file, "db", "upgrade")
    assert _served_scheme(config_file) == "http"  # a client's own X-Forwarded-Proto is not believed
    assert _served_scheme(config_file, "--proxy-headers") == "https"
