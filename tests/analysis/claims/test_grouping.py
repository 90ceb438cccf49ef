"""Which new-claim sentences are one claim (analysis.claims.grouping), from a table of pairs, and the index that
finds them."""

from __future__ import annotations

import pytest

from analysis.claims.grouping import ClaimIndex, claim_key, figures_of, same_claim

SHIPYARDS = "More than 3,400 North Korean workers are employed at shipyards in Primorye, a leaked report says."

SAME = [
    # A wire copy: dateline, agency, attribution.
    (SHIPYARDS, "VLADIVOSTOK, March 3 (Reuters) - " + SHIPYARDS),
    (SHIPYARDS, "More than 3,400 North Korean workers are employed at shipyards in Primorye, according to a leaked "
                "report."),
    # The same sentence with another figure: the same claim, its figure changed.
    (SHIPYARDS, SHIPYARDS.replace("3,400", "4,100")),
    ("In 2015 the UN special rapporteur also urged that North Korea's leaders be referred to the International "
     "Criminal Court.",
     "In 2015 the UN special rapporteur also urged that North Korea's leadership be referred to the International "
     "Criminal Court."),
    # Other words, the same amounts about the same subject.
    ("Resolution 2397 also limited North Korea's crude oil imports to 4 million barrels a year.",
     "Resolution 2397 also capped North Korea's imports of crude oil at 4 million barrels a year."),
    ("북한 노동자 3천여 명이 연해주 조선소에서 일하고 있다고 보고서는 밝혔다.",
     "북한 노동자 3천여 명이 연해주 조선소에서 일하고 있다고 유출된 보고서는 밝혔다."),
]

DIFFERENT = [
    # Near-identical words, another subject.
    ("Tens of thousands of North Korean women work in garment factories in Dandong, making clothes for export.",
     "Chinese women work in garment factories in Dandong making clothes for export."),
    # Another place.
    (SHIPYARDS, SHIPYARDS.replace("Primorye", "Khabarovsk")),
    # The same figures, saying something else of them.
    ("Resolution 2375 also banned North Korea's exports of textiles.",
     "The Security Council adopted resolution 2375 days after North Korea's sixth nuclear test."),
    ("More than 100,000 North Korean workers may be sent to Russia, according to South Korean intelligence.",
     "More than 15,000 North Korean workers entered Russia during 2024, according to South Korea's intelligence "
     "service."),
    # Two Korean sentences the canonical form would leave nearly empty.
    ("국정원은 북한이 러시아에 1만 명 넘는 병력을 추가로 보낼 수 있다고 밝혔다.",
     "국정원은 북한이 러시아에 최대 10만 명의 노동자를 보낼 수 있다고 밝혔다."),
]


@pytest.mark.parametrize(("first", "second"), SAME)
def test_one_claim(first: str, second: str) -> None:
    assert same_claim(claim_key(first), claim_key(second))
    index = ClaimIndex()
    index.add(7, claim_key(first))
    assert index.find(claim_key(second)) == [7]


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_claims(first: str, second: str) -> None:
    assert not same_claim(claim_key(first), claim_key(second))
    index = ClaimIndex()
    index.add(7, claim_key(first))
    assert index.find(claim_key(second)) == []


def test_figures_are_the_matchers_canonical_figures() -> None:
    assert figures_of(SHIPYARDS) == ["count:3400"]
    assert figures_of("VLADIVOSTOK, March 3 (Reuters) - " + SHIPYARDS) == ["count:3400"]  # no date from a dateline
    assert figures_of("Some 50k North Korean labourers entered Russia in 2024.") == ["count:50000", "year:2024"]
    assert figures_of("North Korean workers abroad typically work 12 to 16 hours a day.") == ["hours:12 16"]


def test_the_index_forgets_and_prefers_the_closest() -> None:
    index = ClaimIndex()
    index.add(1, claim_key(SHIPYARDS.replace("leaked report", "leaked internal report")))
    index.add(2, claim_key(SHIPYARDS))
    assert index.find(claim_key(SHIPYARDS.replace("3,400", "3,500"))) == [2, 1]  # the closest first
    index.remove(1)
    index.remove(1)  # twice: nothing happens
    assert index.find(claim_key(SHIPYARDS)) == [2] and len(index) == 1
    index.add(2, claim_key("Direct passenger trains between Moscow and Pyongyang resumed for the first time since 2020."))
    assert index.find(claim_key(SHIPYARDS)) == [] and len(index) == 1
