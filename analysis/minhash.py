"""The numpy half of ``analysis.nearcopy``: a text's sketch (its shingle hashes, their MinHash signature and LSH
bands).

Imported where texts are sketched, in the extraction workers: the daemon's process compares sketches
(``analysis.nearcopy.similarity``) and hashes stored texts (``analysis.nearcopy.shingles``) without numpy.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analysis.nearcopy import BANDS, MIN_SHINGLES, ROWS, SHINGLE, WORD_WEIGHTS, TextSketch, word_ids

Hashes = npt.NDArray[np.uint64]
SEEDS = np.random.Generator(np.random.PCG64(20261203)).integers(0, 2**64 - 1, size=(3, BANDS * ROWS),
                                                                 dtype=np.uint64, endpoint=True)
# MinHash permutations x -> a*x + b (mod 2**64), a odd so that each is a bijection of 64-bit values.
_A, _B = SEEDS[0] | np.uint64(1), SEEDS[1]
# Multipliers that combine the words of a shingle (``nearcopy.WORD_WEIGHTS``, the first of SEEDS[2]) and the rows
# of a band into one value.
_WORD_WEIGHTS = np.array(WORD_WEIGHTS, dtype=np.uint64)
_ROW_WEIGHTS = SEEDS[2][SHINGLE:SHINGLE + ROWS] | np.uint64(1)


def _mix(values: Hashes) -> Hashes:
    """The splitmix64 finaliser (``nearcopy._mix``) of every value."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def shingles(words: list[int]) -> Hashes:
    """``nearcopy.shingles`` of the text whose word hashes are ``words`` (``nearcopy.word_ids``), as an array."""
    if not words:
        return np.empty(0, dtype=np.uint64)
    ids = np.array(words, dtype=np.uint64)
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
    """The shingles and LSH bands of ``text`` (no bands when it has fewer than ``MIN_SHINGLES`` shingles); its
    shingles as ``nearcopy.Shingles`` bytes, the same as ``nearcopy.shingles(text)``."""
    hashes = shingles(word_ids(text))
    packed = hashes.astype(np.dtype("=u8"), copy=False).tobytes()
    if len(hashes) < MIN_SHINGLES:
        return TextSketch(packed, ())
    return TextSketch(packed, band_values(signature(hashes)))
