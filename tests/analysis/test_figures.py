"""Tests for analysis.figures: finding numeric tokens and reading their values."""

from __future__ import annotations

import pytest

from analysis.figures import find_numbers, number_value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("more than 50,000 laborers", ["50,000"]),
        ("50 000 рабочих и 13\u00a0221 гражданин", ["50 000", "13\u00a0221"]),
        ("about 1.5 million workers", ["1.5 million"]),
        ("1.5 millionaires", ["1.5"]),
        ("some 10k workers earned $500m", ["10k", "$500m"]),
        ("US$1.5bn and €2 billion", ["$1.5bn", "€2 billion"]),
        ("In 2024, 18 hours a day", ["2024", "18"]),
        ("the 18th worker", ["18th"]),
        ("2,5 млн рублей", ["2,5 млн"]),
        ("약 5만명이 파견됐다", ["5만"]),
        ("超过3千名朝鲜工人", ["3千"]),
        ("Covid-19 hit 300 workers", ["300"]),
        ("a Hwasong-15 missile and the G7 summit", []),
        ("KN-23 and Su-27 and 5G and F-35A", []),
        ("by mid-2024 and in 2019-2020", ["2024", "2019", "2020"]),
        ("10,000-20,000 workers", ["10,000", "20,000"]),
        ("a 10km road", []),
        ("1,234.5 and 1,5", ["1,234.5", "1,5"]),
        ("no digits here", []),
        ("on 2026.11.27", ["2026.11"]),
    ],
)
def test_find_numbers(text: str, expected: list[str]) -> None:
    assert find_numbers(text) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("18", 18.0),
        ("2024", 2024.0),
        ("50,000", 50000.0),
        ("1,234,567", 1234567.0),
        ("1,234.5", 1234.5),
        ("50 000", 50000.0),
        ("13\u00a0221", 13221.0),
        ("1 234,5", 1234.5),
        ("1.5", 1.5),
        ("1,5", 1.5),  # a comma not followed by exactly three digits is a decimal comma
        ("1,50", 1.5),
        ("10k", 10000.0),
        ("10K", 10000.0),
        ("$500m", 500_000_000.0),
        ("$1.5bn", 1_500_000_000.0),
        ("1.5 million", 1_500_000.0),
        ("1.1 million", 1_100_000.0),  # exact, not 1100000.0000000002
        ("€2 billion", 2e9),
        ("2,5 млн", 2_500_000.0),
        ("5만", 50000.0),
        ("3억", 3e8),
        ("18th", 18.0),
        ("", None),
        ("abc", None),
        ("12 apples", None),
        ("1..5", None),
    ],
)
def test_number_value(token: str, expected: float | None) -> None:
    assert number_value(token) == expected


def test_values_of_found_tokens_are_all_readable() -> None:
    text = "50,000 and 50 000 and 1.5 and 10k and $500m and 2024 and 18 and 2,5 млн and 5만 and 1.5 million"
    values = [number_value(token) for token in find_numbers(text)]
    assert values == [50000.0, 50000.0, 1.5, 10000.0, 5e8, 2024.0, 18.0, 2.5e6, 50000.0, 1.5e6]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Correction (1 January 2026, 01:00 UTC): the region was wrong", []),
        ("On Jan. 5, 2024 some 10,000 workers arrived", ["10,000"]),
        ("In 2024, 10,000 workers arrived", ["2024", "10,000"]),
        ("At 14:05 KST officials said 50,000 workers", ["50,000"]),
        ("In March 10,000 workers left", ["10,000"]),
        ("May 3rd 2025: up to 18 hours a day", ["18"]),
    ],
)
def test_clock_times_and_days_of_month_are_not_figures(text: str, expected: list[str]) -> None:
    assert find_numbers(text) == expected
