"""Copies and look-alikes across outlets, for measuring copy detection on a fixture web.

Each pair joins an earlier article of one outlet (written by ``varied.make_varied_article``) with a later one of
another outlet, of one of four kinds:

* ``wire``: the same body word for word under the same headline, with a wire dateline in front and the agency's
  credit and copyright lines after it;
* ``syndicated``: the same body under a new headline and standfirst, with a "first published by" note at the end;
* ``rewrite``: a light rewrite under a new headline: sentences reordered, some words changed, a paragraph dropped;
* ``sibling`` (not a copy): the other outlet's own article on the same story (another lead, quote and claim
  sentences) that carries two of the first article's paragraphs word for word: a background paragraph and one that
  restates the same figures. The hard case a copy detector must not link.

:func:`copy_pairs` builds pairs without a server (unit tests, benchmarks); :class:`CopiesWeb` serves them: the first
articles from the start, the second ones published by the first ``advance()``, the planned figure edits of every
article (copies included) made by the second. Deterministic for the same ``(outlets, articles, seed)``.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from labourwatch.fixtureweb.feeds import article_url
from labourwatch.fixtureweb.sites import CLOCK_BASE, PUBLISH_GAP, StateChange, clock
from labourwatch.fixtureweb.varied import KINDS, VariedArticle, VariedWeb, make_varied_article, varied_sites
from labourwatch.fixtureweb.web import FixtureWeb

WIRE, SYNDICATED, REWRITE, SIBLING = "wire", "syndicated", "rewrite", "sibling"
COPY_KINDS = (WIRE, SYNDICATED, REWRITE)
PAIR_KINDS = (*COPY_KINDS, SIBLING)
EDITED = "{edited}"  # the placeholder of a varied article's edited claim sentence
MAX_SHARED, TRIES = 0.45, 40  # independent articles: the share of 3-word runs one may share with another

_AGENCIES = ("Asia Wire Service", "Pan-Pacific Press", "Global Newswire")
_DATELINES = ("SEOUL", "VLADIVOSTOK", "BEIJING", "WARSAW", "DOHA", "ULAANBAATAR", "KUWAIT CITY")
_SYNDICATED_TITLES = ("Report: {title}", "{title}, investigation finds", "How it works: {title}",
                      "{title} — what we know")
_REWRITE_TITLES = ("North Korean workers abroad: new details emerge", "Workers sent by Pyongyang face long hours",
                   "What life is like for North Korea's workers abroad", "New accounts of North Korean labour abroad")
# Light-rewrite substitutions a sub-editor makes (applied to some occurrences, not all).
_SYNONYMS = (
    (r"\bsaid\b", "told reporters"), (r"\bsay\b", "claim"), (r"\bmore than\b", "over"), (r"\babout\b", "around"),
    (r"\bworkers\b", "labourers"), (r"\baccording to\b", "citing"), (r"\bsites\b", "projects"),
    (r"\bcompanies\b", "firms"), (r"\bfactories\b", "plants"), (r"\bthe state\b", "the government"),
    (r"\bofficials\b", "authorities"), (r"\bformer\b", "ex-"), (r"\bwork\b", "labour"), (r"\bmany\b", "numerous"),
    (r"\bhave\b", "had"), (r"\bare\b", "were"), (r"\bis\b", "was"), (r"\btheir\b", "the"),
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\"}])\s+(?=[A-Z\"{])")


@dataclass(frozen=True)
class ArticlePair:
    """An earlier article (``first``) and a later one of another outlet (``second``): a copy of it, or not."""

    kind: str
    first: VariedArticle
    second: VariedArticle

    @property
    def is_copy(self) -> bool:
        """Whether ``second`` is a copy of ``first`` (wire, syndicated or rewrite)."""
        return self.kind in COPY_KINDS


def article_text(article: VariedArticle) -> str:
    """The main text of ``article`` as the crawler stores it: its paragraphs, one a line."""
    return "\n".join(article.paragraphs())


def _derived(article: VariedArticle, site_id: str, index: int, published: datetime, paragraphs: Sequence[str],
             **changes: object) -> VariedArticle:
    """A new article on ``site_id`` built from ``article`` with other paragraphs (and any other fields)."""
    fields: dict[str, object] = {
        "site_id": site_id, "slug": f"{article.slug.rsplit('-', 1)[0]}-{index:04d}", "index": index,
        "published": published, "paragraph_texts": tuple(paragraphs), "templates": tuple(paragraphs),
        "corrections": [], "version": 1, "modified": None, "title_changed": None, "edited": False}
    return dataclasses.replace(article, **(fields | changes))  # type: ignore[arg-type]


def wire_copy(article: VariedArticle, site_id: str, index: int, published: datetime,
              rng: random.Random) -> VariedArticle:
    """``article`` word for word under a wire dateline and the agency's credit and copyright lines."""
    agency = rng.choice(_AGENCIES)
    lead, *rest = article.paragraph_texts
    paragraphs = [f"{rng.choice(_DATELINES)} ({agency}) – {lead}", *rest,
                  f"Reporting by {article.author}; editing by {rng.choice(('Anna Kerr', 'Tom Sato'))}.",
                  f"© 2026 {agency}. All rights reserved. This material may not be published or redistributed."]
    return _derived(article, site_id, index, published, paragraphs)


