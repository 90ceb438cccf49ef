"""Address pinning: a host is resolved once per crawl, checked, and connections go only to the checked addresses.

``AddressGuard`` (one per crawl) resolves and checks a request's host before it is downloaded and keeps the
answer; ``PinnedResolver`` is the reactor's name resolver, so every connection Scrapy opens asks it, and it
answers with those kept addresses instead of resolving again. A name that answers differently the second
time (DNS rebinding) therefore cannot move a connection to an address that was never checked.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.resolver import HostResolution
from twisted.internet.address import IPv4Address as TxIPv4Address
from twisted.internet.address import IPv6Address as TxIPv6Address
from twisted.internet.interfaces import IHostnameResolver
from zope.interface import implementer

from crawler.addresses import IPAddress, blocked_name_reason, blocked_reason, literal_address

logger = logging.getLogger(__name__)

Lookup = Callable[[str], Awaitable[list[str]]]


class BlockedAddressError(IgnoreRequest):
    """A request to a private, loopback, link-local, metadata or otherwise refused address was refused."""


async def system_lookup(host: str) -> list[str]:
    """The addresses the system resolver gives for ``host`` (raises OSError when it cannot resolve)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# The lookup every new crawl uses; tests replace it to control what a name resolves to.
LOOKUP: Lookup = system_lookup


def host_key(host: str) -> str:
    """One spelling of a host for both sides of the pin: the URL's ``hostname`` and the name Twisted resolves
    (which may carry brackets, user info, capitals or be IDNA-decoded)."""
    host = host.rpartition("@")[2].strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return host.encode("ascii").decode()
    except UnicodeEncodeError:
        return host.encode("idna").decode()


class AddressGuard:
    """One crawl's address policy and the addresses it resolved, by host (the pins)."""

    def __init__(self, allow_private: bool, lookup: Lookup | None = None, timeout: float = 15.0) -> None:
        self.allow_private = allow_private
        self.lookup = lookup or LOOKUP
        self.timeout = timeout
        self.pins: dict[str, tuple[IPAddress, ...]] = {}
        self._pending: dict[str, asyncio.Future[tuple[IPAddress, ...]]] = {}

    def reason(self, address: IPAddress) -> str | None:
        """Why this crawl may not connect to ``address``, or None."""
        return blocked_reason(address, self.allow_private)

    async def check(self, host: str) -> tuple[IPAddress, ...]:
        """Resolve ``host`` (once per crawl) and return its addresses; raise ``BlockedAddressError`` when any
        of them is refused, ``CannotResolveHostError`` when it does not resolve."""
        reason = blocked_name_reason(host)
        if reason:
            raise BlockedAddressError(reason)
        addresses = await self._pinned(host_key(host))
        for address in addresses:
            reason = self.reason(address)
            if reason:
                # A name with one refused address among others is hostile: refuse the host, not just the address.
                raise BlockedAddressError(reason)
        return addresses

    async def _pinned(self, key: str) -> tuple[IPAddress, ...]:
        if key in self.pins:
            return self.pins[key]
        if key not in self._pending:  # concurrent requests for one host share one lookup
            self._pending[key] = asyncio.ensure_future(self._resolve(key))
        try:
            addresses = await asyncio.shield(self._pending[key])
        finally:
            self._pending.pop(key, None)
        self.pins[key] = addresses
        return addresses

    async def _resolve(self, key: str) -> tuple[IPAddress, ...]:
        literal = literal_address(key)
        if literal is not None:
            return (literal,)
        try:
            answers = await asyncio.wait_for(self.lookup(key), self.timeout)
        except (OSError, TimeoutError) as exc:
            raise CannotResolveHostError(f"DNS lookup failed for {key}: {exc or type(exc).__name__}") from exc
        addresses = tuple(dict.fromkeys(literal_address(answer) for answer in answers))
        if not addresses or None in addresses:
            raise CannotResolveHostError(f"DNS lookup failed for {key}: no usable address in {answers!r}")
        return tuple(a for a in addresses if a is not None)


