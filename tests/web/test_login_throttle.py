"""Login throttling through the real app (Starlette's TestClient, in process) with an injected clock: failed
token logins per client address and over all clients, answered 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from db.engine import Database
from labourwatch.config import load_config
from tests.web.test_review import ORIGIN, TOKEN, form_csrf
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.throttle import LoginThrottle, ThrottleRules
from web.types import WebOptions


class Clock:
    """Monotonic seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Browser:
    """A client at one address that posts the login form (with its pre-login cookie and CSRF token)."""

    def __init__(self, app: object, address: str) -> None:
        self.client = TestClient(app, client=(address, 40000), raise_server_exceptions=False)  # type: ignore[arg-type]

    def log_in(self, token: str) -> httpx.Response:
        self.client.cookies.delete(SESSION_COOKIE)
        csrf = form_csrf(self.client.get("/login").text, "/login")  # a login ends the pre-login cookie
        return self.client.post("/login", data={"csrf": csrf, "name": "Ann", "token": token, "next": "/review"},
                                headers=ORIGIN, follow_redirects=False)


@pytest.fixture
def browsers(sqlite_database: Database, clock: Clock) -> Iterator[dict[str, Browser]]:
    """Browsers by address, all on one app whose throttle reads ``clock``."""
    app = create_app(sqlite_database, WebOptions(token=TOKEN), LoginThrottle(clock=clock))
    made: dict[str, Browser] = {}

    class Browsers(dict[str, Browser]):
        def __missing__(self, address: str) -> Browser:
            made[address] = self[address] = Browser(app, address)
            return made[address]

    yield Browsers()
    for browser in made.values():
        browser.client.close()


def test_five_wrong_tokens_lock_out_that_address_for_fifteen_minutes(browsers: dict[str, Browser],
                                                                       clock: Clock) -> None:
    guesser = browsers["203.0.113.7"]
    for _ in range(5):
        assert guesser.log_in("wrong").status_code == 403
        clock.now += 10
    refused = guesser.log_in(TOKEN)  # even the right token: a throttled attempt is not checked
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(15 * 60 - 50)  # until the first failure is 15 minutes old
    assert "Too many failed logins" in refused.text and SESSION_COOKIE not in refused.cookies
    assert browsers["198.51.100.2"].log_in(TOKEN).status_code == 303  # another address is not affected
    clock.now += 15 * 60 - 51
    assert guesser.log_in(TOKEN).headers.get("Retry-After") == "1"
    clock.now += 1
    allowed = guesser.log_in(TOKEN)
    assert allowed.status_code == 303 and allowed.cookies.get(SESSION_COOKIE)


def test_attempts_while_locked_out_are_not_counted(browsers: dict[str, Browser], clock: Clock) -> None:
    guesser = browsers["203.0.113.7"]
    for _ in range(5):
        guesser.log_in("wrong")
    for _ in range(50):
        assert guesser.log_in("wrong").status_code == 429
        clock.now += 10
    clock.now += 15 * 60 - 500
    assert guesser.log_in("wrong").status_code == 403  # the window passed: checked (and counted) again


def test_a_successful_login_clears_the_count(browsers: dict[str, Browser]) -> None:
    reviewer = browsers["192.0.2.10"]
    for _ in range(4):
        assert reviewer.log_in("typo").status_code == 403
    assert reviewer.log_in(TOKEN).status_code == 303
    for _ in range(4):
        assert reviewer.log_in("typo").status_code == 403
    assert reviewer.log_in(TOKEN).status_code == 303


def test_guessing_from_many_addresses_hits_the_overall_cap(browsers: dict[str, Browser], clock: Clock) -> None:
    for n in range(30):
        assert browsers[f"10.0.{n}.1"].log_in("wrong").status_code == 403
        clock.now += 1
    refused = browsers["192.0.2.10"].log_in(TOKEN)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"  # the first of the 30 is 30 s old
    clock.now += 30
    assert browsers["192.0.2.10"].log_in(TOKEN).status_code == 303


def test_memory_is_bounded_by_the_number_of_addresses(clock: Clock) -> None:
    throttle = LoginThrottle(ThrottleRules(per_address=2, overall=1000, max_addresses=3), clock=clock)
    for n in range(10):
        throttle.failed(f"10.0.0.{n}")
        throttle.failed(f"10.0.0.{n}")
        clock.now += 1
    assert len(throttle._by_address) == 3
    assert throttle.retry_after("10.0.0.9") == 15 * 60 - 1 and throttle.retry_after("10.0.0.0") is None


def test_the_configured_limits_reach_the_app(sqlite_database: Database, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"web:\n  token: {TOKEN}\n  login_limits: {{per_address: 2, address_window: 1h}}\n")
    app = create_app(sqlite_database, load_config(config).web_options)
    guesser = Browser(app, "203.0.113.7")
    assert [guesser.log_in("wrong").status_code for _ in range(2)] == [403, 403]
    refused = guesser.log_in(TOKEN)
    assert refused.status_code == 429 and 3500 < int(refused.headers["Retry-After"]) <= 3600
    guesser.client.close()
