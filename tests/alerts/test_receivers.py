"""The loopback receivers work with apprise for real, in success and in each failure mode.

These tests also pin what the installed apprise does (see the docstring of tests/receivers.py):
``async_notify`` returns an ``AppriseResult`` whose ``status`` tells SUCCESS / FAILURE / NOMATCH /
PARTIAL / TIMEOUT apart, a short ``rto``/``cto`` bounds a hanging receiver, and a ``json://`` URL can
carry an idempotency key as a header and as a JSON field.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import apprise
import pytest
from apprise import AppriseResult, AppriseResultStatus

from tests.receivers import HttpReceiver, MqttReceiver, SmtpReceiver, free_port


async def _notify_async(urls: list[str], **kwargs: Any) -> AppriseResult:
    apobj = apprise.Apprise()
    for url in urls:
        assert apobj.add(url), f"apprise rejected {url}"
    return await apobj.async_notify(**kwargs)


def notify(*urls: str, title: str = "Alert", body: str = "K01 changed", **kwargs: Any) -> tuple[AppriseResult, float]:
    """Send one notification through apprise's async API; the result and the seconds it took."""
    started = time.monotonic()
    result = asyncio.run(_notify_async(list(urls), title=title, body=body, **kwargs))
    return result, time.monotonic() - started


