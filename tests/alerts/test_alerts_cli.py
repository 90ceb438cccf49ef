"""``labourwatch alerts test|list|dispatch|retry|preview`` and ``events list`` through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.routes import Router
from db import events
from db.engine import Database
from db.events import EventDraft
from labourwatch.config import load_config
from tests.receivers import HttpReceiver, SmtpReceiver


def lw(config: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COLUMNS": "200", "HOOK_TOKEN": "tok-s3cret"})
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture
def config(tmp_path: Path, http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver) -> Path:
    path = tmp_path / "config.yaml"
    hook = http_receiver.url(path="/hook/${HOOK_TOKEN}")
    path.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///lw.db"},
        "alerts": {"max_attempts": 1, "routes": [{"name": "newsroom", "urls": [hook], "events": ["new_article"]},
                                                 {"name": "ops", "urls": [smtp_receiver.url()],
                                                  "events": ["delivery_dead"]}]},
    }))
    lw(path, "db", "upgrade")
    return path


def add_event(config: Path, title: str) -> None:
    loaded = load_config(config, environ={"HOOK_TOKEN": "tok-s3cret"})
    db = Database(loaded.database_url)
    draft = EventDraft("new_article", f"new_article:{title}", title, f"New article: {title}",
                       url="https://news.example/a?x=1", details={"version": 1})
    with db.write() as session:
        events.record_events(session, [draft], Router(loaded.routes), datetime.now(UTC))
    db.dispose()


def test_alerts_test_reports_each_destination(config: Path, http_receiver: HttpReceiver,
                                              smtp_receiver: SmtpReceiver) -> None:
    result = lw(config, "alerts", "test")
    assert result.stdout.count(" ok ") == 2 and "tok-s3cret" not in result.stdout  # URLs are redacted
    assert http_receiver.wait_for(1)[0].body["title"] == "[labourwatch] test message"
    smtp_receiver.wait_for(1)
    http_receiver.mode = "error"
    failed = lw(config, "alerts", "test", "--route", "newsroom", code=1)
    assert "FAILED" in failed.stdout
    assert "no route 'nope'" in lw(config, "alerts", "test", "--route", "nope", code=2).stderr


def test_dispatch_list_retry_and_preview(config: Path, http_receiver: HttpReceiver,
                                         smtp_receiver: SmtpReceiver) -> None:
    add_event(config, "<b>Workers</b> [sent](javascript:x)")
    preview = lw(config, "alerts", "preview", "1", "--format", "json")
    body = json.loads(preview.stdout)["body"]
    assert "&lt;b&gt;" in body and "<b>" not in body and "](javascript" not in body and body.endswith("x=1)")
    assert "[" in body and "](https://news.example/a?x=1)" in body
    http_receiver.mode = "error"
    assert "dead 1" in lw(config, "alerts", "dispatch").stdout  # max_attempts 1: the first failure is final
    rows: list[dict[str, Any]] = json.loads(lw(config, "alerts", "list", "--format", "json").stdout)
    newsroom = next(r for r in rows if r["route"] == "newsroom")
    assert newsroom["status"] == "dead" and newsroom["destination"].startswith("json://127.0.0.1")
    assert "tok-s3cret" not in json.dumps(rows)
    lw(config, "alerts", "dispatch")  # the ops route hears about the dead delivery
    assert "could not be delivered" in smtp_receiver.wait_for(1)[0].body
    http_receiver.mode = "ok"
    assert "1 deliveries queued again" in lw(config, "alerts", "retry", "--dead").stdout
    assert "sent 1" in lw(config, "alerts", "dispatch").stdout
    posted = http_receiver.records[-1]
    assert posted.path == "/hook/tok-s3cret" and posted.header("X-Labourwatch-Key") == newsroom["idempotency_key"]
    listed = json.loads(lw(config, "events", "list", "--type", "new_article", "--format", "json").stdout)
    assert [e["title"] for e in listed] == ["<b>Workers</b> [sent](javascript:x)"]
    assert set(listed[0]) >= {"id", "type", "created_at", "source_id", "url", "title", "summary", "details"}
    assert json.loads(lw(config, "events", "list", "--since", "2999-01-01", "--format", "json").stdout) == []
    assert "not an ISO date" in lw(config, "events", "list", "--since", "yesterday", code=2).stderr
