"""The units of claim figures: an open, typed vocabulary.

A unit is a lower-case name with parts joined by "_":

- money: a currency code, optionally per a period: ``usd``, ``usd_per_month``, ``rub_per_month``, ``cny``,
  ``krw``, ``eur_per_year`` (currencies: ISO 4217 codes of the currencies reporting on the topic uses);
- a count of anything, optionally per a period: ``workers``, ``people``, ``companies``, ``restaurants``,
  ``sites``, ``barrels_per_year`` (any plural noun: what is counted);
- ``percent``; time as ``hours_per_day``, ``days``, ``weeks``, ``months``, ``years``, ``hours``;
- identifiers, compared as written: ``year``, ``date`` ("YYYY-MM"), ``un_resolution``, ``id``.

A unit string that follows this pattern and is not one of the names above is a count of that noun, so a claims
file can say what researchers write without a code change; figures are compared only with figures of like units
(:func:`like`). A string that does not follow the pattern is refused with what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

UnitKind = Literal["money", "count", "percent", "duration", "rate", "identifier"]

CURRENCIES = frozenset({
    "usd", "eur", "gbp", "jpy", "cny", "krw", "kpw", "rub", "byn", "mnt", "kzt", "uzs", "pln", "czk", "qar", "kwd",
    "aed", "sar", "omr", "myr", "vnd", "khr", "lak", "chf", "hkd", "twd", "inr",
})  # fmt: skip
PERIODS = ("hour", "day", "week", "month", "year")
_IDENTIFIERS = frozenset({"year", "date", "un_resolution", "id"})
_DURATIONS = frozenset({"hours", "days", "weeks", "months", "years"})
# Rates that are not money: time worked per period.
_RATES = frozenset({"hours_per_day", "hours_per_week", "days_per_week", "days_per_month"})
_UNIT_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_PER_RE = re.compile(rf"(?P<base>[a-z0-9_]+?)_per_(?P<period>{'|'.join(PERIODS)})")


class UnitError(ValueError):
    """A unit string that is not a unit name."""


@dataclass(frozen=True)
class Unit:
    """A parsed unit: its kind, and for money its currency, for counts its noun, and the period it is per."""

    name: str
    kind: UnitKind
    currency: str | None = None
    noun: str | None = None
    period: str | None = None


@lru_cache(maxsize=1024)
def parse_unit(name: str) -> Unit:
    """The unit ``name`` stands for; UnitError when it does not follow the pattern of the module docstring."""
    if not isinstance(name, str) or not _UNIT_RE.fullmatch(name):
        raise UnitError(f"not a unit name: {name!r} (lower-case words joined by '_', such as workers, usd_per_month, "
                        "hours_per_day, percent, year)")
    if name in _IDENTIFIERS:
        return Unit(name, "identifier")
    if name == "percent":
        return Unit(name, "percent")
    if name in _DURATIONS:
        return Unit(name, "duration")
    if name in _RATES:
        return Unit(name, "rate", noun=name.split("_per_")[0], period=name.rsplit("_", 1)[1])
    per = _PER_RE.fullmatch(name)
    base, period = (per.group("base"), per.group("period")) if per else (name, None)
    if base in CURRENCIES:
        return Unit(name, "money", currency=base, period=period)
    if "_per_" in base:
        raise UnitError(f"not a unit name: {name!r} ('_per_' must be followed by one of {', '.join(PERIODS)})")
    return Unit(name, "count", noun=base, period=period)


def like(first: str, second: str) -> bool:
    """Whether figures in these two units can be compared: the same kind, and the same currency or noun and the
    same period. Workers and people are one count (reporting uses both for the same people)."""
    a, b = parse_unit(first), parse_unit(second)
    if a.kind != b.kind or a.period != b.period:
        return False
    if a.kind == "money":
        return a.currency == b.currency
    if a.kind == "count":
        return _person(a.noun) == _person(b.noun)
    return a.name == b.name


def _person(noun: str | None) -> str | None:
    return "people" if noun in ("workers", "people", "labourers", "nationals") else noun


def unit_text(name: str) -> str:
    """How a unit reads after a number: "US dollars a month", "companies", "hours a day", "%"."""
    unit = parse_unit(name)
    period = f" a {unit.period}" if unit.period else ""
    if unit.kind == "money":
        return f" {_CURRENCY_NAMES.get(str(unit.currency), str(unit.currency).upper())}{period}"
    if unit.kind == "percent":
        return "%"
    if unit.kind == "rate":
        return f" {unit.noun}{period}"
    return f" {(unit.noun or unit.name).replace('_', ' ')}{period}"


_CURRENCY_NAMES = {"usd": "US dollars", "eur": "euros", "gbp": "pounds", "jpy": "yen", "cny": "yuan", "krw": "won",
                   "kpw": "North Korean won", "rub": "roubles"}
