"""An article's claim sentences and their verdicts: which sentences are worth matching, and what they say.

Pure functions; the crawl calls ``match_article`` in a worker thread for every new version of a relevant
article, and ``claims rematch`` calls it again for stored versions after the known claims change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from analysis.claims.context import about_dprk_workers, article_context, read_in_context
from analysis.claims.matcher import ClaimMatch, ClaimMatcher, analyse
from analysis.claims.model import Claim
from analysis.relevance import TopicMatcher
from analysis.text import split_sentence_lines, split_sentences

# Shorter than this is a caption or a fragment ("Photo: AP"); longer is a paragraph the sentence
# splitter could not break, which no claim resembles. Characters, not words: Korean, Chinese and
# Japanese copy has few or no spaces; and each of their characters counts twice (_DENSE_RE), since one
# carries about what a short English word does ("据估计，仍在中国务工的朝鲜人已不足1000人。" is 23 characters).
MIN_CHARS, MAX_CHARS = 25, 600
_DENSE_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


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
    line: int | None = None  # the line of the text it is on (a document's page or paragraph is found from it)


def claim_sentences(text: str, topic: TopicMatcher) -> list[tuple[int, str]]:
    """The sentences of ``text`` that are candidates on their own: of claim-like length and mentioning a topic
    term (a name for North Korea or a word for its labour), with their positions."""
    return _on_topic(split_sentences(text), topic)


def _on_topic(sentences: Sequence[str], topic: TopicMatcher) -> list[tuple[int, str]]:
    return [(index, sentence) for index, sentence in enumerate(sentences)
            if _claim_length(sentence) and topic.groups_in(sentence)]  # fmt: skip


def match_article(text: str, topic: TopicMatcher, matcher: ClaimMatcher, title: str = "") -> list[SentenceMatch]:
    """Every candidate claim sentence of an article's text with its verdict, in text order.

    In an article about North Korean workers, a sentence that names them only through the article ("their
    wages", "these labourers") is matched as the reader understands it (:mod:`analysis.claims.context`), and its
    verdict says so; such a sentence is a candidate even without a topic term of its own.
    """
    split = split_sentence_lines(text)
    sentences = [sentence for _, sentence in split]
    on_topic = dict(_on_topic(sentences, topic.within(text)))  # the text split once; its terms looked for once
    context = article_context(list(on_topic.values()), title)
    candidates: list[tuple[int, str, str | None]] = []
    for index, sentence in enumerate(sentences):
        if not _claim_length(sentence):
            continue
        read_as = read_in_context(sentence, context) if context.dprk_workers else None
        if index in on_topic or read_as is not None:
            candidates.append((index, sentence, read_as))
    verdicts = matcher.match_many([read_as or sentence for _, sentence, read_as in candidates])
    found = []
    for (index, sentence, read_as), verdict in zip(candidates, verdicts, strict=True):
        about = about_dprk_workers(analyse(read_as or sentence).subject)
        figures = tuple(quantity.text for quantity in analyse(sentence).side.quantities)
        if read_as is not None:
            verdict = replace(verdict, reasons=(*verdict.reasons, f"{CONTEXT_REASON}: {read_as}"))
        found.append(SentenceMatch(index, sentence, verdict, verdict.label != "new" or about, figures, split[index][0]))
    return found


# The reason a verdict carries when its sentence was read with the subject taken from the article.
CONTEXT_REASON = "subject taken from the article; read as"


def _claim_length(sentence: str) -> bool:
    return len(sentence) + len(_DENSE_RE.findall(sentence)) >= MIN_CHARS and len(sentence) <= MAX_CHARS


def claims_digest(claims: Sequence[Claim], *, semantic: bool = False) -> str:
    """A fingerprint of the claims a matcher uses, and of whether it uses the semantic signal: it changes whenever
    a claim is added, edited or retired, or the signal is switched."""
    payload: list[object] = [
        [c.id, c.text, c.subject, [[f.value, f.unit, f.qualifier] for f in c.figures], c.status, list(c.paraphrases)]
        for c in sorted(claims, key=lambda claim: claim.id)
    ]
    if semantic:
        payload.append("semantic")
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class KnownClaims:
    """The active claims as the crawl matches against them: a matcher built once, and its fingerprint."""

    matcher: ClaimMatcher
    digest: str
    count: int

    @classmethod
    def of(cls, claims: Sequence[Claim], *, semantic: bool | None = None) -> KnownClaims:
        """Built from ``claims``; retired ones are left out. ``semantic``: use the semantic signal (None: as
        this process is configured, see ``analysis.claims.semantic.configure``)."""
        active = [claim for claim in claims if claim.status == "active"]
        matcher = ClaimMatcher(active, semantic=semantic)
        return cls(matcher, claims_digest(active, semantic=matcher.semantic), len(active))
