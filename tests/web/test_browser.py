"""The web UI in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright's sync API) over a
database filled by two real crawls of the fixture news web and a hostile site: the pages and their diffs, the
review workflow behind the token login, CSRF refusals, and hostile article content that must stay text.

Screenshots go to tests/artifacts/screenshots/ (every page on a phone and a desktop among them); with
LABOURWATCH_DOCS_SCREENSHOTS=1 the six shown in the README are copied to docs/screenshots/ as well.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Locator, Page, expect, sync_playwright
from sqlalchemy import func, select

from crawler.reactor import ensure_reactor
from db.engine import Database
from db.migrate import upgrade
from db.models import ClaimMatchRow, Event, KnownClaim, Review, VersionDiffRow
from tests.web.conftest import (
    HOSTILE_IMG,
    HOSTILE_LINK,
    HOSTILE_SCRIPT,
    HOSTILE_STRINGS,
    HOSTILE_TABLE,
    NewsWeb,
    crawl_news,
    hostile_article_id,
)
from web.app import create_app
from web.types import WebOptions

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
DOCS_SHOTS = ("dashboard", "article-diff", "claim", "review-queue", "phone-events", "phone-claim")
TOKEN = "browser-test-token-7f3a"
REVIEWER = "Browser Reviewer"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
if not CHROMIUM.exists() and not os.environ.get("CI"):
    pytestmark.append(pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium); "
                                              "in CI (CI set) these tests fail instead"))


class AppServer:
    """The web app under uvicorn in a background thread, on a socket bound before it starts (no port race)."""

    def __init__(self, db: Database) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        app = create_app(db, WebOptions(token=TOKEN, page_size=10))
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="none", http="h11")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, name="uvicorn",
                                       daemon=True)

    def start(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.socket.close()


@dataclass
class Site:
    """The running UI and what the tests need to know about its data."""

    url: str
    db: Database
    news: NewsWeb
    hostile_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'web.db'}")
    upgrade(db)
    with NewsWeb.start() as news:
        crawl_news(db, news)
        server = AppServer(db).start()
        try:
            yield Site(server.url, db, news, hostile_article_id(db))
        finally:
            server.stop()
            db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The crawler's reactor adopts the thread's current event loop when first installed; Playwright's sync API
    # makes (and at the end closes) a loop of its own, so the reactor must be installed before it starts.
    ensure_reactor()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class Watch:
    """What a page did that it must not: dialogs, script errors, CSP refusals (something tried to run)."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.console.append(message.text)

    def csp_refusals(self) -> list[str]:
        return [text for text in self.console if "Content Security Policy" in text or "Refused to" in text]


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(site: Site, browser: Browser, watch: Watch) -> Iterator[Page]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.on("dialog", watch.on_dialog)
    opened.on("console", watch.on_console)
    opened.on("pageerror", lambda error: watch.errors.append(str(error)))
    yield opened
    context.close()
    assert watch.dialogs == [] and watch.errors == [] and watch.csp_refusals() == [], vars(watch)


