"""Guards on the private Scrapy and Twisted APIs labourwatch relies on, and on the pins that keep them.

Each has no public replacement today. When an upgrade removes or reshapes one, these fail first and say what to
change, instead of a crawl failing somewhere deep (or, for the robots.txt override, silently doing nothing).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _dependency(name: str, group: str | None = None) -> SpecifierSet:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    requirements = project["optional-dependencies"][group] if group else project["dependencies"]
    for requirement in requirements:
        found = re.fullmatch(rf"{re.escape(name)}(?:\[[^]]*\])?\s*(.*)", requirement, re.IGNORECASE)
        if found:
            return SpecifierSet(found.group(1))
    raise AssertionError(f"{name} is not a dependency in pyproject.toml")


def test_the_asyncio_reactor_still_keeps_its_loop_in_the_private_attribute_we_read() -> None:
    from twisted.internet.asyncioreactor import AsyncioSelectorReactor

    loop = asyncio.new_event_loop()
    try:
        reactor = AsyncioSelectorReactor(loop)  # an instance of our own: the process's installed reactor is untouched
        held = getattr(reactor, "_asyncioEventloop", None)
    finally:
        loop.close()
    assert held is loop, (
        f"Twisted {version('twisted')}: AsyncioSelectorReactor no longer keeps its asyncio loop in "
        "`_asyncioEventloop`, which crawler/reactor.py (ensure_reactor, shutdown) reads. Find where the loop is "
        "kept now (or a public accessor), change crawler/reactor.py, then raise the twisted pin in pyproject.toml.")


def test_scrapys_robots_middleware_still_routes_every_robots_txt_through_the_method_we_override() -> None:
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

    from crawler.middlewares import StrictRobotsTxtMiddleware

    original = getattr(RobotsTxtMiddleware, "_parse_robots", None)
    where = f"Scrapy {version('scrapy')}: RobotsTxtMiddleware"
    fix = ("crawler/middlewares.py StrictRobotsTxtMiddleware overrides it to read a 5xx robots.txt as 'disallow "
           "all'; port the override to what Scrapy does now, then raise the scrapy pin in pyproject.toml.")
    assert original is not None and inspect.iscoroutinefunction(original), \
        f"{where} has no coroutine method `_parse_robots` any more. {fix}"
    assert list(inspect.signature(original).parameters) == ["self", "response", "netloc", "request"], \
        f"{where}._parse_robots takes {inspect.signature(original)} now. {fix}"
    callers = [name for name, member in vars(RobotsTxtMiddleware).items()
               if name != "_parse_robots" and inspect.isfunction(member)
               and "self._parse_robots(" in inspect.getsource(member)]
    assert callers, f"{where} no longer calls `self._parse_robots(...)`, so the override would never run. {fix}"
    assert StrictRobotsTxtMiddleware._parse_robots is not original


def test_scrapys_robots_middleware_still_reports_fetch_errors_through_the_method_we_override() -> None:
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

    original = getattr(RobotsTxtMiddleware, "_robots_error", None)
    where = f"Scrapy {version('scrapy')}: RobotsTxtMiddleware"
    fix = ("crawler/middlewares.py StrictRobotsTxtMiddleware overrides it to read an unreachable robots.txt as "
           "'disallow all' (RFC 9309); port the override, then raise the scrapy pin in pyproject.toml.")
    assert original is not None and list(inspect.signature(original).parameters) == ["self", "exc", "netloc"], \
        f"{where}._robots_error is gone or takes other arguments. {fix}"
    assert "self._robots_error(" in inspect.getsource(RobotsTxtMiddleware.robot_parser), \
        f"{where}.robot_parser no longer calls `self._robots_error(...)`. {fix}"
    assert "self._parsers" in inspect.getsource(original), f"{where} keeps its parsers elsewhere now. {fix}"


def test_the_public_twisted_name_of_responsefailed_is_the_private_class() -> None:
    from twisted.web import _newclient, client

    assert client.ResponseFailed is _newclient.ResponseFailed, (
        f"Twisted {version('twisted')}: twisted.web.client.ResponseFailed is not the HTTP client's class any "
        "more; crawler/errors.py maps it to the 'truncated' error code.")


def test_the_libraries_with_private_apis_and_the_gating_linters_are_pinned_to_what_is_installed() -> None:
    # Each pin has an upper bound (a release cannot break the crawl or CI by surprise) that admits the
    # installed version (the bound was not left behind by a deliberate bump).
    pins = {"scrapy": _dependency("scrapy"), "twisted": _dependency("twisted"),
            "scrapy-playwright": _dependency("scrapy-playwright"), "ruff": _dependency("ruff", "test"), "mypy": _dependency("mypy", "test")}
    for name, pin in pins.items():
        assert any(spec.operator in ("<", "<=", "~=", "==") for spec in pin), f"{name} has no upper bound: {pin}"
        assert version(name) in pin, f"{name} {version(name)} is installed, but pyproject.toml pins {pin}"


def test_the_fork_server_can_still_be_stopped_and_restarted_as_the_idle_workers_are() -> None:
    from multiprocessing import forkserver

    server = forkserver._forkserver
    fix = ("crawler/workers.py stop_if_idle stops the idle workers' fork server with ForkServer._stop() and reads "
           "its pid from _forkserver_pid (forkserver_pid); find the new way (CPython's Lib/multiprocessing/"
           "forkserver.py) and change them.")
    stop = getattr(server, "_stop", None)
    assert callable(stop) and not list(inspect.signature(stop).parameters), fix
    assert hasattr(server, "_forkserver_pid") and hasattr(server, "_forkserver_alive_fd"), fix
    # ensure_running() starts a new fork server once _stop() has cleared its pid: the next pool gets one.
    assert "self._forkserver_pid is not None" in inspect.getsource(forkserver.ForkServer.ensure_running), fix


def test_the_resource_tracker_can_still_be_stopped_and_restarted_as_the_idle_workers_are() -> None:
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker
    fix = ("crawler/workers.py _stop_resource_tracker stops the resource tracker with ResourceTracker._stop() when "
           "the idle workers stop; find the new way (CPython's Lib/multiprocessing/resource_tracker.py) and change it.")
    stop = getattr(tracker, "_stop", None)
    assert callable(stop) and all(p.default is not p.empty for p in inspect.signature(stop).parameters.values()), fix
    assert hasattr(tracker, "_pid"), fix  # the tests read it
    # ensure_running() starts a new tracker once _stop() has cleared its fd: the next fork server gets one.
    assert "self._fd is not None" in inspect.getsource(resource_tracker.ResourceTracker.ensure_running), fix


def test_scrapy_playwright_still_offers_the_hooks_the_browser_handler_uses() -> None:
    from scrapy_playwright import _utils
    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler as Handler

    where = f"scrapy-playwright {version('scrapy-playwright')}"
    fix = ("crawler/browser_handler.py relies on it to check the address of every request a rendered page makes "
           "and to restart a browser over its memory cap; port it, then change the exact pin in pyproject.toml.")
    source = inspect.getsource(Handler)
    # Every request a page makes is put to self.abort_request (the PLAYWRIGHT_ABORT_REQUEST hook), which we set.
    assert "self.abort_request(playwright_request)" in inspect.getsource(Handler._make_request_handler), \
        f"{where}: the page's route handler no longer asks self.abort_request. {fix}"
    # The meta keys the handler sets on each rendered request.
    for key in ("playwright_context_kwargs", "playwright_page_goto_kwargs"):
        assert f'"{key}"' in source, f"{where} no longer reads request.meta[{key!r}]. {fix}"
    assert '"playwright_page_init_callback"' in inspect.getsource(_utils._maybe_execute_page_init_callback), \
        f"{where} no longer calls request.meta['playwright_page_init_callback']. {fix}"
    # Closing self.browser makes the handler forget it and launch a new one for the next page.
    assert "del self.browser" in inspect.getsource(Handler._browser_disconnected_callback), \
        f"{where} no longer restarts a disconnected browser. {fix}"
    assert inspect.iscoroutinefunction(Handler.download_request) and inspect.iscoroutinefunction(Handler.close), \
        f"{where}: download_request and close are no longer coroutines. {fix}"
    # The browser is launched with self.config.launch_options as they are at launch: the handler adds the proxy.
    from scrapy_playwright.provider import PlaywrightBrowserProvider

    assert "launch(**self.config.launch_options)" in inspect.getsource(PlaywrightBrowserProvider), \
        f"{where} no longer launches with config.launch_options read at launch. {fix}"


def test_scrapys_downloader_still_queues_delayed_requests_where_a_stop_drops_them() -> None:
    from collections import deque

    from scrapy.core.downloader import Downloader, Slot
    from scrapy.crawler import Crawler
    from scrapy.spiders import Spider

    where = f"Scrapy {version('scrapy')}"
    fix = ("crawler/runner.py _stop_engine drops the downloads that wait out the request delay (each of the "
           "downloader's `slots` keeps them in `queue` as (request, deferred) pairs; the engine is read from the "
           "crawler's `_engine`, unset until the crawl starts); port it to what Scrapy does now, then raise the scrapy "
           "pin in pyproject.toml.")
    assert isinstance(Slot(concurrency=1, delay=0.0).queue, deque), f"{where}: Slot.queue is no deque any more. {fix}"
    assert "self.slots" in inspect.getsource(Downloader.__init__), f"{where}: Downloader keeps no `slots`. {fix}"
    assert getattr(Crawler(Spider), "_engine", "missing") is None, f"{where}: Crawler keeps no `_engine`. {fix}"


def test_procrastinates_worker_still_keeps_the_id_and_shutdown_bound_a_reload_drain_uses() -> None:
    from procrastinate.worker import Worker

    where = f"procrastinate {version('procrastinate')}"
    fix = ("scheduler/cluster.py _drain lets a worker a reload replaced finish its running jobs without a bound (its "
           "`shutdown_graceful_timeout`, read when it stops) and keeps its heartbeat up meanwhile with its "
           "`worker_id` (Procrastinate stops the heartbeat before it waits for the jobs); port it, then raise the "
           "procrastinate pin in pyproject.toml.")
    shutdown = inspect.getsource(Worker._shutdown)
    assert "self.shutdown_graceful_timeout" in shutdown, f"{where}: the stop reads no shutdown bound. {fix}"
    assert "self.worker_id" in inspect.getsource(Worker.run), f"{where}: the worker keeps no `worker_id`. {fix}"
