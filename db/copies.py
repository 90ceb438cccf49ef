"""Copies across outlets: each article's text sketch (``article_sketches``), the link from a copy to the earlier
article of another source it copies (``article_copies``: wire copy, syndication, light rewrite), and who else
published a story ("also published by").

The method and its threshold live in ``analysis.nearcopy``; this module stores sketches, finds candidates sharing a
band, verifies them against their stored text and keeps the links flat: a copy always points to the first article
of its story (its original), never to another copy.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from analysis import nearcopy
from db.models import Article, ArticleCopy, ArticleSketch, ArticleVersion, Source
from db.upsert import dialect_insert

# Bands a candidate must share: a copy shares several (a text sharing 65 % of its runs, about 6 of 48), an article
# that only shares the story's background paragraph one at most, and every such article cost a text read and a
# comparison in the store transaction (bench/copies_bench.py measures both).
MIN_SHARED_BANDS = 2
MAX_CANDIDATES = 50  # verified per article, those sharing the most bands first: bounds the cost of a common story


@dataclass(frozen=True)
class CopyOf:
    """The original a copy was linked to, and how similar the copy's text is to the article it matched."""

    article_id: int
    source_id: str | None
    title: str
    url: str
    similarity: float


@dataclass(frozen=True)
class Publication:
    """One article of a story published by several outlets: the ``original`` (the first) or a ``copy``."""

    article_id: int
    source_id: str | None
    source_name: str | None
    title: str
    url: str
    role: str
    similarity: float | None  # a copy's similarity to the article it matched; None for the original
    first_seen_at: datetime


@dataclass(frozen=True)
class Stored:
    """What the crawl's store knows already about the text it links (each saves a statement or a sketch)."""

    sketch: nearcopy.TextSketch  # the text's sketch, made by the crawl's workers
    url: str  # the article's canonical URL
    version: tuple[int, str]  # the stored version of the text: (id, content hash); its shingles are kept
    new: bool = False  # the article was inserted in this transaction: it has no sketch, link or copies yet


def link_copy(session: Session, article_id: int, source_id: str | None, text: str, now: datetime,
              stored: Stored | None = None) -> CopyOf | None:
    """Sketch ``text`` (the article's current text) and link the article to the original it copies, if any.

    Replaces the article's stored sketch; looks among earlier articles (by first sighting, then id) of other sources
    sharing a band for those whose latest text is similar enough; links the article to the earliest of them (to its
    original, if that one is a copy itself) and re-points the article's own copies there. An article that no longer
    copies anything loses its link. Calling it again for the same article and text changes nothing. ``stored``: what
    the crawl's store knows already (the sketch, the URL, the version; whether the article is new)."""
    if stored is not None:
        found = stored.sketch
    else:
        from analysis import minhash  # numpy: only where no sketch was made (the crawl's workers make them)

        found = minhash.sketch(text)
    new = stored is not None and stored.new
    if stored is not None and found.sketched:
        _keep_shingles({stored.version: found.shingles})
    # Core statements: this runs in the crawl's store transaction, once per stored version.
    connection = session.connection()
    if not new:
        connection.execute(_DELETE_SKETCH, {"article_id": article_id})
    if found.sketched:
        # The driver's own executemany: its rows are plain integers, and SQLAlchemy's handling of each parameter
        # set cost more than inserting it.
        connection.exec_driver_sql(_insert_sketch(connection.dialect.paramstyle),
                                   [(article_id, band, value) for band, value in enumerate(found.bands)])
    url = stored.url if stored is not None else None
    original = _original(session, article_id, source_id, found, url) if found.sketched else None
    if original is None:
        if not new:
            connection.execute(_DELETE_COPY, {"article_id": article_id})
        return None
    _record(session, article_id, original, now, repoint=not new)
    return original


_DELETE_SKETCH = delete(ArticleSketch).where(ArticleSketch.article_id == bindparam("article_id"))
_DELETE_COPY = delete(ArticleCopy).where(ArticleCopy.article_id == bindparam("article_id"))
# One sketch band, (article id, band, value), in the driver's parameter style (psycopg's %s, sqlite3's ?).
_INSERT_SKETCH = "INSERT INTO article_sketches (article_id, band, value) VALUES (%s, %s, %s)"


def _insert_sketch(paramstyle: str) -> str:
    return _INSERT_SKETCH.replace("%s", "?") if paramstyle == "qmark" else _INSERT_SKETCH


