"""Fixtures for the alert tests: real receivers on loopback (see tests/receivers.py)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator

import pytest

from tests.receivers import HttpReceiver, MqttReceiver, SmtpReceiver, mqtt_broker_problem

# apprise loads every plugin on first use, and its email plugin imports the stdlib's imghdr, which
# warns "'imghdr' is deprecated" on Python 3.11/3.12; pytest turns warnings into errors here. Import
# it once with that one warning silenced, so apprise finds it already loaded.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="'imghdr' is deprecated", category=DeprecationWarning)
    import imghdr  # noqa: F401


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """An HTTP receiver on 127.0.0.1 in mode "ok"; switch ``.mode`` to "error", "hang" or "down"."""
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """An aiosmtpd SMTP receiver on 127.0.0.1 (no TLS, no AUTH) in mode "ok"."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def mqtt_receiver() -> Iterator[MqttReceiver]:
    """A subscriber on a fresh topic of the local Mosquitto; fails in CI when the broker is down, skips elsewhere."""
    problem = mqtt_broker_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)  # in CI the MQTT tests must run, never skip
        pytest.skip(problem)
    with MqttReceiver() as receiver:
        yield receiver
