"""The site (registrable domain) of a URL, from the Public Suffix List snapshot, offline; and NFC text."""

from __future__ import annotations

import unicodedata

import pytest

from analysis.text import content_hash, to_nfc
from analysis.urls import same_site, site_of


@pytest.mark.parametrize(("url", "site"), [
    ("https://www.example.co.uk/a", "example.co.uk"),
    ("http://example.co.uk:8080/b", "example.co.uk"),
    ("https://news.bbc.co.uk/x", "bbc.co.uk"),
    ("https://WWW.Example.COM./", "example.com"),
    ("https://alice.github.io/post", "alice.github.io"),  # a private suffix: every user is a site
    ("http://127.0.0.1:5000/x", "127.0.0.1"),
    ("http://[::1]:80/", "::1"),
    ("http://localhost/", "localhost"),
    ("http://www.news.test/a", "news.test"),  # no listed suffix: the list's default rule
    ("ftp://example.com/", None),
    ("/relative", None),
])
def test_site_of(url: str, site: str | None) -> None:
    assert site_of(url) == site


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://www.example.co.uk/a", "http://example.co.uk/a", True),
    ("http://example.co.uk/a", "https://example.co.uk:8443/b", True),
    ("https://example.co.uk/a", "https://other.co.uk/a", False),
    ("https://alice.github.io/a", "https://bob.github.io/a", False),
    ("http://127.0.0.1:1/a", "http://127.0.0.2:1/a", False),
    ("http://127.0.0.1:1/a", "http://127.0.0.1:2/a", True),
    ("https://example.com/a", "mailto:x@example.com", False),
])
def test_same_site(a: str, b: str, same: bool) -> None:
    assert same_site(a, b) is same and same_site(b, a) is same


def test_to_nfc_composes_and_keeps_the_content_hash() -> None:
    composed = "Café workers in 북한"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed and to_nfc(decomposed) == composed
    assert content_hash(decomposed, decomposed) == content_hash(composed, composed)
