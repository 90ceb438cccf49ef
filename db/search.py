"""Full-text search over the latest version of every article: the query language, FTS5 on SQLite, a stored
``tsvector`` on PostgreSQL, and a substring fallback for Chinese, Japanese and Korean queries.

The index objects are made by migrations 0005 and 0013 (their docstrings have the design): SQLite stems English
with FTS5's ``porter`` tokenizer, PostgreSQL stems each version in its language's text search configuration
(``english``, ``russian``, ``simple`` for the rest). Matches in titles and snippets come back wrapped in
``MARK_START`` … ``MARK_END`` (control characters that article text does not use), so the web layer can escape the
whole text first and only then turn the sentinels into ``<mark>`` elements.

Queries use web-search syntax on both databases: words (all must match), ``"a phrase"``, ``OR`` between two
terms, ``-word`` to exclude, ``word*`` for every word that starts so. Every word reaches FTS5 as a quoted string
and PostgreSQL through ``phraseto_tsquery`` or a quoted ``to_tsquery`` lexeme, so no input is an operator there.
With ``cross_language`` each term also brings the lexicon's words for it in the other languages
(``analysis.search_terms``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from analysis.search_terms import has_hangul, related_terms, russian_prefix
from db.models import Article, ArticleVersion

if TYPE_CHECKING:  # Alembic (with Mako and Pygments, 11 MiB) is imported only by the commands that migrate
    from alembic.runtime.environment import NameFilterParentNames, NameFilterType

MARK_START, MARK_END = "\x02", "\x03"
SEARCH_TABLE = "article_search"  # SQLite: the FTS5 table (its shadow tables are article_search_*)
SEARCH_INDEXES = ("ix_article_versions_search", "ix_article_versions_search_vector")  # PostgreSQL: 0005's, 0013's
SEARCH_COLUMN = "search_vector"  # PostgreSQL: article_versions' stored tsvector (0013)
_TOKEN = re.compile(r'(?P<neg>-)?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
_CJK = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
                  "\uac00-\ud7af\uf900-\ufaff]")


class SearchQueryError(ValueError):
    """A search query that cannot be run (nothing to search for, too long); the message says what to type."""


def _quote(text: str) -> str:
    """An FTS5 string: ``text`` in double quotes, its own doubled."""
    return '"' + text.replace('"', '""') + '"'


def words(term: str) -> list[tuple[str, bool]]:
    """The words of a term (a word or a phrase) as (text, is a prefix): a word ending in ``*`` is a prefix; words
    with no letter or digit are left out."""
    found = []
    for word in term.split():
        text = word.rstrip("*")
        if any(ch.isalnum() for ch in text):
            found.append((text, text != word))
    return found


def plain(term: str) -> str:
    """``term`` without its prefix marks: the text it matches at least."""
    return " ".join(text for text, _ in words(term))


def include_name(name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames) -> bool:
    """Alembic ``include_name`` hook: leave out the search objects (tables, index, the tsvector column), which no
    model describes."""
    if name is None:
        return True
    if type_ == "table":
        return name != SEARCH_TABLE and not name.startswith(SEARCH_TABLE + "_")
    if type_ == "column":
        return name != SEARCH_COLUMN
    return not (type_ == "index" and name in SEARCH_INDEXES)


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
        """The FTS5 MATCH expression: every word a quoted string (``"`` doubled), so nothing is an operator; a
        prefix word is followed by ``*``, and the words of a phrase are joined with ``+``. Russian words become
        their Snowball stem as a prefix (FTS5 has no Russian stemmer; ``analysis.search_terms``)."""
        def term(value: str) -> str:
            # Words in a row share one quoted string; a prefix ends its string (FTS5 marks the last token of a
            # string as the prefix), and strings in a row are joined with "+".
            strings: list[str] = []
            run: list[str] = []
            for text, prefix in words(value):
                stem = None if prefix else russian_prefix(text)
                run.append(stem or text)
                if prefix or stem:
                    strings.append(_quote(" ".join(run)) + " *")
                    run = []
            if run:
                strings.append(_quote(" ".join(run)))
            return " + ".join(strings)

        match = " AND ".join("(" + " OR ".join(term(t) for t in group) + ")" for group in self.groups)
        if self.excluded:
            match = f"({match}) NOT (" + " OR ".join(term(t) for t in self.excluded) + ")"
        return match

    def expanded(self) -> tuple[ParsedQuery, tuple[str, ...]]:
        """This query with each term's other-language terms from the lexicon as alternatives (and as exclusions
        for an excluded term), and the terms added, in order."""
        added: dict[str, None] = {}

        def grow(terms: Sequence[str]) -> tuple[str, ...]:
            known = {t.casefold() for t in terms}
            more = [r for t in terms for r in related_terms(t) if r.casefold() not in known]
            added.update(dict.fromkeys(more))
            return tuple(dict.fromkeys([*terms, *more]))

        groups = tuple(grow(group) for group in self.groups)
        return ParsedQuery(groups, grow(self.excluded) if self.excluded else ()), tuple(added)


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
        if not words(term):
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
    more than the newest ``RECENT_MATCHES`` versions, and only those were ranked and counted; ``also_searched``:
    the terms a cross-language search added."""

    query: str
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int
    mode: str
    more: bool = False  # more versions matched than the newest ``RECENT_MATCHES`` ranked
    also_searched: tuple[str, ...] = ()

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
                    filters: SearchFilters | None = None, recent: int = RECENT_MATCHES,
                    cross_language: bool = False) -> SearchPage:
    """Articles whose latest version matches ``query``, best first among the newest ``recent`` matching versions;
    with ``cross_language``, each term's words in the other languages count as matches too. Raises
    SearchQueryError for a query with nothing to search for."""
    parsed = parse_query(query)
    added: tuple[str, ...] = ()
    if cross_language:
        parsed, added = parsed.expanded()
    filters = filters or SearchFilters()
    offset = (max(page, 1) - 1) * page_size
    fulltext = _search_sqlite if session.get_bind().dialect.name == "sqlite" else _search_postgresql
    # Chinese and Japanese lexicon words sit inside runs of characters that the index keeps whole: those
    # articles are found by substring instead (only when the expansion brought such words, see _unspaced).
    unspaced = _unspaced(parsed, filters) if added else None
    try:
        total, ranked, more = fulltext(session, parsed, filters, Window(page_size, offset, recent), unspaced)
    except (OperationalError, ProgrammingError) as exc:
        if "fts5" not in str(exc.orig) and "tsquery" not in str(exc.orig):
            raise
        # Quoting should make this impossible; should the database still reject a query, the user gets a message.
        raise SearchQueryError("That query could not be understood; try plain words.") from exc
    mode = "fulltext"
    if total == 0 and parsed.is_cjk:
        mode = "substring"
        total, ranked = _search_substring(session, parsed, filters, page_size, offset)
        more = False
    return SearchPage(query, _hits(session, ranked), total, max(page, 1), page_size, mode, more, added)


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