def syndicated_copy(article: VariedArticle, site_id: str, index: int, published: datetime,
                    rng: random.Random, outlet: str) -> VariedArticle:
    """``article``'s body under a new headline and standfirst, with a "first published by" note."""
    title = rng.choice(_SYNDICATED_TITLES).format(title=article.title)
    note = (f"This article was first published by {outlet} and is republished here under a content-sharing "
            "agreement.")
    return _derived(article, site_id, index, published, [*article.paragraph_texts, note], titles=(title,),
                    title_index=0, standfirst=f"From our partners at {outlet}.")


def _sentences(paragraph: str) -> list[str]:
    return _SENTENCE_BREAK.split(paragraph)


def _reword(text: str, rng: random.Random, share: float) -> str:
    """``text`` with about ``share`` of the words the synonym table knows replaced (placeholders untouched)."""
    for pattern, replacement in _SYNONYMS:
        def swap(match: re.Match[str], replacement: str = replacement) -> str:
            if rng.random() >= share:
                return match.group(0)
            return replacement[:1].upper() + replacement[1:] if match.group(0)[:1].isupper() else replacement
        text = re.sub(pattern, swap, text, flags=re.IGNORECASE)
    return text


def light_rewrite(article: VariedArticle, site_id: str, index: int, published: datetime,
                  rng: random.Random) -> VariedArticle:
    """``article`` lightly rewritten: one paragraph (never the lead or the edited sentence's) dropped, the
    sentences of each paragraph and two middle paragraphs reordered, some words changed, a new headline."""
    paragraphs = list(article.paragraph_texts)
    droppable = [i for i, p in enumerate(paragraphs) if i > 0 and EDITED not in p]
    if droppable and len(paragraphs) > 3:
        del paragraphs[rng.choice(droppable)]
    reordered = []
    for paragraph in paragraphs:
        sentences = _sentences(paragraph)
        if len(sentences) > 1:
            sentences = sentences[1:] + sentences[:1]
        reordered.append(" ".join(sentences))
    if len(reordered) > 3:
        reordered[1], reordered[2] = reordered[2], reordered[1]
    reworded = [_reword(p, rng, 0.5) for p in reordered]
    return _derived(article, site_id, index, published, reworded, titles=(rng.choice(_REWRITE_TITLES),),
                    title_index=0)


