"""The matcher's fast paths give exactly what the plain regex and loop formulations they replace give."""

from __future__ import annotations

import random
import re

import pytest
from rapidfuzz import fuzz

from analysis.claims import ClaimMatcher, claims_from_yaml_data, normalise, numwords, quantities, slots
from analysis.claims import matcher as matcher_module
from analysis.claims.alternation import alternatives, by_first_letter
from analysis.claims.candidates import SHORTLIST, CandidateIndex
from analysis.claims.matcher import analyse

TEXTS = [
    "Multinationals hired North Korean nationals; counterintelligence officials in the U.S. and the US said so.",
    "bu.s. u.s.a. U.S.-based firms, the regime's shipbuilders and housebuilders sent 300 workers back home",
    "Seoul's spy agency says 50,000 N. Korean labourers work abroad; the north of China is not the North.",
    "Pyongyang's workforce in Russia's Far East: two and a half thousand, half a million or a third of them?",
    "Up to us$ 5 million, $1.2-2.3 billion, € 10, 12,000 or 11,490 people; Covid-19, Hwasong-15, G7, 5g, 18th.",
    "from 2017 to 2019, the 1990s, mid-2000s, Feb 12, 12 February 2024, June 2024, between 250 and 600 million",
    "workers keep a tenth; women, men and older staff; fish plants rather than construction sites; IT workers",
    "KIM JONG UN'S REGIME SENT 10 000 WORKERS, 1.000 DEMINERS AND 13 221 BUILDERS TO KURSK AND DONETSK",
    "",
    "Nothing here at all.",
]


def _random_texts(count: int) -> list[str]:
    """Texts spliced from the ones above, so that every fast path meets the odd boundaries."""
    rng = random.Random(7)
    words = " ".join(TEXTS).split(" ")
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(count)]


ALL_TEXTS = TEXTS + _random_texts(150)


def test_phrase_replacement_is_the_plain_substitution() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        expected = normalise._PHRASE_RE.sub(
            lambda match: normalise._PHRASE_REPLACEMENTS[str(match.lastgroup)], prepared
        )
        assert normalise._replace_phrases(prepared) == expected


def test_us_abbreviation_still_needs_a_word_start() -> None:
    assert normalise._replace_phrases("the u.s. said") == "the  us  said"
    assert normalise._replace_phrases("abu.s. said") == "abu.s. said"


def test_lexicons_find_what_finditer_finds() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        for lexicon in (slots._SECTORS, slots._PROFILE, slots._ROLES, slots._EVENTS_LEXICON):
            expected = frozenset(lexicon._names[int(str(m.lastgroup)[1:])] for m in lexicon._regex.finditer(prepared))
            assert lexicon.names(prepared) == expected


def test_place_index_finds_every_ngram() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        words = slots._WORD_RE.findall(prepared)
        expected = set()
        for size in (1, 2, 3):
            for start in range(len(words) - size + 1):
                name = slots._PLACES._names.get(" ".join(words[start : start + size]))
                if name is not None:
                    expected.add(name)
        assert slots._PLACES.names(prepared) == frozenset(expected)


def test_places_clean_the_raw_text_as_before() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        cleaned, raw = prepared, text
        if slots._SOURCE_WORD_RE.search(prepared):
            cleaned, raw = slots._SOURCE_RE.sub(" ", prepared), slots._SOURCE_RE.sub(" ", text)
        expected = set(slots._PLACES.names(cleaned)) | ({"united states"} if slots._US_RE.search(raw) else set())
        assert slots.places(prepared, text) == frozenset(expected)


def test_us_named_as_a_source_is_not_a_place() -> None:
    assert "united states" not in slots.places(quantities.prepare_text("U.S. officials said"), "U.S. officials said")
    assert "united states" in slots.places(quantities.prepare_text("workers in the U.S."), "workers in the U.S.")


def test_number_matches_are_those_of_finditer() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        expected = [match.span() for match in quantities._SINGLE_RE.finditer(prepared)]
        assert [match.span() for match in quantities._single_matches(prepared)] == expected


