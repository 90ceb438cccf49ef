"""Background: the sentences an outlet prints in article after article.

Outlets repeat standard context ("The UN banned the employment of North Korean workers in 2017 …"), blurbs
and boilerplate in most of their articles on a topic. The first article that carries such a sentence is
news; every later one of the same outlet is not. Each claim sentence is recorded once per article of its
outlet (by a hash of its normalised text, figures included, so a changed figure is another sentence);
a sentence the outlet printed in an earlier article is a repeat and makes no alert, and one printed in
``BACKGROUND_ARTICLES`` or more articles is the outlet's background, which the web UI can hide.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, or_, select
from sqlalchemy.orm import Session

from analysis.text import normalise_text
from db.models import SourceSentence
from db.upsert import dialect_insert

# Articles of one outlet a sentence must appear in to be called its background.
BACKGROUND_ARTICLES = 3


def sentence_key(sentence: str) -> str:
    """The hash a sentence is recorded under: its normalised text (case, punctuation and spacing aside)."""
    return hashlib.sha256(normalise_text(sentence).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Repeated:
    """Which sentences (by index) of an article its outlet printed before, and which of those are its
    background."""

    repeats: frozenset[int] = frozenset()
    background: frozenset[int] = frozenset()


def record_sentences(session: Session, source_id: str | None, article_id: int,
                     sentences: Sequence[tuple[int, str]], now: datetime) -> Repeated:
    """Record that ``article_id`` of ``source_id`` carries ``sentences`` ((index, text) pairs) and say which of
    them the outlet printed in earlier articles. Recording the same article again is harmless."""
    if source_id is None or not sentences:
        return Repeated()
    keys = {index: sentence_key(text) for index, text in sentences}
    earlier = articles_per_sentence(session, source_id, set(keys.values()), exclude=article_id)
    conn = session.connection()
    rows = [{"source_id": source_id, "sentence_hash": key, "article_id": article_id, "seen_at": now}
            for key in sorted(set(keys.values()))]
    conn.execute(_insert_sentences(conn.dialect.name), rows)
    repeats = frozenset(index for index, key in keys.items() if earlier.get(key))
    background = frozenset(index for index in repeats if earlier[keys[index]] + 1 >= BACKGROUND_ARTICLES)
    return Repeated(repeats, background)


@functools.cache
def _insert_sentences(dialect: str) -> Any:
    """The statement that records sentences, those recorded already left alone (built once per dialect)."""
    return dialect_insert(dialect, SourceSentence).on_conflict_do_nothing()


def articles_per_sentence(session: Session, source_id: str, keys: Iterable[str],
                          exclude: int | None = None) -> dict[str, int]:
    """How many articles of ``source_id`` (other than ``exclude``) carry each sentence of ``keys``."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.connection().execute(_COUNTS, {"source_id": source_id, "keys": wanted, "exclude": exclude})
    return {key: int(count) for key, count in rows}


# Built once (building it cost more than running it); ``exclude`` NULL excludes nothing.
_COUNTS = (select(SourceSentence.sentence_hash, func.count())
           .where(SourceSentence.source_id == bindparam("source_id"),
                  SourceSentence.sentence_hash.in_(bindparam("keys", expanding=True)),
                  or_(bindparam("exclude", type_=Integer()).is_(None),
                      SourceSentence.article_id != bindparam("exclude", type_=Integer())))
           .group_by(SourceSentence.sentence_hash))


def background_sentences(session: Session, source_id: str | None, sentences: Iterable[str]) -> set[str]:
    """Which of ``sentences`` are the background of ``source_id`` (printed in ``BACKGROUND_ARTICLES`` or more of
    its articles): for pages that show or hide them."""
    texts = list(sentences)
    if source_id is None or not texts:
        return set()
    keys = {text: sentence_key(text) for text in texts}
    counts = articles_per_sentence(session, source_id, set(keys.values()))
    return {text for text, key in keys.items() if counts.get(key, 0) >= BACKGROUND_ARTICLES}
