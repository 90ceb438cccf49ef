"""Address pinning: a name is resolved once, checked, and the connection goes to the checked address; redirects
to metadata addresses are refused on every hop. Real crawls against servers on 127.0.0.1; the name lookup
(what ``rebind.test`` resolves to) is the one injected part."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from scrapy.exceptions import CannotResolveHostError

from crawler import resolver
from crawler.addresses import IPAddress, literal_address
from crawler.resolver import AddressGuard, BlockedAddressError, PinnedResolver, system_lookup
from db.engine import Database
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs

METADATA = "169.254.169.254"


class FakeDNS:
    """Answers for made-up names, one answer per lookup (the last one repeats); other names go to the system."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: Counter[str] = Counter()

    async def __call__(self, host: str) -> list[str]:
        self.calls[host] += 1
        if host not in self.answers:
            return await system_lookup(host)
        sequence = self.answers[host]
        return sequence.pop(0) if len(sequence) > 1 else sequence[0]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDNS]:
    fake = FakeDNS({})
    monkeypatch.setattr(resolver, "LOOKUP", fake)
    yield fake


# --- the guard and the resolver on their own ---------------------------------------------------------------

class Receiver:
    """An IResolutionReceiver that keeps what it is told."""

    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.done = asyncio.Event()

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.done.set()


def ip(text: str) -> IPAddress:
    address = literal_address(text)
    assert address is not None
    return address


def test_a_name_is_looked_up_once_per_crawl_and_answers_connections_from_the_pin() -> None:
    fake = FakeDNS({"rebind.test": [["127.0.0.1"], [METADATA]]})
    guard = AddressGuard(allow_private=True, lookup=fake)
    pinned = PinnedResolver()
    pinned.activate(guard)

    async def scenario() -> list[str]:
        assert await asyncio.gather(guard.check("rebind.test"), guard.check("REBIND.test")) == [(ip("127.0.0.1"),)] * 2
        receiver = Receiver()
        pinned.resolveHostName(receiver, "rebind.test", 8080)
        await receiver.done.wait()
        return [f"{a.host}:{a.port}" for a in receiver.addresses]

    assert asyncio.run(scenario()) == ["127.0.0.1:8080"]
    assert fake.calls["rebind.test"] == 1  # the second answer (the metadata address) was never asked for


def test_a_name_with_one_refused_address_among_others_is_refused() -> None:
    guard = AddressGuard(allow_private=True, lookup=FakeDNS({"mixed.test": [["93.184.216.34", METADATA]]}))
    with pytest.raises(BlockedAddressError, match="metadata"):
        asyncio.run(guard.check("mixed.test"))


def test_a_failed_lookup_is_a_dns_error() -> None:
    async def failing(host: str) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(CannotResolveHostError, match=r"nowhere\.test"):
        asyncio.run(AddressGuard(allow_private=True, lookup=failing).check("nowhere.test"))


def test_connections_get_only_what_every_active_crawl_allows() -> None:
    lenient, strict = AddressGuard(allow_private=True), AddressGuard(allow_private=False)
    lenient.pins["intranet.test"] = (ip("10.0.0.5"),)
    pinned = PinnedResolver()
    pinned.activate(lenient)
    pinned.activate(strict)
    receiver = Receiver()
    pinned.resolveHostName(receiver, "intranet.test", 80)
    assert receiver.done.is_set() and receiver.addresses == []
    pinned.deactivate(strict)
    receiver = Receiver()
    pinned.resolveHostName(receiver, "intranet.test", 80)
    assert [a.host for a in receiver.addresses] == ["10.0.0.5"]


def test_an_unchecked_name_is_resolved_once_and_held_to_the_policy() -> None:
    fake = FakeDNS({"unchecked.test": [[METADATA]], "other.test": [["127.0.0.1"]]})
    pinned = PinnedResolver()
    pinned.activate(AddressGuard(allow_private=True, lookup=fake))

    async def answer(host: str) -> list[str]:
        receiver = Receiver()
        pinned.resolveHostName(receiver, host, 80)
        await receiver.done.wait()
        return [a.host for a in receiver.addresses]

    assert asyncio.run(answer("unchecked.test")) == []
    assert asyncio.run(answer("other.test")) == ["127.0.0.1"]


