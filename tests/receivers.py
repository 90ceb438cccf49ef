"""Real notification receivers on loopback for the alert tests: no mocks.

* :class:`HttpReceiver` -- a threaded HTTP server for apprise's ``json://`` (and ``form://``,
  ``xml://``) URLs, with a run-time ``mode``: ``"ok"`` (200), ``"error"`` (500), ``"hang"``
  (answers only after ``hang_seconds``, longer than the client's read timeout) and ``"down"``
  (listening socket closed, so connections are refused; switching back re-listens on the same port).
* :class:`SmtpReceiver` -- an aiosmtpd ``Controller`` for ``mailto://`` (mode ``"ok"`` / ``"error"``
  (554 after DATA) / ``"down"``, again on the same port).
* :class:`MqttReceiver` -- a paho-mqtt subscriber on a unique topic of the local Mosquitto
  (127.0.0.1:1883; ``LABOURWATCH_TEST_MQTT`` = ``host:port`` overrides) for ``mqtt://``.

Each is a context manager that records what arrived in a thread-safe list, with
``wait_for(n, timeout)`` to block until ``n`` records are there, and ``url()`` giving the apprise URL
that reaches it.

What the installed apprise (2.3.0) does -- read from its source and checked by
``tests/alerts/test_receivers.py``
-----------------------------------------------------------------------------------------------------

Return type.  ``Apprise.notify()`` and ``await Apprise.async_notify()`` return an
``apprise.AppriseResult`` (no longer a bare bool).  ``bool(result)`` is True only when
``result.status is AppriseResultStatus.SUCCESS``.  ``result.status`` is an
``apprise.AppriseResultStatus`` (an ``IntEnum``, values equal to the CLI's exit codes):

* ``SUCCESS`` (0): every dispatched service accepted the notification.
* ``FAILURE`` (1): a (non-optional) service failed -- HTTP status outside 2xx, connection refused,
  socket read/connect timeout, SMTP refusal, MQTT connect failure -- or the call's arguments were bad.
* ``NOMATCH`` (3): nothing was attempted (no URL loaded, or no tag matched).  Falsy, like FAILURE:
  a caller that only tests ``bool(result)`` cannot tell "nothing configured" from "it failed".
* ``PARTIAL`` (4): at least one service succeeded and at least one did not.
* ``TIMEOUT`` (5): the service did not finish before the call deadline (``notify(timeout=...)``) or
  the per-service limit (``AppriseAsset(service_timeout=...)``, default 60 s).  The worker thread is
  abandoned, not killed: the request may still complete later.

Iterating ``result`` yields one ``NotifyResult`` per dispatched service (``.name``, ``.url`` with
secrets masked, ``.status``, ``.attempts``, ``.logs()``); ``result.success_count`` /
``failed_count`` / ``timeout_count`` / ``elapsed`` summarise.  ``Apprise.add(url)`` returns a plain
bool: False for a URL it cannot parse or a plugin whose requirement is missing (``mqtt://`` without
paho-mqtt >= 2.1).

Timeouts per URL.  Every URL takes ``?cto=SECONDS`` (connect timeout, default 4.0) and
``?rto=SECONDS`` (read timeout, default 4.0); the HTTP plugins pass ``(cto, rto)`` to requests, so a
receiver that hangs longer than ``rto`` gives FAILURE after about ``rto`` seconds.  ``mailto://``
uses ``cto`` (default 15.0 there) as smtplib's socket timeout for the whole SMTP dialogue;
``mqtt://`` waits up to ``rto`` for a publish to complete but ignores ``cto`` (paho's own 5 s connect
timeout applies).  There is no ``?to=`` timeout (``to=`` is the recipient / target).  ``?retry=N`` (default 0) retries a failed service N times, ``?wait=S``
(default 0.5) apart, skipping targets that already accepted; ``?optional=yes`` makes a failure count
as success.

Carrying an idempotency key.
* ``json://``: ``+Name=value`` in the query adds an HTTP header (``+X-Idempotency-Key=abc``) and
  ``:name=value`` adds a top-level JSON field (``:idempotency_key=abc``); ``:title=`` with an empty
  value drops a standard field, ``:message=body`` renames one; ``-name=value`` adds a GET parameter
  to the request URL.  The standard payload is ``{"version", "title", "message", "attachments",
  "type"}``.
* ``mailto://``: ``+Name=value`` adds a mail header (``+X-Idempotency-Key=abc``), which arrives in
  the message (apprise also sets ``X-Application``).
* ``mqtt://``: no headers or properties (MQTT v5 user properties are not exposed); the payload is
  plain text, ``title + "\\r\\n" + body``, so a key can only travel inside the body text.

Under pytest's ``filterwarnings = error``: apprise imports every plugin on first use and its email
plugin imports the stdlib's deprecated ``imghdr`` (a DeprecationWarning on Python 3.11);
``tests/alerts/conftest.py`` pre-imports it with that one warning silenced.

URL forms used here.
* HTTP:  ``json://127.0.0.1:PORT/PATH?cto=1&rto=1`` (plus ``+Header=v`` / ``:field=v``).
* SMTP:  ``mailto://127.0.0.1:PORT?from=alerts@labourwatch.test&to=ops@labourwatch.test&cto=2``.
  ``mailto://`` (not ``mailtos://``) defaults to ``mode=insecure``: plain SMTP, no STARTTLS; with
  no password apprise does not log in.  ``mode=insecure`` is still spelled out for clarity, and
  ``smtp=HOST`` can name a relay other than the URL's host.
* MQTT:  ``mqtt://127.0.0.1:1883/TOPIC`` (anonymous; ``user:password@`` when the broker needs it).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar
from urllib.parse import quote

import paho.mqtt.client as mqtt
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

LOOPBACK = "127.0.0.1"

HttpMode = Literal["ok", "error", "hang", "down"]
SmtpMode = Literal["ok", "error", "down"]

R = TypeVar("R")


def _query(params: dict[str, str]) -> str:
    """``?k=v&...`` for an apprise URL: values fully percent-encoded (apprise keeps a literal ``+``, it
    does not read it as a space), keys keeping apprise's ``+`` (header) and ``:`` (field) prefixes."""
    if not params:
        return ""
    return "?" + "&".join(f"{quote(k, safe='+:')}={quote(v, safe='')}" for k, v in params.items())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