def _contains(term: str) -> ColumnElement[bool]:
    """The title or the text contains ``term`` (its plain text), any case."""
    text = plain(term)
    return or_(ArticleVersion.title.icontains(text, autoescape=True),
               ArticleVersion.text.icontains(text, autoescape=True))


# Languages written without spaces between words: the index keeps their runs of characters whole.
UNSPACED_LANGUAGES = ("zh", "ja")


def _unspaced(parsed: ParsedQuery, filters: SearchFilters) -> Select[int] | None:
    """The latest Chinese and Japanese versions that contain, for every group, one of its Chinese or Japanese
    terms, and no excluded term: what a cross-language query finds in those languages. None when a group has no
    such term (then no Chinese or Japanese text can match all groups but through the index)."""
    def unspaced(term: str) -> bool:
        return bool(_CJK.search(term)) and not has_hangul(term)

    groups = [[t for t in group if unspaced(t)] for group in parsed.groups]
    if not all(groups) or (filters.language and filters.language not in UNSPACED_LANGUAGES):
        return None
    # Chinese and Japanese have no case: a plain LIKE, without lowering the whole text for every term.
    def contains(term: str) -> ColumnElement[bool]:
        return or_(ArticleVersion.title.contains(term, autoescape=True),
                   ArticleVersion.text.contains(term, autoescape=True))

    conditions = [or_(*(contains(t) for t in group)) for group in groups]
    conditions += [not_(_contains(t)) for t in parsed.excluded]
    return _latest_versions(select(ArticleVersion.id), filters).where(
        ArticleVersion.language.in_(UNSPACED_LANGUAGES), *conditions)


def _candidates(fulltext: Select[int, float], unspaced: Select[int] | None) -> Subquery:
    """(version_id, rank, indexed) of the full-text matches, with the substring matches of ``unspaced`` (rank 0,
    not indexed) when there are any; a version found both ways once, as an indexed match."""
    found = fulltext.subquery("fulltext")
    indexed = select(found.c.version_id, found.c.rank, literal(1).label("indexed"))
    if unspaced is None:
        return indexed.subquery("recent")
    both = union_all(indexed, select(unspaced.subquery("unspaced").c.id, literal(0.0), literal(0))).subquery()
    return (select(both.c.version_id, func.max(both.c.rank).label("rank"), func.max(both.c.indexed).label("indexed"))
            .group_by(both.c.version_id).subquery("recent"))


