"""The English lexicon: loaded and checked, variants read as the claims' words, and shown by ``explain``."""

from __future__ import annotations

import pytest

from analysis.claims import ClaimMatcher
from analysis.claims.model import Claim
from analysis.claims.normalise import normalise_for_matching
from analysis.claims.synonyms import SynonymsError, parse_synonyms, synonyms_in, word_map

K06 = Claim("K06", "Most of what North Korean workers earn abroad is taken by the state as so-called loyalty fees.")


def test_the_shipped_lexicon_loads_and_maps_variants_to_words() -> None:
    words = word_map()
    assert len(words) > 150
    assert words["siphoned"] == "taken" and words["dispatched"] == "send" and words["sappers"] == "deminers"
    assert not set(words) & set(words.values()), "a variant is never itself a word of the lexicon"


@pytest.mark.parametrize(("data", "problem"), [
    ([], "must be a mapping"),
    ({"Send": ["sent"]}, "not a lower-case word"),
    ({"send": []}, "non-empty list"),
    ({"send": ["sent"], "post": ["sent"]}, "already a variant of 'send'"),
    ({"send": ["post"], "post": ["mail"]}, "a word of the lexicon itself"),
    ({"send": ["two words"]}, "not a lower-case word"),
])
def test_a_malformed_lexicon_is_refused_with_every_problem(data: object, problem: str) -> None:
    with pytest.raises(SynonymsError, match=problem):
        parse_synonyms(data)


def test_a_paraphrase_shares_the_claims_words() -> None:
    sentence = "Most of the money North Koreans make overseas is siphoned off by the regime as loyalty fees."
    assert {"taken", "earn"} <= set(normalise_for_matching(sentence).split())
    assert synonyms_in(sentence.casefold()) == [("make", "earn"), ("siphoned", "taken")]


def test_explain_lists_the_lexicon_entries_it_used() -> None:
    sentence = "Most of the money North Korean labourers make overseas is siphoned off by the state, defectors say."
    explanation = ClaimMatcher([K06], semantic=False).explain(sentence)
    assert ("siphoned", "taken") in explanation.glosses and ("make", "earn") in explanation.glosses
    assert (explanation.match.label, explanation.match.claim_id) == ("corroborates", "K06")
