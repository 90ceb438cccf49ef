"""The semantic signal: the shipped multilingual encoder loads offline, puts translations together and unrelated
sentences apart, caches claim vectors, and only widens retrieval: slots still decide corroborates vs updates."""

from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from analysis.claims import ClaimMatcher, semantic
from analysis.claims.model import Claim
from labourwatch.config import read_claims

SHIPPED = Path(__file__).resolve().parents[3] / "known_claims.yaml"

CLAIM = "North Korean labourers in Russia are made to work for as long as 18 hours a day."


def test_vectors_are_unit_length_and_translations_sit_together() -> None:
    vectors = semantic.encode([CLAIM, "러시아에 파견된 북한 노동자들은 하루 최대 18시간까지 일한다.",
                               "Северокорейские рабочие в России трудятся до 18 часов в сутки.",
                               "The central bank left interest rates unchanged on Thursday."])
    assert vectors.shape == (4, 512)
    assert numpy.allclose(numpy.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similar = vectors[0] @ vectors[1:].T
    assert min(similar[:2]) > similar[2] + 0.3


def test_claim_vectors_are_computed_once_per_text() -> None:
    semantic.claim_vectors([CLAIM])
    before = semantic._cached_vector.cache_info()
    again = semantic.claim_vectors([CLAIM, CLAIM])
    after = semantic._cached_vector.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (2, 0) and again.shape == (2, 512)


def test_the_signal_is_shown_and_can_be_turned_off() -> None:
    claims = [Claim("K03", CLAIM)]
    on, off = ClaimMatcher(claims, semantic=True), ClaimMatcher(claims, semantic=False)
    sentence = "Северокорейских рабочих в России заставляют трудиться до 20 часов в сутки."
    [with_signal], [without] = on.explain(sentence).candidates, off.explain(sentence).candidates
    assert with_signal.semantic is not None and with_signal.semantic > 0.5 and without.semantic is None
    # Meaning finds the claim; the figures still decide the verdict: 20 hours is an update of 18.
    match = on.match(sentence)
    assert (match.label, match.claim_id, match.new_values) == ("updates", "K03", ("20",))


@pytest.mark.parametrize("sentence", [
    "North Korean labourers in Russia are made to work for as long as 18 hours a day, a rights group said.",
    "North Korean labourers in Russia are made to work for as long as 16 hours a day, a rights group said.",
])
def test_meaning_never_turns_an_update_into_a_corroboration(sentence: str) -> None:
    on, off = ClaimMatcher([Claim("K03", CLAIM)], semantic=True), ClaimMatcher([Claim("K03", CLAIM)], semantic=False)
    assert on.match(sentence).label == off.match(sentence).label


def test_the_config_switch_decides_for_matchers_built_afterwards() -> None:
    from analysis.claims.sentences import KnownClaims

    claims = [Claim("K03", CLAIM)]
    try:
        semantic.configure(False)
        assert not semantic.enabled() and not ClaimMatcher(claims).semantic and not KnownClaims.of(claims).matcher.semantic
        assert ClaimMatcher(claims, semantic=True).semantic  # an explicit choice (claims match --semantic) wins
        semantic.configure(True)
        assert semantic.enabled() and ClaimMatcher(claims).semantic and KnownClaims.of(claims).matcher.semantic
    finally:
        semantic.configure(True)


@pytest.mark.parametrize("sentence", [
    # a quote on paperwork that names workers and Pyongyang: the words of the dispatch claim, not its meaning
    "북방노동인권연구소의 정하윤 연구위원은 “서류만 바뀌었을 뿐 실제로 일하는 사람과 평양으로 가는 돈은 그대로”라고 말했다.",
    "— Меняются бумаги, но не люди, которые работают, и не деньги, которые уходят в Пхеньян».",
])
def test_other_scripts_sharing_a_claims_words_but_not_its_meaning_are_new(sentence: str) -> None:
    claims = [c for c in read_claims(SHIPPED) if c.status == "active"]
    with_meaning, wording_only = ClaimMatcher(claims, semantic=True), ClaimMatcher(claims, semantic=False)
    assert with_meaning.match(sentence).label == "new", with_meaning.explain(sentence).match
    assert wording_only.match(sentence).label != "new"  # the veto is meaning's: wording alone takes a claim
