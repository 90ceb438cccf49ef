"""The figure extractor, one table row per pattern family of the README's "Patterns seen in real copy"."""

from __future__ import annotations

import pytest

from analysis.claims.quantities import extract_quantities
from tests.analysis.claims.quantity_table import Expected, assert_quantities

# (text, [(kind, low, high, qualifier), ...])
CASES = [
    # separators
    ("more than 50,000 workers", [("count", 50_000, 50_000, "more_than")]),
    # Numbers inside code or links written into the text are not figures.
    ("read more at javascript:window.__pwned=3 on 500 workers", [("count", 500, 500, "exact")]),
    # A length of time is not a count of people.
    ("countries had two years to send them home", [("duration", 2, 2, "exact")]),
    ("for three months", [("duration", 3, 3, "exact")]),
    # "from X to Y" is a range, unless a verb of change makes it two figures.
    ("they work anywhere from 10 to 12 hours a day", [("hours", 10, 12, "range")]),
    ("the number fell from 30,000 to 11,500", [("count", 30_000, 30_000, "exact"), ("count", 11_500, 11_500, "exact")]),
    ("50 000 workers", [("count", 50_000, 50_000, "exact")]),
    ("50.000 workers", [("count", 50_000, 50_000, "exact")]),
    ("13 221 people entered", [("count", 13_221, 13_221, "exact")]),
    ("13\u00a0221 people", [("count", 13_221, 13_221, "exact")]),
    # suffixes and currency
    ("some 50k workers", [("count", 50_000, 50_000, "about")]),
    ("earned $500m a year", [("money", 500e6, 500e6, "exact")]),
    ("about $1.2bn", [("money", 1.2e9, 1.2e9, "about")]),
    ("US$2 billion", [("money", 2e9, 2e9, "exact")]),
    ("$5 million in rewards", [("money", 5e6, 5e6, "exact")]),
    # word numbers
    ("fifty thousand labourers", [("count", 50_000, 50_000, "exact")]),
    ("two hundred and fifty workers", [("count", 250, 250, "exact")]),
    ("twenty-two workers", [("count", 22, 22, "exact")]),
    ("twelve hundred workers", [("count", 1_200, 1_200, "exact")]),
    ("half a million people", [("count", 500_000, 500_000, "exact")]),
    ("two point five million", [("count", 2.5e6, 2.5e6, "exact")]),
    ("thirteen staff", [("count", 13, 13, "exact")]),
    ("two and a half thousand workers", [("count", 2_500, 2_500, "exact")]),
    # ranges sharing a multiplier
    ("between 250 and 600 million dollars", [("money", 250e6, 600e6, "range")]),
    ("$1.2-2.3 billion", [("money", 1.2e9, 2.3e9, "range")]),
    ("between $1.2bn and $2.3bn a year", [("money", 1.2e9, 2.3e9, "range")]),
    ("twelve to sixteen hours a day", [("hours", 12, 16, "range")]),
    ("12 to 16 hours", [("hours", 12, 16, "range")]),
    # percentages and fractions
    ("90% of wages", [("percent", 90, 90, "exact")]),
    ("as much as 90 per cent", [("percent", 90, 90, "up_to")]),
    ("up to 90 percent", [("percent", 90, 90, "up_to")]),
    ("two-thirds of the pay", [("percent", 66.67, 66.67, "exact")]),
    ("a third of the pay", [("percent", 33.33, 33.33, "exact")]),
    ("up to half of the wages", [("percent", 50, 50, "up_to")]),
    # hedges
    ("upwards of 10,000", [("count", 10_000, 10_000, "more_than")]),
    ("as many as 5,000", [("count", 5_000, 5_000, "up_to")]),
    ("at least 300", [("count", 300, 300, "at_least")]),
    ("fewer than 1,000", [("count", 1_000, 1_000, "fewer_than")]),
    ("around 3,000", [("count", 3_000, 3_000, "about")]),
    # vague magnitudes (README bands)
    ("hundreds of workers", [("count", 200, 999, "magnitude")]),
    ("a few hundred workers", [("count", 200, 999, "magnitude")]),
    ("thousands of women", [("count", 2_000, 9_999, "magnitude")]),
    ("several thousand builders", [("count", 2_000, 9_999, "magnitude")]),
    ("tens of thousands of labourers", [("count", 20_000, 99_999, "magnitude")]),
    ("hundreds of thousands of people", [("count", 200_000, 999_999, "magnitude")]),
    ("billions of dollars", [("money", 2e9, 9_999_999_999, "magnitude")]),
    # years, dates, hours, resolutions
    ("by the end of 2019", [("year", 2019, 2019, "exact")]),
    ("in December 2017", [("date", 201712, 201712, "exact")]),
    ("resolution 2397", [("resolution", 2397, 2397, "exact")]),
    ("UNSC 2397 capped imports", [("resolution", 2397, 2397, "exact")]),
    ("in its report to the 1718 sanctions committee", [("resolution", 1718, 1718, "exact")]),
    ("the 1718 committee met", [("resolution", 1718, 1718, "exact")]),
    ("300 committee members voted", [("count", 300, 300, "exact")]),
    ("2,000 committee staff", [("count", 2_000, 2_000, "exact")]),
    ("18-hour shifts", [("hours", 18, 18, "exact")]),
    ("2000 workers were sent home", [("count", 2_000, 2_000, "exact")]),
    ("since the 1960s", [("year", 1960, 1969, "range")]),
    (
        "from about 30,000 in 2017 to about 11,500 in 2018",
        [
            ("count", 30_000, 30_000, "about"),
            ("year", 2017, 2017, "exact"),
            ("count", 11_500, 11_500, "about"),
            ("year", 2018, 2018, "exact"),
        ],
    ),
    # non-figures
    ("Covid-19 hit the Hwasong-15 programme", []),
    ("SEOUL, Feb 12 – the G7 met", []),
    ("one of the workers", []),
    # clock times, correction stamps and counts of the people a report cites
    ("Updated 14:32 GMT, 3 March 2025", []),
    ("This article was corrected on 3 March 2025 to fix a figure.", []),
    ("at 9 am on Monday 5,000 workers left", [("count", 5_000, 5_000, "exact")]),
    ("오전 9시에 18시간 일한다", [("hours", 18, 18, "exact")]),
    ("18 hours a day, according to two former workers", [("hours", 18, 18, "exact")]),
    ("three defectors told the BBC that 18 hours was normal", [("hours", 18, 18, "exact")]),
    ("two sources said more than 10,000 workers entered", [("count", 10_000, 10_000, "more_than")]),
    ("in interviews with 12 former labourers", []),
    ("12 waitresses and their manager defected", [("count", 12, 12, "exact")]),
    ("workers were sent in March 2025, officials said", [("date", 202_503, 202_503, "exact")]),
    # myriad units and Russian
    ("약 5만 명", [("count", 50_000, 50_000, "about")]),
    ("3万名朝鲜工人", [("count", 30_000, 30_000, "exact")]),
    ("1억 달러", [("money", 1e8, 1e8, "exact")]),
    ("50 тыс. рабочих", [("count", 50_000, 50_000, "exact")]),
    ("1,5 млрд рублей", [("money", 1.5e9, 1.5e9, "exact")]),
    ("2,5 млн", [("count", 2.5e6, 2.5e6, "exact")]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_extract_quantities(text: str, expected: Expected) -> None:
    assert_quantities(text, expected)


def test_kept_share_is_marked_as_complement() -> None:
    (quantity,) = extract_quantities("workers keep a tenth of their pay")
    assert quantity.kind == "percent" and quantity.value == 10 and quantity.complement
