"""Script-rendered pages: which requests of a crawl go through headless Chromium, and the settings that bound it.

Only the requests of sources with ``render: browser`` carry ``playwright: True``, and scrapy-playwright's download
handler (crawler/browser_handler.py) is installed only for a crawl that has such requests: a crawl without them
never imports Playwright nor starts a browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.types import CrawlOptions

CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright's own browser downloads are not used
HANDLER = "crawler.browser_handler.BrowserDownloadHandler"
# The flags the closed network here needs (without the background-networking ones Chromium keeps reaching out to
# Google services), and WebRTC held to proxied UDP, which with no proxy means none: a page's script cannot open
# UDP to a private address behind the request routing.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--disable-dev-shm-usage",
)
# Resource types a rendered page is loaded without: news text and links need none of them.
BLOCKED_RESOURCES = frozenset({"image", "font", "media", "stylesheet"})
# Each renderer's JavaScript heap is capped at this share of crawl.browser_memory (at most 512 MiB), so a runaway
# script runs out of heap in its own tab before the browser's RSS reaches the cap.
HEAP_SHARE = 4
MAX_HEAP_MIB = 512

# Sent by the handler for every request the browser was not allowed to make (and for a memory restart):
# arguments source_id, url, code, message. The spider records them as warnings on the source.
browser_event = object()


def renders(options: CrawlOptions, source_id: str | None) -> bool:
    """Whether the pages of ``source_id`` are rendered in the browser (``render: browser``)."""
    return source_id is not None and source_id in options.browser_sources


def needs_browser(options: CrawlOptions, source_ids: Iterable[str | None]) -> bool:
    """Whether a crawl of these sources' documents and articles has any request for the browser."""
    return any(renders(options, source_id) for source_id in source_ids)


def heap_mib(options: CrawlOptions) -> int:
    """The JavaScript heap limit of one renderer, in MiB."""
    return max(64, min(MAX_HEAP_MIB, options.browser_memory // (1024 * 1024) // HEAP_SHARE))


def browser_settings(options: CrawlOptions, handlers: dict[str, Any]) -> dict[str, Any]:
    """The Scrapy settings that install the browser handler for http(s) (other ``handlers`` kept) and bound it."""
    return {
        "DOWNLOAD_HANDLERS": {**handlers, "http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": CHROMIUM, "headless": True, "chromium_sandbox": False,
            "args": [*CHROMIUM_ARGS, f"--js-flags=--max-old-space-size={heap_mib(options)}"],
        },
        # One context, a bounded pool of pages in it: a request waits for a free page.
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": options.browser_pages,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": options.browser_timeout * 1000,
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
        "LABOURWATCH_BROWSER_MEMORY": options.browser_memory,
        "LABOURWATCH_BROWSER_TIMEOUT": options.browser_timeout,
    }