def _original(session: Session, article_id: int, source_id: str | None,
              found: nearcopy.TextSketch, url: str | None = None) -> CopyOf | None:
    """The original of the earliest earlier article of another source that ``found`` is a copy of, if any."""
    matches = []
    if url is None:
        url = session.scalar(select(Article.canonical_url).where(Article.id == article_id)) or ""
    own = outlet(url)
    rows = [row for row in _candidates(session, article_id, source_id, found.bands)
            # An outlet's feed and its sitemap are two sources of one outlet: its own articles are no copies.
            if outlet(row.canonical_url) != own]
    shingles = _shingles_of(session, [(row.version_id, row.content_hash) for row in rows])
    for row in rows:
        score = nearcopy.similarity(found.shingles, shingles[row.version_id, row.content_hash])
        if nearcopy.is_copy(score):
            matches.append((row, score))
    matches.sort(key=lambda match: (match[0].first_seen_at, match[0].id))
    for row, score in matches:
        root = row if row.original_id is None else session.connection().execute(
            select(Article.id, Article.source_id, Article.title, Article.canonical_url)
            .where(Article.id == row.original_id)).one()
        # A copy of this source's own earlier story (through another outlet's copy) is no copy from elsewhere.
        if (source_id is None or root.source_id != source_id) and outlet(root.canonical_url) != own:
            return CopyOf(root.id, root.source_id, root.title or "", root.canonical_url, round(score, 4))
    return None


# The shingles of recent candidates' texts, by version id and content hash (ids alone repeat across databases, and
# SQLite gives a rolled-back id again): a story's articles are candidates of every article on that story that
# follows, and reading and hashing their texts again cost more than all the queries. Only versions not kept are read.
_SHINGLES: OrderedDict[tuple[int, str], nearcopy.Shingles] = OrderedDict()
_SHINGLES_KEPT = 2048  # about 4 KB each
_SHINGLES_LOCK = threading.Lock()


def _shingles_of(session: Session, versions: Sequence[tuple[int, str]]) -> dict[tuple[int, str], nearcopy.Shingles]:
    """The shingles of the texts of ``versions`` ((id, content hash) pairs)."""
    found: dict[tuple[int, str], nearcopy.Shingles] = {}
    with _SHINGLES_LOCK:
        for version in versions:
            hashes = _SHINGLES.get(version)
            if hashes is not None:
                _SHINGLES.move_to_end(version)
                found[version] = hashes
    missing = [version for version in versions if version not in found]
    if not missing:
        return found
    texts = session.connection().execute(select(ArticleVersion.id, ArticleVersion.content_hash, ArticleVersion.text)
                            .where(ArticleVersion.id.in_([version_id for version_id, _ in missing])))
    made = {(version_id, digest): nearcopy.shingles(text) for version_id, digest, text in texts}
    _keep_shingles(made)
    return found | made


def _keep_shingles(made: dict[tuple[int, str], nearcopy.Shingles]) -> None:
    with _SHINGLES_LOCK:
        _SHINGLES.update(made)
        while len(_SHINGLES) > _SHINGLES_KEPT:
            _SHINGLES.popitem(last=False)


@functools.lru_cache(maxsize=4096)  # the candidates of a story's articles are the same URLs, again and again
def outlet(url: str) -> str:
    """The outlet an article URL belongs to: its host and port, without ``www.``."""
    netloc = urlsplit(url).netloc.lower()
    return netloc.removeprefix("www.")


def _candidate_query(literal: bool) -> Select[int, str | None, str | None, str, datetime, int, str, int]:
    """The candidates of an article (parameters ``article_id``, ``source_id`` and ``v0``..``vN``, its band values):
    each earlier article of another source sharing a band, those sharing the most first, at most
    ``MAX_CANDIDATES``, with its source, title, URL, first sighting, latest version and the original it copies.

    Built once: one ``band = i AND value = :vi`` branch a band lets both SQLite (a multi-index OR) and PostgreSQL
    (a bitmap OR) look each band up in the (band, value) index; a row-value IN scans the whole table on SQLite.
    With ``literal`` (PostgreSQL) the values are written into the SQL text when it runs (integers we computed): as
    parameters, psycopg prepares the statement after five runs and PostgreSQL's generic plan for it took 15 ms
    instead of 2. SQLite plans every run anew, and there writing 48 values into the text cost more than the query."""
    article_id: BindParameter[int] = bindparam("article_id", type_=Integer())
    source_id: BindParameter[str | None] = bindparam("source_id", type_=String())
    values = [bindparam(f"v{band}", type_=BigInteger(), literal_execute=literal) for band in range(nearcopy.BANDS)]
    shared = or_(*(and_(ArticleSketch.band == band, ArticleSketch.value == value) for band, value in enumerate(values)))
    mine = select(Article.first_seen_at).where(Article.id == article_id).scalar_subquery()
    earlier = or_(Article.first_seen_at < mine, and_(Article.first_seen_at == mine, Article.id < article_id))
    other_source = or_(source_id.is_(None), Article.source_id.is_(None), Article.source_id != source_id)
    # Grouped before the join: most rows sharing a band (a boilerplate paragraph) belong to articles sharing only
    # that one, and each joined row cost an article look-up. The count is the article's own, so filtering after
    # grouping keeps the same candidates.
    sharing = (select(ArticleSketch.article_id, func.count().label("bands")).where(shared)
               .group_by(ArticleSketch.article_id).having(func.count() >= MIN_SHARED_BANDS).subquery())
    ranked = (select(sharing.c.article_id).join(Article, Article.id == sharing.c.article_id)
              .where(earlier, other_source)
              .order_by(sharing.c.bands.desc(), sharing.c.article_id).limit(MAX_CANDIDATES).subquery())
    return (select(Article.id, Article.source_id, Article.title, Article.canonical_url, Article.first_seen_at,
                   ArticleVersion.id.label("version_id"), ArticleVersion.content_hash, ArticleCopy.original_id)
            .join(ranked, ranked.c.article_id == Article.id)
            .join(ArticleVersion, and_(ArticleVersion.article_id == Article.id,
                                       ArticleVersion.number == Article.version_count))
            .outerjoin(ArticleCopy, ArticleCopy.article_id == Article.id))


