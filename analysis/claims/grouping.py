"""Telling whether two new-claim sentences report the same claim: a near-identical sentence (its figures aside), or
the same figures about the same subject; and an index that finds a sentence's claim among many quickly.

Pure: a sentence is read through the matcher's own analysis (:func:`analysis.claims.matcher.analyse`, cached),
its figures through the matcher's canonical figures (:func:`analysis.claims.normalise.canonical_figure`).
Thresholds were chosen on the labelled sets (``bench/candidates_bench.py`` reports the figures).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from rapidfuzz import fuzz

from analysis.claims.matcher import analyse
from analysis.claims.native import NATIVE_SCRIPT_RE
from analysis.claims.normalise import canonical_figure

# fuzz.ratio (0..100) of two sentences' keys, figures masked, from which they are one claim. On the labelled sets
# (925 distinct sentences) the closest pair of different claims scores 90.3 ("Tens of thousands of North Korean women
# work in garment factories in Dandong" / "Chinese women work in ..."; the subject check parts them too) and the next
# 88.5; rewordings of one claim score 91.6 to 100.
TEXT_SIMILARITY = 91.0
# fuzz.token_set_ratio of the keys from which two sentences stating the same figures about the same subject are one
# claim: below it, sentences sharing a figure say different things of it ("a resolution of 2017 banned textiles" /
# "was adopted days after a nuclear test").
FIGURES_SIMILARITY = 85.0
# How many of a sentence's rarest words the index looks up: a near-identical sentence shares nearly all its words,
# so it shares one of these.
RARE_TOKENS = 4
_DIGITS_RE = re.compile(r"\S*\d\S*")
_MASK = "#"  # what a figure becomes in a key
# A wire copy's dateline ("SEOUL, March 3 (Reuters) - ", "VLADIVOSTOK — "): a place in capitals, a day, an agency,
# a dash. It says where the copy was filed, not what the claim is.
_DATELINE_RE = re.compile(r"^\s*[A-Z][A-Z.'’ -]{1,40}(?:,\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?"
                          r"\s*(?:\([^()]{1,40}\))?\s*[-–—]+\s+")
_NOT_AMOUNTS = ("year", "date")
K = TypeVar("K")


@dataclass(frozen=True)
class ClaimKey:
    """What telling claims apart needs of one sentence.

    ``text``: its canonical form (the glossed, casefolded text for Korean, Chinese, Japanese and Russian, whose
    unglossed words the canonical form drops) with every figure masked; ``figures``: its canonical figures
    (``kind:value``, years and dates included); ``subject``: whom and where it is about.
    """

    text: str
    figures: frozenset[str]
    subject: tuple[object, ...]

    @cached_property
    def tokens(self) -> frozenset[str]:
        return frozenset(word for word in self.text.split() if word != _MASK)

    @cached_property
    def amounts(self) -> frozenset[str]:
        """Its figures other than years and dates: what a claim reports, not when."""
        return frozenset(figure for figure in self.figures if not figure.startswith(_NOT_AMOUNTS))


def claim_key(sentence: str) -> ClaimKey:
    """The key of a sentence (analysed once per process: the matcher's analysis is cached), its dateline left out."""
    undated = _DATELINE_RE.sub("", sentence, count=1)
    item = analyse(undated)
    text = item.prepared if NATIVE_SCRIPT_RE.search(undated) else item.canonical
    side = item.side
    figures = frozenset(f"{quantity.kind}:{canonical_figure(quantity)}" for quantity in side.quantities)
    subject = (item.subject, side.places, side.sectors)
    return ClaimKey(" ".join(_DIGITS_RE.sub(_MASK, text).split()), figures, subject)


def figures_of(sentence: str) -> list[str]:
    """A sentence's canonical figures, sorted: what a candidate claim stores and compares."""
    return sorted(claim_key(sentence).figures)


def same_claim(first: ClaimKey, second: ClaimKey) -> bool:
    """Whether two sentences report one claim: about the same subject, and near-identical once their figures are
    masked, or stating the same amounts in close words."""
    if first.subject != second.subject:
        return False
    if fuzz.ratio(first.text, second.text, score_cutoff=TEXT_SIMILARITY):
        return True
    return bool(first.amounts) and first.amounts == second.amounts and bool(
        fuzz.token_set_ratio(first.text, second.text, score_cutoff=FIGURES_SIMILARITY))


class ClaimIndex:
    """Keys by id, with the postings that shortlist them: each key under its subject and each of its words, and its
    subject and amounts (two sentences are one claim only about the same subject), so a sentence is compared with
    a few keys, not all of them."""

    def __init__(self) -> None:
        self.keys: dict[int, ClaimKey] = {}
        self._by_token: dict[tuple[tuple[object, ...], str], set[int]] = {}
        self._by_amounts: dict[tuple[tuple[object, ...], frozenset[str]], set[int]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key_id: int, key: ClaimKey) -> None:
        """Index ``key`` under ``key_id`` (replacing what that id held)."""
        self.remove(key_id)
        self.keys[key_id] = key
        for token in key.tokens:
            self._by_token.setdefault((key.subject, token), set()).add(key_id)
        if key.amounts:
            self._by_amounts.setdefault((key.subject, key.amounts), set()).add(key_id)

    def remove(self, key_id: int) -> None:
        """Forget ``key_id``; nothing happens if it is not indexed."""
        key = self.keys.pop(key_id, None)
        if key is None:
            return
        for token in key.tokens:
            _discard(self._by_token, (key.subject, token), key_id)
        if key.amounts:
            _discard(self._by_amounts, (key.subject, key.amounts), key_id)

    def shortlist(self, key: ClaimKey) -> set[int]:
        """Ids that may hold the same claim as ``key``: about its subject, sharing one of its rarest words (rarest
        among the keys about that subject) or its amounts."""
        # Words no key about the subject has are no help: the rarest words that some key has.
        postings = sorted(filter(None, (self._by_token.get((key.subject, token)) for token in key.tokens)), key=len)
        found: set[int] = set().union(*postings[:RARE_TOKENS])
        if key.amounts:
            found |= self._by_amounts.get((key.subject, key.amounts), set())
        return found

    def find(self, key: ClaimKey, among: Iterable[int] | None = None) -> list[int]:
        """The ids whose key is the same claim as ``key``, most similar first (``among``: only these ids)."""
        ids = self.shortlist(key) if among is None else set(among) & self.keys.keys()
        same = [key_id for key_id in ids if same_claim(key, self.keys[key_id])]
        return sorted(same, key=lambda key_id: (-fuzz.ratio(key.text, self.keys[key_id].text), key_id))


def _discard(postings: dict[K, set[int]], entry: K, key_id: int) -> None:
    ids = postings.get(entry)
    if ids is not None:
        ids.discard(key_id)
        if not ids:
            del postings[entry]
