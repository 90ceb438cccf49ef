"""URL canonicalisation, so that one article reached by several links is stored once, and the site (registrable
domain) of a URL, so that a page's claim about its canonical URL is trusted only within its own site."""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, quote, unquote, urljoin, urlsplit, urlunsplit

if TYPE_CHECKING:
    import tldextract

_HTTP_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived (campaign, click and referrer tags); any key
# starting with "utm_" is dropped as well. Compared case-insensitively after percent-decoding.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid", "s_cid", "ito", "wt.mc_id",
        "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4",
        "guccounter", "guce_referrer", "guce_referrer_sig", "rss",
    }
)  # fmt: skip
# Parameters that are tracking only with these values: "from=rss" marks a feed click, "from=home" does not.
TRACKING_PARAMETER_VALUES = frozenset({("from", "rss"), ("source", "rss"), ("src", "rss"), ("feed", "rss")})

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_LONE_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters left as they are when re-quoting: RFC 3986 reserved characters keep their meaning.
_PATH_SAFE = "/:@!$&'()*+,;=%"
_QUERY_SAFE = "/?:@!$'()*+,;=%"


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an absolute http or https URL with a host."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # malformed, e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme.lower() in _HTTP_SCHEMES and bool(parts.hostname)


def _normalise_escapes(component: str, safe: str) -> str:
    """Uppercase percent-escapes, decode escaped unreserved characters, escape what must be escaped."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        # Only unreserved characters are decoded: "%2F" in a path is not the same as "/".
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    component = _PERCENT_ESCAPE_RE.sub(fix, component)
    component = _LONE_PERCENT_RE.sub("%25", component)
    return quote(component, safe=safe)


def _is_tracking(pair: str) -> bool:
    """Whether one ``key=value`` query pair is a tracking parameter."""
    key, _, value = pair.partition("=")
    key = unquote(key).lower()
    if key.startswith("utm_") or key in TRACKING_PARAMETERS:
        return True
    return (key, unquote(value).lower()) in TRACKING_PARAMETER_VALUES


def _clean_query(query: str) -> str:
    """The query with tracking parameters and empty pairs removed, the rest kept in order."""
    pairs = [pair for pair in query.split("&") if pair and not _is_tracking(pair)]
    return "&".join(_normalise_escapes(pair, _QUERY_SAFE) for pair in pairs)


def _clean_netloc(scheme: str, parts: SplitResult) -> str | None:
    """The netloc with the host lowercased and a default port dropped, or None when it is malformed."""
    try:
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    userinfo, at, _ = parts.netloc.rpartition("@")
    prefix = userinfo + at
    suffix = "" if port is None or port == _DEFAULT_PORTS[scheme] else f":{port}"
    return prefix + host + suffix


def canonicalise_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base`` first), used as an article's identity.

    Lowercases scheme and host, drops default ports, the fragment and tracking parameters, keeps the
    other parameters in order, makes an empty path "/" and normalises percent-encoding. URLs that are
    not http(s), or whose port is malformed, are returned as resolved but otherwise untouched.
    """
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _HTTP_SCHEMES:
        return url
    netloc = _clean_netloc(scheme, parts)
    if netloc is None:
        return url
    path = _normalise_escapes(parts.path, _PATH_SAFE) or "/"
    return urlunsplit((scheme, netloc, path, _clean_query(parts.query), ""))


@functools.cache
def _public_suffixes() -> tldextract.TLDExtract:
    # The Public Suffix List snapshot that tldextract ships, never fetched and never cached on disk: the site
    # of a URL must not depend on the network or on a file some other process wrote. Private suffixes count
    # (github.io, blogspot.com): two users' pages under one of them are two sites. Imported here: every CLI
    # command loads this module through the config, and few of them need a site (~80 ms).
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


def site_of(url: str) -> str | None:
    """The site of an http(s) URL: its host's registrable domain under the Public Suffix List
    (``www.example.co.uk`` → ``example.co.uk``), ignoring scheme and port; an IP address is its own site, and a
    host under no listed suffix counts its last label as the suffix (the list's default rule). None for a URL
    that is not http(s) or has no host."""
    if not is_http_url(url):
        return None
    host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    registrable = _public_suffixes()(host).top_domain_under_public_suffix
    if registrable:
        return registrable.lower()
    # No listed suffix (localhost, an intranet or reserved name such as news.test): the PSL's "*" rule.
    return ".".join(host.split(".")[-2:])


def same_site(url: str, other: str) -> bool:
    """Whether two http(s) URLs belong to one site (the same registrable domain, any scheme or port)."""
    site = site_of(url)
    return site is not None and site == site_of(other)


def politeness_key(url: str) -> str:
    """The key a URL's requests are spaced under: its host (lowercased) and port, the default port spelled out
    (``https://Example.org/a`` → ``example.org:443``). Cluster mode runs one job per key at a time. A URL that
    is not http(s), or whose port is malformed, is its own key."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _HTTP_SCHEMES or not parts.hostname:
        return url
    host = parts.hostname.lower()
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    return f"{host}:{port if port is not None else _DEFAULT_PORTS[scheme]}"


def key_substring(key: str) -> str:
    """What every URL under a politeness key contains (case aside), for a database to narrow by: ``host:port``
    when the port is not a default one (``127.0.0.1:8001``), else the host (``example.org:443`` → ``example.org``:
    such URLs seldom spell the port); a key that is a whole URL (``politeness_key`` of a URL that is not http(s))
    is that URL. A superset: ``a.org`` is in ``ba.org`` too."""
    host, colon, port = key.rpartition(":")
    if colon and port.isdigit() and int(port) in _DEFAULT_PORTS.values():
        return host
    return key
