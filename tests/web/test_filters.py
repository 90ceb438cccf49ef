"""The one filter parser (``web/filters.py``) on its own: the time window, yes/no values, sorting and links."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from web import filters


def window(query: str) -> tuple[datetime | None, datetime | None]:
    return filters.window(QueryParams(query))


def refused(call: object, query: str) -> str:
    with pytest.raises(HTTPException) as caught:
        call(QueryParams(query))  # type: ignore[operator]
    assert caught.value.status_code == 400
    return str(caught.value.detail)


def test_a_date_until_includes_its_day_a_time_until_does_not() -> None:
    assert window("since=2026-01-31&until=2026-01-31") == (datetime(2026, 1, 31, tzinfo=UTC),
                                                           datetime(2026, 2, 1, tzinfo=UTC))
    assert window("until=20260131") == (None, datetime(2026, 2, 1, tzinfo=UTC))  # ISO basic format: a date too
    assert window("until=2026-01-31T08:00:00") == (None, datetime(2026, 1, 31, 8, tzinfo=UTC))
    assert window("since=2026-01-31T10:00:00%2B02:00") == (datetime(2026, 1, 31, 8, tzinfo=UTC), None)
    assert window("from=2026-01-01&to=2026-01-02") == window("since=2026-01-01&until=2026-01-02")
    assert window("since=2026-01-01&from=2026-01-01") == window("since=2026-01-01")  # the same twice is fine
    assert window("") == (None, None)


@pytest.mark.parametrize(("query", "message"), [
    ("since=yesterday", "`since` must be an ISO 8601 date or time"),
    ("to=31/01/2026", "`to` must be an ISO 8601 date or time"),
    ("since=2026-02-01&until=2026-01-01", "`since` (2026-02-01) is after `until` (2026-01-01): swap them."),
    ("since=2026-01-01T08:00:00&until=2026-01-01T08:00:00", "is after"),
    ("since=2026-01-01&from=2026-02-01", "Give `since` or its old name `from`, not both."),
])
def test_a_bad_window_is_refused_saying_what_to_fix(query: str, message: str) -> None:
    assert message in refused(filters.window, query)


def test_yes_no_values_and_sort_order() -> None:
    assert [filters.flag(QueryParams(f"x={v}"), "x") for v in ("true", "1", "yes", "FALSE", "0", "no", "all")] == [
        True, True, True, False, False, False, None]
    assert filters.flag(QueryParams(""), "x", True) is True
    assert "`x` must be true, false or all" in refused(lambda p: filters.flag(p, "x"), "x=maybe")
    columns = {"title": "asc", "score": "desc"}
    assert filters.sort_order(QueryParams(""), columns, "score") == filters.Sort("score", True)
    assert filters.sort_order(QueryParams("sort=title"), columns, "score") == filters.Sort("title", False)
    assert filters.sort_order(QueryParams("sort=title&dir=desc"), columns, "score") == filters.Sort("title", True)
    assert "Unknown sort column 'url'" in refused(lambda p: filters.sort_order(p, columns, "score"), "sort=url")


def test_header_links_flip_the_current_column_and_keep_filters_and_page() -> None:
    params = QueryParams("source=a%26b&from=2026-01-01&page=3&sort=title&dir=asc&junk=1")
    sorting = filters.sorting("/articles", params, ("source", "from"), filters.Sort("title", False),
                              {"title": "asc", "score": "desc"})
    assert sorting.href("title") == "/articles?source=a%26b&since=2026-01-01&page=3&sort=title&dir=desc"
    assert sorting.href("score") == "/articles?source=a%26b&since=2026-01-01&page=3&sort=score&dir=desc"
    assert (sorting.aria("title"), sorting.aria("score")) == ("ascending", "none")
