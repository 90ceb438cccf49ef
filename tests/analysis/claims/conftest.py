"""Shared fixtures for the claim-matching tests: the known claims and the labelled dev set, read once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from analysis.claims import Claim, ClaimMatcher, Example, claims_from_yaml_data, examples_from_records

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def claims() -> list[Claim]:
    return claims_from_yaml_data(yaml.safe_load((DATA / "known_claims.yaml").read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def matcher(claims: list[Claim]) -> ClaimMatcher:
    return ClaimMatcher(claims)


@pytest.fixture(scope="session")
def dev_examples() -> list[Example]:
    lines = (DATA / "eval_dev.jsonl").read_text(encoding="utf-8").splitlines()
    return examples_from_records(json.loads(line) for line in lines if line.strip())
