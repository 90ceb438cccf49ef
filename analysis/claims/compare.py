"""Comparing a sentence with a claim slot by slot: figures (the README policy), places, sectors and direction."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import cached_property

from analysis.claims import slots
from analysis.claims.quantities import Quantity

_AMOUNT_KINDS = ("count", "money", "percent", "hours", "duration", "resolution")
# A figure with at most this many significant digits is a round figure, compared at face value.
_ROUND_FIGURE_DIGITS = 2
# Below this, counts are identifiers of a kind (12 waitresses, 40 countries): they must match exactly.
_SMALL = 100
_TIME_ANCHOR_RE = re.compile(r"\b(?:since|until|era|decade|century)\b")
_SINCE_YEAR_RE = re.compile(r"\b(?:since|until|from|before|after)\s+(?:\w+\s+)?$")


# Money said of one person ("each", "a single worker") is another quantity than money said of all of them.
_PER_PERSON_RE = re.compile(
    r"\b(?:each|apiece|per (?:worker|person|head|capita)|a single|an individual|individually|some of"
    r"|(?:a|an|one|every)\s+(?:[\w-]+\s+){0,5}?(?:worker|labou?rer|developer|programmer|employee)(?!s)"
    # A wage is one person's: "a typical monthly wage", "the average salary".
    r"|(?:typical|average|median|monthly|daily|weekly)\s+(?:wage|salary|pay))\b"
    # One person counted the Korean, Chinese or Japanese way ("一名" and "1명", as the figures are read; "한 명").
    r"|(?<!\d)(?<!\d[.,])1\s*(?:名|명|人|位)|한\s*명"
)


@dataclass(frozen=True)
class Difference:
    """One slot where the sentence says something other than the claim."""

    slot: str
    old: str
    new: str


@dataclass(frozen=True)
class Side:
    """What comparison needs of one text; the slots are found on first use, as most sentences never need them.

    ``raw`` is the text before casefolding (for "US" and "IT"), ``prepared`` its :func:`prepare_text` form.
    """

    raw: str
    prepared: str
    quantities: tuple[Quantity, ...]

    @cached_property
    def places(self) -> frozenset[str]:
        return slots.places(self.prepared, self.raw)

    @cached_property
    def sectors(self) -> frozenset[str]:
        return slots.sectors(self.prepared, self.raw)

    @cached_property
    def background_sectors(self) -> frozenset[str]:
        return slots.background_sectors(self.prepared)

    @cached_property
    def negated_sectors(self) -> frozenset[str]:
        return slots.negated_sectors(self.prepared)

    @cached_property
    def actors(self) -> frozenset[str]:
        return slots.actors(self.prepared)

    @cached_property
    def sanctioners(self) -> frozenset[str]:
        return slots.sanctioners(self.prepared)

    @cached_property
    def topics(self) -> frozenset[str]:
        return slots.topics(self.prepared)

    @cached_property
    def commodities(self) -> frozenset[str]:
        return slots.commodities(self.prepared)

    @cached_property
    def eras(self) -> frozenset[str]:
        return slots.eras(self.prepared)

    @cached_property
    def profile(self) -> frozenset[str]:
        return slots.profile(self.prepared)

    @cached_property
    def direction(self) -> str | None:
        return slots.direction(self.prepared)

    @cached_property
    def movement(self) -> str | None:
        return slots.movement(self.prepared)

    @cached_property
    def amounts(self) -> dict[str, list[Quantity]]:
        """The comparable points of each amount kind (ranges split, kept shares converted), computed once."""
        found: dict[str, list[Quantity]] = {kind: [] for kind in _AMOUNT_KINDS}
        for quantity in self.quantities:  # one pass, in text order: each kind's list as _points would make it
            if quantity.kind in found and not _single(quantity):
                found[quantity.kind].extend(_points((quantity,), (quantity.kind,)))
        return found

    @cached_property
    def visas(self) -> frozenset[str]:
        return slots.visas(self.prepared)

    @cached_property
    def amount_kinds(self) -> frozenset[str]:
        """The kinds of amount the text states (counts, money, shares, hours), leaving out years and dates; money
        is ``money per person`` where the text says it is one person's."""
        # A count of things other than people ("30,000 tonnes", "500,000 barrels") is its own kind of amount.
        kinds: set[str] = {f"count of {q.unit_guess}" if q.kind == "count" and q.unit_guess else q.kind
                           for q in self.quantities if q.kind not in ("year", "date")}
        # Money by the month, week or day is a wage: one person's (a state's revenue is counted by the year).
        wage = any(q.kind == "money" and q.period in ("month", "week", "day", "hour") for q in self.quantities)
        if "money" in kinds and (wage or _PER_PERSON_RE.search(self.prepared)):
            kinds = (kinds - {"money"}) | {"money per person"}
        return frozenset(kinds)

    @cached_property
    def has_range(self) -> bool:
        """Whether the text's amounts include a range."""
        return any(q.is_range for q in self.quantities if q.kind not in ("year", "date"))

    @cached_property
    def permission(self) -> str | None:
        return slots.permission(self.prepared)

    @cached_property
    def freedom(self) -> str | None:
        return slots.freedom(self.prepared)

    @cached_property
    def majority(self) -> str | None:
        return slots.majority(self.prepared)

    @cached_property
    def tally(self) -> str | None:
        return slots.tally(self.prepared)


