"""What the web UI is configured with; the shell builds it from the validated config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThrottleRules:
    """How many failed logins are allowed, and over what time (seconds): ``per_address`` from one client address
    within ``address_window``, ``overall`` from all clients together within ``overall_window``."""

    per_address: int = 5
    address_window: float = 15 * 60.0
    overall: int = 30
    overall_window: float = 60.0
    max_addresses: int = 10_000


@dataclass(frozen=True)
class WebOptions:
    """Where to listen, the write token (None: the UI is read-only), the page size of lists, the login limits and
    the crawler's default request headers."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = field(default=None, repr=False)
    page_size: int = 50
    login_limits: ThrottleRules = field(default_factory=ThrottleRules)
    # The headers the crawler sends by default (the shell reads them from the crawler's settings): the evidence
    # export writes them as each capture's request headers, which the crawl does not record.
    request_headers: tuple[tuple[str, str], ...] = ()
