"""How stored diffs and claim matches are shaped for the researcher pages: a diff as inline and side-by-side
rows with the changed figures marked, a claim's figures as text, and a claim's figure history.

Pure functions over the rows of ``db.queries`` and ``db.claims``; no queries here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from analysis.claims.quantities import extract_quantities
from analysis.claims.quotes import attribution_only
from analysis.claims.units import UnitError, unit_text
from analysis.text import normalise_text, split_sentences

# Claim figures as a reader says them: "more than 50,000 workers", "up to 18 hours a day".
_QUALIFIERS = {"about": "about", "more_than": "more than", "at_least": "at least", "up_to": "up to",
               "fewer_than": "fewer than", "range_low": "from", "range_high": "to", "magnitude": "of the order of"}
_PLAIN_NUMBER_UNITS = ("year", "un_resolution", "date")  # 2024, not 2,024
AS_CLAIMED = "as claimed"


def figure_text(figure: dict[str, Any]) -> str:
    """One stored claim figure as text: qualifier, value and unit."""
    value, unit = figure["value"], figure["unit"]
    if unit in _PLAIN_NUMBER_UNITS or not isinstance(value, int | float):
        shown = f"resolution {value}" if unit == "un_resolution" else str(value)
    else:
        shown = f"{value:,}{_unit_text(unit)}"
    qualifier = _QUALIFIERS.get(figure.get("qualifier", "exact"))
    return f"{qualifier} {shown}" if qualifier else shown


def _unit_text(unit: str) -> str:
    try:
        return unit_text(unit)
    except UnitError:  # a unit stored before units were checked as they are now
        return " " + unit.replace("_", " ")


def claim_value(figures: Sequence[dict[str, Any]]) -> str:
    """The value a corroborating sentence repeats: the claim's figures, or "as claimed" when it has none."""
    return "; ".join(figure_text(f) for f in figures) or AS_CLAIMED



def claim_amount(figures: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The claim's first amount (a count, a sum, a share, hours: not a year, a date or a resolution number), as
    ``value`` and ``unit`` text, the figure its history is charted on; None when it states none."""
    for figure in figures:
        value = figure["value"]
        if figure["unit"] not in _PLAIN_NUMBER_UNITS and isinstance(value, int | float) and not isinstance(value, bool):
            return {"value": float(value), "unit": _unit_text(figure["unit"]).strip(), "text": figure_text(figure)}
    return None

# --- diffs -------------------------------------------------------------------------------------------

def _sentences(text: str) -> list[tuple[str, str]]:
    # The sentences analysis.diff compares (those that normalise to something), with their normalised keys.
    pairs = ((sentence, normalise_text(sentence)) for sentence in split_sentences(text))
    return [(sentence, key) for sentence, key in pairs if key]


def _parts(sentence: str, figures: Sequence[str]) -> list[dict[str, Any]]:
    """``sentence`` cut into text parts, those that are one of ``figures`` flagged (the template marks them)."""
    tokens = sorted({f for f in figures if f}, key=len, reverse=True)
    if not tokens:
        return [{"text": sentence, "figure": False}]
    # Whole figures only: "90" is not the figure in "1990" or "90,000".
    pattern = re.compile(r"(?<![\w.,])(?:" + "|".join(map(re.escape, tokens)) + r")(?!\w|[.,]\d)")
    parts, last = [], 0
    for match in pattern.finditer(sentence):
        if match.start() > last:
            parts.append({"text": sentence[last:match.start()], "figure": False})
        parts.append({"text": match.group(0), "figure": True})
        last = match.end()
    if last < len(sentence):
        parts.append({"text": sentence[last:], "figure": False})
    return parts


def diff_view(before_text: str, after_text: str, diff: dict[str, Any]) -> dict[str, Any]:
    """A stored diff (a ``queries.diff_rows`` row) with the two versions' texts aligned sentence by sentence:
    ``inline`` is the new text with removed sentences put back where they were, ``rows`` pairs the two
    versions for a side-by-side view; each sentence is a list of parts, changed figures flagged, and each removed
    or added one has its ``position`` in a document ("p. 3", or None), from the diff's stored positions (which
    follow its sentences in this order)."""
    old, new = _sentences(before_text), _sentences(after_text)
    removed_at = iter(diff.get("removed_positions") or ())
    added_at = iter(diff.get("added_positions") or ())
    inline: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, [k for _, k in old], [k for _, k in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for (before, _), (after, _) in zip(old[i1:i2], new[j1:j2], strict=True):
                inline.append({"kind": "same", "parts": _parts(after, ())})
                rows.append({"kind": "same", "before": _parts(before, ()), "after": _parts(after, ())})
            continue
        removed = [(_parts(s, diff["figures_before"]), next(removed_at, None)) for s, _ in old[i1:i2]]
        added = [(_parts(s, diff["figures_after"]), next(added_at, None)) for s, _ in new[j1:j2]]
        inline += ([{"kind": "removed", "parts": p, "position": at} for p, at in removed]
                   + [{"kind": "added", "parts": p, "position": at} for p, at in added])
        rows += [{"kind": tag, "before": b[0] if b else None, "before_position": b[1] if b else None,
                  "after": a[0] if a else None, "after_position": a[1] if a else None}
                 for b, a in zip_longest(removed, added)]
    return {**diff, "title_changed": "title" in diff["changed"], "inline": inline, "rows": rows}


# --- an article's claim sentences ---------------------------------------------------------------------

def version_spans(numbers: Sequence[int]) -> str:
    """Version numbers as runs: ``[1, 2, 3, 5]`` is "v1–v3, v5"."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(f"v{run[0]}" if len(run) == 1 else f"v{run[0]}–v{run[-1]}" for run in runs)


