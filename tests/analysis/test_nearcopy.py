"""Near-copy detection: verbatim and syndicated copies and light rewrites are found, other articles on the same
story are not, and sketches are stable, database-sized and threshold-consistent."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from analysis import minhash, nearcopy
from labourwatch.fixtureweb.copies import COPY_KINDS, REWRITE, SIBLING, WIRE, article_text, copy_pairs

PAIRS = copy_pairs(per_kind=6, seed=1)


def _found(first: str, second: str) -> tuple[bool, float]:
    """Whether LSH makes the two texts candidates, and their similarity."""
    a, b = minhash.sketch(first), minhash.sketch(second)
    shares_band = any(x == y for x, y in zip(a.bands, b.bands, strict=True))
    return shares_band, nearcopy.similarity(a.shingles, b.shingles)


@pytest.mark.parametrize("kind", COPY_KINDS)
def test_copies_of_every_kind_are_candidates_and_pass_the_threshold(kind: str) -> None:
    pairs = [p for p in PAIRS if p.kind == kind]
    assert pairs
    for pair in pairs:
        candidate, score = _found(article_text(pair.first), article_text(pair.second))
        assert candidate and nearcopy.is_copy(score), (kind, score, pair.second.slug)


def test_a_verbatim_copy_with_another_header_and_footer_is_contained_whole() -> None:
    pair = next(p for p in PAIRS if p.kind == WIRE)
    first, second = article_text(pair.first), article_text(pair.second)
    assert first != second and first.split("\n")[1] in second  # a dateline and credit lines were added
    assert nearcopy.similarity(nearcopy.shingles(first), nearcopy.shingles(second)) == 1.0


def test_a_light_rewrite_is_not_the_same_text_but_is_found() -> None:
    pair = next(p for p in PAIRS if p.kind == REWRITE)
    first, second = article_text(pair.first), article_text(pair.second)
    assert len(second.split("\n")) < len(first.split("\n"))  # a paragraph was dropped
    score = nearcopy.similarity(nearcopy.shingles(first), nearcopy.shingles(second))
    assert nearcopy.THRESHOLD <= score < 1.0


def test_another_article_on_the_same_story_with_shared_paragraphs_is_no_copy() -> None:
    siblings = [p for p in PAIRS if p.kind == SIBLING]
    for pair in siblings:
        first, second = article_text(pair.first), article_text(pair.second)
        shared = set(first.split("\n")) & set(second.split("\n"))
        assert shared, "a sibling carries paragraphs of the first article word for word"
        assert not nearcopy.is_copy(nearcopy.similarity(nearcopy.shingles(first), nearcopy.shingles(second)))


def test_similarity_at_the_threshold_boundaries() -> None:
    # 100 distinct words; the second text keeps the first k words and replaces the rest: containment moves in
    # steps of one shingle, so the threshold is checked just below, at and above its value.
    words = [f"w{i}" for i in range(100)]
    base = nearcopy.shingles(" ".join(words))
    total = len(nearcopy.values(base))
    assert nearcopy.is_copy(nearcopy.THRESHOLD) and not nearcopy.is_copy(nearcopy.THRESHOLD - 1e-9)
    for kept_shingles, expected in ((int(total * nearcopy.THRESHOLD) - 1, False),
                                    (int(np.ceil(total * nearcopy.THRESHOLD)), True)):
        kept = kept_shingles + nearcopy.SHINGLE - 1  # words kept, so that exactly kept_shingles runs survive
        other = nearcopy.shingles(" ".join(words[:kept] + [f"x{i}" for i in range(100 - kept)]))
        score = nearcopy.similarity(base, other)
        assert score == pytest.approx(kept_shingles / total)
        assert nearcopy.is_copy(score) is expected, score


def test_sketches_are_deterministic_and_fit_a_signed_64_bit_column() -> None:
    text = article_text(PAIRS[0].first)
    first, again = minhash.sketch(text), minhash.sketch(text)
    assert first.bands == again.bands and len(first.bands) == nearcopy.BANDS
    assert all(-(2**63) <= value < 2**63 for value in first.bands)
    assert len(set(first.bands)) == nearcopy.BANDS


def test_case_punctuation_and_timestamp_lines_do_not_change_the_sketch() -> None:
    text = article_text(PAIRS[0].first)
    noisy = "Updated 3 Jan 2026 10:15\n" + text.upper().replace(",", " ,").replace(".", "!")
    assert minhash.sketch(noisy).bands == minhash.sketch(text).bands


def test_short_texts_are_not_sketched() -> None:
    assert not minhash.sketch("Read more about North Korean workers.").sketched
    assert nearcopy.similarity(nearcopy.shingles(""), nearcopy.shingles("a b c d")) == 0.0


def test_chinese_text_is_shingled_by_character() -> None:
    text = "朝鲜工人在俄罗斯建筑工地每天工作十八个小时，国家拿走他们工资的百分之九十。"
    assert len(nearcopy.words(text)) == len(text) - 2  # every character but the two punctuation marks
    edited = text.replace("十八", "二十")
    assert 0.5 < nearcopy.similarity(nearcopy.shingles(text), nearcopy.shingles(edited)) < 1.0


def test_the_daemons_shingles_are_the_workers_and_a_sketch_crosses_without_numpy() -> None:
    # The workers sketch with numpy (analysis.minhash); the daemon's process hashes stored texts in plain Python
    # and compares what the workers sent: both must give the same hashes, and a sketch must unpickle without numpy.
    assert tuple(int(w) for w in minhash.SEEDS[2][:nearcopy.SHINGLE] | np.uint64(1)) == nearcopy.WORD_WEIGHTS
    texts = [article_text(p.first) for p in PAIRS] + [article_text(p.second) for p in PAIRS]
    texts += ["", "one", "two words", "朝鲜工人在俄罗斯建筑工地每天工作十八个小时。", "\n".join(texts)]
    for text in texts:
        made = minhash.sketch(text)
        assert made.shingles == nearcopy.shingles(text)
        hashes = list(nearcopy.values(made.shingles))
        assert hashes == sorted(set(hashes))  # sorted and distinct, as similarity() takes them
    pickled = pickle.dumps(minhash.sketch(texts[0]))
    assert b"numpy" not in pickled and type(pickle.loads(pickled).shingles) is bytes
