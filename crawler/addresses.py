"""Which addresses a crawl may connect to: the special-purpose ranges and metadata endpoints as data, one classifier.

Every range has a verdict: ``PUBLIC`` (any crawl), ``PRIVATE`` (only with ``crawl.allow_private_networks``:
loopback, RFC 1918, unique-local), ``EMBEDDED`` (an IPv6 form that reaches an IPv4 address: allowed only when
that IPv4 address is public) or ``BLOCKED`` (never). The most specific range containing an address decides;
the metadata endpoints below are refused before any range is consulted.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Verdict(Enum):
    PUBLIC = "public"
    PRIVATE = "private"
    EMBEDDED = "embedded"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Range:
    network: IPNetwork
    verdict: Verdict
    name: str


def _r(cidr: str, verdict: Verdict, name: str) -> Range:
    return Range(ipaddress.ip_network(cidr), verdict, name)


P, V, E, B = Verdict.PUBLIC, Verdict.PRIVATE, Verdict.EMBEDDED, Verdict.BLOCKED

# IANA IPv4 Special-Purpose Address Registry (iana.org/assignments/iana-ipv4-special-registry), the multicast
# and reserved blocks, and the RFC each entry cites. Entries the registry marks "globally reachable" (AS112,
# AMT, the anycast addresses in 192.0.0.0/24) are still refused: they are infrastructure, never a news site.
IPV4_RANGES: tuple[Range, ...] = (
    _r("0.0.0.0/0", P, "public IPv4"),
    _r("0.0.0.0/8", B, "'this network' (RFC 791); 0.0.0.0 reaches the local host on Linux"),
    _r("10.0.0.0/8", V, "private-use (RFC 1918)"),
    _r("100.64.0.0/10", B, "shared address space, carrier-grade NAT (RFC 6598)"),
    _r("127.0.0.0/8", V, "loopback (RFC 1122)"),
    _r("169.254.0.0/16", B, "link-local (RFC 3927), where cloud metadata services live"),
    _r("172.16.0.0/12", V, "private-use (RFC 1918)"),
    _r("192.0.0.0/24", B, "IETF protocol assignments (RFC 6890)"),
    _r("192.0.2.0/24", B, "documentation TEST-NET-1 (RFC 5737)"),
    _r("192.31.196.0/24", B, "AS112-v4 (RFC 7535)"),
    _r("192.52.193.0/24", B, "AMT (RFC 7450)"),
    _r("192.88.99.0/24", B, "deprecated 6to4 relay anycast (RFC 7526)"),
    _r("192.168.0.0/16", V, "private-use (RFC 1918)"),
    _r("192.175.48.0/24", B, "direct delegation AS112 service (RFC 7534)"),
    _r("198.18.0.0/15", B, "benchmarking (RFC 2544)"),
    _r("198.51.100.0/24", B, "documentation TEST-NET-2 (RFC 5737)"),
    _r("203.0.113.0/24", B, "documentation TEST-NET-3 (RFC 5737)"),
    _r("224.0.0.0/4", B, "multicast (RFC 5771)"),
    _r("240.0.0.0/4", B, "reserved (RFC 1112)"),
    _r("255.255.255.255/32", B, "limited broadcast (RFC 919)"),
)

# IANA IPv6 Special-Purpose Address Registry (iana.org/assignments/iana-ipv6-special-registry) and RFC 4291's
# address architecture: outside global unicast 2000::/3 nothing is a web site.
IPV6_RANGES: tuple[Range, ...] = (
    _r("::/0", B, "outside global unicast 2000::/3, unassigned or reserved (RFC 4291)"),
    _r("2000::/3", P, "public IPv6 (global unicast, RFC 4291)"),
    _r("::/128", B, "unspecified (RFC 4291)"),
    _r("::1/128", V, "loopback (RFC 4291)"),
    _r("::/96", B, "IPv4-compatible, deprecated (RFC 4291 2.5.5.1)"),
    _r("::ffff:0:0/96", E, "IPv4-mapped (RFC 4291)"),
    _r("64:ff9b::/96", E, "NAT64 well-known prefix (RFC 6052)"),
    _r("64:ff9b:1::/48", B, "local-use IPv4/IPv6 translation (RFC 8215)"),
    _r("100::/64", B, "discard-only (RFC 6666)"),
    _r("100:0:0:1::/64", B, "dummy IPv6 prefix (RFC 9780)"),
    _r("2001::/23", B, "IETF protocol assignments (RFC 2928)"),
    _r("2001::/32", E, "Teredo (RFC 4380)"),
    _r("2001:db8::/32", B, "documentation (RFC 3849)"),
    _r("2002::/16", E, "6to4 (RFC 3056)"),
    _r("2620:4f:8000::/48", B, "direct delegation AS112 service (RFC 7534)"),
    _r("3fff::/20", B, "documentation (RFC 9637)"),
    _r("5f00::/16", B, "segment routing SIDs (RFC 9602)"),
    _r("fc00::/7", V, "unique-local (RFC 4193)"),
    _r("fe80::/10", B, "link-local (RFC 4291)"),
    _r("fec0::/10", B, "site-local, deprecated (RFC 3879)"),
    _r("ff00::/8", B, "multicast (RFC 4291)"),
)

# Cloud metadata and host-agent endpoints, refused whatever range they are in (168.63.129.16 is public, the
# IPv6 ones are unique-local, which allow_private_networks would otherwise open). Sources: each vendor's docs.
METADATA_ADDRESSES: dict[IPAddress, str] = {
    ipaddress.ip_address(text): name for text, name in (
        ("169.254.169.254", "instance metadata (AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, ...)"),
        ("169.254.170.2", "AWS ECS task metadata and credentials"),
        ("169.254.170.23", "AWS EKS Pod Identity agent"),
        ("100.100.100.200", "Alibaba Cloud metadata"),
        ("192.0.0.192", "Oracle Cloud metadata"),
        ("168.63.129.16", "Azure WireServer"),
        ("fd00:ec2::254", "AWS instance metadata over IPv6"),
        ("fd00:ec2::23", "AWS EKS Pod Identity agent over IPv6"),
        ("fd20:ce::254", "GCP metadata over IPv6"),
    )
}

# Names of metadata services, refused before resolving (they resolve to the addresses above inside a cloud,
# and to nothing or anything elsewhere).
METADATA_NAMES: frozenset[str] = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata",  # GCP (docs: "metadata server")
    "instance-data", "instance-data.ec2.internal",  # AWS EC2 instance metadata
    "metadata.tencentyun.com",  # Tencent Cloud
})


NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


def _most_specific(address: IPAddress) -> Range:
    table = IPV4_RANGES if address.version == 4 else IPV6_RANGES
    return max((r for r in table if address in r.network), key=lambda r: r.network.prefixlen)


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address reaches through mapping, NAT64, 6to4 or Teredo (empty if none)."""
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo  # (server, client)
    if address in NAT64_PREFIX:  # the IPv4 address is the last 32 bits
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    return ()