# --- real crawls ------------------------------------------------------------------------------------------

def feeds_at(web: FixtureWeb, host: str) -> list[dict[str, str]]:
    return [{**s, "url": s["url"].replace("127.0.0.1", host)} for s in web.sources(kinds={"feed"})]


def test_a_crawl_connects_to_the_address_the_guard_checked(database: Database, web: FixtureWeb,
                                                           dns: FakeDNS) -> None:
    # rebind.test resolves to the fixture web first, to the metadata address on every later lookup: a crawl
    # that resolved again when connecting (robots.txt and feed of each site, one connection per port) fails.
    dns.answers["rebind.test"] = [["127.0.0.1"], [METADATA]]
    sources = feeds_at(web, "rebind.test")
    report = crawl(database, specs(sources))
    assert {sid: r.error_code for sid, r in report.ledger.sources.items()} == {s["id"]: None for s in sources}
    assert {r.path for r in web.requests} >= {"/robots.txt", "/rss.xml"}
    assert len({r.site_id for r in web.requests}) == len({urlsplit(s["url"]).port for s in sources}) > 1
    assert dns.calls["rebind.test"] == 1


def test_a_name_resolving_to_a_metadata_address_is_refused_before_connecting(database: Database, web: FixtureWeb,
                                                                            dns: FakeDNS) -> None:
    dns.answers["rebind.test"] = [[METADATA], ["127.0.0.1"]]
    report = crawl(database, specs(feeds_at(web, "rebind.test")))
    assert {r.error_code for r in report.ledger.sources.values()} == {"blocked_address"}
    assert len(web.requests) == 0


class Redirects(ThreadingHTTPServer):
    """/hop1?to=X redirects to http://localhost:<port>/hop2?to=X, which redirects to X; robots.txt is 404."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RedirectHandler)
        self.port = int(self.server_address[1])
        self.paths: list[str] = []


class _RedirectHandler(BaseHTTPRequestHandler):
    server: Redirects

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.paths.append(parts.path)
        target = parse_qs(parts.query).get("to", [""])[0]
        if parts.path == "/hop1":
            target = f"http://localhost:{self.server.port}/hop2?to={quote(target, safe='')}"
        elif parts.path != "/hop2":
            self.send_error(404)
            return
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def redirects() -> Iterator[Redirects]:
    server = Redirects()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


METADATA_TARGETS = [
    "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://2852039166/",
    "http://0251.0376.0251.0376/", "http://100.100.100.200/latest/meta-data/", "http://[fd00:ec2::254]/",
    "http://192.0.0.192/", "http://[64:ff9b::a9fe:a9fe]/", "http://metadata.google.internal./computeMetadata/v1/",
    "http://rebind.test/latest/meta-data/",
]


def test_redirects_to_metadata_addresses_are_refused_on_every_hop(database: Database, redirects: Redirects,
                                                                  dns: FakeDNS) -> None:
    # The last hop's name resolves to the metadata address: refused at that hop, after two followed ones.
    dns.answers["rebind.test"] = [[METADATA]]
    sources = [{"id": f"redirect-{n}", "kind": "feed",
                "url": f"http://127.0.0.1:{redirects.port}/hop1?to={quote(target, safe='')}"}
               for n, target in enumerate(METADATA_TARGETS)]
    report = crawl(database, specs(sources))
    results = report.ledger.sources
    assert {sid: r.error_code for sid, r in results.items()} == {s["id"]: "blocked_address" for s in sources}
    assert all("refused" in (results[s["id"]].error or "") for s in sources)
    # Both hops were followed for every source (robots.txt once per host), and nothing else was asked for.
    assert Counter(redirects.paths) == {"/hop1": len(sources), "/hop2": len(sources), "/robots.txt": 2}
