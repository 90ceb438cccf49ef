"""The fixture web of copies: pairs of every kind published on other outlets, served over HTTP, edited with their
first articles, independent first articles, and the same web for the same seed."""

from __future__ import annotations

import urllib.request
from collections import Counter
from html import unescape

from labourwatch.fixtureweb.copies import (
    MAX_SHARED,
    PAIR_KINDS,
    REWRITE,
    SIBLING,
    SYNDICATED,
    WIRE,
    CopiesWeb,
    article_text,
    overlap,
    word_runs,
)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return unescape(response.read().decode("utf-8"))


def test_the_first_advance_publishes_a_second_article_per_pair_on_another_outlet() -> None:
    with CopiesWeb(outlets=3, articles=4, seed=5, pairs=8) as web:
        assert web.pairs() == []
        change = web.advance()
        pairs = web.pairs()
        assert len(pairs) == 8 and set(change.new) == {second for _, _, second in pairs}
        assert Counter(kind for kind, _, _ in pairs) == dict.fromkeys(PAIR_KINDS, 2)
        for pair in web.published_pairs():
            assert pair.first.site_id != pair.second.site_id
        for (kind, first_url, second_url), pair in zip(pairs, web.published_pairs(), strict=True):
            first, second = _get(first_url), _get(second_url)
            assert pair.kind == kind and pair.first.paragraphs()[1] in first
            credit = "This material may not be published or redistributed."
            if kind == WIRE:
                assert credit in second and pair.first.paragraphs()[1] in second and credit not in first
            if kind == SYNDICATED:
                assert "first published by" in second and pair.first.paragraphs()[1] in second
        rewrite = next(p for p in web.published_pairs() if p.kind == REWRITE)
        assert article_text(rewrite.second) != article_text(rewrite.first)
        assert len(rewrite.second.paragraphs()) < len(rewrite.first.paragraphs())
        sibling = next(p for p in web.published_pairs() if p.kind == SIBLING)
        shared = set(sibling.first.paragraphs()) & set(sibling.second.paragraphs())
        assert len(shared) >= 1 and sibling.first.paragraphs()[0] != sibling.second.paragraphs()[0]


def test_later_advances_edit_the_copies_too() -> None:
    with CopiesWeb(outlets=2, articles=3, seed=1, pairs=4) as web:
        web.advance()
        seconds = {second for _, _, second in web.pairs()}
        edits = web.advance()
        assert seconds <= set(edits.figure_edits)


def test_first_articles_are_independent_and_the_seed_decides_everything() -> None:
    with CopiesWeb(outlets=4, articles=5, seed=3, pairs=8) as web, \
            CopiesWeb(outlets=4, articles=5, seed=3, pairs=8) as again:
        firsts = [a for _, a in web.varied_articles()]
        runs = [word_runs(a) for a in firsts]
        assert max(overlap(mine, runs[:i] + runs[i + 1:]) for i, mine in enumerate(runs)) <= MAX_SHARED
        web.advance()
        again.advance()
        assert [article_text(p.second) for p in web.published_pairs()] == [
            article_text(p.second) for p in again.published_pairs()]
