"""Login throttling: failed token logins counted per client address and over all clients.

An address with ``per_address`` failed logins within ``address_window`` is refused (429, with Retry-After) until
the oldest of them is that old; and when all clients together failed ``overall`` times within ``overall_window``,
every login is refused until the oldest of those is that old (guessing spread over many addresses). A refused
attempt is not checked, so it tells nothing about the token, and it is not counted, so waiting always ends. Only
wrong tokens count; a successful login clears its address's count. Memory stays bounded: each address keeps at
most ``per_address`` times, and at most ``max_addresses`` addresses are kept (those failing longest ago go first).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from web.types import ThrottleRules


class LoginThrottle:
    """Failed-login counts; ``clock`` (monotonic seconds) is injectable for tests."""

    def __init__(self, rules: ThrottleRules | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules or ThrottleRules()
        self._clock = clock
        self._lock = threading.Lock()
        self._by_address: dict[str, deque[float]] = {}
        self._overall: deque[float] = deque(maxlen=self.rules.overall)

    def retry_after(self, address: str) -> int | None:
        """Whole seconds ``address`` must wait before its next login attempt is checked; None: it may try now."""
        rules, now = self.rules, self._clock()
        with self._lock:
            waits = [0.0]
            mine = self._by_address.get(address)
            if mine is not None and len(mine) == rules.per_address:
                waits.append(mine[0] + rules.address_window - now)
            if len(self._overall) == rules.overall:
                waits.append(self._overall[0] + rules.overall_window - now)
        wait = max(waits)
        return math.ceil(wait) if wait > 0 else None

    def failed(self, address: str) -> None:
        """Count a wrong token from ``address``."""
        now = self._clock()
        with self._lock:
            self._overall.append(now)
            mine = self._by_address.pop(address, None) or deque(maxlen=self.rules.per_address)
            mine.append(now)
            self._by_address[address] = mine  # re-inserted: the dict stays ordered by last failure
            if len(self._by_address) > self.rules.max_addresses:
                self._forget(now)

    def succeeded(self, address: str) -> None:
        """A correct token from ``address``: its failures are forgotten."""
        with self._lock:
            self._by_address.pop(address, None)

    def _forget(self, now: float) -> None:
        # Addresses whose last failure left the window first; then, if still too many, the longest ago.
        cutoff = now - self.rules.address_window
        for address in [a for a, times in self._by_address.items() if times[-1] <= cutoff]:
            del self._by_address[address]
        while len(self._by_address) > self.rules.max_addresses:
            del self._by_address[next(iter(self._by_address))]