def _single(quantity: Quantity) -> bool:
    """A count of one ("1명", "one manager"): it names a person, never a figure a claim reports."""
    return quantity.kind == "count" and quantity.value == 1 and quantity.qualifier == "exact"


def _money_units(sentence: Side, claim: Side) -> list[Difference]:
    """Amounts of money in another currency, or per another period, than the claim's: a change in itself (and
    amounts in two currencies cannot be compared by value)."""
    differences = []
    ours, theirs = sentence.amounts["money"], claim.amounts["money"]
    for slot in ("currency", "period"):
        mine = {getattr(point, slot) for point in ours} - {None}
        known = {getattr(point, slot) for point in theirs} - {None}
        if mine and known and not mine & known:
            differences.append(Difference(slot, ", ".join(sorted(known)), ", ".join(sorted(mine))))
    return differences


def significant_digits(value: float) -> int:
    """How many significant digits an integer-valued figure is written with (11,500 → 3, 50,000 → 1)."""
    digits = f"{round(abs(value)):d}".rstrip("0")
    return max(1, len(digits))


def _round_sig(value: float, digits: int) -> float:
    if value == 0:
        return 0.0
    exponent = math.floor(math.log10(abs(value))) - digits + 1
    step = 10.0**exponent
    return math.floor(value / step + 0.5) * step


def counts_agree(first: Quantity, second: Quantity) -> bool:
    """Whether two counts or amounts agree under the policy: magnitude bands, then the coarser precision."""
    if first.is_magnitude and second.is_magnitude:
        return first.low == second.low
    if first.is_magnitude or second.is_magnitude:
        band, number = (first, second) if first.is_magnitude else (second, first)
        return band.low <= number.value <= band.high
    return values_agree(first.value, second.value)


def values_agree(first: float, second: float) -> bool:
    """Equal after rounding the more precise figure to the coarser precision; small numbers must be equal.

    A figure that is itself a round number (one or two significant digits: 12,000, 2,500) is taken at face
    value, so 12,000 is not 10,000 and 2,500 is not 3,000; only a more precise figure (11,490, 7,887) is
    rounded to the other's precision.
    """
    if first == second:
        return True
    if abs(first) < _SMALL or abs(second) < _SMALL:
        return math.isclose(first, second, abs_tol=0.01)
    low, high = (first, second) if first < second else (second, first)
    if high > 2 * low:
        return False  # rounding to a common precision never closes a factor of two
    coarse, fine = sorted((first, second), key=significant_digits)
    coarse_digits, fine_digits = significant_digits(coarse), significant_digits(fine)
    if fine_digits <= _ROUND_FIGURE_DIGITS or fine_digits == coarse_digits:
        return False
    return math.isclose(_round_sig(fine, coarse_digits), coarse, rel_tol=1e-9)