def sibling_article(article: VariedArticle, site_id: str, index: int, published: datetime, seed: int,
                    rng: random.Random, avoid: Sequence[set[tuple[str, ...]]] = ()) -> VariedArticle:
    """Another outlet's own article on ``article``'s story (the same scenario, written anew) that carries two of
    ``article``'s paragraphs word for word: one of background, one restating the same figures. Its own text is
    the attempt that shares the least with ``article`` and with the articles of ``avoid`` (their word runs)."""
    scenario = article.slug.rsplit("-", 1)[0]
    theirs = [word_runs(article)]
    candidates = [make_varied_article(site_id, index, KINDS[attempt % len(KINDS)], published, seed + 7919 * attempt)
                  for attempt in range(60)]
    candidates = [c for c in candidates if c.slug.rsplit("-", 1)[0] == scenario]
    if not candidates:
        raise ValueError(f"no sibling found for {article.slug}")
    own = min(candidates, key=lambda c: overlap(word_runs(c), theirs) + overlap(word_runs(c), avoid))
    shared = [p for p in article.paragraph_texts[1:] if EDITED not in p]
    shared = rng.sample(shared, min(2, len(shared)))
    paragraphs = list(own.paragraph_texts)
    for offset, paragraph in enumerate(shared):
        paragraphs.insert(min(len(paragraphs), 2 + 2 * offset), paragraph)
    return _derived(own, site_id, index, published, paragraphs)


def make_pair(kind: str, article: VariedArticle, site_id: str, index: int, published: datetime, seed: int,
              outlet: str, avoid: Sequence[set[tuple[str, ...]]] = ()) -> ArticlePair:
    """A pair of ``kind`` whose first article is ``article`` and whose second is written for ``site_id`` (a sibling
    written to share as little as it can with the articles of ``avoid`` too)."""
    rng = random.Random(f"copies:{seed}:{kind}:{article.site_id}:{article.slug}:{site_id}")
    if kind == WIRE:
        second = wire_copy(article, site_id, index, published, rng)
    elif kind == SYNDICATED:
        second = syndicated_copy(article, site_id, index, published, rng, outlet)
    elif kind == REWRITE:
        second = light_rewrite(article, site_id, index, published, rng)
    elif kind == SIBLING:
        second = sibling_article(article, site_id, index, published, seed, rng, avoid)
    else:
        raise ValueError(f"unknown pair kind {kind!r} (known: {', '.join(PAIR_KINDS)})")
    return ArticlePair(kind, article, second)


