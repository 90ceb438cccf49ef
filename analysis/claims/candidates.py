"""Fuzzy candidate retrieval: the known claims a canonical sentence is closest to.

Two explicit scorers, never rapidfuzz's default WRatio (it saturates on sentences): one ``process.cdist``
call with ``fuzz.ratio`` over sorted, de-duplicated token strings (a token-sort ratio on token sets, which
runs natively on all cores) shortlists claims for every sentence at once; one ``process.cpdist`` call with
``token_set_ratio`` over the canonical texts then scores every (sentence, shortlisted claim) pair, natively
too, to rank each shortlist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from rapidfuzz import fuzz, process

Scorer = Callable[..., float]
# The registry of scorers that rank a shortlist.
SCORERS: dict[str, Scorer] = {"token_set_ratio": fuzz.token_set_ratio, "token_sort_ratio": fuzz.token_sort_ratio}
# How many claims the first pass keeps for each sentence; on the dev set the right claim is always in its top 3.
SHORTLIST = 12
TOP_K = 3
# From this many scored pairs on, cdist and cpdist use every core (the scores are the same either way).
PARALLEL_PAIRS = 2_000


def token_set_key(canonical: str) -> str:
    """The sorted, de-duplicated tokens of a canonical text, joined by spaces."""
    return " ".join(sorted(set(canonical.split())))


class CandidateIndex:
    """Canonical claim texts, prepared once, that canonical sentences are scored against."""

    def __init__(self, texts: Sequence[str], scorer: str = "token_set_ratio") -> None:
        if scorer not in SCORERS:
            raise ValueError(f"unknown scorer {scorer!r}; known scorers: {', '.join(sorted(SCORERS))}")
        self._texts = list(texts)
        self._keys = [token_set_key(text) for text in self._texts]
        self._scorer = SCORERS[scorer]

    def score(self, query: str, index: int) -> float:
        """The ranking scorer's score (0..100) of one query against one text."""
        return float(self._scorer(query, self._texts[index], processor=None))

    def top(self, queries: Sequence[str], k: int = TOP_K) -> list[list[tuple[int, float]]]:
        """For each query, the ``k`` best (claim index, score 0..100), best first, ties in claim order."""
        if not self._texts:
            return [[] for _ in queries]
        numpy = _numpy()
        shortlists = self._shortlists(queries, numpy)
        scores = iter(self._rerank(queries, shortlists, numpy))
        # Shortlists are in claim order and sorting is stable: best first, ties in claim order.
        return [
            sorted([(index, next(scores)) for index in shortlist], key=itemgetter(1), reverse=True)[:k]
            for shortlist in shortlists
        ]

    def _rerank(self, queries: Sequence[str], shortlists: list[list[int]], numpy: Any) -> list[float]:
        """The ranking scorer over every (query, shortlisted claim) pair, in shortlist order."""
        firsts = [query for query, shortlist in zip(queries, shortlists, strict=True) for _ in shortlist]
        seconds = [self._texts[index] for shortlist in shortlists for index in shortlist]
        if numpy is None or not firsts:
            return [
                float(self._scorer(query, text, processor=None)) for query, text in zip(firsts, seconds, strict=True)
            ]
        # One native call for all pairs: the same scorer in float64, so the same scores as one call per pair.
        workers = _workers(len(firsts))
        scores: Any = process.cpdist(
            firsts, seconds, scorer=self._scorer, processor=None, dtype=numpy.float64, workers=workers
        )
        return list(scores.tolist())

    def _shortlists(self, queries: Sequence[str], numpy: Any) -> list[list[int]]:
        if len(self._texts) <= SHORTLIST:
            return [list(range(len(self._texts))) for _ in queries]
        keys = [token_set_key(query) for query in queries]
        if numpy is None:
            return [self._extract(key) for key in keys]
        workers = _workers(len(keys) * len(self._keys))
        scores: Any = process.cdist(
            keys, self._keys, scorer=fuzz.ratio, processor=None, workers=workers, dtype=numpy.uint8
        )
        best = numpy.argpartition(-scores.astype(numpy.int16), SHORTLIST - 1, axis=1)[:, :SHORTLIST]
        return list(numpy.sort(best, axis=1).tolist())

    def _extract(self, key: str) -> list[int]:
        found = process.extract(key, self._keys, scorer=fuzz.ratio, processor=None, limit=SHORTLIST)
        return sorted(int(index) for _, _, index in found)


def _workers(pairs: int) -> int:
    """All cores for a large batch; one for a small one, where starting threads costs more than it saves."""
    return -1 if pairs >= PARALLEL_PAIRS else 1


def _numpy() -> Any:
    """The numpy module, or None: cdist returns numpy matrices; without numpy each query is one extract."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy
