"""The open, typed vocabulary of claim-figure units: what each name means, which compare, how they read."""

from __future__ import annotations

import pytest

from analysis.claims.units import Unit, UnitError, like, parse_unit, unit_text


@pytest.mark.parametrize(("name", "unit"), [
    ("usd", Unit("usd", "money", currency="usd")),
    ("usd_per_month", Unit("usd_per_month", "money", currency="usd", period="month")),
    ("rub_per_month", Unit("rub_per_month", "money", currency="rub", period="month")),
    ("workers", Unit("workers", "count", noun="workers")),
    ("restaurants", Unit("restaurants", "count", noun="restaurants")),
    ("barrels_per_year", Unit("barrels_per_year", "count", noun="barrels", period="year")),
    ("hours_per_day", Unit("hours_per_day", "rate", noun="hours", period="day")),
    ("percent", Unit("percent", "percent")),
    ("days", Unit("days", "duration")),
    ("date", Unit("date", "identifier")),
    ("un_resolution", Unit("un_resolution", "identifier")),
])
def test_unit_names_are_typed(name: str, unit: Unit) -> None:
    assert parse_unit(name) == unit


@pytest.mark.parametrize("name", ["Workers", "usd per month", "usd_per_fortnight", "", "_usd", "usd__year", "5g"])
def test_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(UnitError):
        parse_unit(name)


@pytest.mark.parametrize(("first", "second", "comparable"), [
    ("usd", "usd", True), ("usd", "eur", False), ("usd_per_month", "usd_per_year", False),
    ("usd_per_year", "usd_per_year", True), ("workers", "people", True), ("workers", "companies", False),
    ("percent", "percent", True), ("percent", "workers", False), ("year", "date", False),
])
def test_only_like_units_compare(first: str, second: str, comparable: bool) -> None:
    assert like(first, second) is comparable and like(second, first) is comparable


@pytest.mark.parametrize(("name", "text"), [
    ("usd_per_month", " US dollars a month"), ("krw", " won"), ("chf", " CHF"), ("companies", " companies"),
    ("hours_per_day", " hours a day"), ("percent", "%"), ("barrels_per_year", " barrels a year"),
])
def test_units_read_as_a_reader_says_them(name: str, text: str) -> None:
    assert unit_text(name) == text