def _points(quantities: tuple[Quantity, ...], kinds: tuple[str, ...]) -> list[Quantity]:
    """Quantities of the given kinds with ranges split into their two ends and kept shares converted."""
    points: list[Quantity] = []
    for quantity in quantities:
        if quantity.kind not in kinds:
            continue
        if quantity.is_range:
            for end in (quantity.low, quantity.high):
                points.append(replace(quantity, value=end, low=end, high=end, qualifier="exact", text=f"{end:g}"))
        elif quantity.complement:
            share = 100.0 - quantity.value
            points.append(replace(quantity, value=share, low=share, high=share, unit_guess=None, complement=False,
                                  text=f"{share:g}% (kept {quantity.value:g}%)"))
        else:
            points.append(quantity)
    return points


def _units_compatible(first: Quantity, second: Quantity) -> bool:
    return first.unit_guess is None or second.unit_guess is None or first.unit_guess == second.unit_guess


def _closest(point: Quantity, candidates: list[Quantity]) -> Quantity:
    return min(candidates, key=lambda other: abs(math.log10(max(other.value, 1e-9) / max(point.value, 1e-9))))


def _compare_amounts(sentence: Side, claim: Side, kind: str) -> list[Difference]:
    exact = kind in ("hours", "duration", "percent", "resolution")
    claim_points = claim.amounts[kind]
    paired = _paired_ranges(sentence, claim, kind)
    if paired is not None:
        return paired
    differences: list[Difference] = []
    for point in sentence.amounts[kind]:
        peers = [other for other in claim_points if _units_compatible(point, other)]
        if not peers:
            continue
        if exact:
            agree = any(math.isclose(point.value, other.value, abs_tol=0.01) for other in peers)
        else:
            agree = any(counts_agree(point, other) for other in peers)
        if not agree:
            differences.append(Difference(kind, _closest(point, peers).text, point.text))
    return differences


def _paired_ranges(sentence: Side, claim: Side, kind: str) -> list[Difference] | None:
    """A range against a range ("10 to 14 hours" and "between 12 and 16"): low end against low end, high against
    high, and one difference of the two whole ranges when either end changed ("12–16" → "10–14"); None when the
    two do not state one range each."""
    ranges = [[q for q in side.quantities if q.kind == kind] for side in (sentence, claim)]
    if any(len(found) != 1 or not found[0].is_range for found in ranges):
        return None
    (stated,), (claimed,) = ranges
    exact = kind in ("hours", "percent", "resolution")
    same = [math.isclose(new, old, abs_tol=0.01) if exact else values_agree(new, old)
            for new, old in ((stated.low, claimed.low), (stated.high, claimed.high))]
    if all(same):
        return []
    return [Difference(kind, f"{claimed.low:g}–{claimed.high:g}", f"{stated.low:g}–{stated.high:g}")]