def test_number_words_are_rewritten_as_by_every_substitution() -> None:
    for text in ALL_TEXTS:
        casefolded = text.casefold()
        expected = numwords._HALF_SCALE_RE.sub(lambda m: str(numwords._SCALES[m.group(1)] // 2), casefolded)
        expected = numwords._AND_A_HALF_RE.sub(numwords._replace_and_a_half, expected)
        expected = numwords._POINT_RE.sub(numwords._replace_point, expected)
        expected = numwords._FRACTION_RE.sub(numwords._replace_fraction, expected)
        expected = numwords._WORDS_RE.sub(numwords._replace_words, expected)
        assert numwords.words_to_digits(casefolded) == expected


def test_quantities_are_those_of_every_pattern() -> None:
    for text in ALL_TEXTS:
        prepared = quantities.prepare_text(text)
        dates = quantities._dates(prepared) + quantities._decades(prepared)
        skip = [q.span for q in dates] + [m.span() for m in quantities._DAY_RE.finditer(prepared)]
        expected = dates + quantities._magnitudes(prepared) + quantities._numeric(prepared, skip)
        assert quantities.extract_from_prepared(prepared) == sorted(expected, key=lambda quantity: quantity.span)


def test_rerank_is_one_scorer_call_per_pair() -> None:
    pytest.importorskip("numpy")
    texts = [analyse(text).canonical for text in TEXTS if text] * 3
    assert len(texts) > SHORTLIST
    index = CandidateIndex(texts)
    queries = [analyse(text).canonical for text in ALL_TEXTS[:40]]
    for query, top in zip(queries, index.top(queries, k=SHORTLIST), strict=True):
        for position, score in top:
            assert score == float(fuzz.token_set_ratio(query, texts[position], processor=None))
        assert top == sorted(top, key=lambda entry: (-entry[1], entry[0]))


def test_sentences_without_north_korea_are_never_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    matcher = ClaimMatcher(claims_from_yaml_data({"claims": [{"id": "K1", "text": TEXTS[2]}]}))

    def no_figures(prepared: str) -> list[quantities.Quantity]:
        raise AssertionError(f"figures read for {prepared!r}")

    monkeypatch.setattr(matcher_module, "extract_from_prepared", no_figures)
    (match,) = matcher.match_many(["Nepali workers in Qatar earn 1,000 riyals a month."])
    assert match.label == "new" and "does not mention North Korea" in match.reasons[0]


def test_no_letter_is_a_digit() -> None:
    # _content_tokens keeps alphabetic tokens without looking at each character.
    assert not any(chr(code).isalpha() and chr(code).isdigit() for code in range(0x110000))


def test_alternatives_split_at_the_top_level_only() -> None:
    assert alternatives(r"a|b(?:c|d)|[|]e|f\|g|the south(?! of| korea)") == [
        "a",
        "b(?:c|d)",
        "[|]e",
        r"f\|g",
        "the south(?! of| korea)",
    ]


def test_grouping_by_first_letter_matches_as_the_plain_alternation() -> None:
    patterns = ["china'?s|chinese|beijing", "cheap|be|u(?<!\\wu)\\.s\\.|united states", "c|ch"]
    grouped = re.compile(by_first_letter(patterns))
    assert grouped.pattern.startswith("c(?:")
    plain = re.compile("|".join(patterns))
    for text in ["china's cheap chinese u.s. beijing be united states c ch", "bu.s. chinese", *ALL_TEXTS]:
        casefolded = text.casefold()
        assert [m.span() for m in grouped.finditer(casefolded)] == [m.span() for m in plain.finditer(casefolded)]


def test_grouping_falls_back_when_a_first_letter_is_not_alone() -> None:
    for patterns in (["a?b|c"], ["(?:has|had) x|y"], [r"\bu"], ["[ab]c"], [""]):
        assert by_first_letter(patterns) == "|".join(patterns)
