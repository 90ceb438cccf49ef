"""Full-text search over the latest version of every article: the query language, FTS5 on SQLite, ``tsvector``
on PostgreSQL, and a substring fallback for Chinese, Japanese and Korean queries.

The index objects are made by migration 0005 (its docstring has the design). Matches in titles and snippets come
back wrapped in ``MARK_START`` … ``MARK_END`` (control characters that article text does not use), so the web
layer can escape the whole text first and only then turn the sentinels into ``<mark>`` elements.

Queries use web-search syntax on both databases: words (all must match), ``"a phrase"``, ``OR`` between two
terms, ``-word`` to exclude. Every term reaches FTS5 as a quoted string, so no input can be an FTS5 syntax error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    func,
    literal_column,
    not_,
    or_,
    select,
    table,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.models import Article, ArticleVersion

MARK_START, MARK_END = "\x02", "\x03"
SEARCH_TABLE = "article_search"  # SQLite: the FTS5 table (its shadow tables are article_search_*)
SEARCH_INDEX = "ix_article_versions_search"  # PostgreSQL: the GIN expression index
_TOKEN = re.compile(r'(?P<neg>-)?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
_CJK = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uac00-\ud7af\uf900-\ufaff]")


class SearchQueryError(ValueError):
    """A search query with nothing to search for; the message says what to type instead."""


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic ``include_name`` hook: leave out the search objects, which no model describes."""
    if name is None:
        return True
    if type_ == "table":
        return name != SEARCH_TABLE and not name.startswith(SEARCH_TABLE + "_")
    return not (type_ == "index" and name == SEARCH_INDEX)