def screenshot(page: Page, name: str, docs_at: Locator | None = None) -> Path:
    """A full-page PNG in tests/artifacts/screenshots/; for the README's six (LABOURWATCH_DOCS_SCREENSHOTS=1),
    also one screenful, from ``docs_at`` down, in docs/screenshots/ (a full page of a list is megabytes)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if name in DOCS_SHOTS and os.environ.get("LABOURWATCH_DOCS_SCREENSHOTS"):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if docs_at is not None:
            docs_at.evaluate("element => element.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(DOCS_SCREENSHOTS / f"{name}.png"), full_page=False)
        page.evaluate("window.scrollTo(0, 0)")
    return path


def assert_inert(page: Page, watch: Watch, shown: tuple[str, ...] = ()) -> None:
    """Nothing of the hostile content ran or became markup; ``shown`` appears literally, as text."""
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("h1").count() == 1  # the page's own: none made of "<h1>broken</h1>"
    assert page.get_by_role("heading", name="broken", exact=True).count() == 0
    assert page.locator('a[href^="javascript:"], img[onerror], img[src="x"], script:not([src])').count() == 0
    for text in shown:
        expect(page.get_by_text(text).filter(visible=True).first).to_be_visible()
    assert watch.dialogs == [] and watch.errors == [] and watch.csp_refusals() == []


def queue_item(page: Page, text: str) -> Locator:
    return page.locator("section.review-item").filter(has_text=text)


def find_item(page: Page, text: str) -> Locator:
    """The queued sentence containing ``text``, paging through the queue (newest first) to it."""
    page.goto("/review")
    while not queue_item(page, text).count():
        older = page.get_by_role("link", name="Older →")
        assert older.count(), f"{text!r} is not in the review queue"
        older.click()
    return queue_item(page, text)


def log_in(page: Page, token: str = TOKEN) -> None:
    page.goto("/login?next=/review")
    page.get_by_label("Your name").fill(REVIEWER)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Log in").click()


def review_count(site: Site) -> int:
    with site.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Review)) or 0)


def figure_edited_article(site: Site) -> int:
    """An ordinary fixture article whose second version changed a figure (the README's diff screenshot)."""
    with site.db.read() as session:
        diffs = session.execute(select(VersionDiffRow.article_id, VersionDiffRow.figures_before,
                                       VersionDiffRow.figures_after).order_by(VersionDiffRow.id))
        found = [article_id for article_id, before, after in diffs if before != after and article_id != site.hostile_id]
    assert found, "the fixture web's advance() edits a figure"
    return found[0]


def most_matched_claim(site: Site) -> str:
    with site.db.read() as session:
        found = session.scalar(select(ClaimMatchRow.claim_id).where(ClaimMatchRow.claim_id.is_not(None))
                               .group_by(ClaimMatchRow.claim_id)
                               .order_by(func.count().desc(), ClaimMatchRow.claim_id).limit(1))
    assert found
    return found


def assert_highlighted(locator: Locator) -> None:
    expect(locator.first).to_be_visible()
    background = locator.first.evaluate("element => getComputedStyle(element).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent", "rgb(255, 255, 255)"), background


# --- the researcher pages --------------------------------------------------------------------------------------

def test_dashboard_article_diff_and_claim_pages(page: Page, site: Site, watch: Watch) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator("#latest-events table.events tbody tr").first).to_be_visible()
    assert_inert(page, watch)
    screenshot(page, "dashboard")

    page.goto(f"/articles/{figure_edited_article(site)}")
    diff = page.locator("#v2 .diff")
    for view in (".diff-inline", ".diff-columns"):  # both views of the same change, added and removed marked
        expect(diff.locator(view)).to_be_visible()
        assert_highlighted(diff.locator(f"{view} ins"))
        assert_highlighted(diff.locator(f"{view} del"))
    expect(diff.locator("mark.figure-changed").first).to_be_visible()
    assert_inert(page, watch)
    screenshot(page, "article-diff", docs_at=page.locator("#v2"))

    claim_id = most_matched_claim(site)
    page.goto(f"/claims/{claim_id}")
    expect(page.get_by_role("heading", name=f"Claim {claim_id}", level=1)).to_be_visible()
    expect(page.locator("table.matches tbody tr").first).to_be_visible()
    assert_inert(page, watch)
    screenshot(page, "claim")


def test_hostile_article_content_stays_text_on_every_page_that_shows_it(page: Page, site: Site,
                                                                         watch: Watch) -> None:
    with site.db.read() as session:
        hostile_claims = sorted({claim_id for (claim_id,) in session.execute(
            select(ClaimMatchRow.claim_id).where(ClaimMatchRow.article_id == site.hostile_id,
                                                 ClaimMatchRow.claim_id.is_not(None)))})
    assert hostile_claims, "the hostile article's sentences restate known claims"
    # The events page filtered to the hostile source: on the unfiltered first page, how many other events
    # are newer depends on the order pages finished in.
    pages = [("/", (HOSTILE_SCRIPT,)), ("/events?source=hostile-rss", (HOSTILE_SCRIPT, HOSTILE_TABLE)),
             (f"/articles/{site.hostile_id}", HOSTILE_STRINGS), ("/claims", ()),
             ("/articles?source=hostile-rss", (HOSTILE_SCRIPT, HOSTILE_TABLE)),
             ("/diffs?source=hostile-rss", (HOSTILE_SCRIPT, HOSTILE_TABLE)), ("/sources", ()),
             ("/search?q=shipyards+Primorye", (HOSTILE_SCRIPT,)),
             ("/search?q=shipyard*+Primorye&xlang=1", (HOSTILE_SCRIPT,)),
             *((f"/claims/{claim_id}", ()) for claim_id in hostile_claims)]
    shown_on_claim_pages = set()
    for url, shown in pages:
        page.goto(url)
        assert_inert(page, watch, shown)
        shown_on_claim_pages.update(text for text in HOSTILE_STRINGS if url.startswith("/claims/")
                                    and page.get_by_text(text).count())
    assert shown_on_claim_pages  # the claim pages list the hostile sentences that matched them
    page.goto(f"/articles/{site.hostile_id}")
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text(HOSTILE_TABLE)  # the headline itself, as text
    # The edit's diff (a headline and a figure changed) shows the markup as text too, in both views.
    diff = page.locator("#v2 .diff")
    expect(diff.locator(".headline-change")).to_contain_text(HOSTILE_SCRIPT)
    expect(diff.locator(".diff-inline")).to_contain_text(HOSTILE_IMG)
    expect(diff.locator(".diff-columns")).to_contain_text(HOSTILE_LINK)
    screenshot(page, "article-hostile")


