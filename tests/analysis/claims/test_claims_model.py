"""Loading claims from parsed known_claims.yaml data and exporting them again."""

from __future__ import annotations

import pytest

from analysis.claims import Claim, ClaimDataError, Figure, claim_to_yaml_data, claims_from_yaml_data
from analysis.claims.model import claims_to_yaml_data


def test_known_claims_load(claims: list[Claim]) -> None:
    assert len(claims) == 40
    k12 = next(claim for claim in claims if claim.id == "K12")
    assert k12.figures[0] == Figure(30000, "workers", "about")
    k07 = next(claim for claim in claims if claim.id == "K07")
    assert Figure("2017-12", "date") in k07.figures
    assert next(claim for claim in claims if claim.id == "K17").approx


def test_round_trip(claims: list[Claim]) -> None:
    assert claims_from_yaml_data(claims_to_yaml_data(claims)) == claims
    assert "approx" not in claim_to_yaml_data(claims[0])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "`claims` list"),
        ({"claims": [{"id": "K1"}]}, "`id` and `text`"),
        ({"claims": [{"id": "K1", "text": "t", "colour": 1}]}, "unknown keys"),
        ({"claims": [{"id": "K1", "text": "t", "figures": [{"value": 1, "unit": "Goats"}]}]}, "not a unit name"),
        ({"claims": [{"id": "K1", "text": "t", "figures": [{"value": 1, "unit": "usd per month"}]}]},
         "not a unit name: 'usd per month'"),
        ({"claims": [{"id": "K1", "text": "t", "figures": [{"value": 1, "unit": "usd_per_fortnight"}]}]},
         "'_per_' must be followed by one of hour, day, week, month, year"),
        ({"claims": [{"id": "K1", "text": "t", "figures": [{"value": "2024", "unit": "date"}]}]}, "YYYY-MM"),
        ({"claims": [{"id": "K1", "text": "t", "figures": [{"value": "many", "unit": "workers"}]}]},
         "a workers figure's value must be a number"),
        (
            {"claims": [{"id": "K1", "text": "t", "figures": [{"value": 1, "unit": "year", "qualifier": "x"}]}]},
            "unknown qualifier",
        ),
        ({"claims": [{"id": "K1", "text": "t"}, {"id": "K1", "text": "u"}]}, "appears twice"),
        ({"claims": [{"id": "K1", "text": "t", "status": "actve"}]}, "status must be one of active, retired"),
        ({"claims": [{"id": "K1", "text": "t", "status": "Active"}]}, "status must be one of"),
    ],
)
def test_bad_data_says_how_to_fix(data: dict[str, object], message: str) -> None:
    with pytest.raises(ClaimDataError, match=message):
        claims_from_yaml_data(data)
