"""The request delay across cluster nodes: when each politeness key's last crawl ended (db.politeness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from db import politeness
from db.engine import Database

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def test_a_crawl_waits_out_the_delay_since_the_keys_last_crawl_ended(database: Database) -> None:
    with database.read() as session:
        assert politeness.seconds_to_wait(session, "127.0.0.1:8001", 1.5, T0) == 0.0  # never crawled
    database.in_write(politeness.crawl_ended, "127.0.0.1:8001", T0)
    with database.read() as session:
        assert politeness.seconds_to_wait(session, "127.0.0.1:8001", 1.5, T0 + timedelta(seconds=0.5)) == \
            pytest.approx(1.0)
        assert politeness.seconds_to_wait(session, "127.0.0.1:8001", 1.5, T0 + timedelta(seconds=2)) == 0.0
        assert politeness.seconds_to_wait(session, "127.0.0.1:8002", 1.5, T0) == 0.0  # another key
    # A later crawl's end replaces the earlier one (one row per key, whichever node wrote it).
    database.in_write(politeness.crawl_ended, "127.0.0.1:8001", T0 + timedelta(seconds=10))
    with database.read() as session:
        assert politeness.seconds_to_wait(session, "127.0.0.1:8001", 1.5, T0 + timedelta(seconds=10.25)) == \
            pytest.approx(1.25)
