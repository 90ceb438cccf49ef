"""Turning a failed request into a stable error code and a readable message for the source's record."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed

from crawler.middlewares import BlockedAddressError

_NETWORK: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, net.TimeoutError, net.TCPTimedOutError, TimeoutError), "timeout"),
    ((DownloadConnectionRefusedError, net.ConnectionRefusedError), "connection_refused"),
    ((CannotResolveHostError, net.DNSLookupError), "dns"),
    ((ResponseDataLossError, net.ConnectionLost, net.ConnectionDone, ResponseFailed), "truncated"),
    (net.ConnectError, "connect_failed"),
)


def _ignored(exc: IgnoreRequest) -> str:
    text = str(exc)
    if isinstance(exc, BlockedAddressError):
        return "blocked_address"
    if "robots.txt" in text:
        return "robots_disallowed"
    if "redirections" in text:
        return "redirect_loop"
    if "DOWNLOAD_MAXSIZE" in text or "max size" in text or "maxsize" in text.lower():
        return "too_large"
    return "ignored"


def classify_failure(failure: Failure) -> tuple[str, str]:
    """(code, message) for a failed request: ``http_500``, ``timeout``, ``robots_disallowed``, …"""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status} from {exc.response.url}"
    if isinstance(exc, IgnoreRequest):
        return _ignored(exc), str(exc) or type(exc).__name__
    for types, code in _NETWORK:
        if isinstance(exc, types):
            return code, str(exc).strip() or type(exc).__name__
    text = str(exc)
    if "maxsize" in text.lower() or "max size" in text:
        return "too_large", text
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a body that grows past DOWNLOAD_MAXSIZE without saying why (no Content-Length,
        # endless chunks); a crawl that is stopping is told apart by the spider before this.
        return "too_large", text or "the body grew past crawl.max_size; the download was stopped"
    return "fetch_error", f"{type(exc).__name__}: {text}" if text else type(exc).__name__