# The article page's groups of claim sentences, in the order shown.
SENTENCE_GROUPS = ("subject", "other", "quotes")


def sentence_groups(matches: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """An article's stored matches (oldest version first) as one row per sentence, grouped by
    ``SENTENCE_GROUPS``: about North Korean workers, the rest, and quotes and attributions (a sentence whose
    newest verdict is ``new`` and that is :func:`attribution_only`). Each row is the sentence's newest match
    with ``versions`` (the numbers it appeared in) and ``version_spans`` ("v1–v3"); rows keep the order in
    which the sentences first appeared."""
    rows: dict[str, dict[str, Any]] = {}
    for match in matches:
        row = rows.get(match["sentence"])
        versions = [*row["versions"], match["version"]] if row else [match["version"]]
        # Every version matches its sentences anew: the newest version's verdict (its surest, if it has two).
        if row is None or (match["version"], match["confidence"]) > (row["version"], row["confidence"]):
            row = dict(match)
        row["versions"] = sorted(set(versions))
        rows[match["sentence"]] = row
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name in SENTENCE_GROUPS}
    for row in rows.values():
        row["version_spans"] = version_spans(row["versions"])
        if row["label"] == "new" and attribution_only(row["sentence"]):
            groups["quotes"].append(row)
        elif row["label"] != "new" or row["on_subject"]:
            # A sentence matched to a known claim is on the claim's subject; the gate decided ``on_subject``.
            groups["subject"].append(row)
        else:
            groups["other"].append(row)
    return groups


# --- figure history ----------------------------------------------------------------------------------

def _states_an_amount(match: dict[str, Any]) -> bool:
    """Whether a matched sentence states an amount of its own (a count, sum, share, hours or resolution), so
    that it can be said to repeat the claim's value; a sentence that corroborates in words only does not."""
    sentence = match.get("sentence")
    if sentence is None:
        return True
    return any(quantity.kind != "year" and quantity.kind != "date" for quantity in extract_quantities(sentence))


def _value_of(match: dict[str, Any], claimed: str) -> str:
    if match["label"] == "corroborates":
        return claimed
    return ", ".join(match["new_values"]) or "a changed value"


def figure_history(claimed: str, origin: str, matches: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Who reported each value of a claim's figures first, who repeated it and who changed it.

    ``matches`` are the claim's match rows oldest first. A corroborating sentence repeats the claim's value
    (first reported by the claim's ``origin``); an updating one reports another value (``new_values`` in place
    of ``old_values``): the first to report a value changed the claim, later ones repeated the change. A later
    version of the same article saying the same again is no new report (it is listed under
    ``also_versions``); one saying something else is, with its ``previous`` value. A corroborating sentence
    that states no amount of its own is listed as ``corroborated``, with no value.

    Returns ``groups`` (one per value, the claim's first, then in order of appearance) and ``timeline``
    (one entry per report, oldest first)."""
    groups: dict[str, dict[str, Any]] = {
        claimed: {"value": claimed, "claimed": True, "origin": origin, "first": None, "changed_from": None,
                  "repeats": []}}
    timeline: list[dict[str, Any]] = []
    latest: dict[int, dict[str, Any]] = {}  # each article's latest report
    for match in matches:
        if match["label"] not in ("corroborates", "updates"):
            continue
        if match["label"] == "corroborates" and not _states_an_amount(match):
            # Corroborated in words only: no value to credit anyone with repeating.
            timeline.append({"role": "corroborated", "value": None, "claimed": True, "match": match, "old": "",
                             "previous": None, "also_versions": []})
            continue
        value, previous = _value_of(match, claimed), latest.get(match["article_id"])
        if previous is not None and previous["value"] == value:
            if match["version"] not in (previous["match"]["version"], *previous["also_versions"]):
                previous["also_versions"].append(match["version"])
            continue
        group = groups.get(value)
        if group is None:
            group = groups[value] = {"value": value, "claimed": False, "origin": None, "first": match,
                                     "changed_from": ", ".join(match["old_values"]), "repeats": []}
            role = "changed"
        else:
            group["repeats"].append(match)
            role = "repeated"
        entry = {"role": role, "value": value, "claimed": group["claimed"], "match": match,
                 "old": ", ".join(match["old_values"]), "previous": previous["value"] if previous else None,
                 "also_versions": []}
        timeline.append(entry)
        latest[match["article_id"]] = entry
    return {"groups": list(groups.values()), "timeline": timeline}