def _years(quantities: tuple[Quantity, ...]) -> set[int]:
    years: set[int] = set()
    for quantity in quantities:
        if quantity.kind == "year":
            years.update({int(quantity.low), int(quantity.high)})
        elif quantity.kind == "date":
            years.add(int(quantity.value) // 100)
    return years


def _compare_dates(sentence: Side, claim: Side) -> list[Difference]:
    if not any(quantity.kind in ("year", "date") for quantity in sentence.quantities):
        return []
    claim_years = _years(claim.quantities)
    anchored = bool(claim_years) or bool(_TIME_ANCHOR_RE.search(claim.prepared))
    differences: list[Difference] = []
    for quantity in sentence.quantities:
        if quantity.kind not in ("year", "date"):
            continue
        years = {int(quantity.low), int(quantity.high)} if quantity.kind == "year" else {int(quantity.value) // 100}
        before = sentence.prepared[max(0, quantity.span[0] - 25) : quantity.span[0]]
        if not (claim_years or (anchored and _SINCE_YEAR_RE.search(before))):
            continue
        if not years <= claim_years:
            old = ", ".join(str(year) for year in sorted(claim_years)) or "no year"
            differences.append(Difference("year", old, quantity.text))
    claim_months = {int(q.value) for q in claim.quantities if q.kind == "date"}
    # A sentence that states the claim's month as well speaks of another event in another month of that year
    # ("the veto in March 2024 ended the panel, which wound up in April 2024"), not of a changed date.
    stated_months = {int(q.value) for q in sentence.quantities if q.kind == "date"}
    for quantity in sentence.quantities:
        if quantity.kind != "date":
            continue
        same_year = {month for month in claim_months if month // 100 == int(quantity.value) // 100}
        if same_year and int(quantity.value) not in same_year and not same_year & stated_months:
            differences.append(Difference("date", ", ".join(map(str, sorted(same_year))), str(int(quantity.value))))
    return differences


def _compare_eras(sentence: Side, claim: Side) -> list[Difference]:
    """The claim's era against the sentence's: another named era that does not overlap it, or years (a decade,
    "since 2005") none of which falls inside it."""
    differences = []
    years = [q for q in sentence.quantities if q.kind == "year"]
    for era in claim.eras - sentence.eras:
        low, high = slots.ERAS[era]
        others = [name for name in sentence.eras if slots.ERAS[name][1] < low or slots.ERAS[name][0] > high]
        if others:
            differences.append(Difference("era", era, ", ".join(sorted(others))))
        elif years and not any(q.high >= low and q.low <= high for q in years):
            differences.append(Difference("era", era, ", ".join(q.text for q in years)))
    return differences


def _compare_sets(slot: str, sentence: frozenset[str], claim: frozenset[str], hierarchical: bool) -> list[Difference]:
    sentence_wide = slots.place_closure(sentence) if hierarchical else sentence
    claim_wide = slots.place_closure(claim) if hierarchical else claim
    missing = claim - sentence_wide
    extra = sentence - claim_wide
    if missing and extra:
        return [Difference(slot, ", ".join(sorted(missing)), ", ".join(sorted(extra)))]
    return []


# Slots of several values (a sentence changes one when it names others and not the claim's), then slots of one.
_SET_SLOTS = (("profile", "profile"), ("actor", "actors"), ("sanctions by", "sanctioners"), ("visa", "visas"))
_ONE_VALUE_SLOTS = ("direction", "movement", "permission", "freedom", "majority")


def shared_slots(sentence: Side, claim: Side) -> int:
    """How many one-value slots (direction, movement, permission, freedom, who gets most) both texts state: among
    claims a sentence agrees with alike, the one that speaks of what it speaks of is its claim."""
    return sum(1 for slot in _ONE_VALUE_SLOTS if getattr(sentence, slot) and getattr(claim, slot))


def compare(sentence: Side, claim: Side) -> list[Difference]:
    """Every slot where the sentence changes the claim; empty when it corroborates it."""
    differences: list[Difference] = []
    money_units = _money_units(sentence, claim) if sentence.amounts["money"] and claim.amounts["money"] else []
    differences.extend(money_units)
    for kind in _AMOUNT_KINDS:
        if sentence.amounts[kind] and not (kind == "money" and any(d.slot == "currency" for d in money_units)):
            differences.extend(_compare_amounts(sentence, claim, kind))
    dates = _compare_dates(sentence, claim)
    differences.extend(dates)
    if claim.eras and not dates:  # a year already told as changed is not told again as another era
        differences.extend(_compare_eras(sentence, claim))
    # A slot the claim leaves empty cannot change, so the sentence's side of it is not even looked for.
    if claim.places:
        differences.extend(_compare_sets("place", sentence.places, claim.places, hierarchical=True))
    if claim.sectors:
        differences.extend(_compare_sets("sector", sentence.sectors, claim.sectors, hierarchical=False))
        denied = claim.sectors & sentence.negated_sectors
        if denied:
            differences.append(Difference("sector", ", ".join(sorted(denied)), "not " + ", ".join(sorted(denied))))
    for slot, name in _SET_SLOTS:
        if getattr(claim, name):
            differences.extend(_compare_sets(slot, getattr(sentence, name), getattr(claim, name), hierarchical=False))
    for slot in _ONE_VALUE_SLOTS:
        old, new = getattr(claim, slot), getattr(sentence, slot)
        if old and new and old != new:
            differences.append(Difference(slot, old, new))
    return differences
