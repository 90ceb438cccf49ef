"""The matcher end to end: the dev-set quality bar, both halves of it, the explain structure and batch matching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.claims import Claim, ClaimMatch, ClaimMatcher, Example, evaluate, examples_from_records

DATA = Path(__file__).parent / "data"


def test_dev_set_meets_the_bar(matcher: ClaimMatcher, dev_examples: list[Example]) -> None:
    report = evaluate(dev_examples, matcher)
    assert report.macro_f1 >= 0.92, report.errors
    assert report.per_class["updates"].recall >= 0.90, report.errors
    assert report.claim_accuracy >= 0.90, report.errors


@pytest.mark.parametrize("parity", [0, 1])
def test_both_halves_of_the_dev_set_score_alike(
    matcher: ClaimMatcher, dev_examples: list[Example], parity: int
) -> None:
    half = [example for example in dev_examples if int(example.id.rsplit("-", 1)[1]) % 2 == parity]
    report = evaluate(half, matcher)
    assert report.macro_f1 >= 0.90, report.errors


def test_own_probe_sentences(matcher: ClaimMatcher) -> None:
    """Sentences written by the team to probe generalisation (not the shared dev set)."""
    lines = (DATA / "probes_own.jsonl").read_text(encoding="utf-8").splitlines()
    report = evaluate(examples_from_records(json.loads(line) for line in lines if line.strip()), matcher)
    assert report.macro_f1 >= 0.92, report.errors
    assert report.per_class["updates"].recall >= 0.90, report.errors


def test_update_reports_old_and_new_values(matcher: ClaimMatcher) -> None:
    match = matcher.match("North Korean workers in Russia are forced to work up to 20 hours a day.")
    assert (match.label, match.claim_id) == ("updates", "K03")
    assert match.new_values == ("20",) and match.old_values == ("18",)
    assert match.reasons


def test_corroboration_and_new(matcher: ClaimMatcher) -> None:
    assert matcher.match("Pyongyang may dispatch over 50,000 labourers to Russia.").claim_id == "K01"
    new = matcher.match("More than 50,000 Chinese labourers may be sent to work in Russia's Far East.")
    assert (new.label, new.claim_id) == ("new", None)


def test_match_many_equals_match(matcher: ClaimMatcher, dev_examples: list[Example]) -> None:
    sentences = [example.sentence for example in dev_examples[::15]]
    assert matcher.match_many(sentences) == [matcher.match(sentence) for sentence in sentences]


def test_explain_shows_the_evidence(matcher: ClaimMatcher) -> None:
    explanation = matcher.explain("Over 10,000 North Korean workers entered Russia during 2023.")
    data = explanation.as_dict()
    assert data["match"]["label"] == "updates"
    assert data["normalised"].startswith("10000 dprk worker")  # the hedge is the figure's, not a word to match
    assert data["candidates"][0]["claim_id"] == "K02" and data["candidates"][0]["gate_passed"]
    assert {"slot": "year", "old": "2024", "new": "2023"} in data["differences"]
    assert any(figure.startswith("year:2023") for figure in data["figures"])
    assert data["subject"]["mentions_dprk"] and data["subject"]["roles"] == ["worker"]
    json.dumps(data)  # the explain structure is JSON-ready for `labourwatch claims match`


def test_empty_claims_and_unknown_scorer() -> None:
    assert ClaimMatcher([]).match("anything") == ClaimMatch("new", None, 1.0, 0.0, reasons=("no known claims",))
    with pytest.raises(ValueError, match="token_set_ratio"):
        ClaimMatcher([Claim("K1", "text")], scorer="WRatio")


def test_report_as_dict_shape(matcher: ClaimMatcher, dev_examples: list[Example]) -> None:
    data = evaluate(dev_examples[:20], matcher).as_dict()
    assert set(data) >= {"macro_f1", "accuracy", "claim_accuracy", "per_class", "confusion"}
    assert set(data["per_class"]) == {"corroborates", "updates", "new"}
    assert set(data["per_class"]["new"]) == {"precision", "recall", "f1", "support"}


@pytest.mark.parametrize(("template", "claim_id", "stated"), [
    ("Officials in Seoul say the number of North Korean workers sent to Russia could exceed {}.", "K01", "50,000"),
    ("North Korean labourers in Russia toil up to {} hours a day, according to former workers.", "K03", "18"),
    ("Over {} North Korean workers entered Russia in 2024, Seoul's spy agency said.", "K02", "10,000"),
])
def test_sentences_that_differ_only_in_their_figure_get_consistent_verdicts(matcher: ClaimMatcher, template: str,
                                                                             claim_id: str, stated: str) -> None:
    figures = {"K01": ["5,000", "15,000", "20,000", "50,000", "70,000"], "K03": ["12", "14", "16", "18", "20"],
               "K02": ["9,500", "10,000", "12,000", "20,000"]}[claim_id]
    for figure in figures:
        match = matcher.match(template.format(figure))
        expected = "corroborates" if figure == stated else "updates"
        assert (match.label, match.claim_id) == (expected, claim_id), (figure, match)
