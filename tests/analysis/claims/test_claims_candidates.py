"""Candidate retrieval: explicit scorers, the shortlist, and the same answers with or without numpy."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from analysis.claims.candidates import SHORTLIST, CandidateIndex, token_set_key

TEXTS = [f"dprk worker russia {word} {index}" for index, word in enumerate(["construction", "seafood"] * 20)]


def test_token_set_key_sorts_and_deduplicates() -> None:
    assert token_set_key("b a b c") == "a b c"


def test_top_ranks_best_first() -> None:
    index = CandidateIndex(["dprk worker russia construction", "china seafood factory", "un resolution 2397"])
    (top,) = index.top(["dprk worker construction russia site"], k=2)
    assert top[0][0] == 0 and top[0][1] > top[1][1]


def test_unknown_scorer_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="token_set_ratio"):
        CandidateIndex(TEXTS, scorer="WRatio")


def test_without_numpy_the_shortlist_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy")
    assert len(TEXTS) > SHORTLIST
    index = CandidateIndex(TEXTS)
    queries = ["dprk worker russia seafood 3", "dprk worker construction 10"]
    with_numpy = index.top(queries)
    real_import = builtins.__import__

    def no_numpy(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "numpy":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numpy)
    assert index.top(queries) == with_numpy


def test_empty_index() -> None:
    assert CandidateIndex([]).top(["anything"]) == [[]]