@dataclass(frozen=True)
class ParsedQuery:
    """A query as terms: every group must match (any one of its alternatives), no excluded term may."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """Every term to look for, in order."""
        return tuple(term for group in self.groups for term in group)

    @property
    def is_cjk(self) -> bool:
        """Whether a term is written in Chinese, Japanese or Korean characters."""
        return any(_CJK.search(term) for term in self.terms)

    def fts5(self) -> str:
        """The FTS5 MATCH expression: every term a quoted string (``"`` doubled), so nothing is an operator."""
        def quote(term: str) -> str:
            return '"' + term.replace('"', '""') + '"'

        match = " AND ".join("(" + " OR ".join(quote(t) for t in group) + ")" for group in self.groups)
        if self.excluded:
            match = f"({match}) NOT (" + " OR ".join(quote(t) for t in self.excluded) + ")"
        return match

    def websearch(self) -> str:
        """The same query for PostgreSQL's ``websearch_to_tsquery`` (terms hold no ``"``)."""
        parts = [" or ".join(f'"{t}"' for t in group) for group in self.groups]
        return " ".join(parts + [f'-"{t}"' for t in self.excluded])


def parse_query(query: str) -> ParsedQuery:
    """Terms of a web-search style query; an unclosed quote runs to the end. Raises SearchQueryError when no
    term has a letter or digit to look for."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    query = unicodedata.normalize("NFC", query)  # stored text is NFC: a decomposed query must match it
    for found in _TOKEN.finditer(query):
        negated = bool(found["neg"])
        term = found["phrase"] if found["phrase"] is not None else found["word"]
        if found["word"] is not None:
            if term.lower() == "or":
                join_next = bool(groups)
                continue
            negated, term = term.startswith("-"), term.lstrip("-")
        term = " ".join(term.split())
        if not any(ch.isalnum() for ch in term):
            continue
        if negated:
            excluded.append(term)
        elif join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    if not groups:
        if excluded:
            raise SearchQueryError("Add a word to look for: a search cannot only exclude words (-word).")
        raise SearchQueryError("Type one or more words to search for.")
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded))


@dataclass(frozen=True)
class SearchHit:
    """One article whose latest version matches, with the match marked in its title and a snippet."""

    article_id: int
    version_id: int
    version: int
    title: str
    snippet: str
    url: str
    source_id: str | None
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    rank: float


@dataclass(frozen=True)
class SearchPage:
    """One page of results; ``mode`` is ``fulltext`` or ``substring`` (the CJK fallback); ``more``: the query matched
    more than the newest ``RECENT_MATCHES`` versions, and only those were ranked and counted."""

    query: str
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int
    mode: str
    more: bool = False  # more versions matched than the newest ``RECENT_MATCHES`` ranked

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        """Whether a later page has results."""
        return self.page < self.pages


@dataclass(frozen=True)
class SearchFilters:
    """Optional restrictions of a search."""

    source_id: str | None = None
    language: str | None = None


# Full-text matches ranked and counted: the newest this many matching versions. Ranking every match of a word
# that most articles carry would cost more with every article stored; a narrower query reaches older matches.
RECENT_MATCHES = 2_000


@dataclass(frozen=True)
class Window:
    """Which ranked rows a full-text search returns (``limit`` from ``offset``), ranking the newest ``recent``."""

    limit: int
    offset: int
    recent: int


def search_articles(session: Session, query: str, *, page: int = 1, page_size: int = 20,
                    filters: SearchFilters | None = None, recent: int = RECENT_MATCHES) -> SearchPage:
    """Articles whose latest version matches ``query``, best first among the newest ``recent`` matching versions.
    Raises SearchQueryError for a query with nothing to search for."""
    parsed = parse_query(query)
    filters = filters or SearchFilters()
    offset = (max(page, 1) - 1) * page_size
    fulltext = _search_sqlite if session.get_bind().dialect.name == "sqlite" else _search_postgresql
    try:
        total, ranked, more = fulltext(session, parsed, filters, Window(page_size, offset, recent))
    except OperationalError as exc:
        if "fts5" not in str(exc.orig):
            raise
        # Quoting should make this impossible; should FTS5 still reject a query, the user gets a message.
        raise SearchQueryError("That query could not be understood; try plain words.") from exc
    mode = "fulltext"
    if total == 0 and parsed.is_cjk:
        mode = "substring"
        total, ranked = _search_substring(session, parsed, filters, page_size, offset)
        more = False
    return SearchPage(query, _hits(session, ranked), total, max(page, 1), page_size, mode, more)


# ranked rows: (version_id, rank, marked title, marked snippet)
Ranked = list[tuple[int, float, str, str]]

Ts = TypeVarTuple("Ts")
_FTS = table(SEARCH_TABLE, column("rowid", Integer))
# FTS5's hidden column named after its table: the left side of MATCH, the first argument of bm25() and snippet().
_FTS_COLUMN: ColumnClause[Any] = literal_column(SEARCH_TABLE)


def _latest_versions(query: Select[*Ts], filters: SearchFilters) -> Select[*Ts]:
    """``query`` joined to the articles whose latest version is the row, with the filters applied."""
    query = query.join(Article, and_(Article.id == ArticleVersion.article_id,
                                     ArticleVersion.number == Article.version_count))
    if filters.source_id:
        query = query.where(Article.source_id == filters.source_id)
    if filters.language:
        query = query.where(ArticleVersion.language == filters.language)
    return query


def _search_sqlite(session: Session, parsed: ParsedQuery, filters: SearchFilters,
                   window: Window) -> tuple[int, Ranked, bool]:
    match = _FTS_COLUMN.op("MATCH")(parsed.fts5())
    # FTS5 walks a match list newest (highest rowid) first and stops at the limit; bm25 is computed for those rows
    # only: a match in the title weighs five times one in the text; lower is better.
    recent = (select(_FTS.c.rowid.label("version_id"), func.bm25(_FTS_COLUMN, 5.0, 1.0).label("rank"))
              .where(match).order_by(_FTS.c.rowid.desc()).limit(window.recent).subquery("recent"))

    def matching(*columns: Any) -> Select[Any]:
        query = select(*columns).select_from(recent).join(ArticleVersion, ArticleVersion.id == recent.c.version_id)
        return _latest_versions(query, filters)

    total = session.execute(matching(func.count())).scalar_one()
    more = session.execute(select(_FTS.c.rowid).where(match).order_by(_FTS.c.rowid.desc()).limit(1)
                           .offset(window.recent)).first() is not None
    page = session.execute(matching(ArticleVersion.id, recent.c.rank)
                           .order_by(recent.c.rank, ArticleVersion.article_id.desc())
                           .limit(window.limit).offset(window.offset)).all()
    if not page:
        return total, [], more
    # Highlights and snippets are costly: made for this page's rows only (in the sorted query, SQLite would make
    # them for every match before keeping a page of them).
    marked = {rowid: (title, snippet) for rowid, title, snippet in session.execute(
        select(_FTS.c.rowid, func.highlight(_FTS_COLUMN, 0, MARK_START, MARK_END),
               func.snippet(_FTS_COLUMN, 1, MARK_START, MARK_END, "…", 40))
        .select_from(_FTS).where(match, _FTS.c.rowid.in_([vid for vid, _ in page])))}
    return total, [(vid, -score, *marked[vid]) for vid, score in page], more


# The GIN index's expression exactly as migration 0005 wrote it (constants, no bound values), so the planner
# matches it to the index.
_PG_VECTOR: ColumnClause[Any] = literal_column(
    "(setweight(to_tsvector('simple'::regconfig, article_versions.title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, article_versions.text), 'B'))")
_PG_TITLE_OPTIONS = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_PG_SNIPPET_OPTIONS = f"MaxWords=40, MinWords=20, StartSel={MARK_START}, StopSel={MARK_END}"


def _pg_headline(value: Any, tsquery: Any, options: str) -> Any:
    # ts_headline drops whatever looks like an HTML tag; a \x01 after every "<" keeps such text as text (and
    # is removed again below).
    return func.ts_headline(literal_column("'simple'"), func.replace(value, "<", "<\x01"), tsquery, options)


def _search_postgresql(session: Session, parsed: ParsedQuery, filters: SearchFilters,
                       window: Window) -> tuple[int, Ranked, bool]:
    tsquery = func.websearch_to_tsquery(literal_column("'simple'"), parsed.websearch())
    matches = _PG_VECTOR.op("@@")(tsquery)
    newest = select(ArticleVersion.id).where(matches).order_by(ArticleVersion.id.desc())
    recent = newest.limit(window.recent).subquery("recent")
    total = session.execute(_latest_versions(select(func.count()).select_from(recent).join(
        ArticleVersion, ArticleVersion.id == recent.c.id), filters)).scalar_one()
    more = session.execute(newest.limit(1).offset(window.recent)).first() is not None
    # ts_rank reads each row's text again: ranked for the newest matches only.
    rank = func.ts_rank(_PG_VECTOR, tsquery).label("rank")
    page = (_latest_versions(select(ArticleVersion.id, ArticleVersion.article_id, rank).select_from(recent).join(
        ArticleVersion, ArticleVersion.id == recent.c.id), filters)
            .order_by(rank.desc(), ArticleVersion.article_id.desc()).limit(window.limit).offset(window.offset)
            .cte("page"))
    # Headlines are costly: made for this page's rows only.
    rows = session.execute(
        select(page.c.id, page.c.rank, _pg_headline(ArticleVersion.title, tsquery, _PG_TITLE_OPTIONS),
               _pg_headline(ArticleVersion.text, tsquery, _PG_SNIPPET_OPTIONS))
        .join(ArticleVersion, ArticleVersion.id == page.c.id)
        .order_by(page.c.rank.desc(), page.c.article_id.desc()))
    return total, [(vid, float(score), title.replace("\x01", ""), snippet.replace("\x01", ""))
                   for vid, score, title, snippet in rows], more


def _search_substring(session: Session, parsed: ParsedQuery, filters: SearchFilters, limit: int,
                      offset: int) -> tuple[int, Ranked]:
    # Chinese and Japanese have no spaces for the tokenizers to split at, so an index term is a whole run of
    # characters; a substring scan of the latest versions finds words inside runs (slower, used only when the
    # index found nothing).
    def contains(term: str) -> ColumnElement[bool]:
        return or_(ArticleVersion.title.icontains(term, autoescape=True),
                   ArticleVersion.text.icontains(term, autoescape=True))

    conditions = [or_(*(contains(t) for t in group)) for group in parsed.groups]
    conditions += [not_(contains(t)) for t in parsed.excluded]
    base = _latest_versions(select(ArticleVersion.id, ArticleVersion.title, ArticleVersion.text), filters).where(
        *conditions)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(ArticleVersion.article_id.desc()).limit(limit).offset(offset))
    return total, [(vid, 0.0, mark_terms(title, parsed.terms), substring_snippet(body, parsed.terms))
                   for vid, title, body in rows]


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE)


def mark_terms(value: str, terms: Sequence[str]) -> str:
    """``value`` with every occurrence of a term (any case) wrapped in the sentinels."""
    return _terms_pattern(terms).sub(lambda m: MARK_START + m.group(0) + MARK_END, value)


def substring_snippet(body: str, terms: Sequence[str], before: int = 60, width: int = 240) -> str:
    """About ``width`` characters of ``body`` around the first occurrence of a term, the terms marked."""
    first = _terms_pattern(terms).search(body)
    start = max(0, (first.start() if first else 0) - before)
    end = min(len(body), start + width)
    piece = body[start:end]
    return ("…" if start else "") + mark_terms(piece, terms) + ("…" if end < len(body) else "")


def _hits(session: Session, ranked: Ranked) -> list[SearchHit]:
    if not ranked:
        return []
    rows = {row.id: row for row in session.execute(
        select(ArticleVersion.id, ArticleVersion.article_id, ArticleVersion.number, ArticleVersion.language,
               ArticleVersion.fetched_at, Article.canonical_url, Article.source_id, Article.published_at)
        .join(Article, Article.id == ArticleVersion.article_id)
        .where(ArticleVersion.id.in_([version_id for version_id, *_ in ranked])))}
    hits = []
    for version_id, rank, title, snippet in ranked:
        row = rows[version_id]
        hits.append(SearchHit(row.article_id, version_id, row.number, title, snippet, row.canonical_url,
                              row.source_id, row.language, row.published_at, row.fetched_at, rank))
    return hits
