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


def test_a_state_change_brings_exactly_the_expected_alerts_once(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    shutil.copy(CLAIMS, tmp_path / "claims.yaml")
    with FixtureWeb() as web:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "database": {"url": "sqlite:///lw.db"}, "claims": {"file": "claims.yaml"},
            "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s",
                      "per_domain_concurrency": 8, "timeout": "5s", "retries": 0, "revisit": ["0s", "0s", "0s"],
                      "max_feed_age": None},
            "alerts": {"routes": [{"name": "newsroom", "urls": [http_receiver.url()],
                                   "events": ["new_article", "article_edited", "claim_updated"]}]},
            "sources": web.sources(),
        }))
        lw(config, "db", "upgrade")
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        relevant = [info for info in web.articles() if info.on_topic]
        first = alerts_by_type(http_receiver, config)
        assert first["new_article"] == len(relevant) and first["article_edited"] == 0
        assert first["claim_updated"] >= 1
        assert sum(first.values()) == len(http_receiver.records)

        change = web.advance()
        lw(config, "crawl")
        lw(config, "alerts", "dispatch")
        lw(config, "alerts", "dispatch")  # a second pass finds nothing left to send
        second = alerts_by_type(http_receiver, config) - first
        new_relevant = {url for url in change.new if any(i.url == url and i.on_topic for i in web.articles())}
        assert second["new_article"] == len(new_relevant)
        assert second["article_edited"] == len(change.edited)
        posted: list[dict[str, Any]] = [r.body for r in http_receiver.records]
        for url in change.sidebar_only:
            assert not any(url in p["message"] and "Article edited" in p["message"] for p in posted)
        for _, figure in change.figure_edits.values():
            assert any("Article edited" in p["message"] and figure in p["message"] for p in posted)
        keys = [r.header(KEY_HEADER) for r in http_receiver.records]
        assert len(keys) == len(set(keys))  # no alert arrived twice
        routed = [e for e in json.loads(lw(config, "events", "list", "--format", "json").stdout)
                  if e["type"] in ("new_article", "article_edited", "claim_updated")]
        assert len(routed) == len(keys)  # and every routed event arrived
