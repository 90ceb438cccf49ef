"""Destinations are named after the URL as the config writes it: a rotated secret keeps its queue, rows stored
under the old (resolved-URL) fingerprint still find their destination, and no secret reaches the database,
the logs or the labels. Real config parsing, real receivers on 127.0.0.1, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from alerts.routes import destinations, fingerprint, redacted
from alerts.types import RouteSpec
from db import events
from db.engine import Database
from db.events import DeliveryTarget, EventDraft
from db.models import Delivery, Event
from labourwatch.config import Config, load_config, parse_config
from tests.alerts.test_dispatch import START, Clock, deliveries, dispatch, draft, record
from tests.receivers import HttpReceiver


def config_text(receiver: HttpReceiver, **route: object) -> str:
    hook = receiver.url(path="/hook/${HOOK_TOKEN}")
    return yaml.safe_dump({"alerts": {"routes": [{"name": "newsroom", "urls": [hook], "events": ["claim_updated"],
                                                  **route}]}})


def paths(receiver: HttpReceiver) -> list[str]:
    return [request.path.split("?")[0] for request in receiver.records]


def test_a_rotated_secret_keeps_the_queue(database: Database, http_receiver: HttpReceiver) -> None:
    text = config_text(http_receiver)
    before = parse_config(text, environ={"HOOK_TOKEN": "old-s3cret"})
    after = parse_config(text, environ={"HOOK_TOKEN": "new-s3cret"})
    assert list(destinations(before.routes)) == list(destinations(after.routes))
    clock = Clock()
    record(database, before.routes, [draft(1), draft(2)], clock.now)
    report = dispatch(database, after.routes, clock)  # the secret was rotated while they waited
    assert (report.sent, report.dead) == (2, 0)
    assert paths(http_receiver) == ["/hook/new-s3cret"] * 2


def legacy_router(config: Config) -> events.Router:
    """The router as it was before destinations were named after the written URL: fingerprint of the URL."""
    def route(event: EventDraft) -> list[DeliveryTarget]:
        return [DeliveryTarget(spec.name, fingerprint(url), redacted(url), spec.mode)
                for spec in config.routes if event.type in spec.events for url in spec.urls]
    return route


def test_rows_stored_under_the_resolved_url_fingerprint_still_find_their_destination(
        database: Database, http_receiver: HttpReceiver) -> None:
    text = yaml.safe_dump({"alerts": {"routes": [
        {"name": "newsroom", "urls": [http_receiver.url(path="/hook/${HOOK_TOKEN}")], "rate_limit": 3,
         "events": ["claim_updated"]},
        {"name": "morning", "urls": [http_receiver.url(path="/digest/${HOOK_TOKEN}")], "mode": "digest",
         "cron": "0 8 * * *", "events": ["new_article"]}]}})
    config = parse_config(text, environ={"HOOK_TOKEN": "s3cret"})
    clock = Clock(START.replace(minute=10))
    with database.write() as session:  # written by the previous version
        events.record_events(session, [draft(1), draft(2), draft(3, "new_article")], legacy_router(config),
                             clock.now)
    record(database, config.routes, [draft(4), draft(5), draft(6, "new_article")], clock.now)
    stored = {(d.route, d.destination) for d in deliveries(database)}
    assert len(stored) == 4  # each destination under two keys
    report = dispatch(database, config.routes, clock)
    # One destination, one hourly budget: three of the four go now, whichever key their rows carry.
    assert (report.sent, report.deferred, report.dead) == (3, 1, 0)
    assert [d.status for d in deliveries(database) if d.route == "newsroom"] == ["sent", "sent", "sent", "pending"]
    clock.advance(minutes=51)  # past 08:00: the morning digest, and the newsroom's overflow digest
    report = dispatch(database, config.routes, clock)
    assert (report.sent, report.digests, report.dead) == (3, 2, 0)
    digest = next(r.body["message"] for r in http_receiver.records if r.path.startswith("/digest/"))
    assert "Story 3" in digest and "Story 6" in digest  # old and new rows in one message
    assert all(d.status == "sent" for d in deliveries(database))


def test_urls_from_an_apprise_config_file_are_named_by_file_and_position(
        tmp_path: Path, http_receiver: HttpReceiver) -> None:
    def load(token: str) -> list[RouteSpec]:
        (tmp_path / "apprise.yml").write_text(f"urls:\n  - {http_receiver.url(path=f'/file/{token}')}\n")
        return load_config(tmp_path / "config.yaml", environ={}).routes

    (tmp_path / "config.yaml").write_text("alerts: {routes: [{name: desk, apprise_config: apprise.yml}]}\n")
    old, new = load("tok-one"), load("tok-two")
    assert old[0].written == new[0].written == ("apprise_config:apprise.yml#0",)
    assert list(destinations(old)) == list(destinations(new))
    [destination] = destinations(new).values()
    assert destination.label == "json://127.0.0.1 (apprise.yml#0)"


def test_no_secret_reaches_the_database_the_logs_or_the_labels(
        database: Database, http_receiver: HttpReceiver, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "apprise.yml").write_text(f"urls:\n  - {http_receiver.url(path='/file/file-s3cret')}\n")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"alerts": {"max_attempts": 2, "routes": [
        {"name": "newsroom", "urls": [http_receiver.url(path="/hook/${HOOK_TOKEN}"), "${WHOLE_HOOK}"],
         "events": ["claim_updated"]},
        {"name": "desk", "apprise_config": "apprise.yml", "events": ["claim_updated"]},
        {"name": "ops", "urls": ["json://127.0.0.1:9/${OPS_TOKEN}"], "events": ["delivery_dead"]}]}}))
    environ = {"HOOK_TOKEN": "hook-s3cret", "WHOLE_HOOK": http_receiver.url(path="/whole/whole-s3cret"),
               "OPS_TOKEN": "ops-s3cret"}
    config = load_config(tmp_path / "config.yaml", environ=environ)
    secrets = ("hook-s3cret", "whole-s3cret", "file-s3cret", "ops-s3cret")
    clock = Clock()
    broken = EventDraft("claim_updated", "claim_updated:broken", "Broken", "K01 updated", details={})
    record(database, config.routes, [draft(1), broken], clock.now)
    http_receiver.mode = "error"
    # Ours at DEBUG, everyone else's at INFO: apprise's own DEBUG lines quote the URL it posts to (the log
    # handler of labourwatch.logs redacts every configured secret from those).
    with caplog.at_level(logging.DEBUG, logger="alerts"), caplog.at_level(logging.DEBUG, logger="db"), \
            caplog.at_level(logging.INFO):
        reports = [dispatch(database, config.routes, clock)]
        http_receiver.mode = "down"
        for _ in range(3):  # to the dead letters (connection refused), and the ops route's attempts
            clock.advance(hours=2)
            reports.append(dispatch(database, config.routes, clock))
    assert any(d.status == "dead" for d in deliveries(database))
    with database.read() as session:
        stored = [vars(row) for row in session.scalars(select(Delivery))]
        stored += [vars(row) for row in session.scalars(select(Event))]
    everything = {
        "database": json.dumps(stored, default=str),
        "logs": caplog.text,
        "labels": json.dumps([d.label for d in destinations(config.routes).values()]),
        "reports": json.dumps([r.errors for r in reports]),
    }
    assert "could not be rendered" in everything["database"] and "failure" in everything["logs"]
    for where, text in everything.items():
        assert not [secret for secret in secrets if secret in text], where
    assert sorted(json.loads(everything["labels"])) == [
        "${WHOLE_HOOK}", "json://127.0.0.1", "json://127.0.0.1", "json://127.0.0.1 (apprise.yml#0)"]


def test_labels_show_no_token_where_a_host_would_be() -> None:
    assert redacted("discord://123456789/AbCdEfToken") == "discord://…"
    assert redacted("tgram://123456789:AAbbCCdd/987") == "tgram://…"
    assert redacted("json://hooks.example.org/path/token") == "json://hooks.example.org"
    assert redacted("mailto://user:pass@localhost?to=a@b") == "mailto://localhost"
    assert redacted("${SLACK_WEBHOOK:-json://x.example/secret}") == "${SLACK_WEBHOOK}"
    route = RouteSpec("r", ("json://h.example/tok",), written=("json://h.example/${T}",))
    [destination] = destinations([route]).values()
    assert destination.key == fingerprint("json://h.example/${T}")
    assert destination.legacy_key == fingerprint("json://h.example/tok") and destination.keys == (
        destination.key, destination.legacy_key)
    with pytest.raises(ValueError, match="2 written forms for 1 URLs"):
        RouteSpec("r", ("json://h.example/tok",), written=("a", "b"))


def test_a_route_built_in_code_is_named_as_before() -> None:
    [destination] = destinations([RouteSpec("r", ("json://h.example/tok",))]).values()
    assert destination.key == destination.legacy_key == fingerprint("json://h.example/tok")
    assert START.tzinfo is not None
