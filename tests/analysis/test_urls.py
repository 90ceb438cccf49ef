"""Tests for analysis.urls: canonical URLs and the http(s) check."""

from __future__ import annotations

import pytest

from analysis.urls import canonicalise_url, is_http_url

CASES = [
    ("HTTP://Example.COM/News", "http://example.com/News"),  # the path keeps its case
    ("http://example.com:80/a", "http://example.com/a"),
    ("https://example.com:443/a", "https://example.com/a"),
    ("http://example.com:443/a", "http://example.com:443/a"),  # 443 is not http's default
    ("https://example.com:8443/a", "https://example.com:8443/a"),
    ("https://example.com:/a", "https://example.com/a"),
    ("https://example.com", "https://example.com/"),
    ("https://example.com?", "https://example.com/"),
    ("https://example.com/a?#top", "https://example.com/a"),
    ("https://example.com/a#section-2", "https://example.com/a"),
    (
        "https://example.com/a?utm_source=rss&id=5&utm_medium=feed&UTM_Campaign=x&utm_whatever=1&page=2",
        "https://example.com/a?id=5&page=2",
    ),
    ("https://example.com/a?fbclid=1&gclid=2&dclid=3&mc_cid=4&mc_eid=5&igshid=6", "https://example.com/a"),
    ("https://example.com/a?yclid=1&_ga=2&ref=3&ref_src=4&cmpid=5&ocid=6", "https://example.com/a"),
    ("https://example.com/a?at_medium=1&at_campaign=2&rss=1", "https://example.com/a"),
    ("https://example.com/a?from=rss&x=1", "https://example.com/a?x=1"),
    ("https://example.com/a?from=home&x=1", "https://example.com/a?from=home&x=1"),
    ("https://example.com/a?z=1&a=2&m=3", "https://example.com/a?z=1&a=2&m=3"),  # order kept
    ("https://example.com/a?a=1&&b=2&", "https://example.com/a?a=1&b=2"),
    ("https://example.com/a?q=a+b&x=%2f", "https://example.com/a?q=a+b&x=%2F"),
    ("https://example.com/%7euser/%41b", "https://example.com/~user/Ab"),  # unreserved escapes decoded
    ("https://example.com/a%2fb%3Fc", "https://example.com/a%2Fb%3Fc"),  # reserved escapes kept
    ("https://example.com/path with space", "https://example.com/path%20with%20space"),
    (
        "https://example.com/북한?q=노동자",
        "https://example.com/%EB%B6%81%ED%95%9C?q=%EB%85%B8%EB%8F%99%EC%9E%90",
    ),
    ("https://example.com/100%", "https://example.com/100%25"),
    ("https://user:Secret@Example.com:443/a", "https://user:Secret@example.com/a"),
    ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
    ("  https://example.com/a  ", "https://example.com/a"),
]


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonicalise_url(url: str, expected: str) -> None:
    assert canonicalise_url(url) == expected


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_canonicalise_url_is_idempotent(url: str, expected: str) -> None:
    assert canonicalise_url(expected) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "/news/1?ref=rss&page=2",
            "https://www.NK-News.org/list?x=1",
            "https://www.nk-news.org/news/1?page=2",
        ),
        ("2#comments", "https://example.com/news/1", "https://example.com/news/2"),
        ("../b", "https://example.com/a/c/d", "https://example.com/a/b"),
        ("//cdn.Example.com/x", "https://example.com/", "https://cdn.example.com/x"),
        ("https://other.org/x", "https://example.com/", "https://other.org/x"),
        ("?page=2", "https://example.com/list?page=1", "https://example.com/list?page=2"),
    ],
)
def test_canonicalise_url_resolves_against_base(url: str, base: str, expected: str) -> None:
    assert canonicalise_url(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mailto:Editor@Example.com",
        "ftp://Example.com/a?utm_source=x#f",
        "javascript:void(0)",
        "tel:+82-2-000",
        "http://example.com:notaport/a",
    ],
)
def test_non_http_and_malformed_urls_are_unchanged(url: str) -> None:
    assert canonicalise_url(url) == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a", True),
        ("HTTP://example.com", True),
        ("  http://example.com/  ", True),
        ("ftp://example.com/a", False),
        ("mailto:a@example.com", False),
        ("/relative/path", False),
        ("http://", False),
        ("http://[::1", False),
        ("", False),
    ],
)
def test_is_http_url(url: str, expected: bool) -> None:
    assert is_http_url(url) is expected