def blocked_reason(address: IPAddress, allow_private: bool) -> str | None:
    """Why a connection to ``address`` must be refused, or None when it may go ahead."""
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata endpoint ({METADATA_ADDRESSES[address]})"
    found = _most_specific(address)
    if found.verdict is Verdict.BLOCKED:
        return f"{address} is {found.name}"
    if found.verdict is Verdict.PRIVATE and not allow_private:
        return f"{address} is {found.name}, not public (crawl.allow_private_networks is off)"
    if found.verdict is Verdict.EMBEDDED and isinstance(address, ipaddress.IPv6Address):
        for inner in embedded_ipv4(address):
            # A translated or tunnelled form must lead to a public address: allow_private opens only the
            # plain forms of loopback and private ranges.
            reason = blocked_reason(inner, allow_private=False)
            if reason:
                return f"{address} is {found.name}, and {reason}"
    return None


def _ipv4_part(text: str) -> int | None:
    """One part of an inet_aton / WHATWG IPv4 spelling: decimal, 0-prefixed octal or 0x-prefixed hex."""
    try:
        if text[:2].lower() == "0x":
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text.startswith("0"):
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def _ipv4_spelling(host: str) -> ipaddress.IPv4Address | None:
    """``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and other numeric hosts as libc reads them."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(parts):
        return None
    numbers = [_ipv4_part(part) for part in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = [n for n in numbers if n is not None]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for index, part in enumerate(head):
        value += part << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The address a URL host names without DNS (any IPv4 spelling, bracketed IPv6), or None for a name."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.removesuffix(".")  # "169.254.169.254." is the same address
    try:
        return ipaddress.ip_address(host.replace("%25", "%", 1))
    except ValueError:
        return _ipv4_spelling(host)


def blocked_name_reason(host: str) -> str | None:
    """Why the host name itself is refused (a metadata service's name), or None."""
    name = host.strip().lower().removesuffix(".")
    return f"{name} is a cloud metadata service" if name in METADATA_NAMES else None


def host_reason(host: str, allow_private: bool) -> str | None:
    """Why a URL host is refused before any DNS lookup (metadata name or refused literal address), or None."""
    literal = literal_address(host)
    return blocked_reason(literal, allow_private) if literal is not None else blocked_name_reason(host)