TxAddress = TxIPv4Address | TxIPv6Address
# Twisted's zope interfaces (receivers, resolutions) are not types mypy can check against: typed as Any.
Receiver = Any


def _twisted_address(address: IPAddress, port: int) -> TxAddress:
    if address.version == 4:
        return TxIPv4Address("TCP", str(address), port)
    return TxIPv6Address("TCP", str(address), port)


@implementer(IHostnameResolver)
class PinnedResolver:
    """The reactor's name resolver during crawls: answers with the addresses the active crawls checked."""

    def __init__(self) -> None:
        self.guards: list[AddressGuard] = []
        self._fallbacks: set[asyncio.Future[None]] = set()

    def activate(self, guard: AddressGuard) -> None:
        """Let ``guard``'s pins answer connections (idempotent)."""
        if not any(g is guard for g in self.guards):
            self.guards.append(guard)

    def deactivate(self, guard: AddressGuard) -> None:
        self.guards = [g for g in self.guards if g is not guard]

    def allowed(self, addresses: Sequence[IPAddress]) -> list[IPAddress]:
        """The addresses every active crawl may connect to (none active: only public ones)."""
        guards = self.guards or [AddressGuard(allow_private=False)]
        return [a for a in addresses if all(g.reason(a) is None for g in guards)]

    def resolveHostName(self, resolutionReceiver: Receiver, hostName: str, portNumber: int = 0,
                        addressTypes: Sequence[type[Any]] | None = None, transportSemantics: str = "TCP") -> Any:
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        key = host_key(hostName)
        pinned = [a for guard in self.guards for a in guard.pins.get(key, ())]
        if pinned:
            self._answer(resolutionReceiver, self.allowed(pinned), portNumber, addressTypes)
        else:
            task = asyncio.ensure_future(self._fallback(resolutionReceiver, key, portNumber, addressTypes))
            self._fallbacks.add(task)
            task.add_done_callback(self._fallbacks.discard)
        return resolution

    async def _fallback(self, receiver: Receiver, key: str, port: int,
                        types: Sequence[type[Any]] | None) -> None:
        """A host no crawl checked (it should not happen: every request passes the address guard first):
        resolved once here and held to the strictest active policy."""
        guard = AddressGuard(all(g.allow_private for g in self.guards) if self.guards else False,
                             self.guards[0].lookup if self.guards else None)
        try:
            addresses = list(await guard.check(key))
        except (BlockedAddressError, CannotResolveHostError) as exc:
            logger.warning("connection to %s refused by the address guard: %s", key, exc)
            addresses = []
        self._answer(receiver, self.allowed(addresses), port, types)

    @staticmethod
    def _answer(receiver: Receiver, addresses: list[IPAddress], port: int,
                types: Sequence[type[Any]] | None) -> None:
        for address in addresses:
            answer = _twisted_address(address, port)
            if types is None or any(isinstance(answer, t) for t in types):
                receiver.addressResolved(answer)
        receiver.resolutionComplete()  # no address: Twisted fails the connection with a DNS lookup error

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PinnedResolver:
        """For Scrapy's ``TWISTED_DNS_RESOLVER`` (used by CrawlerProcess): the process's one resolver."""
        return installed()

    def install_on_reactor(self) -> None:
        installed()


_INSTALLED: list[PinnedResolver] = []


def installed() -> PinnedResolver:
    """The process's pinned resolver, installed on the running reactor if it is not its resolver yet."""
    from twisted.internet import reactor as installed_reactor

    reactor: Any = installed_reactor  # the module-level reactor object is untyped in Twisted's stubs
    if not _INSTALLED:
        _INSTALLED.append(PinnedResolver())
    resolver = _INSTALLED[0]
    if reactor.nameResolver is not resolver:
        reactor.installNameResolver(resolver)
    return resolver
