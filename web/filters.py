"""The one filter vocabulary of the web UI: every page, export, feed and API route reads its query string here.

Names are the same everywhere: ``since`` and ``until`` (``from`` and ``to`` are accepted as their old names),
``type`` (repeatable), ``source``, ``claim``, ``language``, ``relevant``, ``edited``, ``figures``, ``article``,
``label``, ``all``, ``status``, ``page``, ``sort`` and ``dir``. A value that is not valid raises HTTP 400 with
what to fix; ``web.app`` answers it as an HTML page, JSON or plain text according to the route.

Dates: ``since`` and ``until`` take an ISO 8601 date (``2026-01-31``) or time (``2026-01-31T08:00:00Z``; UTC
when no zone is given). ``since`` is inclusive; ``until`` given as a time is exclusive, given as a date it
includes that whole day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from db.browse import LABELS, EventFilter
from db.browse_lists import ArticleFilter, DiffFilter
from db.events import EVENT_TYPES
from db.export import MatchQuery

# The old page names of the time window, still understood.
ALIASES = {"since": "from", "until": "to"}
TIME_KEYS = ("since", "until", "from", "to")
EVENT_KEYS = ("type", "source", "claim", *TIME_KEYS)
ARTICLE_KEYS = ("source", "language", "relevant", "edited", *TIME_KEYS)
DIFF_KEYS = ("source", "article", "figures", *TIME_KEYS)
SOURCE_KEYS = ("health",)
MATCH_KEYS = ("claim", "label", "article", "all")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
MAX_PAGE = 1_000_000


def bad(message: str) -> HTTPException:
    """The 400 error of a query-string value that is not valid."""
    return HTTPException(400, message)


def one_of(value: str, known: Sequence[str], what: str) -> str:
    """``value`` when it is one of ``known``; else 400 listing them."""
    if value not in known:
        listed = ", ".join(known) if known else "none stored yet"
        raise bad(f"Unknown {what} {value!r}; known: {listed}.")
    return value


def text(params: QueryParams, key: str) -> str | None:
    """A parameter's value, stripped; None when absent or empty."""
    return params.get(key, "").strip() or None


def known(params: QueryParams, key: str, choices: Sequence[str], what: str) -> str | None:
    """A parameter that must be one of ``choices`` (None when absent)."""
    raw = text(params, key)
    return one_of(raw, choices, what) if raw else None


def flag(params: QueryParams, key: str, default: bool | None = None) -> bool | None:
    """A yes/no parameter: ``true``/``1``/``yes``, ``false``/``0``/``no``, or ``all`` (None: either)."""
    raw = (text(params, key) or "").lower()
    if not raw:
        return default
    if raw in TRUE:
        return True
    if raw in FALSE:
        return False
    if raw == "all":
        return None
    raise bad(f"`{key}` must be true, false or all, not {params.get(key)!r}.")


def whole(params: QueryParams, key: str, what: str, *, low: int = 0, high: int = 2**31 - 1) -> int | None:
    """A whole-number parameter in ``[low, high]`` (None when absent)."""
    raw = text(params, key)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > len(str(high)) or not low <= int(raw) <= high:
        raise bad(f"`{key}` must be {what}, not {raw!r}.")
    return int(raw)


def page_number(params: QueryParams) -> int:
    """``page``, from 1 (the first when absent)."""
    return whole(params, "page", "a page number from 1", low=1, high=MAX_PAGE) or 1


def _given(params: QueryParams, name: str) -> tuple[str, str | None]:
    """The key the window end ``name`` was given under (its old name accepted) and its value."""
    alias = ALIASES[name]
    value, old = text(params, name), text(params, alias)
    if value and old and value != old:
        raise bad(f"Give `{name}` or its old name `{alias}`, not both.")
    return (name, value) if value or not old else (alias, old)


def _moment(key: str, raw: str, *, end: bool) -> datetime:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        pass
    else:
        # A day as the window's end includes the whole day.
        return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise bad(f"`{key}` must be an ISO 8601 date or time such as 2026-01-31 or 2026-01-31T08:00:00Z, "
                  f"not {raw!r}.") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(params: QueryParams) -> tuple[datetime | None, datetime | None]:
    """``since`` (inclusive) and ``until`` (exclusive; a date includes its day) as UTC; 400 when either is not
    a date or time, or the window is empty."""
    since_key, since_raw = _given(params, "since")
    until_key, until_raw = _given(params, "until")
    since = _moment(since_key, since_raw, end=False) if since_raw else None
    until = _moment(until_key, until_raw, end=True) if until_raw else None
    if since is not None and until is not None and since >= until:
        raise bad(f"`{since_key}` ({since_raw}) is after `{until_key}` ({until_raw}): swap them.")
    return since, until


@dataclass(frozen=True)
class Choices:
    """What filters may name: the stored sources (id, display name), claim ids and article languages."""

    sources: Sequence[tuple[str, str]] = ()
    claims: Sequence[str] = ()
    languages: Sequence[str] = ()

    @property
    def source_ids(self) -> list[str]:
        """The source ids."""
        return [id_ for id_, _ in self.sources]

    @classmethod
    def of(cls, found: Mapping[str, Any]) -> Choices:
        """From ``db.browse.filter_choices`` (no languages) or ``db.browse_lists.choices``."""
        return cls(tuple((str(id_), str(name)) for id_, name in found["sources"]), tuple(found["claims"]),
                   tuple(found.get("languages", ())))