# --- the review workflow ---------------------------------------------------------------------------------------

def test_review_queue_read_only_until_logged_in_then_promote_link_and_dismiss(page: Page, site: Site,
                                                                              watch: Watch) -> None:
    find_item(page, "lists 3,400 North Korean workers")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    expect(page.get_by_role("link", name="Log in to review")).to_be_visible()
    assert page.locator("form[action^='/review/']").count() == 0
    assert_inert(page, watch, ("lists 3,400 North Korean workers", HOSTILE_TABLE))

    log_in(page, token="not the token")
    expect(page.get_by_role("alert")).to_have_text("Wrong token.")
    log_in(page)
    expect(page).to_have_url(re.compile(r"/review$"))
    expect(page.locator(".review-session")).to_contain_text(f"Reviewing as {REVIEWER}")
    # The README's view: the second page, ordinary fixture sentences (the first is the hostile article's).
    page.goto("/review?page=2")
    screenshot(page, "review-queue")

    # Promote the table-breaker sentence, keeping its text: the new claim's page must show it as text.
    item = find_item(page, "lists 3,400 North Korean workers")
    item.get_by_text("Promote to a new claim…").click()
    expect(item.get_by_label("Figures")).to_have_value("3400:workers")
    item.get_by_label("Subject").fill("DPRK workers at Primorye shipyards")
    item.get_by_role("button", name="Promote").click()
    expect(page.get_by_role("status")).to_contain_text("promoted to new claim R0001")
    assert queue_item(page, "lists 3,400 North Korean workers").count() == 0
    page.get_by_role("status").get_by_role("link", name="R0001").click()
    expect(page).to_have_url(re.compile(r"/claims/R0001$"))
    assert_inert(page, watch, (HOSTILE_TABLE,))
    with site.db.read() as session:
        claim = session.get(KnownClaim, "R0001")
    assert claim is not None and claim.status == "active" and HOSTILE_TABLE in claim.text

    # Link the javascript: sentence to K04, and dismiss another one.
    item = find_item(page, "Readers were told to")
    assert_inert(page, watch, (HOSTILE_LINK,))
    item.get_by_label("Link to").select_option("K04")
    item.get_by_role("button", name="Link").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile(r"linked to claim K04 \((corroborates|updates)\)"))
    find_item(page, "Most of their wages go to the state").get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("status")).to_contain_text("dismissed")
    for gone in ("Readers were told to", "Most of their wages go to the state", "lists 3,400 North Korean"):
        with pytest.raises(AssertionError, match="not in the review queue"):
            find_item(page, gone)

    page.goto("/review?state=done")
    rows = page.locator("table.decisions tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("dismiss")
    expect(page.locator("table.decisions")).to_contain_text(REVIEWER)
    assert_inert(page, watch, (HOSTILE_TABLE, HOSTILE_LINK))
    assert review_count(site) == 3


def test_writes_without_a_csrf_token_or_from_another_origin_are_refused(page: Page, site: Site,
                                                                        watch: Watch) -> None:
    log_in(page)
    page.goto("/review")
    first = page.locator("section.review-item").first
    match_id = first.get_attribute("data-match")
    assert match_id
    action = f"/review/{match_id}/dismiss"
    before = review_count(site)

    # The logged-in browser's cookies, but no CSRF token: refused, by API request and by a stripped form.
    response = page.request.post(action, form={"note": "no token"}, headers={"Origin": site.url})
    assert response.status == 403 and "CSRF" in response.text()
    response = page.request.post(action, form={"csrf": "0" * 64}, headers={"Origin": site.url})
    assert response.status == 403
    first.locator("form.dismiss input[name=csrf]").evaluate("input => input.remove()")
    first.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("heading", name="Error 403")).to_be_visible()
    expect(page.get_by_text("CSRF token is missing or wrong")).to_be_visible()

    # A page on another origin (same site: SameSite cookies go along) posting the form: refused by origin.
    site.news.hostile.attack_target = f"{site.url}{action}"
    page.goto(f"{site.news.hostile.origin}/attack")
    page.get_by_role("button", name="Claim your prize").click()
    expect(page.get_by_role("heading", name="Error 403")).to_be_visible()
    expect(page.get_by_text("did not come from a page of this site")).to_be_visible()
    assert review_count(site) == before
    page.goto("/review")
    expect(page.locator(f"#match-{match_id}")).to_be_visible()  # still queued


