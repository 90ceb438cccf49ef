"""Known claims as typed values, and their conversion from and to the parsed known_claims.yaml structure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.claims.units import UnitError, parse_unit

_DATE_RE = re.compile(r"(?:19|20)\d\d-(?:0[1-9]|1[0-2])")

QUALIFIERS = frozenset(
    {"exact", "about", "more_than", "at_least", "up_to", "fewer_than", "range_low", "range_high", "magnitude"}
)
_CLAIM_KEYS = frozenset({"id", "text", "subject", "figures", "source", "approx", "status", "tags", "paraphrases"})
CLAIM_STATUSES = ("active", "retired")


class ClaimDataError(ValueError):
    """The claims data does not have the structure of known_claims.yaml; the message says where and how to fix it."""


@dataclass(frozen=True)
class Figure:
    """One typed figure of a claim: ``value`` is an int/float, or a "YYYY-MM" string for ``unit == "date"``."""

    value: float | int | str
    unit: str
    qualifier: str = "exact"


@dataclass(frozen=True)
class Claim:
    """One known claim, in the team's own one-sentence wording."""

    id: str
    text: str
    subject: str = ""
    figures: tuple[Figure, ...] = ()
    source: str = ""
    tags: tuple[str, ...] = ()
    approx: bool = False
    status: str = "active"
    # Other wordings of the same claim (a reviewer's linked sentences, in any language): found as the claim is.
    paraphrases: tuple[str, ...] = ()


def _figure_from_data(claim_id: str, data: Any) -> Figure:
    if not isinstance(data, Mapping) or "value" not in data or "unit" not in data:
        raise ClaimDataError(f"claim {claim_id}: each figure needs `value` and `unit`, got {data!r}")
    unit = str(data["unit"])
    qualifier = str(data.get("qualifier", "exact"))
    try:
        parse_unit(unit)
    except UnitError as exc:
        raise ClaimDataError(f"claim {claim_id}: {exc}") from exc
    if qualifier not in QUALIFIERS:
        known = ", ".join(sorted(QUALIFIERS))
        raise ClaimDataError(f"claim {claim_id}: unknown qualifier {qualifier!r}; known qualifiers: {known}")
    value = data["value"]
    if unit == "date":
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            raise ClaimDataError(f"claim {claim_id}: a date figure's value must be a YYYY-MM string, got {value!r}")
    elif not isinstance(value, int | float) or isinstance(value, bool):
        raise ClaimDataError(f"claim {claim_id}: a {unit} figure's value must be a number, got {value!r}")
    return Figure(value=value, unit=unit, qualifier=qualifier)


def _claim_from_data(data: Any) -> Claim:
    if not isinstance(data, Mapping):
        raise ClaimDataError(f"each claim must be a mapping, got {data!r}")
    unknown = set(data) - _CLAIM_KEYS
    claim_id = str(data.get("id", "?"))
    if unknown:
        known = ", ".join(sorted(_CLAIM_KEYS))
        raise ClaimDataError(f"claim {claim_id}: unknown keys {sorted(unknown)}; known keys: {known}")
    if not data.get("id") or not data.get("text"):
        raise ClaimDataError(f"claim {claim_id}: `id` and `text` are required")
    status = data.get("status", "active")
    if status not in CLAIM_STATUSES:
        # A misspelt status would drop the claim from matching without a word.
        raise ClaimDataError(f"claim {claim_id}: status must be one of {', '.join(CLAIM_STATUSES)}, got {status!r}")
    figures = tuple(_figure_from_data(claim_id, item) for item in data.get("figures") or ())
    return Claim(
        id=claim_id,
        text=str(data["text"]),
        subject=str(data.get("subject", "")),
        figures=figures,
        source=str(data.get("source", "")),
        tags=tuple(str(tag) for tag in data.get("tags") or ()),
        approx=bool(data.get("approx", False)),
        status=status,
        paraphrases=tuple(str(text) for text in data.get("paraphrases") or ()),
    )


def claims_from_yaml_data(data: Mapping[str, Any]) -> list[Claim]:
    """The claims of an already-parsed known_claims.yaml document (``{"claims": [...]}``)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("claims"), list):
        raise ClaimDataError("claims data must be a mapping with a `claims` list, as in known_claims.yaml")
    claims = [_claim_from_data(item) for item in data["claims"]]
    seen: set[str] = set()
    for claim in claims:
        if claim.id in seen:
            raise ClaimDataError(f"claim id {claim.id} appears twice; ids must be unique")
        seen.add(claim.id)
    return claims


def _figure_to_data(figure: Figure) -> dict[str, Any]:
    data: dict[str, Any] = {"value": figure.value, "unit": figure.unit}
    if figure.qualifier != "exact":
        data["qualifier"] = figure.qualifier
    return data


def claim_to_yaml_data(claim: Claim) -> dict[str, Any]:
    """One claim as a plain dict in the known_claims.yaml layout (optional keys only when set)."""
    data: dict[str, Any] = {"id": claim.id, "text": claim.text, "subject": claim.subject}
    data["figures"] = [_figure_to_data(figure) for figure in claim.figures]
    data["source"] = claim.source
    if claim.approx:
        data["approx"] = True
    if claim.tags:
        data["tags"] = list(claim.tags)
    if claim.status != "active":
        data["status"] = claim.status
    if claim.paraphrases:
        data["paraphrases"] = list(claim.paraphrases)
    return data


def claims_to_yaml_data(claims: list[Claim]) -> dict[str, Any]:
    """A whole claims document, ready for ``yaml.safe_dump``."""
    return {"claims": [claim_to_yaml_data(claim) for claim in claims]}
