"""The figure-comparison policy of the README, one test per table row, and the place/sector/direction slots."""

from __future__ import annotations

import pytest

from analysis.claims.compare import compare, counts_agree, significant_digits, values_agree
from analysis.claims.matcher import analyse
from analysis.claims.quantities import Quantity, extract_quantities


def differences(claim: str, sentence: str) -> list[str]:
    return [difference.slot for difference in compare(analyse(sentence).side, analyse(claim).side)]


def only(text: str) -> Quantity:
    (quantity,) = extract_quantities(text)
    return quantity


# Row 1: equal base values after rounding both to the coarser precision corroborate, whatever the hedges.
@pytest.mark.parametrize(
    ("claim", "sentence"),
    [
        ("about 11,500 workers", "11,490 workers"),
        ("up to 18 hours a day", "18 hours a day"),
        ("more than 50,000 workers", "about 50,000 workers"),
        ("more than 13,000 people", "13,221 people"),
        ("about 8,000 people", "7,887 people"),
    ],
)
def test_equal_after_rounding_corroborates(claim: str, sentence: str) -> None:
    assert counts_agree(only(claim), only(sentence))
    assert differences(claim, sentence) == []


# Row 2: different base values are updates, even when hedges make both true.
@pytest.mark.parametrize(
    ("claim", "sentence"),
    [
        ("50,000 workers", "5,000 workers"),
        ("up to 18 hours a day", "up to 20 hours a day"),
        ("more than 10,000 workers", "more than 15,000 workers"),
        ("more than 50,000 workers", "more than 150,000 workers"),
        ("about 1,200 workers", "about 2,100 workers"),
        ("$500m a year", "$5bn a year"),
        ("236 defectors", "136 defectors"),
        ("over 10,000 workers", "at least 12,000 workers"),
        ("around 3,000 workers", "some 2,500 workers"),
    ],
)
def test_different_base_values_update(claim: str, sentence: str) -> None:
    assert differences(claim, sentence) != []


# Row 3: a vague magnitude corroborates a number inside its band.
@pytest.mark.parametrize(
    ("claim", "sentence"),
    [("tens of thousands of workers", "50,000 workers"), ("thousands of workers", "several thousand workers")],
)
def test_magnitude_inside_band_corroborates(claim: str, sentence: str) -> None:
    assert differences(claim, sentence) == []


# Row 4: ... and updates a number outside it, or another magnitude.
@pytest.mark.parametrize(
    ("claim", "sentence"),
    [
        ("tens of thousands of workers", "around 100,000 workers"),
        ("hundreds of workers", "thousands of workers"),
        ("tens of thousands of workers", "a few hundred workers"),
    ],
)
def test_magnitude_outside_band_updates(claim: str, sentence: str) -> None:
    assert differences(claim, sentence) != []


# Row 5: complements and fractions are converted to the same quantity first.
def test_complement_equals_share() -> None:
    assert differences("the state takes 90% of wages", "workers keep a tenth of their wages") == []


@pytest.mark.parametrize("sentence", ["the state takes a third of wages", "the state takes half of wages"])
def test_other_fraction_updates(sentence: str) -> None:
    assert differences("the state takes 90% of wages", sentence) == ["percent"]


# Row 6: identifiers (years, months, resolution numbers, hours) must match exactly.
@pytest.mark.parametrize(
    ("claim", "sentence", "slot"),
    [
        ("workers entered in 2024", "workers entered in 2025", "year"),
        ("passed in December 2017", "passed in September 2017", "date"),
        ("resolution 2397 banned it", "resolution 2375 banned it", "resolution"),
        ("up to 18 hours a day", "up to 19 hours a day", "hours"),
    ],
)
def test_identifiers_must_match_exactly(claim: str, sentence: str, slot: str) -> None:
    assert slot in differences(claim, sentence)


def test_identifiers_that_match_corroborate() -> None:
    assert differences("resolution 2397, passed in December 2017", "in December 2017 resolution 2397") == []
    assert differences("passed in December 2017", "passed in late 2017") == []


@pytest.mark.parametrize(("value", "digits"), [(50_000, 1), (11_500, 3), (11_490, 4), (1_200_000_000, 2), (236, 3)])
def test_significant_digits(value: float, digits: int) -> None:
    assert significant_digits(value) == digits


def test_small_numbers_are_exact() -> None:
    assert not values_agree(18, 20)
    assert not values_agree(40, 14)
    assert values_agree(12, 12)


@pytest.mark.parametrize(
    ("claim", "sentence", "slot"),
    [
        ("workers entered Russia", "workers entered Belarus", "place"),
        ("factories in Jilin province", "factories in Liaoning province", "place"),
        ("the St Petersburg stadium", "the Moscow stadium", "place"),
        ("after Russia vetoed it", "after China vetoed it", "place"),
        ("put to work on construction sites", "put to work on farms rather than construction sites", "sector"),
        ("escapes have become much rarer", "escapes have become more frequent", "direction"),
        ("10,000 workers entered Russia", "10,000 workers left Russia", "movement"),
        ("most work on construction sites", "most now work in factories rather than on construction sites", "sector"),
        ("most are young women", "most are middle-aged men", "profile"),
        ("staff of a restaurant in China", "staff of a restaurant in Malaysia", "place"),
        ("loggers have worked there since the Soviet era", "loggers have worked there since the 1960s", "year"),
    ],
)
def test_changed_slot_updates(claim: str, sentence: str, slot: str) -> None:
    assert slot in differences(claim, sentence)


@pytest.mark.parametrize(
    ("claim", "sentence"),
    [
        ("Russia reported a fall", "Moscow reported a fall"),
        ("workers in Russia", "workers in Russia, Seoul's spy agency said"),
        ("flee to South Korea", "flee to Seoul"),
        ("sent to the Kursk region", "sent to Russia's Kursk region"),
        ("on construction sites", "on building sites"),
        ("in clothing factories", "in garment factories"),
    ],
)
def test_equivalent_slots_corroborate(claim: str, sentence: str) -> None:
    assert differences(claim, sentence) == []
