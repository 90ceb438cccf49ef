"""The rules that make a sentence something other than a report of the closest claim.

Each takes the comparison sides (:class:`analysis.claims.compare.Side`) or the slot differences and returns ""
when the rule does not apply, or the reason, in words, that ``claims match`` shows: a question or a denial is
not a report (:func:`stance`); a figure of a kind the claim does not state (:func:`other_kind`), a figure stated
for another place (:func:`elsewhere`), a topic or goods the claim does not speak of (:func:`other_topic`), or a
figure claim's subject with a place, trade, pay or hours of its own (:func:`novelty`) make a claim of its own.
"""

from __future__ import annotations

import re

from analysis.claims import slots
from analysis.claims.compare import Difference, Side


def of_its_own(sentence: Side, claim: Side, differences: tuple[Difference, ...]) -> str:
    """Why the sentence is a claim of its own rather than this claim's corroboration or update ("" if it is not):
    its figures are of kinds the claim does not states (a year or place that differs does not make it an update:
    "China's trade recovered to $2.3bn in 2023" is not "13,000 entered in 2024"), of another place, or it speaks
    of another topic or of other goods."""
    return (other_kind(sentence, claim) or elsewhere(differences) or other_topic(sentence, claim)
            or stock_not_flow(sentence, claim, differences))


def other_kind(sentence: Side, claim: Side) -> str:
    """"" unless both state amounts and none of the sentence's is of a kind the claim states; then what each states."""
    kinds, stated = claim.amount_kinds, sentence.amount_kinds
    if not kinds or not stated or kinds & stated:
        return ""
    return f"it states {', '.join(sorted(stated))}, the claim {', '.join(sorted(kinds))}"


def novelty(sentence: Side, claim: Side) -> str:
    """What makes a sentence a claim of its own rather than a figure claim's corroboration, or "" if nothing does:
    a kind of amount the claim does not state, and none that it does ("a typical monthly wage is $30,000" is not
    "Mongolia had 1,200 workers"); or, leaving out the claim's figure, a place or sector of its own ("North Korea
    sends medical staff to Africa" is not "workers sent abroad earn North Korea $500m a year")."""
    kinds = claim.amount_kinds
    stated = sentence.amount_kinds
    predicates = stated & _PREDICATE_KINDS
    if not kinds and predicates:
        # Pay and working hours are what a sentence stating them is about; a claim stating neither is not it.
        return f"it states {', '.join(sorted(predicates))}, which the claim does not"
    if not kinds or kinds & stated:
        return ""
    if stated:
        return other_kind(sentence, claim)
    places = sentence.places - slots.place_closure(claim.places) - {"abroad"}
    sectors = sentence.sectors - claim.sectors
    added = sorted(places) + sorted(sectors)
    return f"it says {', '.join(added)}, which the claim does not, and not its figure" if added else ""


def stock_not_flow(sentence: Side, claim: Side, differences: tuple[Difference, ...]) -> str:
    """"" unless the sentence's count is of everyone there or so far and the claim's of those who arrived, and the
    counts differ: "defectors living in South Korea passed 34,000" does not update "236 reached it in 2024"."""
    if sentence.tally != "stock" or claim.tally != "arrivals" or not any(d.slot == "count" for d in differences):
        return ""
    return "it counts everyone there or so far, the claim those who arrived"


# Amounts that are a sentence's predicate rather than a detail of it ("paid $300 a month", "18-hour shifts").
_PREDICATE_KINDS = frozenset({"money", "money per person", "hours"})


# Slots that fix a figure or an event in time; with the place changed too, the sentence is about another place.
_FIGURE_SLOTS = frozenset({"count", "money", "percent", "hours", "year", "date"})


def elsewhere(differences: tuple[Difference, ...]) -> str:
    """"" unless the place changed and a figure or date with it; then what the sentence states of its place. A
    count for another country, or an event in another year and place, is a statistic or event of its own ("150
    sent to Belarus this year" does not update "more than 50,000 to Russia"); the place alone, or the figure alone,
    is an update."""
    places = [d for d in differences if d.slot == "place"]
    figures = [d for d in differences if d.slot in _FIGURE_SLOTS]
    if not places or not figures:
        return ""
    stated, claimed = ", ".join(d.new for d in figures), ", ".join(d.old for d in figures)
    return f"{stated} in {places[0].new}, not {claimed} in {places[0].old}"


# A question is not a report ("Will Pyongyang really send more than 50,000 labourers?"), nor is a denial of what
# a claim says ("the ministry denied that it had issued any new permits", "there are no North Korean workers in
# our factories"), unless the sentence goes on to report it ("…, but UN monitors found…").
_QUESTION_RE = re.compile(r"[^.!?]*\?")
_DENIAL_RE = re.compile(
    r"\b(?:den(?:y|ies|ied|ying)|rejected|dismissed|refuted)\s+(?:\w+\s+){0,3}?(?:that|any|having|reports?|claims?"
    r"|allegations?)\b(?!.*\bbut\b)|\bthere (?:are|were|is|was) no\b(?!.*\bbut\b)"
)


def stance(text: str) -> str:
    """"" for a sentence that reports; what it is instead ("a question", "a denial") for one that does not."""
    if "?" in text and not slots.subject(_QUESTION_RE.sub(" ", text)).mentions_dprk:
        return "a question"
    if _DENIAL_RE.search(text):
        return "a denial"
    return ""


_ASIDE_KINDS = frozenset({"hours", "money", "money per person", "percent"})


def other_topic(sentence: Side, claim: Side) -> str:
    """"" unless the sentence speaks of a topic besides work and pay (health, punishment …) that the claim does
    not, or of other goods than the claim's (crude oil, not refined petroleum); then what it speaks of."""
    # A sentence stating the claim's hours, pay or share reports that figure; a topic named beside it is an aside
    # ("shifts of up to 18 hours a day, broken only by short meals and political study sessions"). A count is no
    # such sign: "23 North Koreans were detained" is about the detention.
    reported = sentence.amount_kinds & claim.amount_kinds & _ASIDE_KINDS
    added = sentence.topics - claim.topics if not reported else frozenset()
    if added:
        return f"it speaks of {', '.join(sorted(added))}, which the claim does not"
    if claim.commodities and sentence.commodities and not claim.commodities & sentence.commodities:
        return f"it speaks of {', '.join(sorted(sentence.commodities))}, not {', '.join(sorted(claim.commodities))}"
    return ""