def event_filter(params: QueryParams, choices: Choices) -> EventFilter:
    """Which events: ``type`` (repeatable), ``source``, ``claim``, ``since``, ``until``."""
    types = tuple(dict.fromkeys(one_of(t.strip(), EVENT_TYPES, "event type")
                                for t in params.getlist("type") if t.strip()))
    since, until = window(params)
    return EventFilter(types=types, source_id=known(params, "source", choices.source_ids, "source"),
                       claim_id=known(params, "claim", choices.claims, "claim"), since=since, until=until)


def article_filter(params: QueryParams, choices: Choices) -> ArticleFilter:
    """Which articles: ``source``, ``language``, ``relevant`` (true (default), false, all), ``edited`` (has more
    than one version: true, false; all by default), first seen ``since`` / ``until``."""
    since, until = window(params)
    return ArticleFilter(source_id=known(params, "source", choices.source_ids, "source"),
                         language=known(params, "language", choices.languages, "language"),
                         relevant=flag(params, "relevant", True), edited=flag(params, "edited"),
                         since=since, until=until)


def diff_filter(params: QueryParams, choices: Choices) -> DiffFilter:
    """Which edits: ``source``, ``article`` (id), ``figures`` (figures changed: true, false; all by default),
    made ``since`` / ``until``."""
    since, until = window(params)
    return DiffFilter(source_id=known(params, "source", choices.source_ids, "source"),
                      article_id=whole(params, "article", "an article id (a whole number)"),
                      figures=flag(params, "figures"), since=since, until=until)


def match_query(params: QueryParams, choices: Choices) -> MatchQuery:
    """Which claim matches: ``claim``, ``label``, ``article``, ``all`` (off-subject new-claim sentences too)."""
    return MatchQuery(claim_id=known(params, "claim", choices.claims, "claim"),
                      label=known(params, "label", LABELS, "label"),
                      article_id=whole(params, "article", "an article id (a whole number)"),
                      off_subject=bool(flag(params, "all", False)))


def claim_status(params: QueryParams) -> str | None:
    """``status``: active or retired (None: both)."""
    return known(params, "status", ("active", "retired"), "status")


# --- sorting --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sort:
    """A list's order: ``column`` (one of the list's allow-list) and direction."""

    column: str
    descending: bool

    @property
    def direction(self) -> str:
        """``asc`` or ``desc``."""
        return "desc" if self.descending else "asc"


def sort_order(params: QueryParams, columns: Mapping[str, str], default: str) -> Sort:
    """``sort`` (one of ``columns``, which map each to its default direction) and ``dir`` (``asc``/``desc``;
    the column's default when absent)."""
    column = known(params, "sort", list(columns), "sort column") or default
    direction = known(params, "dir", ("asc", "desc"), "sort direction") or columns[column]
    return Sort(column, direction == "desc")


# --- links ----------------------------------------------------------------------------------------------

def kept(params: QueryParams, keys: Iterable[str]) -> list[tuple[str, str]]:
    """The query string's non-empty ``keys`` as given, in order (repeated keys kept), old window names
    renamed to the new: links carry the current filters in the one vocabulary."""
    names = set(keys)
    renamed = {old: new for new, old in ALIASES.items()}
    return [(renamed.get(k, k), v) for k, v in params.multi_items() if k in names and v.strip()]


def link(path: str, items: Iterable[tuple[str, object]]) -> str:
    """``path`` with ``items`` as its query string (none: the bare path)."""
    query = urlencode([(k, str(v)) for k, v in items])
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Alternate:
    """The same list in another format: label, media type, URL."""

    label: str
    media: str
    href: str


def alternates(filters: Sequence[tuple[str, str]], *, csv: str | None = None, json: str | None = None,
               atom: str | None = None, atom_filters: Sequence[tuple[str, str]] | None = None) -> list[Alternate]:
    """The CSV, JSON and Atom equivalents of a list (the paths given), each with the list's filters."""
    found = []
    if csv:
        found.append(Alternate("CSV", "text/csv", link(csv, filters)))
    if json:
        found.append(Alternate("JSON", "application/json", link(json, filters)))
    if atom:
        found.append(Alternate("Atom", "application/atom+xml",
                               link(atom, filters if atom_filters is None else atom_filters)))
    return found


@dataclass(frozen=True)
class Sorting:
    """What a list's table headers need: the current order and the links that change it (filters and page
    kept)."""

    path: str
    current: Sort
    columns: Mapping[str, str]
    params: tuple[tuple[str, str], ...]

    def href(self, column: str) -> str:
        """The link of ``column``'s header: the column in its default direction, or the other direction when
        it is the current column."""
        if column == self.current.column:
            direction = "asc" if self.current.descending else "desc"
        else:
            direction = self.columns[column]
        return link(self.path, [*self.params, ("sort", column), ("dir", direction)])

    def aria(self, column: str) -> str:
        """``aria-sort`` of ``column``'s header."""
        if column != self.current.column:
            return "none"
        return "descending" if self.current.descending else "ascending"


def pages(path: str, params: QueryParams, keys: Iterable[str], page: Mapping[str, Any]) -> dict[str, Any]:
    """The pager of a list at ``path`` in numbered pages (``page`` as ``db.browse_lists`` returns it): previous
    and next links keeping the filters (``keys``) and the order, and the page's number."""
    shown = kept(params, (*keys, "sort", "dir"))
    number = page["page"]
    return {"prev": link(path, [*shown, ("page", number - 1)]) if number > 1 else None,
            "next": link(path, [*shown, ("page", number + 1)]) if page["has_next"] else None,
            "number": number, "first": None}


def sorting(path: str, params: QueryParams, keys: Iterable[str], current: Sort,
            columns: Mapping[str, str]) -> Sorting:
    """The header links of a sortable list at ``path``: its filters (``keys``) and page kept."""
    return Sorting(path, current, columns, tuple(kept(params, (*keys, "page"))))