# --- every page on a phone and on a desktop (issue 17) ---------------------------------------------------------

PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 800}
NAV_LINKS = ("Review", "Search", "API")


def every_page(site: Site) -> dict[str, str]:
    """A URL of each kind of page, by name; the claim is one with an amount, so that its page has a chart."""
    with site.db.read() as session:
        event_id = session.scalar(select(func.max(Event.id)))
    return {"dashboard": "/", "events": "/events", "event": f"/events/{event_id}",
            "article": f"/articles/{figure_edited_article(site)}", "claims": "/claims", "claim": "/claims/K01",
            "review": "/review", "search": "/search?q=North+Korean+workers", "api": "/api", "login": "/login"}


def open_nav(page: Page) -> None:
    """Open the header's menu if it is one (a <details>); a wrapping nav has every link in sight already."""
    toggle = page.locator("header.top summary")
    if toggle.count() and toggle.is_visible() and toggle.locator("xpath=..").get_attribute("open") is None:
        toggle.click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_page_fits_the_screen_and_its_links_are_in_reach(site: Site, browser: Browser,
                                                                viewport: dict[str, int]) -> None:
    kind = "phone" if viewport == PHONE else "desktop"
    context = browser.new_context(base_url=site.url, viewport=viewport)  # type: ignore[arg-type]
    page, watch = context.new_page(), Watch()
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    try:
        for name, url in every_page(site).items():
            page.goto(url)
            expect(page.locator("h1")).to_be_visible()
            width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert width <= inner, f"{kind} {url}: the page is {width} px wide on a {inner} px screen"
            open_nav(page)
            for link in NAV_LINKS:
                found = page.locator("header.top nav").get_by_role("link", name=link, exact=True)
                expect(found).to_be_visible()
                box = found.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= inner, (kind, url, link, box)
            if kind == "desktop":  # as before: the brand, the links and the search box on one row
                header = page.locator("header.top").bounding_box()
                assert header and header["height"] < 60, header
            # The README's phone view of a claim starts at its figure history, the chart first.
            screenshot(page, f"{kind}-{name}",
                       docs_at=page.get_by_role("heading", name="Figure history") if name == "claim" else None)
        if kind == "phone":  # the narrowest phones in use: nothing wider at 360 px either
            page.set_viewport_size({"width": 360, "height": 740})
            for url in every_page(site).values():
                page.goto(url)
                assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
            page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        for name, chart in (("dashboard", "svg.events-chart"), ("claim", "svg.figure-chart")):
            page.goto(every_page(site)[name])
            box = page.locator(chart).bounding_box()
            assert box and box["width"] <= viewport["width"] and box["height"] > 100, (kind, name, box)
        page.goto("/events")
        summary = page.locator("table.events td.summary").first
        if kind == "phone":
            # Compact rows: the column headings give way to cards, a summary is cut at two lines.
            expect(page.locator("table.events thead")).not_to_be_in_viewport()
            assert (summary.bounding_box() or {"height": 999})["height"] <= 46
        else:
            expect(page.locator("table.events thead")).to_be_visible()
    finally:
        context.close()
    assert watch.errors == [] and watch.csp_refusals() == [], vars(watch)
