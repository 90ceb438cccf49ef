"""Fuzzy candidate retrieval: the known claims a canonical sentence is closest to.

Two explicit scorers, never rapidfuzz's default WRatio (it saturates on sentences): one ``process.cdist``
call with ``fuzz.ratio`` over sorted, de-duplicated token strings (a token-sort ratio on token sets, which
runs natively on all cores) shortlists claims for every sentence at once; ``token_set_ratio`` over the
canonical texts then ranks each shortlist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rapidfuzz import fuzz, process

Scorer = Callable[..., float]
# The registry of scorers that rank a shortlist.
SCORERS: dict[str, Scorer] = {"token_set_ratio": fuzz.token_set_ratio, "token_sort_ratio": fuzz.token_sort_ratio}
# How many claims the first pass keeps for each sentence; on the dev set the right claim is always in its top 3.
SHORTLIST = 12
TOP_K = 3


def token_set_key(canonical: str) -> str:
    """The sorted, de-duplicated tokens of a canonical text, joined by spaces."""
    return " ".join(sorted(set(canonical.split())))


def _rank_key(entry: tuple[int, float]) -> tuple[float, int]:
    return (-entry[1], entry[0])


class CandidateIndex:
    """Canonical claim texts, prepared once, that canonical sentences are scored against."""

    def __init__(self, texts: Sequence[str], scorer: str = "token_set_ratio") -> None:
        if scorer not in SCORERS:
            raise ValueError(f"unknown scorer {scorer!r}; known scorers: {', '.join(sorted(SCORERS))}")
        self._texts = list(texts)
        self._keys = [token_set_key(text) for text in self._texts]
        self._scorer = SCORERS[scorer]

    def top(self, queries: Sequence[str], k: int = TOP_K) -> list[list[tuple[int, float]]]:
        """For each query, the ``k`` best (claim index, score 0..100), best first, ties in claim order."""
        if not self._texts:
            return [[] for _ in queries]
        tops = []
        for query, shortlist in zip(queries, self._shortlists(queries), strict=True):
            scored = [(index, float(self._scorer(query, self._texts[index], processor=None))) for index in shortlist]
            tops.append(sorted(scored, key=_rank_key)[:k])
        return tops

    def _shortlists(self, queries: Sequence[str]) -> list[list[int]]:
        if len(self._texts) <= SHORTLIST:
            return [list(range(len(self._texts))) for _ in queries]
        keys = [token_set_key(query) for query in queries]
        try:
            # cdist returns a numpy matrix; numpy is optional here, and without it each query is one extract.
            import numpy as np
        except ImportError:
            return [self._extract(key) for key in keys]
        scores: Any = process.cdist(keys, self._keys, scorer=fuzz.ratio, processor=None, workers=-1, dtype=np.uint8)
        best = np.argpartition(-scores.astype(np.int16), SHORTLIST - 1, axis=1)[:, :SHORTLIST]
        return [sorted(int(index) for index in row) for row in best]

    def _extract(self, key: str) -> list[int]:
        found = process.extract(key, self._keys, scorer=fuzz.ratio, processor=None, limit=SHORTLIST)
        return sorted(int(index) for _, _, index in found)
