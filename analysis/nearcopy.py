"""Near-copies of a text: word shingles, a MinHash signature cut into LSH bands, and the similarity that decides.

A text is normalised (``analysis.text.normalise_text``: case, punctuation, timestamp lines), cut into words (a
Chinese or Japanese character counts as a word) and into overlapping runs of ``SHINGLE`` words. Its MinHash
signature (``BANDS`` x ``ROWS`` values) is cut into ``BANDS`` bands, each hashed to one signed 64-bit value (a
database BIGINT): two texts sharing any band value are candidates. A candidate is a copy when the
:func:`similarity` of the two shingle sets reaches ``THRESHOLD``.

The similarity is the overlap of the shingle sets relative to the smaller one (containment), so a copy that
drops a paragraph or adds a dateline, a credit line or a "first published by" note still scores high. Every hash
is seeded by constants here, so sketches stored by one process compare with those of any other.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.text import normalise_text

SHINGLE = 3  # words a shingle
# LSH: texts of Jaccard similarity s share a band with probability 1 - (1 - s**ROWS)**BANDS: 0.80 at s = 0.32 (the
# least similar light rewrite of the fixture web), 0.97 at 0.41, 0.21 at 0.17 (a typical same-story article of
# another outlet). bench/copies_bench.py measures the other choices.
BANDS, ROWS = 48, 3
THRESHOLD = 0.65  # the containment from which a candidate is a copy (bench/copies_bench.py)
MIN_SHINGLES = 12  # a shorter text (a caption, a teaser) is never sketched: too little to tell a copy by

Hashes = npt.NDArray[np.uint64]
_MASK = (1 << 64) - 1
_SEEDS = np.random.Generator(np.random.PCG64(20261203)).integers(0, 2**64 - 1, size=(3, BANDS * ROWS),
                                                                  dtype=np.uint64, endpoint=True)
# MinHash permutations x -> a*x + b (mod 2**64), a odd so that each is a bijection of 64-bit values.
_A, _B = _SEEDS[0] | np.uint64(1), _SEEDS[1]
# Multipliers that combine the words of a shingle (order matters) and the rows of a band into one value.
_WORD_WEIGHTS = _SEEDS[2][:SHINGLE] | np.uint64(1)
_ROW_WEIGHTS = _SEEDS[2][SHINGLE:SHINGLE + ROWS] | np.uint64(1)
# Characters of scripts written without spaces between words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class TextSketch:
    """A text's shingle hashes (sorted, distinct) and its LSH band values (empty when the text is too short)."""

    shingles: Hashes
    bands: tuple[int, ...]

    @property
    def sketched(self) -> bool:
        """Whether the text was long enough to be sketched (and so to be found as a copy or an original)."""
        return bool(self.bands)


def words(text: str) -> list[str]:
    """The words of ``text`` after normalisation; each character of a script without spaces is a word."""
    out: list[str] = []
    for token in normalise_text(text).split():
        if _UNSPACED.search(token):
            out.extend(token)
        else:
            out.append(token)
    return out


def _mix(values: Hashes) -> Hashes:
    """The splitmix64 finaliser: spreads every input bit over the whole 64-bit value."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


@functools.lru_cache(maxsize=1 << 15)  # a language's common words recur in every text: hashed once (<= ~6 MB)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def shingles(text: str) -> Hashes:
    """The distinct hashes of the ``SHINGLE``-word runs of ``text``, sorted (a shorter text: one run of all)."""
    found = words(text)
    if not found:
        return np.empty(0, dtype=np.uint64)
    table = {word: _word_hash(word) for word in set(found)}
    ids = np.fromiter((table[word] for word in found), dtype=np.uint64, count=len(found))
    span = min(SHINGLE, len(ids))
    runs = len(ids) - span + 1
    combined = np.zeros(runs, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(span):
            combined += ids[offset:offset + runs] * _WORD_WEIGHTS[offset]
        return np.unique(_mix(combined))


def signature(hashes: Hashes) -> Hashes:
    """The MinHash signature of a non-empty set of shingle hashes: the least image under each permutation."""
    with np.errstate(over="ignore"):
        images = hashes[:, None] * _A[None, :] + _B[None, :]
    return np.asarray(images.min(axis=0), dtype=np.uint64)


def band_values(signature_: Hashes) -> tuple[int, ...]:
    """The signature's ``BANDS`` bands, each hashed to one signed 64-bit integer."""
    rows = signature_.reshape(BANDS, ROWS)
    with np.errstate(over="ignore"):
        combined = _mix((rows * _ROW_WEIGHTS[None, :]).sum(axis=1, dtype=np.uint64))
    return tuple(int(v) for v in combined.view(np.int64))


def sketch(text: str) -> TextSketch:
    """The shingles and LSH bands of ``text`` (no bands when it has fewer than ``MIN_SHINGLES`` shingles)."""
    hashes = shingles(text)
    if len(hashes) < MIN_SHINGLES:
        return TextSketch(hashes, ())
    return TextSketch(hashes, band_values(signature(hashes)))


def similarity(first: Hashes, second: Hashes) -> float:
    """The containment of two shingle sets: shared shingles over the size of the smaller set (0 if one is empty)."""
    smaller = min(len(first), len(second))
    if not smaller:
        return 0.0
    shared = len(np.intersect1d(first, second, assume_unique=True))
    return shared / smaller


def is_copy(score: float) -> bool:
    """Whether a :func:`similarity` makes a copy."""
    return score >= THRESHOLD