def copy_pairs(per_kind: int = 8, seed: int = 0, outlets: int = 6) -> list[ArticlePair]:
    """``per_kind`` pairs of every kind in ``PAIR_KINDS``, each from a first article of its own, without a web."""
    pairs = []
    for n in range(per_kind * len(PAIR_KINDS)):
        kind, site = PAIR_KINDS[n % len(PAIR_KINDS)], n % outlets
        first = make_varied_article(f"varied{site:02d}", 100 + n, KINDS[n % len(KINDS)], CLOCK_BASE, seed)
        other = (site + 1 + n // outlets % (outlets - 1)) % outlets
        pairs.append(make_pair(kind, first, f"varied{other:02d}", 500 + n, CLOCK_BASE + timedelta(hours=1), seed,
                               f"Outlet {site}"))
    return pairs


def word_runs(article: VariedArticle) -> set[tuple[str, ...]]:
    """The runs of three words of ``article``'s text (lowercase, punctuation ignored)."""
    found = re.findall(r"\w+", article_text(article).lower())
    return {tuple(found[i:i + 3]) for i in range(len(found) - 2)}


def overlap(mine: set[tuple[str, ...]], others: Sequence[set[tuple[str, ...]]]) -> float:
    """The largest overlap of ``mine`` (word runs) with any of ``others``: the runs they share over the runs of the
    shorter of the two (0 when there is none)."""
    return max((len(mine & other) / (min(len(mine), len(other)) or 1) for other in others), default=0.0)


def distinct_article(site_id: str, index: int, kind: str, published: datetime, seed: int,
                     written: Sequence[set[tuple[str, ...]]]) -> VariedArticle:
    """A varied article sharing at most ``MAX_SHARED`` of its runs of three words with each article of ``written``
    (their word runs), else the one of ``TRIES`` attempts that shares the least.

    The varied generator draws sentences from small pools per story, so two of its articles are sometimes the same
    text nearly word for word; independent articles of one story must not be, or they would be copies."""
    best: tuple[float, VariedArticle] | None = None
    for attempt in range(TRIES):
        article = make_varied_article(site_id, index, kind if attempt < TRIES // 2 else KINDS[attempt % len(KINDS)],
                                      published, seed + 104729 * attempt)
        shared = overlap(word_runs(article), written)
        if shared <= MAX_SHARED:
            return article
        if best is None or shared < best[0]:
            best = (shared, article)
    assert best is not None
    return best[1]


class CopiesWeb(VariedWeb):
    """A ``VariedWeb`` whose first ``advance()`` publishes, on other outlets, a second article for each planned
    pair (a copy or a sibling of an article already published); later ``advance()`` calls make the planned figure
    edits of every article, copies and siblings included (as ``VariedWeb.advance``).

    The first articles are independent: each shares at most ``MAX_SHARED`` of its sentences with any other
    (:func:`distinct_article`). Pairs take the kinds of ``PAIR_KINDS`` in turn, ``pairs`` in all, spread over
    the first articles of every outlet."""

    def __init__(self, outlets: int = 6, articles: int = 8, seed: int = 0, *, pairs: int = 48,
                 fault_delay: float = 4.0) -> None:
        if outlets < 2:
            raise ValueError("a web of copies needs at least two outlets")
        if pairs > outlets * articles:
            raise ValueError(f"{pairs} pairs need at least as many articles; the web has {outlets * articles}")
        FixtureWeb.__init__(self, varied_sites(outlets), fault_delay=fault_delay)
        self.seed = seed
        written: list[set[tuple[str, ...]]] = []
        for index in range(articles):
            published = CLOCK_BASE - PUBLISH_GAP * (articles - index) - timedelta(minutes=(index * 17) % 50)
            for i, model in enumerate(self._models):
                article = distinct_article(model.spec.id, index, KINDS[(index * outlets + i) % len(KINDS)],
                                           published, seed, written)
                written.append(word_runs(article))
                model.articles.append(article)
        for responder in self._responders.values():
            responder.update(0)
        firsts = sorted((a for m in self._models for a in m.articles if isinstance(a, VariedArticle)),
                        key=lambda a: (a.index, a.site_id))
        self._planned = [(PAIR_KINDS[n % len(PAIR_KINDS)], firsts[n * len(firsts) // pairs]) for n in range(pairs)]
        self._pairs: list[ArticlePair] = []

    def pairs(self) -> list[tuple[str, str, str]]:
        """Every published pair as ``(kind, first URL, second URL)``; empty before the first ``advance()``."""
        with self._lock:
            urls = self._urls()
            return [(p.kind, article_url(urls[p.first.site_id], p.first), article_url(urls[p.second.site_id],
                                                                                     p.second))
                    for p in self._pairs]

    def published_pairs(self) -> list[ArticlePair]:
        """The pairs published so far, with their articles."""
        with self._lock:
            return list(self._pairs)

    def advance(self) -> StateChange:
        """The first call publishes the second article of every pair; later calls make the figure edits."""
        with self._lock:
            if self._pairs or not self._planned:
                return super().advance()
            urls = self._urls()
            state = self._state + 1
            models = {m.spec.id: m for m in self._models}
            order = list(models)
            runs = [word_runs(a) for m in self._models for a in m.articles if isinstance(a, VariedArticle)]
            for n, (kind, first) in enumerate(self._planned):
                at = order.index(first.site_id)
                target = models[order[(at + 1 + n % (len(order) - 1)) % len(order)]]
                pair = make_pair(kind, first, target.spec.id, len(target.articles), clock(state), self.seed,
                                 models[first.site_id].spec.name, runs)
                target.articles.append(pair.second)
                runs.append(word_runs(pair.second))
                self._pairs.append(pair)
            self._state = state
            for responder in self._responders.values():
                responder.update(state)
            return StateChange(state=state, new=tuple(article_url(urls[p.second.site_id], p.second)
                                                      for p in self._pairs))
