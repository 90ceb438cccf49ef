"""End to end through the CLI: the fixture news web changes, the expected alerts arrive, each once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.send import KEY_HEADER
from labourwatch.fixtureweb import FixtureWeb
from tests.receivers import HttpReceiver

CLAIMS = Path(__file__).resolve().parents[1] / "analysis" / "claims" / "data" / "known_claims.yaml"
pytestmark = pytest.mark.slow


def lw(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result


def alerts_by_type(receiver: HttpReceiver, config: Path) -> Counter[str]:
    events = {e["id"]: e for e in json.loads(lw(config, "events", "list", "--format", "json").stdout)}
    deliveries = json.loads(lw(config, "alerts", "list", "--format", "json").stdout)
    by_key = {d["idempotency_key"]: events[d["event_id"]]["type"] for d in deliveries}
    return Counter(by_key[r.header(KEY_HEADER) or ""] for r in receiver.records)


def write_config(folder: Path, web: FixtureWeb, alerts: dict[str, Any]) -> Path:
    """A config crawling ``web`` fast on loopback with the test claims and these ``alerts``."""
    shutil.copy(CLAIMS, folder / "claims.yaml")
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///lw.db"}, "claims": {"file": "claims.yaml"},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s",
                  "per_domain_concurrency": 8, "timeout": "5s", "retries": 0, "revisit": ["0s", "0s", "0s"],
                  "max_feed_age": None},
        "alerts": alerts, "sources": web.sources(),
    }))
    return config


def test_a_state_change_brings_exactly_the_expected_alerts_once(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    with FixtureWeb() as web:
        config = write_config(tmp_path, web, {"baseline": False, "routes": [
            {"name": "newsroom", "urls": [http_receiver.url()],
             "events": ["new_article", "article_edited", "claim_updated"]}]})
        lw(config, "db", "upgrade")
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        relevant = [info for info in web.articles() if info.on_topic]
        first = alerts_by_type(http_receiver, config)
        # Articles that copy another outlet's are stored with their events, which are not sent.
        copies = {e["url"] for e in json.loads(lw(config, "events", "list", "--format", "json").stdout)
                  if e["details"].get("quiet") == "copy"}
        assert first["new_article"] == len(relevant) - len(copies) and first["article_edited"] == 0
        assert first["claim_updated"] >= 1
        assert sum(first.values()) == len(http_receiver.records)

        change = web.advance()
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        lw(config, "alerts", "dispatch")  # a second pass finds nothing left to send
        second = alerts_by_type(http_receiver, config) - first
        new_relevant = {url for url in change.new if any(i.url == url and i.on_topic for i in web.articles())}
        copies = {e["url"] for e in json.loads(lw(config, "events", "list", "--format", "json").stdout)
                  if e["details"].get("quiet") == "copy"}
        assert second["new_article"] == len(new_relevant - copies)
        assert second["article_edited"] == len(set(change.edited) - copies)
        posted: list[dict[str, Any]] = [r.body for r in http_receiver.records]
        for url in change.sidebar_only:
            assert not any(url in p["message"] and "Article edited" in p["message"] for p in posted)
        for url, (_, figure) in change.figure_edits.items():
            assert url in copies or any("Article edited" in p["message"] and figure in p["message"] for p in posted)
        keys = [r.header(KEY_HEADER) for r in http_receiver.records]
        assert len(keys) == len(set(keys))  # no alert arrived twice
        routed = [e for e in json.loads(lw(config, "events", "list", "--format", "json").stdout)
                  if e["type"] in ("new_article", "article_edited", "claim_updated") and not e["details"].get("quiet")]
        assert len(routed) == len(keys)  # and every routed event arrived


def test_a_newsroom_route_hears_one_baseline_then_one_message_per_story(tmp_path: Path,
                                                                        http_receiver: HttpReceiver) -> None:
    with FixtureWeb() as web:
        config = write_config(tmp_path, web, {"routes": [{"name": "newsroom", "urls": [http_receiver.url()]}]})
        lw(config, "db", "upgrade")
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        # The first crawl of new sources: one summary, however many articles they hold.
        assert alerts_by_type(http_receiver, config) == Counter({"baseline": 1})
        summary = http_receiver.records[0].body["message"]
        assert all(source["id"] in summary for source in web.sources())

        before = max(e["id"] for e in json.loads(lw(config, "events", "list", "--format", "json").stdout))
        change = web.advance()
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        second = alerts_by_type(http_receiver, config) - Counter({"baseline": 1})
        new_relevant = {url for url in change.new if any(i.url == url and i.on_topic for i in web.articles())}
        stored = [e for e in json.loads(lw(config, "events", "list", "--type", "story", "--format", "json").stdout)
                  if e["id"] > before]
        assert sorted(e["url"] for e in stored) == sorted({*new_relevant, *change.edited})
        # A story whose article copies another outlet's is stored, not sent (the route does not ask for copies).
        copies = {e["url"] for e in stored if e["details"]["copy_of"]}
        assert second == Counter({"story": len(stored) - len(copies)})
        stories = [r.body["message"] for r in http_receiver.records[1:]]
        for url, (_, figure) in change.figure_edits.items():
            assert url in copies or sum(figure in message for message in stories) >= 1
        # Plain text for a json receiver: no markdown escapes.
        assert not any("\\-" in message or "\\(" in message for message in stories)