def _ranked_page(session: Session, recent: Subquery, filters: SearchFilters,
                 window: Window) -> tuple[int, list[tuple[int, float, int]]]:
    """How many candidates are latest versions within the filters, and this page of them, best first."""
    def matching(*columns: Any) -> Select[Any]:
        query = select(*columns).select_from(recent).join(ArticleVersion, ArticleVersion.id == recent.c.version_id)
        return _latest_versions(query, filters)

    # The count comes with the page (a window over the same rows), so the candidates are found and ranked once;
    # a page past the end has no row to carry it, and is counted apart.
    rows = session.execute(matching(ArticleVersion.id, recent.c.rank, recent.c.indexed, func.count().over())
                           .order_by(recent.c.rank.desc(), ArticleVersion.article_id.desc())
                           .limit(window.limit).offset(window.offset)).all()
    total = rows[0][3] if rows else session.execute(matching(func.count())).scalar_one()
    return total, [(vid, rank, indexed) for vid, rank, indexed, _ in rows]


def _marked_by_substring(session: Session, parsed: ParsedQuery, version_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Marked title and snippet of versions found by substring."""
    if not version_ids:
        return {}
    return {vid: (mark_terms(title, parsed.terms), substring_snippet(body, parsed.terms))
            for vid, title, body in session.execute(select(ArticleVersion.id, ArticleVersion.title,
                                                           ArticleVersion.text).where(ArticleVersion.id.in_(version_ids)))}


def _search_sqlite(session: Session, parsed: ParsedQuery, filters: SearchFilters, window: Window,
                   unspaced: Select[int] | None) -> tuple[int, Ranked, bool]:
    match = _FTS_COLUMN.op("MATCH")(parsed.fts5())
    # FTS5 walks a match list newest (highest rowid) first and stops at the limit; bm25 is computed for those rows
    # only: a match in the title weighs five times one in the text; lower is better, so its negation is the rank.
    newest = (select(_FTS.c.rowid.label("version_id"), (-func.bm25(_FTS_COLUMN, 5.0, 1.0)).label("rank"))
              .where(match).order_by(_FTS.c.rowid.desc()).limit(window.recent))
    total, page = _ranked_page(session, _candidates(newest, unspaced), filters, window)
    more = session.execute(select(_FTS.c.rowid).where(match).order_by(_FTS.c.rowid.desc()).limit(1)
                           .offset(window.recent)).first() is not None
    if not page:
        return total, [], more
    # Highlights and snippets are costly: made for this page's rows only (in the sorted query, SQLite would make
    # them for every match before keeping a page of them). The page's rows are read as a range of the match list,
    # not as ``rowid IN (…)``: FTS5 evaluates the whole MATCH again for each rowid of a list, which with prefix
    # terms (a cross-language query has dozens) cost about 30 ms a row; the range is one pass over at most the
    # newest ``recent`` matches, and CASE makes the marks for the page's rows only.
    ids = [vid for vid, _, indexed in page if indexed]
    marked: dict[int, tuple[str, str]] = {}
    if ids:
        on_page, wanted = _FTS.c.rowid.in_(ids), set(ids)
        marked = {rowid: (title, snippet) for rowid, title, snippet in session.execute(
            select(_FTS.c.rowid, case((on_page, func.highlight(_FTS_COLUMN, 0, MARK_START, MARK_END))),
                   case((on_page, func.snippet(_FTS_COLUMN, 1, MARK_START, MARK_END, "…", 40))))
            .select_from(_FTS).where(match, _FTS.c.rowid.between(min(ids), max(ids)))) if rowid in wanted}
    marked |= _marked_by_substring(session, parsed, [vid for vid, _, indexed in page if not indexed])
    return total, [(vid, score, *marked[vid]) for vid, score, _ in page], more


# The stored vector of migration 0013, and the configuration of each version's language as it computes it.
_PG_VECTOR: ColumnClause[Any] = literal_column(f"article_versions.{SEARCH_COLUMN}")
PG_CONFIG: ColumnClause[Any] = literal_column(
    "(CASE substr(article_versions.language, 1, 2) WHEN 'en' THEN 'english'::regconfig "
    "WHEN 'ru' THEN 'russian'::regconfig ELSE 'simple'::regconfig END)")
# A query term is looked up as each configuration reads it: a version is stored under one of them.
_PG_CONFIGS = ("english", "russian", "simple")
_PG_TITLE_OPTIONS = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
_PG_SNIPPET_OPTIONS = f"MaxWords=40, MinWords=20, StartSel={MARK_START}, StopSel={MARK_END}"


def _pg_headline(value: Any, tsquery: Any, options: str) -> Any:
    # ts_headline drops whatever looks like an HTML tag; a \x01 after every "<" keeps such text as text (and
    # is removed again below).
    return func.ts_headline(PG_CONFIG, func.replace(value, "<", "<\x01"), tsquery, options)


def _pg_word(config: str, text: str, prefix: bool) -> Any:
    """One word as a tsquery of ``config``: through phraseto_tsquery, or as a quoted lexeme with ``:*`` for a
    prefix (quotes and backslashes escaped, so the word cannot be tsquery syntax). Under ``simple`` a Russian word
    is also its Snowball stem as a prefix, as on SQLite: the ``russian`` configuration does not give every form
    one stem (Пхеньяна → пхенья, Пхеньяне → пхеньян)."""
    regconfig: ColumnClause[Any] = literal_column(f"'{config}'::regconfig")
    stem = russian_prefix(text) if config == "simple" and not prefix else None
    if stem:
        text, prefix = stem, True
    if not prefix:
        return func.phraseto_tsquery(regconfig, text)
    quoted = "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    return func.to_tsquery(regconfig, quoted + ":*")


def _pg_term(term: str) -> Any:
    """A term as a tsquery: its words in a row (a phrase), under each configuration, any of them."""
    def in_config(config: str) -> Any:
        pieces = [_pg_word(config, text, prefix) for text, prefix in words(term)]
        query = pieces[0]
        for piece in pieces[1:]:
            query = func.tsquery_phrase(query, piece)
        return query

    return _any(in_config(config) for config in _PG_CONFIGS)


def _any(queries: Iterable[Any]) -> Any:
    found = list(queries)
    query = found[0]
    for other in found[1:]:
        query = func.tsquery_or(query, other)
    return query


def pg_tsquery(parsed: ParsedQuery) -> Any:
    """The whole query as one PostgreSQL tsquery: every group (any of its terms), no excluded term."""
    groups = [_any(_pg_term(t) for t in group) for group in parsed.groups]
    query = groups[0]
    for group in groups[1:]:
        query = func.tsquery_and(query, group)
    if parsed.excluded:
        query = func.tsquery_and(query, func.tsquery_not(_any(_pg_term(t) for t in parsed.excluded)))
    return query


def _search_postgresql(session: Session, parsed: ParsedQuery, filters: SearchFilters, window: Window,
                       unspaced: Select[int] | None) -> tuple[int, Ranked, bool]:
    tsquery = pg_tsquery(parsed)
    matches = _PG_VECTOR.op("@@")(tsquery)
    newest = select(ArticleVersion.id).where(matches).order_by(ArticleVersion.id.desc())
    # ts_rank reads each row's stored vector again: computed for the newest matches only, after the limit.
    recent = newest.limit(window.recent).subquery("newest")
    ranked = (select(recent.c.id.label("version_id"), func.ts_rank(_PG_VECTOR, tsquery).label("rank"))
              .join(ArticleVersion, ArticleVersion.id == recent.c.id))
    total, page = _ranked_page(session, _candidates(ranked, unspaced), filters, window)
    more = session.execute(newest.limit(1).offset(window.recent)).first() is not None
    if not page:
        return total, [], more
    # Headlines are costly: made for this page's rows only.
    indexed = [vid for vid, _, found in page if found]
    marked = {vid: (title.replace("\x01", ""), snippet.replace("\x01", "")) for vid, title, snippet in session.execute(
        select(ArticleVersion.id, _pg_headline(ArticleVersion.title, tsquery, _PG_TITLE_OPTIONS),
               _pg_headline(ArticleVersion.text, tsquery, _PG_SNIPPET_OPTIONS))
        .where(ArticleVersion.id.in_(indexed)))} if indexed else {}
    marked |= _marked_by_substring(session, parsed, [vid for vid, _, found in page if not found])
    return total, [(vid, float(score), *marked[vid]) for vid, score, _ in page], more


def _search_substring(session: Session, parsed: ParsedQuery, filters: SearchFilters, limit: int,
                      offset: int) -> tuple[int, Ranked]:
    # Chinese and Japanese have no spaces for the tokenizers to split at, so an index term is a whole run of
    # characters; a substring scan of the latest versions finds words inside runs (slower, used only when the
    # index found nothing).
    conditions = [or_(*(_contains(t) for t in group)) for group in parsed.groups]
    conditions += [not_(_contains(t)) for t in parsed.excluded]
    base = _latest_versions(select(ArticleVersion.id, ArticleVersion.title, ArticleVersion.text), filters).where(
        *conditions)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(ArticleVersion.article_id.desc()).limit(limit).offset(offset))
    return total, [(vid, 0.0, mark_terms(title, parsed.terms), substring_snippet(body, parsed.terms))
                   for vid, title, body in rows]


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str]:
    texts = {plain(t) for t in terms}
    return re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True)), re.IGNORECASE)


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
