"""``labourwatch sources discover`` end to end, in subprocesses, against small sites on 127.0.0.1: the YAML block
loads as config, JSON, exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from labourwatch.config import load_config
from tests.crawler.docserver import DocServer, doc_server
from tests.crawler.test_discovery import LISTING_HOME, NAV, STORIES, home

pytestmark = pytest.mark.slow


@pytest.fixture
def site() -> Iterator[DocServer]:
    with doc_server() as served:
        yield served


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config that allows loopback (as the crawl tests' configs do) and already has a source with the id a
    listing of 127.0.0.1 would get."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "crawl": {"allow_private_networks": True, "delay": "0s", "timeout": "5s"},
        "sources": [{"id": "127-0-0-1-listing", "kind": "feed", "url": "https://example.org/rss.xml"}],
    }))
    return path


def lw(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), "sources", "discover", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_the_yaml_block_loads_as_config(site: DocServer, config_file: Path, tmp_path: Path) -> None:
    site.documents["/"] = home(LISTING_HOME)
    result = lw(config_file, site.origin + "/")
    assert result.returncode == 0, result.stderr
    assert "1 source(s) proposed" in result.stderr and "Traceback" not in result.stderr
    pasted = tmp_path / "pasted.yaml"
    pasted.write_text(result.stdout, encoding="utf-8")
    [spec] = load_config(pasted, environ={}).sources
    # Numbered past the configured source that has its natural id.
    assert (spec.id, spec.kind, spec.url, spec.options) == ("127-0-0-1-listing-2", "listing", site.origin + "/",
                                                            {"link_selector": "h2 a"})
    assert result.stdout.startswith("# Proposed by `labourwatch sources discover")


def test_json_lists_sources_candidates_and_requests(site: DocServer, config_file: Path) -> None:
    site.documents["/"] = home(NAV, head='<link rel="alternate" type="application/atom+xml" title="All" href="/a">')
    site.documents["/a"] = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
                            + b"".join(f'<entry><title>s</title><link href="{p}"/></entry>'.encode() for p in STORIES)
                            + b"</feed>", "application/atom+xml")
    result = lw(config_file, site.origin + "/", "--format", "json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["sources"] == [{"id": "127-0-0-1-feed", "kind": "feed", "url": site.origin + "/a", "name": "All",
                                 "language": "en"}]
    [candidate] = found["candidates"]
    assert candidate["items"] == len(STORIES) and candidate["sample"][0] == site.origin + STORIES[0]
    assert {c["url"].removeprefix(site.origin) for c in found["checks"]} >= {"/", "/robots.txt", "/a"}


def test_a_site_with_nothing_to_propose_exits_1(site: DocServer, config_file: Path) -> None:
    site.documents["/"] = home(NAV)
    for fmt in ("yaml", "json"):
        result = lw(config_file, site.origin + "/", "--format", fmt)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "error: no feed, sitemap or listing of article links found" in result.stderr
    assert json.loads(result.stdout)["sources"] == []  # JSON still says what was tried


def test_a_refused_site_is_a_clear_error(site: DocServer, tmp_path: Path) -> None:
    site.documents["/"] = home(LISTING_HOME)
    # No config file: the crawler's defaults, which refuse loopback addresses.
    result = lw(tmp_path / "missing.yaml", site.origin + "/")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "note: no config file" in result.stderr
    assert f"error: cannot read {site.origin}/: blocked_address:" in result.stderr
    assert result.stdout == "" and sum(site.hits.values()) == 0


def test_bad_input_is_a_usage_error(config_file: Path, tmp_path: Path) -> None:
    result = lw(config_file, "ftp://example.org/")
    assert result.returncode == 2 and "not an http(s) URL" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("crawl: {timeout: never}\n")
    result = lw(broken, "https://example.org/")
    assert result.returncode == 2 and "invalid configuration" in result.stderr and "Traceback" not in result.stderr
