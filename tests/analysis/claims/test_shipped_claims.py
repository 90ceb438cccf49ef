"""The project's own known-claims file (config.yaml -> claims.file): loads, is sourced, keeps K01-K40, still scores."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from analysis.claims import Claim, ClaimMatcher, Example, Figure, claims_from_yaml_data, evaluate
from labourwatch.config import load_config

ROOT = Path(__file__).resolve().parents[3]
_YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b")


def _shipped_path() -> Path:
    file = load_config(ROOT / "config.yaml", environ={}).model.claims.file
    assert file, "config.yaml names no claims.file"
    path = Path(file)
    return path if path.is_absolute() else ROOT / path


@pytest.fixture(scope="module")
def shipped() -> list[Claim]:
    return claims_from_yaml_data(yaml.safe_load(_shipped_path().read_text(encoding="utf-8")))


def _with(claims: list[Claim], figure: Figure) -> list[str]:
    """Ids of the claims with a figure of this value and unit, whatever its qualifier."""
    return [
        claim.id for claim in claims
        if any(item.value == figure.value and item.unit == figure.unit for item in claim.figures)
    ]  # fmt: skip


def test_config_names_the_shipped_file() -> None:
    assert _shipped_path() == ROOT / "known_claims.yaml"
    assert _shipped_path().is_file()


def test_ids_are_unique_and_every_claim_is_sourced(shipped: list[Claim]) -> None:
    ids = [claim.id for claim in shipped]
    assert len(ids) == len(set(ids))
    assert len(shipped) > 40
    for claim in shipped:
        assert claim.source.strip(), f"{claim.id} has no source"
        assert _YEAR_RE.search(claim.source), f"{claim.id}: source {claim.source!r} names no year"
        assert claim.subject.strip() and claim.tags, f"{claim.id} needs a subject and tags"


def test_the_shared_claims_are_kept_unchanged(shipped: list[Claim], claims: list[Claim]) -> None:
    by_id = {claim.id: claim for claim in shipped}
    assert [claim.id for claim in claims] == [f"K{number:02d}" for number in range(1, 41)]
    for shared in claims:
        own = by_id[shared.id]
        assert own.figures == shared.figures, shared.id
        assert own.text == shared.text, shared.id
        assert own.approx == shared.approx, shared.id


def test_the_seed_articles_headline_figures_are_covered(shipped: list[Claim]) -> None:
    assert _with(shipped, Figure(50000, "workers"))
    in_2024 = set(_with(shipped, Figure(2024, "year")))
    assert in_2024 & set(_with(shipped, Figure(10000, "workers")))
    assert _with(shipped, Figure(18, "hours_per_day"))


def test_the_shipped_claims_still_meet_the_dev_bar(shipped: list[Claim], dev_examples: list[Example]) -> None:
    report = evaluate(dev_examples, ClaimMatcher(shipped))
    assert report.macro_f1 >= 0.92, report.errors
    assert report.per_class["updates"].recall >= 0.90, report.errors
    assert report.claim_accuracy >= 0.90, report.errors
