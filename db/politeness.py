"""The request delay across a cluster's nodes: when each politeness key's last crawl ended (``politeness_keys``).

One node's crawl keeps the delay between its own requests to a host (Scrapy's download slots). A key's crawls
never overlap across nodes (the job engine's lock), but the next one may start on another node the moment the last
one ended; it waits until the delay has passed since then, read here, and records its own end.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import PolitenessKey
from db.upsert import dialect_insert


def seconds_to_wait(session: Session, key: str, delay: float, now: datetime) -> float:
    """How long a crawl of ``key`` starting at ``now`` must wait for ``delay`` seconds to have passed since the
    key's last crawl ended (0 when it has, or when no crawl of it was recorded)."""
    last = session.scalar(select(PolitenessKey.last_crawl_at).where(PolitenessKey.key == key))
    if last is None:
        return 0.0
    return max(0.0, delay - (now - last).total_seconds())


def crawl_ended(session: Session, key: str, at: datetime) -> None:
    """Record that a crawl of ``key`` ended at ``at`` (its last request was before)."""
    connection = session.connection()
    connection.execute(_upsert(connection.dialect.name), {"key": key, "last_crawl_at": at})


@functools.cache
def _upsert(dialect: str) -> Any:
    statement = dialect_insert(dialect, PolitenessKey)
    return statement.on_conflict_do_update(index_elements=[PolitenessKey.key],
                                           set_={"last_crawl_at": statement.excluded.last_crawl_at})
