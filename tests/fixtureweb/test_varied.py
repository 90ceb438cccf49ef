"""The varied-phrasing article generator and its web: wordings, who the sentences name, and the planned edits."""

from __future__ import annotations

import re
import urllib.request
from collections import Counter
from html import unescape

import pytest

from labourwatch.fixtureweb.sites import CLOCK_BASE
from labourwatch.fixtureweb.varied import (
    ARTICLE,
    CLAIMS,
    KINDS,
    VariedArticle,
    VariedWeb,
    differs_by_policy,
    make_varied_article,
    number_words,
)


def _articles(n: int = 60, seed: int = 0) -> list[VariedArticle]:
    return [make_varied_article(f"site{i % 4}", i, KINDS[i % len(KINDS)], CLOCK_BASE, seed) for i in range(n)]


def test_the_same_seed_writes_the_same_articles_and_another_seed_other_ones() -> None:
    first, again, other = _articles(seed=1), _articles(seed=1), _articles(seed=2)
    assert [a.paragraphs() for a in first] == [a.paragraphs() for a in again]
    assert sum(a.paragraphs() != b.paragraphs() for a, b in zip(first, other, strict=True)) > len(first) // 2


def test_every_kind_of_figure_has_at_least_six_wordings() -> None:
    wordings: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for spec in CLAIMS.values():
        wordings[spec.kind] |= {w.text for w in spec.wordings}
    assert {kind: len(texts) >= 6 for kind, texts in wordings.items()} == dict.fromkeys(KINDS, True)


def test_at_least_half_of_the_claim_sentences_name_the_workers_only_through_the_article() -> None:
    articles = _articles(90)
    sentences = [s for a in articles for s in a.claim_sentences]
    edited = [a.edit for a in articles if a.edit]
    assert sum(s.reference == ARTICLE for s in sentences) / len(sentences) >= 0.5
    assert sum(e.reference == ARTICLE for e in edited) / len(edited) >= 0.5
    for sentence in sentences:
        if sentence.reference == ARTICLE:
            assert "North Korea" not in sentence.before, sentence.before  # Pyongyang the state may be named
    # The subjects vary: pronouns, "these labourers", "the men", "he and his colleagues" and more.
    subjects = Counter(re.sub(r"\d[\d,]*", "N", s.before.split(" ")[0] + " " + s.before.split(" ")[1])
                       for s in sentences if s.reference == ARTICLE)
    assert len(subjects) >= 10


def test_every_article_has_a_lead_naming_north_korean_workers_and_one_planned_edit() -> None:
    for article in _articles(45):
        edit = article.edit
        assert edit is not None
        lead = article.paragraphs()[0]
        assert "North Korea" in lead and re.search(r"worker|labour|programmer|developer|welder", lead), lead
        assert any(edit.before in p for p in article.paragraphs()[1:])
        assert edit.before != edit.after and edit.old_written != edit.new_written
        assert len(article.claim_sentences) >= 2 or edit.kind == "wage"


@pytest.mark.parametrize(("claim", "figure", "differs"), [
    (11490, 11500, False), (18, 18, False), (50000, 50000, False),  # the policy's corroborating pairs
    (10000, 12000, False),  # both round to 10,000
    (50000, 5000, True), (18, 20, True), (10000, 15000, True), (2500, 3200, True), (800, 1200, True),
])
def test_figures_differ_as_the_claims_policy_says(claim: int, figure: int, differs: bool) -> None:
    assert differs_by_policy(claim, figure, exact=claim < 100) is differs


def test_every_edit_moves_to_a_figure_the_policy_calls_different_from_the_claim() -> None:
    for article in _articles(120, seed=5):
        edit = article.edit
        assert edit is not None
        spec = next(s for s in CLAIMS.values() if s.claim_id == edit.claim_id and s.kind == edit.kind)
        claim = spec.claim_value
        if isinstance(claim, tuple):
            assert tuple(edit.new_numbers) != claim
        else:
            assert differs_by_policy(claim, edit.new_numbers[0], exact=spec.slot in ("hours", "year")), edit


def test_number_words_write_round_figures_as_copy_does() -> None:
    assert [number_words(n) for n in (18, 800, 1200, 2500, 50000, 15000)] == [
        "eighteen", "eight hundred", "twelve hundred", "twenty-five hundred", "fifty thousand", "fifteen thousand"]


def _page_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return unescape(response.read().decode("utf-8"))


def test_the_web_serves_every_article_and_makes_every_planned_edit_once() -> None:
    with VariedWeb(outlets=2, articles=5, seed=3) as web:
        planned = web.varied_articles()
        assert len(planned) == 10
        url, article = planned[0]
        assert article.edit is not None and article.edit.before in _page_text(url)
        change = web.advance()
        assert set(change.figure_edits) == {u for u, _ in planned}
        assert change.figure_edits[url] == (article.edit.old_written, article.edit.new_written)
        page = _page_text(url)
        assert article.edit.after in page and article.edit.before not in page
        assert web.advance().figure_edits == {}
