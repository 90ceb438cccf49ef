"""One message to one apprise URL: the idempotency key and our timeouts added to the URL, the body in the format
the channel shows (``channel_format``), the result read from apprise's status, secrets kept out of error text.

apprise 2.x returns an ``AppriseResult``: only ``SUCCESS`` counts as delivered (``NOMATCH`` and ``FAILURE`` are
both falsy; ``TIMEOUT`` may still have arrived, which the idempotency key covers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import apprise

from alerts.render import FORMATS, MARKDOWN, Message
from alerts.targets import apprise_target

# Schemes whose messages can carry our key as a header (apprise's "+Header=value" URL syntax).
_HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
KEY_HEADER = "X-Labourwatch-Key"


@dataclass(frozen=True)
class SendResult:
    """The outcome of one message to one destination."""

    ok: bool
    status: str
    permanent: bool = False  # no point retrying (apprise does not accept the URL)


def with_key(url: str, key: str, timeout: float) -> str:
    """``url`` with the idempotency key as a header where the channel has headers, and our timeouts unless the
    URL sets its own (``cto``/``rto``: apprise's connect and read timeouts)."""
    scheme = urlsplit(url).scheme.lower()
    extra = []
    if scheme in _HEADER_SCHEMES:
        extra.append(f"+{KEY_HEADER}={key}")
    query = urlsplit(url).query
    for name in ("cto", "rto"):
        if f"{name}=" not in query:
            extra.append(f"{name}={timeout:g}")
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(extra)


def channel_format(target: Any) -> str:
    """The body format (``alerts.render.FORMATS``) the channel of ``target`` — an ``apprise.Apprise`` holding one
    URL — shows, as its apprise plugin declares it: the URL's ``format=`` when the plugin takes it, else the
    plugin's own format (its first, for plugins that take several: text for json/form/xml, html for mailto,
    markdown for slack). Markdown when apprise names none of ours."""
    for service in target:
        resolve = getattr(service, "resolve_format", None)  # apprise 2.x: what notify() itself resolves to
        declared = resolve(None) if callable(resolve) else service.notify_format
        if isinstance(declared, list | tuple):
            declared = declared[0] if declared else None
        value = str(getattr(declared, "value", declared))
        return value if value in FORMATS else MARKDOWN
    return MARKDOWN


def send_limit(timeout: float) -> float:
    """The longest one send may take, given apprise's connect and read ``timeout``."""
    return timeout * 3 + 5


async def send(url: str, message: Message, key: str, timeout: float, limit: float | None = None) -> SendResult:
    """One message to one apprise URL; given up after ``limit`` seconds (default ``send_limit(timeout)``)."""
    try:
        target = apprise_target(with_key(url, key, timeout))  # what config load checked, with our key added
    except ValueError as exc:
        return SendResult(False, str(exc), permanent=True)
    # Written in the channel's own format and sent as such, so apprise passes it on without converting it.
    body, body_format = message.body_for(channel_format(target))
    try:
        result = await asyncio.wait_for(
            target.async_notify(title=message.title, body=body, body_format=apprise.NotifyFormat(body_format)),
            timeout=send_limit(timeout) if limit is None else limit)
    except TimeoutError:
        return SendResult(False, "timed out")
    except Exception as exc:  # isolation boundary: a plugin bug is one failed attempt, not a dead dispatcher
        return SendResult(False, f"{type(exc).__name__}: {_scrubbed(str(exc), url)}")
    status = getattr(result, "status", None)
    name = getattr(status, "name", str(status)).lower()
    ok = status == apprise.AppriseResultStatus.SUCCESS if status is not None else bool(result)
    return SendResult(ok, "sent" if ok else name)


def _scrubbed(text: str, url: str) -> str:
    # An exception's text may quote the URL (a token in the path, a password); it goes to logs and last_error.
    try:
        parts = urlsplit(url)
        secrets = [url, parts.netloc, parts.password or "", parts.path, parts.query]
    except ValueError:
        secrets = [url]
    for secret in sorted((s for s in secrets if len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "…")
    return text


class Sender(Protocol):
    """What sends one message: ``send`` or a stand-in with its signature."""

    def __call__(self, url: str, message: Message, key: str, timeout: float,
                 limit: float | None = None) -> Awaitable[SendResult]:
        """Send ``message`` to ``url`` within ``limit`` seconds."""
        ...