def refused(port: int) -> bool:
    """Whether a TCP connection to 127.0.0.1:port is refused."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


# -- apprise's result API ------------------------------------------------------------------------


def test_result_is_an_apprise_result_and_nomatch_is_falsy_but_distinct() -> None:
    result = asyncio.run(apprise.Apprise().async_notify(title="t", body="b"))
    assert isinstance(result, AppriseResult)
    assert result.status is AppriseResultStatus.NOMATCH
    assert not result and len(result) == 0


def test_tag_that_matches_nothing_is_nomatch(http_receiver: HttpReceiver) -> None:
    apobj = apprise.Apprise()
    assert apobj.add(http_receiver.url(), tag="ops")
    result = asyncio.run(apobj.async_notify(title="t", body="b", tag="nobody"))
    assert result.status is AppriseResultStatus.NOMATCH
    assert http_receiver.records == []


def test_add_rejects_an_unparsable_url() -> None:
    assert apprise.Apprise().add("json://") is False


# -- HTTP (json://) ------------------------------------------------------------------------------


def test_json_success_is_recorded(http_receiver: HttpReceiver) -> None:
    result, _ = notify(http_receiver.url(path="/alerts"), title="New claim", body="Body text")
    assert result.status is AppriseResultStatus.SUCCESS and bool(result)
    assert [service.status for service in result] == [AppriseResultStatus.SUCCESS]
    (record,) = http_receiver.wait_for(1)
    assert record.method == "POST" and record.path == "/alerts"
    assert record.header("content-type") == "application/json"
    assert record.body == {
        "version": "1.0",
        "title": "New claim",
        "message": "Body text",
        "attachments": [],
        "type": "info",
    }


def test_json_carries_an_idempotency_key_as_header_and_field(http_receiver: HttpReceiver) -> None:
    key = "alert-7f3a 1+2/x"  # spaces, '+' and '/' survive the URL
    url = http_receiver.url(headers={"X-Idempotency-Key": key}, fields={"idempotency_key": key})
    assert "+X-Idempotency-Key=" in url and ":idempotency_key=" in url
    result, _ = notify(url)
    assert result.status is AppriseResultStatus.SUCCESS
    (record,) = http_receiver.wait_for(1)
    assert record.header("X-Idempotency-Key") == key
    assert record.body["idempotency_key"] == key
    assert record.body["message"] == "K01 changed"


def test_json_500_is_failure(http_receiver: HttpReceiver) -> None:
    http_receiver.mode = "error"
    result, _ = notify(http_receiver.url())
    assert result.status is AppriseResultStatus.FAILURE and not result
    assert result.failed_count == 1
    (record,) = http_receiver.wait_for(1)  # it did arrive; the receiver said no
    assert record.mode == "error"


def test_json_connection_refused_is_failure() -> None:
    port = free_port()
    result, elapsed = notify(f"json://127.0.0.1:{port}/hook?cto=1&rto=1")
    assert result.status is AppriseResultStatus.FAILURE
    assert elapsed < 2


def test_json_hang_fails_within_the_url_read_timeout(http_receiver: HttpReceiver) -> None:
    http_receiver.mode = "hang"
    result, elapsed = notify(http_receiver.url(timeout=1.0))
    assert result.status is AppriseResultStatus.FAILURE
    assert 0.9 <= elapsed < 3, elapsed
    # The request reached the receiver before the client gave up: a retry would deliver it twice.
    (record,) = http_receiver.wait_for(1)
    assert record.mode == "hang"


def test_json_hang_past_the_call_deadline_is_timeout(http_receiver: HttpReceiver) -> None:
    http_receiver.mode = "hang"
    result, elapsed = notify(http_receiver.url(timeout=5.0), timeout=0.5)
    assert result.status is AppriseResultStatus.TIMEOUT and not result
    assert result.timeout_count == 1
    assert elapsed < 2.5, elapsed


def test_json_down_then_back(http_receiver: HttpReceiver) -> None:
    port = http_receiver.port
    url = http_receiver.url()
    http_receiver.mode = "down"
    assert refused(port)
    result, elapsed = notify(url)
    assert result.status is AppriseResultStatus.FAILURE
    assert elapsed < 2
    assert http_receiver.records == []

    http_receiver.mode = "ok"
    assert http_receiver.port == port
    result, _ = notify(url)
    assert result.status is AppriseResultStatus.SUCCESS
    assert len(http_receiver.wait_for(1)) == 1


def test_json_retry_rides_out_a_short_outage(http_receiver: HttpReceiver) -> None:
    http_receiver.mode = "down"
    revive = threading.Timer(0.3, lambda: setattr(http_receiver, "mode", "ok"))
    revive.start()
    try:
        result, _ = notify(http_receiver.url(retry="3", wait="0.25"))
    finally:
        revive.join()
    assert result.status is AppriseResultStatus.SUCCESS
    (service,) = result
    assert len(service.attempts) >= 2
    assert service.attempts[0].status is AppriseResultStatus.FAILURE
    assert len(http_receiver.wait_for(1)) == 1


def test_one_of_two_failing_is_partial(http_receiver: HttpReceiver) -> None:
    with HttpReceiver(mode="error") as broken:
        result, _ = notify(http_receiver.url(), broken.url())
    assert result.status is AppriseResultStatus.PARTIAL and not result
    assert (result.success_count, result.failed_count) == (1, 1)


def test_http_receiver_modes_switch_at_run_time(http_receiver: HttpReceiver) -> None:
    port = http_receiver.port
    for mode in ("down", "error", "down", "ok"):
        http_receiver.mode = mode
        assert refused(port) == (mode == "down")
    assert http_receiver.port == port
    with pytest.raises(ValueError):
        http_receiver.mode = "sideways"  # type: ignore[assignment]
    with pytest.raises(AssertionError, match="expected 1"):
        http_receiver.wait_for(1, timeout=0.05)


# -- SMTP (mailto://) ----------------------------------------------------------------------------


def test_mailto_success_is_recorded(smtp_receiver: SmtpReceiver) -> None:
    url = smtp_receiver.url(to="ops@labourwatch.test", headers={"X-Idempotency-Key": "alert-42"})
    result, _ = notify(url, title="New claim", body="Body text")
    assert result.status is AppriseResultStatus.SUCCESS
    (record,) = smtp_receiver.wait_for(1)
    assert record.mail_from == "alerts@labourwatch.test"
    assert record.rcpt_tos == ["ops@labourwatch.test"]
    assert record.subject == "New claim"
    assert record.body.strip() == "Body text"
    assert record.header("x-idempotency-key") == "alert-42"


def test_mailto_refused_message_is_failure(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.mode = "error"
    result, _ = notify(smtp_receiver.url())
    assert result.status is AppriseResultStatus.FAILURE
    assert len(smtp_receiver.wait_for(1)) == 1


def test_mailto_down_then_back(smtp_receiver: SmtpReceiver) -> None:
    url = smtp_receiver.url()
    smtp_receiver.mode = "down"
    assert refused(smtp_receiver.port)
    result, elapsed = notify(url)
    assert result.status is AppriseResultStatus.FAILURE
    assert elapsed < 3
    smtp_receiver.mode = "ok"
    result, _ = notify(url)
    assert result.status is AppriseResultStatus.SUCCESS
    assert len(smtp_receiver.wait_for(1)) == 1


# -- MQTT (mqtt://) ------------------------------------------------------------------------------


def test_mqtt_success_is_recorded(mqtt_receiver: MqttReceiver) -> None:
    result, _ = notify(mqtt_receiver.url(), title="New claim", body="Body text alert-42")
    assert result.status is AppriseResultStatus.SUCCESS
    (record,) = mqtt_receiver.wait_for(1)
    assert record.topic == mqtt_receiver.topic
    # MQTT has no title: apprise folds it into the payload, the only place a key can travel.
    assert record.text.splitlines() == ["New claim", "Body text alert-42"]


def test_mqtt_topics_are_unique_per_receiver(mqtt_receiver: MqttReceiver) -> None:
    with MqttReceiver() as other:
        assert other.topic != mqtt_receiver.topic
        result, _ = notify(other.url())
        assert result.status is AppriseResultStatus.SUCCESS
        assert len(other.wait_for(1)) == 1
    assert mqtt_receiver.records == []


def test_mqtt_broker_refusing_connections_is_failure() -> None:
    port = free_port()
    result, elapsed = notify(f"mqtt://127.0.0.1:{port}/labourwatch/test/nobody?cto=1&rto=1")
    assert result.status is AppriseResultStatus.FAILURE
    assert elapsed < 3
