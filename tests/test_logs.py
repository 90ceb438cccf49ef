"""Logging: configured secrets never reach the log output, in text or JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from labourwatch.logs import REDACTED, JsonFormatter, RedactingFilter, setup_logging

SECRET = "hooks.example/T000/B000/XXXXsecretXXXX"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_redacted_in_messages_arguments_and_tracebacks(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", fmt, secrets={SECRET})
    log = logging.getLogger("labourwatch.test")
    log.info("posting to https://%s now", SECRET)
    try:
        raise RuntimeError(f"could not reach {SECRET}")
    except RuntimeError:
        log.exception("delivery failed")
    err = capsys.readouterr().err
    assert SECRET not in err
    assert err.count(REDACTED) >= 2  # the message and the exception line of the traceback
    if fmt == "json":
        lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert lines[0]["message"] == f"posting to https://{REDACTED} now"
        assert "exception" in lines[1]


def test_short_values_are_not_treated_as_secrets() -> None:
    # A one-letter env value would otherwise blank out every "a" in the logs.
    assert RedactingFilter({"a", "ab"}).redact("a cab") == "a cab"


def test_json_formatter_emits_one_object_per_record() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "hello world"