_CANDIDATES = {"postgresql": _candidate_query(literal=True), "sqlite": _candidate_query(literal=False)}


def _candidates(session: Session, article_id: int, source_id: str | None, bands: Sequence[int]) -> list[Row[Any]]:
    """The candidates (``_candidate_query``) for an article of ``source_id`` whose band values are ``bands``."""
    values = {f"v{band}": value for band, value in enumerate(bands)}
    connection = session.connection()
    # On the connection, not the session: the ORM's handling of a statement cost as much as running it.
    return list(connection.execute(_CANDIDATES[connection.dialect.name],
                                   {"article_id": article_id, "source_id": source_id, **values}))


def _record(session: Session, article_id: int, original: CopyOf, now: datetime, *, repoint: bool = True) -> None:
    """Link ``article_id`` to ``original`` (replacing an earlier link) and, with ``repoint``, re-point the
    article's own copies (a new article has none)."""
    connection = session.connection()
    connection.execute(_upsert_copy(connection.dialect.name),
                       {"article_id": article_id, "original_id": original.article_id,
                        "similarity": original.similarity, "detected_at": now})
    if repoint:
        connection.execute(_REPOINT_COPIES, {"copied": article_id, "root": original.article_id})


_REPOINT_COPIES = (update(ArticleCopy).where(ArticleCopy.original_id == bindparam("copied"))
                   .values(original_id=bindparam("root")))


@functools.cache
def _upsert_copy(dialect: str) -> Any:
    """The statement that links a copy to its original, replacing an earlier link; built once per dialect (building
    an ``ON CONFLICT`` statement costs more than running it)."""
    statement = dialect_insert(dialect, ArticleCopy)
    return statement.on_conflict_do_update(
        index_elements=[ArticleCopy.article_id],
        set_={"original_id": statement.excluded.original_id, "similarity": statement.excluded.similarity,
              "detected_at": statement.excluded.detected_at})


# --- the read side ------------------------------------------------------------------------------------------------

def copy_of(session: Session, article_id: int) -> CopyOf | None:
    """The original the article is a copy of (with the copy's similarity), or None."""
    row = session.execute(select(ArticleCopy.similarity, Article.id, Article.source_id, Article.title,
                                 Article.canonical_url)
                          .join(Article, Article.id == ArticleCopy.original_id)
                          .where(ArticleCopy.article_id == article_id)).one_or_none()
    if row is None:
        return None
    return CopyOf(row.id, row.source_id, row.title or "", row.canonical_url, row.similarity)


def copies_of(session: Session, article_id: int) -> list[Publication]:
    """"Also published by": every other article of the article's story, the original first, then its copies in
    the order they were first seen; empty when the article is neither a copy nor copied."""
    root = session.scalar(select(ArticleCopy.original_id).where(ArticleCopy.article_id == article_id)) or article_id
    copies = dict(session.execute(select(ArticleCopy.article_id, ArticleCopy.similarity)
                                  .where(ArticleCopy.original_id == root)).all())
    if not copies:
        return []
    rows = session.execute(select(Article.id, Article.source_id, Source.name, Article.title, Article.canonical_url,
                                  Article.first_seen_at)
                           .outerjoin(Source, Source.id == Article.source_id)
                           .where(Article.id.in_([root, *copies]), Article.id != article_id)
                           .order_by(Article.first_seen_at, Article.id))
    published = [Publication(row.id, row.source_id, row.name, row.title or "", row.canonical_url,
                             "original" if row.id == root else "copy", copies.get(row.id), row.first_seen_at)
                 for row in rows]
    return sorted(published, key=lambda p: p.role != "original")


def originals_of(session: Session, article_ids: Iterable[int]) -> dict[int, CopyOf]:
    """For each of ``article_ids`` that is a copy, the original it copies (for lists of articles)."""
    ids = list(dict.fromkeys(article_ids))
    if not ids:
        return {}
    rows = session.execute(select(ArticleCopy.article_id, ArticleCopy.similarity, Article.id, Article.source_id,
                                  Article.title, Article.canonical_url)
                           .join(Article, Article.id == ArticleCopy.original_id)
                           .where(ArticleCopy.article_id.in_(ids)))
    return {row.article_id: CopyOf(row.id, row.source_id, row.title or "", row.canonical_url, row.similarity)
            for row in rows}


def copy_dict(found: CopyOf) -> dict[str, Any]:
    """The JSON form of a copy's original."""
    return asdict(found)


def publication_dict(publication: Publication) -> dict[str, Any]:
    """The JSON form of one article of a story published by several outlets."""
    return asdict(publication) | {"first_seen_at": publication.first_seen_at.isoformat()}
