"""Fixtures for crawl tests: the fixture news web on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from labourwatch.fixtureweb import FixtureWeb


@pytest.fixture
def web() -> Iterator[FixtureWeb]:
    """The default fixture news web (four outlets in three languages) plus its fault endpoints."""
    with FixtureWeb(fault_delay=4.0) as running:
        yield running
