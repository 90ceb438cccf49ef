"""An article's claim sentences and their verdicts: which sentences are worth matching, and what they say.

Pure functions; the crawl calls ``match_article`` in a worker thread for every new version of a relevant
article, and ``claims rematch`` calls it again for stored versions after the known claims change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from analysis.claims.matcher import ClaimMatch, ClaimMatcher, analyse
from analysis.claims.model import Claim
from analysis.relevance import TopicMatcher
from analysis.text import split_sentences

# Shorter than this is a caption or a fragment ("Photo: AP"); longer is a paragraph the sentence
# splitter could not break, which no claim resembles. Characters, not words: Korean, Chinese and
# Japanese copy has few or no spaces.
MIN_CHARS, MAX_CHARS = 25, 600


@dataclass(frozen=True)
class SentenceMatch:
    """One claim sentence of an article and the matcher's verdict on it.

    ``index`` is the sentence's position among all sentences of the text, so that a stored match can be
    found again in its version. ``on_subject``: the sentence is about North Korean workers, which is what
    makes a ``new`` claim worth a monitor's attention rather than an aside about someone else.
    """

    index: int
    sentence: str
    match: ClaimMatch
    on_subject: bool
    figures: tuple[str, ...] = ()  # the amounts, dates and years the sentence states, as written


def claim_sentences(text: str, topic: TopicMatcher) -> list[tuple[int, str]]:
    """The candidate claim sentences of ``text``: of claim-like length and mentioning a topic term
    (a name for North Korea or a word for its labour), with their positions."""
    return [
        (index, sentence)
        for index, sentence in enumerate(split_sentences(text))
        if MIN_CHARS <= len(sentence) <= MAX_CHARS and topic.groups_in(sentence)
    ]


def match_article(text: str, topic: TopicMatcher, matcher: ClaimMatcher) -> list[SentenceMatch]:
    """Every candidate claim sentence of an article's text with its verdict, in text order."""
    candidates = claim_sentences(text, topic)
    verdicts = matcher.match_many([sentence for _, sentence in candidates])
    found = []
    for (index, sentence), verdict in zip(candidates, verdicts, strict=True):
        analysed = analyse(sentence)
        subject = analysed.subject
        about = subject.dprk_workers or (subject.mentions_dprk and subject.labour and not subject.foreign_workers)
        figures = tuple(quantity.text for quantity in analysed.side.quantities)
        found.append(SentenceMatch(index, sentence, verdict, verdict.label != "new" or about, figures))
    return found


def claims_digest(claims: Sequence[Claim]) -> str:
    """A fingerprint of the claims a matcher uses: it changes whenever a claim is added, edited or retired."""
    payload = [
        [c.id, c.text, c.subject, [[f.value, f.unit, f.qualifier] for f in c.figures], c.status]
        for c in sorted(claims, key=lambda claim: claim.id)
    ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class KnownClaims:
    """The active claims as the crawl matches against them: a matcher built once, and its fingerprint."""

    matcher: ClaimMatcher
    digest: str
    count: int

    @classmethod
    def of(cls, claims: Sequence[Claim]) -> KnownClaims:
        """Built from ``claims``; retired ones are left out."""
        active = [claim for claim in claims if claim.status == "active"]
        return cls(ClaimMatcher(active), claims_digest(active), len(active))
