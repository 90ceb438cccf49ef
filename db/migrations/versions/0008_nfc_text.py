"""stored text in Unicode NFC

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Text extracted from now on is NFC; this rewrites what is already stored the same way, in place: no version is
added, removed or renumbered, and only rows whose text was not NFC are touched (15 of 989 real pages were not).

- ``article_versions``: title, byline, text, and ``content_hash`` computed again from the NFC title and text;
- ``articles``: title, and ``content_hash`` taken from its rewritten latest version (the hash the next
  re-check compares with, so an NFC re-fetch of the same text stays ``unchanged``);
- ``diffs``: titles before and after, added and removed sentences, the unified diff;
- ``claim_matches``: the sentence; ``reviews``: the sentence and its ``sentence_hash`` (sha256 of the sentence,
  as ``db.review.sentence_hash``), so decisions keep holding for the NFC sentences of later versions. A review
  whose NFC hash another review of the article already has is left as it was (that one holds the decision).

Events keep the text they were sent with. The content hash normalises with NFKC, so it is the same for either
spelling; it is computed again anyway (with ``analysis.text.content_hash``, today's definition), so every
stored hash agrees with the one a re-fetch computes.

Search stays consistent by itself: on SQLite the ``article_search_update`` trigger of 0005 (AFTER UPDATE OF
title, text) replaces each rewritten version in the FTS5 index; on PostgreSQL the GIN expression index follows
the rows. The downgrade changes nothing: NFC text is valid text for every earlier revision.
"""
from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from analysis.text import content_hash

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
Row = dict[str, Any]

# The columns this migration reads and writes, described here rather than imported from db.models, so that
# later changes to the models cannot change what this revision does.
_VERSIONS = sa.table("article_versions", sa.column("id", sa.Integer), sa.column("article_id", sa.Integer),
                     sa.column("number", sa.Integer), sa.column("title", sa.Text), sa.column("byline", sa.Text),
                     sa.column("text", sa.Text), sa.column("content_hash", sa.String))
_ARTICLES = sa.table("articles", sa.column("id", sa.Integer), sa.column("title", sa.Text),
                     sa.column("content_hash", sa.String))
_DIFFS = sa.table("diffs", sa.column("id", sa.Integer), sa.column("title_before", sa.Text),
                  sa.column("title_after", sa.Text), sa.column("added", sa.JSON), sa.column("removed", sa.JSON),
                  sa.column("unified", sa.Text))
_MATCHES = sa.table("claim_matches", sa.column("id", sa.Integer), sa.column("sentence", sa.Text))
_REVIEWS = sa.table("reviews", sa.column("id", sa.Integer), sa.column("article_id", sa.Integer),
                    sa.column("sentence", sa.Text), sa.column("sentence_hash", sa.String))


def _nfc(value: Any) -> Any:
    """``value`` with every string in it (also inside lists) in NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(item) for item in value]
    return value


def _rows(conn: sa.Connection, table: sa.TableClause, columns: Sequence[str]) -> Iterator[Row]:
    """Every row of ``table`` (id and ``columns``), in id order, a batch per query."""
    last = 0
    while True:
        batch = conn.execute(sa.select(table.c.id, *(table.c[name] for name in columns))
                             .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).mappings().all()
        if not batch:
            return
        yield from (dict(row) for row in batch)
        last = batch[-1]["id"]


def _rewrite(conn: sa.Connection, table: sa.TableClause, columns: Sequence[str],
             extra: Callable[[Row], Row] | None = None) -> list[Row]:
    """Put ``columns`` of every row of ``table`` that is not NFC into NFC (``extra`` adds derived values);
    returns the rewritten rows."""
    changed = []
    for row in _rows(conn, table, columns):
        fixed = {name: _nfc(row[name]) for name in columns}
        if fixed != {name: row[name] for name in columns}:
            changed.append({"id": row["id"], **fixed, **(extra(fixed) if extra else {})})
    names = [name for name in (changed[0] if changed else {}) if name != "id"]
    # Bound as new_<column>: a bind parameter may not carry the name of a column it sets.
    statement = (sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                 .values({name: sa.bindparam(f"new_{name}") for name in names}))
    for start in range(0, len(changed), BATCH):
        conn.execute(statement, [{"row_id": row["id"], **{f"new_{name}": row[name] for name in names}}
                                 for row in changed[start:start + BATCH]])
    return changed


def _latest_hashes(conn: sa.Connection, version_ids: list[int]) -> list[tuple[int, str]]:
    """(article id, content hash) of the articles whose latest version is among ``version_ids``."""
    found: list[tuple[int, str]] = []
    latest = (sa.select(_VERSIONS.c.article_id, sa.func.max(_VERSIONS.c.number).label("number"))
              .group_by(_VERSIONS.c.article_id).subquery())
    for start in range(0, len(version_ids), BATCH):
        found.extend((row.article_id, row.content_hash) for row in conn.execute(
            sa.select(_VERSIONS.c.article_id, _VERSIONS.c.content_hash)
            .join(latest, sa.and_(latest.c.article_id == _VERSIONS.c.article_id,
                                  latest.c.number == _VERSIONS.c.number))
            .where(_VERSIONS.c.id.in_(version_ids[start:start + BATCH]))))
    return found


def _rewrite_reviews(conn: sa.Connection) -> None:
    taken = {(row.article_id, row.sentence_hash) for row in conn.execute(
        sa.select(_REVIEWS.c.article_id, _REVIEWS.c.sentence_hash))}
    for row in _rows(conn, _REVIEWS, ("article_id", "sentence")):
        sentence = _nfc(row["sentence"])
        key = (row["article_id"], hashlib.sha256(sentence.encode("utf-8")).hexdigest())
        if sentence == row["sentence"] or key in taken:
            continue
        taken.add(key)
        conn.execute(sa.update(_REVIEWS).where(_REVIEWS.c.id == row["id"])
                     .values(sentence=sentence, sentence_hash=key[1]))


def upgrade() -> None:
    # Reviewed: data only, no schema change; see the docstring for what is rewritten and why.
    conn = op.get_bind()
    versions = _rewrite(conn, _VERSIONS, ("title", "byline", "text"),
                        lambda row: {"content_hash": content_hash(row["title"], row["text"])})
    for article_id, digest in _latest_hashes(conn, [row["id"] for row in versions]):
        conn.execute(sa.update(_ARTICLES).where(_ARTICLES.c.id == article_id).values(content_hash=digest))
    _rewrite(conn, _ARTICLES, ("title",))
    _rewrite(conn, _DIFFS, ("title_before", "title_after", "added", "removed", "unified"))
    _rewrite(conn, _MATCHES, ("sentence",))
    _rewrite_reviews(conn)


def downgrade() -> None:
    # NFC text is what earlier revisions store for a composed page too: nothing to undo.
    pass
