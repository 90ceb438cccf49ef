"""Near-copies of a text: word shingles, a MinHash signature cut into LSH bands, and the similarity that decides.

A text is normalised (``analysis.text.normalise_text``: case, punctuation, timestamp lines), cut into words (a
Chinese or Japanese character counts as a word) and into overlapping runs of ``SHINGLE`` words. Its MinHash
signature (``BANDS`` x ``ROWS`` values) is cut into ``BANDS`` bands, each hashed to one signed 64-bit value (a
database BIGINT): two texts sharing any band value are candidates. A candidate is a copy when the
:func:`similarity` of the two shingle sets reaches ``THRESHOLD``.

The similarity is the overlap of the shingle sets relative to the smaller one (containment), so a copy that
drops a paragraph or adds a dateline, a credit line or a "first published by" note still scores high. Every hash
is seeded by constants (here and in ``analysis.minhash``), so sketches stored by one process compare with those of
any other.

This module needs no numpy, so that the daemon's process, which only compares, never imports it; the extraction
workers make the sketches with numpy (``analysis.minhash.sketch``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from array import array
from dataclasses import dataclass

from analysis.text import normalise_text

SHINGLE = 3  # words a shingle
# LSH: texts of Jaccard similarity s share a band with probability 1 - (1 - s**ROWS)**BANDS: 0.80 at s = 0.32 (the
# least similar light rewrite of the fixture web), 0.97 at 0.41, 0.21 at 0.17 (a typical same-story article of
# another outlet). bench/copies_bench.py measures the other choices.
BANDS, ROWS = 48, 3
THRESHOLD = 0.65  # the containment from which a candidate is a copy (bench/copies_bench.py)
MIN_SHINGLES = 12  # a shorter text (a caption, a teaser) is never sketched: too little to tell a copy by

# A text's shingle hashes: sorted, distinct unsigned 64-bit values packed in the machine's byte order (an
# ``array("Q")``'s bytes; never stored, only handed between processes of one machine). Plain bytes, so that the
# sketches the extraction workers make (with numpy, ``analysis.minhash``) cross to the daemon's process and are
# compared there without numpy.
Shingles = bytes
MASK = (1 << 64) - 1
# The multipliers that combine the words of a shingle (order matters): the first ``SHINGLE`` values of
# ``analysis.minhash``'s third seed row, odd, written out so that this module hashes without numpy (a test checks
# that they are the same).
WORD_WEIGHTS = (1661754021611189771, 6791606725627185145, 14765754192164452485)
# Characters of scripts written without spaces between words.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class TextSketch:
    """A text's shingle hashes (:data:`Shingles`) and its LSH band values (empty when the text is too short)."""

    shingles: Shingles
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


@functools.lru_cache(maxsize=1 << 15)  # a language's common words recur in every text: hashed once (<= ~6 MB)
def _word_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def word_ids(text: str) -> list[int]:
    """The 64-bit hash of each word of ``text`` (:func:`words`), in order."""
    found = words(text)
    table = {word: _word_hash(word) for word in set(found)}
    return [table[word] for word in found]


def _mix(value: int) -> int:
    """The splitmix64 finaliser of one 64-bit value: spreads every input bit over the whole value."""
    value ^= value >> 30
    value = (value * 0xBF58476D1CE4E5B9) & MASK
    value ^= value >> 27
    value = (value * 0x94D049BB133111EB) & MASK
    return value ^ (value >> 31)


def shingles(text: str) -> Shingles:
    """The distinct hashes of the ``SHINGLE``-word runs of ``text``, sorted (a shorter text: one run of all).

    In plain Python, for the daemon's process (the stored texts of copy candidates): ``analysis.minhash.sketch``
    computes the same values with numpy, faster on a long text, in the extraction workers."""
    ids = word_ids(text)
    span = min(SHINGLE, len(ids))
    runs = len(ids) - span + 1 if ids else 0
    combined = [0] * runs
    for offset in range(span):
        weight = WORD_WEIGHTS[offset]
        combined = [total + word * weight for total, word in zip(combined, ids[offset:offset + runs], strict=True)]
    return array("Q", sorted({_mix(total & MASK) for total in combined})).tobytes()


def values(hashes: Shingles) -> memoryview:
    """The hashes of ``hashes`` as a sequence of ints (a view: nothing is copied)."""
    return memoryview(hashes).cast("Q")


def similarity(first: Shingles, second: Shingles) -> float:
    """The containment of two shingle sets: shared shingles over the size of the smaller set (0 if one is empty)."""
    smaller, larger = sorted((values(first), values(second)), key=len)
    if not smaller:
        return 0.0
    shared = len(set(smaller).intersection(larger))
    return shared / len(smaller)


def is_copy(score: float) -> bool:
    """Whether a :func:`similarity` makes a copy."""
    return score >= THRESHOLD
