"""scrapy-playwright's download handler held to labourwatch's rules: every request a rendered page makes passes the
crawl's address guard, images, fonts, media and stylesheets are never fetched, a page has ``crawl.browser_timeout``
to load, and the browser is restarted when its processes hold more than ``crawl.browser_memory`` (summed PSS).

Requests without ``playwright: True`` in their meta go to Scrapy's own HTTP handler, as scrapy-playwright does.
"""

from __future__ import annotations

import asyncio
import logging
import os
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, WebSocketRoute
from playwright.async_api import Request as PlaywrightRequest
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawler.browser import BLOCKED_RESOURCES, browser_event
from crawler.browser_proxy import GuardProxy
from crawler.procstat import command_line, descendants, pss_bytes
from crawler.resolver import AddressGuard, BlockedAddressError

logger = logging.getLogger(__name__)

# The browser context every rendered page opens in: no service workers (their requests would bypass the routing
# that checks addresses) and no downloads written to disk.
CONTEXT_OPTIONS: dict[str, Any] = {"service_workers": "block", "accept_downloads": False}
MEMORY_CHECK_EVERY = 1.0  # seconds


def browser_memory() -> int:
    """Memory, in bytes, that this process's Playwright drivers and everything below them (Chromium's browser,
    renderer, GPU and utility processes) hold: their summed proportional set size."""
    drivers = [pid for pid in descendants(os.getpid()) if "run-driver" in command_line(pid)]
    tree = set(drivers).union(*(descendants(pid) for pid in drivers))
    return sum(pss_bytes(pid) for pid in tree)


class BrowserDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """The download handler of a crawl with ``render: browser`` sources (installed by crawler/browser.py)."""

    # Off only where the proxy's cost is measured (bench/browser_bench.py) and where a test shows what it prevents.
    proxied = True

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        # A guard of its own, with the crawl's allowance: the same rule and resolution as AddressGuardMiddleware.
        self.guard = AddressGuard(settings.getbool("LABOURWATCH_ALLOW_PRIVATE_NETWORKS"),
                                  timeout=settings.getfloat("DNS_TIMEOUT"))
        self.memory_cap = settings.getint("LABOURWATCH_BROWSER_MEMORY")
        self.page_timeout = settings.getfloat("LABOURWATCH_BROWSER_TIMEOUT")
        self.max_size = settings.getint("DOWNLOAD_MAXSIZE")
        # scrapy-playwright asks this for every request of a page (its PLAYWRIGHT_ABORT_REQUEST hook): an instance
        # method, since the answer needs this crawl's guard.
        self.abort_request = self._abort
        self.crawler_signals = crawler.signals
        # Every connection the browser opens goes through this proxy, which resolves, checks and pins each host
        # with the same guard (crawler/browser_proxy.py): Chromium resolves no name and preconnects nowhere else.
        # Playwright sends loopback through it too (it drops Chromium's implicit loopback bypass).
        self.proxy = GuardProxy(self.guard, self._proxy_refused)
        if self.proxied:
            self.config.launch_options = {**self.config.launch_options, "proxy": {"server": self.proxy.url}}
        self.peak_memory = 0
        self._sources: dict[Page, str | None] = {}  # each open page's source, for the requests it makes
        self._rendering: dict[Request, str | None] = {}  # each request being rendered, with its source
        self._watcher: asyncio.Future[None] | None = None

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        request.meta["playwright_context_kwargs"] = CONTEXT_OPTIONS
        # Read the page once its network has been quiet for 500 ms, not at its load event: a listing's script
        # usually fetches its links after the load event.
        request.meta["playwright_page_goto_kwargs"] = {"wait_until": "networkidle"}
        request.meta["playwright_page_init_callback"] = self._init_page
        await self.proxy.start()
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._watch_memory())
        self._rendering[request] = request.meta.get("lw_source")
        try:
            response: Response = await super().download_request(request)
        except PlaywrightTimeoutError as exc:
            raise DownloadTimeoutError(
                f"the browser did not load {request.url} within {self.page_timeout:g} s "
                "(crawl.browser_timeout)") from exc
        finally:
            self._rendering.pop(request, None)
        if self.max_size and len(response.body) > self.max_size:
            raise IgnoreRequest(f"the rendered page of {request.url} is larger than DOWNLOAD_MAXSIZE "
                                f"({len(response.body)} > {self.max_size} bytes)")
        return response

    async def _init_page(self, page: Page, request: Request) -> None:
        """Before the page navigates: remember whose page it is, and refuse its WebSockets (never routed)."""
        self._sources[page] = request.meta.get("lw_source")
        page.on("close", self._forget)

        async def refuse(socket: WebSocketRoute) -> None:
            self._report(self._sources.get(page), socket.url, "browser_blocked",
                         f"refused WebSocket {socket.url}: a rendered page opens none")
            await socket.close(code=1008, reason="refused")

        await page.route_web_socket("**", refuse)

    def _forget(self, page: Page) -> None:
        self._sources.pop(page, None)

    async def _abort(self, request: PlaywrightRequest) -> bool:
        """Whether the browser must not make ``request``: a blocked resource type, or a refused address."""
        if request.resource_type in BLOCKED_RESOURCES:
            return True
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):  # no network involved
            return False
        try:
            if parts.scheme not in ("http", "https"):
                raise BlockedAddressError(f"only http(s) URLs are fetched, not {parts.scheme}:")
            await self.guard.check(parts.hostname or "")
        except BlockedAddressError as exc:
            source = None
            with suppress(PlaywrightError):
                source = self._sources.get(request.frame.page)
            self._report(source, request.url, "browser_blocked", f"refused {request.url}: {exc}")
            return True
        except CannotResolveHostError:
            return True  # the browser would not reach it either; not resolving it again is safer
        return False

    def _proxy_refused(self, url: str, message: str) -> None:
        # The proxy sees connections, not pages: the source is known only while one source's pages render.
        sources = set(self._rendering.values())
        self._report(sources.pop() if len(sources) == 1 else None, url, "browser_blocked", message)

    def _report(self, source_id: str | None, url: str, code: str, message: str) -> None:
        self.stats.inc_value(f"labourwatch/{code}")
        logger.info("source %s: %s", source_id, message)
        self.crawler_signals.send_catch_log(browser_event, source_id=source_id, url=url, code=code, message=message)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        await super().close()
        await self.proxy.close()

    async def _watch_memory(self) -> None:
        """While the browser is in use, check its memory every second (reading /proc costs a few ms, in a thread)."""
        while True:
            await asyncio.sleep(MEMORY_CHECK_EVERY)
            try:
                await self._check_memory()
            except Exception:  # a check that failed once must not end the watch
                logger.exception("checking the browser's memory failed")

    async def _check_memory(self) -> None:
        """Restart the browser when its processes hold more than the cap; the sources of the requests being
        rendered then get a ``browser_memory`` warning (those pages fail, and are fetched again next poll)."""
        held = await asyncio.to_thread(browser_memory)
        self.peak_memory = max(self.peak_memory, held)
        self.stats.max_value("labourwatch/browser_memory_max", held)
        browser = getattr(self, "browser", None)
        if held <= self.memory_cap or browser is None:
            return
        message = (f"the browser held {held // 2**20} MiB, more than crawl.browser_memory "
                   f"({self.memory_cap // 2**20} MiB): restarted")
        logger.warning("%s", message)
        for request, source_id in list(self._rendering.items()):
            self._report(source_id, request.url, "browser_memory", message)
        with suppress(PlaywrightError):
            await browser.close()  # scrapy-playwright launches a new one for the next page