class _Recorder(Generic[R]):
    """A thread-safe list of records with a blocking ``wait_for``."""

    def __init__(self) -> None:
        self._items: list[R] = []
        self._changed = threading.Condition()

    def add(self, item: R) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    def snapshot(self) -> list[R]:
        with self._changed:
            return list(self._items)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()

    def wait_for(self, n: int, timeout: float, what: str) -> list[R]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._items) >= n, timeout=timeout):
                raise AssertionError(f"{what}: expected {n} record(s) within {timeout}s, got {len(self._items)}")
            return list(self._items)


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRecord:
    """One request as the HTTP receiver saw it."""

    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    body: Any  # the decoded JSON document, or the text when the body is not JSON
    mode: str  # the receiver's mode when the request arrived
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """A header's value, matched case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: HttpReceiver


class _HttpHandler(BaseHTTPRequestHandler):
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _handle(self) -> None:
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = text
        mode = receiver.mode
        receiver._record(
            HttpRecord(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                raw=raw,
                body=body,
                mode=mode,
            )
        )
        if mode == "hang":
            # Released early when the receiver closes, so a test never waits out the full delay.
            receiver._released.wait(receiver.hang_seconds)
        status = 500 if mode == "error" else 200
        payload = b'{"error": "receiver in error mode"}' if status == 500 else b'{"ok": true}'
        with contextlib.suppress(OSError):  # the client may have given up (hang mode)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = _handle


class HttpReceiver:
    """A threaded HTTP server on 127.0.0.1 that records every request and answers per ``mode``.

    ``mode`` may be changed at any time: ``"ok"`` answers 200, ``"error"`` 500, ``"hang"`` waits
    ``hang_seconds`` before answering 200 (the request is recorded on arrival, so a "timed-out"
    delivery that really arrived is visible), ``"down"`` closes the listening socket -- connections
    are refused -- and leaving ``"down"`` listens again on the same port.  While down, the port is
    held by a bound, non-listening socket, so nothing else can take it.
    """

    def __init__(self, mode: HttpMode = "ok", *, hang_seconds: float = 5.0) -> None:
        """Configure; the server starts on ``__enter__`` / :meth:`start`."""
        self.hang_seconds = hang_seconds
        self._mode: HttpMode = mode
        self._records: _Recorder[HttpRecord] = _Recorder()
        self._released = threading.Event()
        self._lock = threading.RLock()
        self._server: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._placeholder: socket.socket | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free port (first time) and serve, unless the mode is ``"down"``."""
        with self._lock:
            self._released.clear()
            if self.port == 0:
                self._listen()
                if self._mode == "down":
                    self._stop_listening()
            elif self._mode != "down":
                self._listen()
        return self

    def close(self) -> None:
        """Stop serving, release hanging requests and free the port."""
        with self._lock:
            self._released.set()
            self._stop_listening()
            if self._placeholder is not None:
                self._placeholder.close()
                self._placeholder = None

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server."""
        self.close()

    def _listen(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None
        server = _HttpServer((LOOPBACK, self.port), _HttpHandler)
        server.receiver = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"http-receiver-{self.port}", daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        # Hold the port without listening: a SYN to it is answered with RST (connection refused).
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.bind((LOOPBACK, self.port))
        self._placeholder = placeholder

    # -- mode --------------------------------------------------------------------------------------

    @property
    def mode(self) -> HttpMode:
        """How the receiver answers now."""
        return self._mode

    @mode.setter
    def mode(self, value: HttpMode) -> None:
        if value not in ("ok", "error", "hang", "down"):
            raise ValueError(f"unknown HTTP receiver mode {value!r}")
        with self._lock:
            previous, self._mode = self._mode, value
            if self.port == 0:  # not started yet
                return
            if value == "down" and previous != "down":
                self._released.set()  # let hanging requests finish before the socket goes
                self._stop_listening()
                self._released.clear()
            elif value != "down" and previous == "down":
                self._listen()

    # -- records -----------------------------------------------------------------------------------

    def _record(self, record: HttpRecord) -> None:
        self._records.add(record)

    @property
    def records(self) -> list[HttpRecord]:
        """Every request received so far, oldest first (a copy)."""
        return self._records.snapshot()

    def clear(self) -> None:
        """Forget the requests received so far."""
        self._records.clear()

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[HttpRecord]:
        """Block until at least ``n`` requests have arrived; all records. AssertionError on timeout."""
        return self._records.wait_for(n, timeout, f"HTTP receiver on port {self.port}")

    # -- URLs --------------------------------------------------------------------------------------

    def url(
        self,
        scheme: str = "json",
        path: str = "/hook",
        *,
        timeout: float | None = 1.0,
        headers: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
        **params: str,
    ) -> str:
        """The apprise URL that posts here, e.g. ``json://127.0.0.1:PORT/hook?cto=1.0&rto=1.0``.

        ``timeout`` sets apprise's connect and read timeouts (``cto``/``rto``; None keeps apprise's
        4 s defaults); ``headers`` become ``+Name=value`` (extra HTTP headers), ``fields`` become
        ``:name=value`` (extra top-level JSON fields); ``params`` are passed through as query
        parameters (``retry="2"``, ``method="PUT"``...).
        """
        if self.port == 0:
            raise RuntimeError("HttpReceiver.url() before start()")
        query: dict[str, str] = {}
        if timeout is not None:
            query["cto"] = query["rto"] = str(timeout)
        query.update({f"+{k}": v for k, v in (headers or {}).items()})
        query.update({f":{k}": v for k, v in (fields or {}).items()})
        query.update(params)
        return f"{scheme}://{LOOPBACK}:{self.port}{path}{_query(query)}"


# --------------------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpRecord:
    """One message as the SMTP receiver accepted (or refused) it."""

    mail_from: str
    rcpt_tos: list[str]
    headers: dict[str, str]
    subject: str
    body: str
    raw: bytes
    message: EmailMessage
    mode: str
    received_at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """A header's value (the message's own case-insensitive lookup)."""
        value = self.message.get(name)
        return None if value is None else str(value)


class _SmtpHandler:
    """aiosmtpd handler: parse each message and record it."""

    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if isinstance(part, EmailMessage) else ""
        mode = self.receiver.mode
        self.receiver._records.add(
            SmtpRecord(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                headers={k: str(v) for k, v in message.items()},
                subject=str(message.get("Subject", "")),
                body=str(body),
                raw=raw,
                message=message,
                mode=mode,
            )
        )
        if mode == "error":
            return "554 Transaction failed (receiver in error mode)"
        return "250 Message accepted for delivery"


class SmtpReceiver:
    """An aiosmtpd SMTP server on 127.0.0.1 (plain SMTP, no TLS, no AUTH) recording every message.

    ``mode``: ``"ok"`` accepts (250), ``"error"`` refuses after DATA (554; the message is still
    recorded), ``"down"`` stops the server (connection refused) and leaving it restarts on the same
    port.
    """

    def __init__(self, mode: SmtpMode = "ok") -> None:
        """Configure; the server starts on ``__enter__`` / :meth:`start`."""
        self._mode: SmtpMode = mode
        self._records: _Recorder[SmtpRecord] = _Recorder()
        self._lock = threading.RLock()
        self._controller: Controller | None = None
        self.port = 0

    def start(self) -> Self:
        """Pick a free port (first time) and start the server unless the mode is ``"down"``."""
        with self._lock:
            if self.port == 0:
                self.port = free_port()
            if self._mode != "down":
                self._start_controller()
        return self

    def close(self) -> None:
        """Stop the server."""
        with self._lock:
            self._stop_controller()

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server."""
        self.close()

    def _start_controller(self) -> None:
        controller = Controller(_SmtpHandler(self), hostname=LOOPBACK, port=self.port, ready_timeout=5.0)
        controller.start()
        self._controller = controller

    def _stop_controller(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def mode(self) -> SmtpMode:
        """How the receiver answers now."""
        return self._mode

    @mode.setter
    def mode(self, value: SmtpMode) -> None:
        if value not in ("ok", "error", "down"):
            raise ValueError(f"unknown SMTP receiver mode {value!r}")
        with self._lock:
            previous, self._mode = self._mode, value
            if self.port == 0:
                return
            if value == "down" and previous != "down":
                self._stop_controller()
            elif value != "down" and previous == "down":
                self._start_controller()

    @property
    def records(self) -> list[SmtpRecord]:
        """Every message received so far, oldest first (a copy)."""
        return self._records.snapshot()

    def clear(self) -> None:
        """Forget the messages received so far."""
        self._records.clear()

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[SmtpRecord]:
        """Block until at least ``n`` messages have arrived; all records. AssertionError on timeout."""
        return self._records.wait_for(n, timeout, f"SMTP receiver on port {self.port}")

    def url(
        self,
        to: str = "ops@labourwatch.test",
        sender: str = "alerts@labourwatch.test",
        *,
        timeout: float | None = 2.0,
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> str:
        """The apprise ``mailto://`` URL that delivers here over plain SMTP without login.

        ``timeout`` becomes ``cto`` (smtplib's socket timeout); ``headers`` become ``+Name=value``
        mail headers; ``params`` pass through as query parameters.
        """
        if self.port == 0:
            raise RuntimeError("SmtpReceiver.url() before start()")
        query: dict[str, str] = {"mode": "insecure", "from": sender, "to": to}
        if timeout is not None:
            query["cto"] = str(timeout)
        query.update({f"+{k}": v for k, v in (headers or {}).items()})
        query.update(params)
        return f"mailto://{LOOPBACK}:{self.port}{_query(query)}"


# --------------------------------------------------------------------------------------------------
# MQTT
# --------------------------------------------------------------------------------------------------


def mqtt_broker() -> tuple[str, int]:
    """The broker the MQTT tests use: ``LABOURWATCH_TEST_MQTT`` (``host:port``) or 127.0.0.1:1883."""
    host, _, port = os.environ.get("LABOURWATCH_TEST_MQTT", f"{LOOPBACK}:1883").rpartition(":")
    return host, int(port)


def mqtt_broker_problem(timeout: float = 2.0) -> str | None:
    """None when the broker accepts TCP connections, otherwise why not (for skip/fail messages)."""
    host, port = mqtt_broker()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return (
            f"Mosquitto not reachable at {host}:{port} ({exc}); "
            "start it with 'mosquitto -d -c /etc/mosquitto/mosquitto.conf' (.ci/run does)"
        )


@dataclass(frozen=True)
class MqttRecord:
    """One message delivered to the subscriber."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    received_at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        """The payload as UTF-8 text."""
        return self.payload.decode("utf-8", errors="replace")


class MqttReceiver:
    """A subscriber on a unique topic (``labourwatch/test/<hex>``) of the local Mosquitto.

    ``__enter__`` returns only once the broker has acknowledged the subscription, so nothing
    published afterwards can be missed.
    """

    def __init__(self, topic: str | None = None, *, connect_timeout: float = 5.0) -> None:
        """Configure; connects on ``__enter__`` / :meth:`start`."""
        self.host, self.port = mqtt_broker()
        self.topic = topic or f"labourwatch/test/{uuid.uuid4().hex}"
        self.connect_timeout = connect_timeout
        self._records: _Recorder[MqttRecord] = _Recorder()
        self._subscribed = threading.Event()
        self._failure: str | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"labourwatch-test-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._failure = f"MQTT connect refused: {reason_code}"
            self._subscribed.set()
            return
        client.subscribe(self.topic, qos=1)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            self._failure = f"MQTT subscribe to {self.topic!r} refused: {failed}"
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._records.add(
            MqttRecord(topic=message.topic, payload=bytes(message.payload), qos=message.qos, retain=message.retain)
        )

    def start(self) -> Self:
        """Connect, subscribe and wait for the broker's SUBACK."""
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(self.connect_timeout) or self._failure:
            self.close()
            raise RuntimeError(self._failure or f"no SUBACK from {self.host}:{self.port} in {self.connect_timeout}s")
        return self

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        with contextlib.suppress(Exception):
            self._client.disconnect()
        self._client.loop_stop()

    def __enter__(self) -> Self:
        """Connect and subscribe."""
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Disconnect."""
        self.close()

    @property
    def records(self) -> list[MqttRecord]:
        """Every message received so far, oldest first (a copy)."""
        return self._records.snapshot()

    def clear(self) -> None:
        """Forget the messages received so far."""
        self._records.clear()

    def wait_for(self, n: int = 1, timeout: float = 5.0) -> list[MqttRecord]:
        """Block until at least ``n`` messages have arrived; all records. AssertionError on timeout."""
        return self._records.wait_for(n, timeout, f"MQTT subscriber on {self.topic}")

    def url(self, *, timeout: float | None = 2.0, **params: str) -> str:
        """The apprise URL that publishes to this topic: ``mqtt://127.0.0.1:1883/labourwatch/test/<hex>``.

        ``timeout`` becomes ``cto``/``rto``; ``params`` pass through (``qos="1"``...).
        """
        query: dict[str, str] = {}
        if timeout is not None:
            query["cto"] = query["rto"] = str(timeout)
        query.update(params)
        return f"mqtt://{self.host}:{self.port}/{quote(self.topic, safe='/')}{_query(query)}"


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes; whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
