"""apprise destinations built from URLs: the one place a URL becomes something that can send."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit


class _ThisThread(logging.Filter):
    """Drops the records of one thread (the others still log)."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread


@contextlib.contextmanager
def _apprise_quiet() -> Iterator[None]:
    # apprise logs a URL it cannot load in full ("Could not load Slack URL: slack://TOKEN"): whatever
    # secret it holds would reach the terminal before log redaction is set up.
    logger = logging.getLogger("apprise")
    quiet = _ThisThread()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def apprise_target(url: str) -> Any:
    """An ``apprise.Apprise`` holding ``url``; ValueError when apprise cannot use the URL.

    The message never repeats the URL, which may hold a token or a password: only its scheme."""
    import apprise  # costs ~0.2 s: only configs with routes and the dispatcher pay for it

    target = apprise.Apprise()
    with _apprise_quiet():
        added = target.add(url)
    if not added:
        try:
            scheme = urlsplit(url).scheme or "(none)"
        except ValueError:
            scheme = "(unparseable)"
        raise ValueError(f"apprise cannot use this URL (scheme {scheme!r}: unknown, or the URL is malformed "
                         "for it; see apprise's list of services)")
    return target
