"""The claim matcher: is a sentence a corroboration, an update of a known claim, or a new claim?

Fuzzy candidates come from :mod:`analysis.claims.candidates` (one ``rapidfuzz.process.cdist`` call with an
explicit scorer over canonical texts, figures canonicalised before tokenising); the subject gate removes
candidates about someone else; slot comparison decides between corroborates and updates.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from analysis.claims import decisions, slots
from analysis.claims import semantic as semantic_signal
from analysis.claims.candidates import TOP_K, CandidateIndex
from analysis.claims.compare import Difference, Side, compare, shared_slots
from analysis.claims.glossary import glosses_in
from analysis.claims.model import Claim
from analysis.claims.native import NATIVE_SCRIPT_RE
from analysis.claims.normalise import canonical_text
from analysis.claims.parallel import split_map
from analysis.claims.places import GAZETTEER
from analysis.claims.quantities import extract_from_prepared, prepare_text
from analysis.claims.synonyms import synonyms_in

Label = Literal["corroborates", "updates", "new"]
# A candidate must be at least this similar (0..1, blend of fuzzy score and weighted claim coverage).
MIN_SIMILARITY = 0.52
# Candidates this close to the best are near-ties: the one the sentence agrees with best wins.
TIE_MARGIN = 0.05
# How far below the closest claim a claim that states the sentence's kind of amount may be and still take it,
# when the closest states none ("the state takes 50 per cent" is the share claim's, not "most of the pay").
KIND_MARGIN = 0.15
_FUZZY_WEIGHT = 0.5
BETA: float | None = 2.0
# Added to the similarity when the sentence states the kind of amount the claim states (a count, a share, money,
# hours; years excluded), whatever its value: a sentence that differs from another only in its figure gets the
# same similarity, so the figure alone decides between corroborates and updates, as the policy's table says.
FIGURE_BONUS = 0.1
# And this much more when the two amounts have the same shape (a range and a range, a figure and a figure).
SHAPE_BONUS = 0.05
# The semantic signal's cosine that stands for MIN_SIMILARITY: where matched and new sentences part on the
# labelled sets (bench/embedding_bench.py), higher for English against English claims than across languages.
SEMANTIC_CUT = {"same": 0.75, "cross": 0.55}
# Verdicts kept per matcher (about 1 KiB each): the sentences of a few thousand articles.
VERDICT_CACHE = 20_000
# English whose closest claim by wording is at least this similar, or less than the floor, is matched without the
# semantic signal (see _needs_meaning).
CLEARLY_CLOSE, MEANING_FLOOR = 0.75, 0.4
# Across languages, a claim whose meaning is this far from the sentence's is not the sentence's claim, however many
# glossed words they share: on the labelled sets and the demo every right verdict scored 0.38 or more, and most
# wrong ones of this kind (quotes and asides naming workers and Russia) below 0.35.
MEANING_VETO = 0.35
_NO_DPRK = "subject gate: sentence does not mention North Korea"
# "IT" as a word, also where Chinese or Japanese write it on ("朝鲜IT人员").
_IT_RE = re.compile(r"(?<![A-Za-z0-9])IT(?![A-Za-z0-9])")


@dataclass(frozen=True)
class ClaimMatch:
    """The verdict on one sentence."""

    label: Label
    claim_id: str | None
    confidence: float
    score: float
    old_values: tuple[str, ...] = ()
    new_values: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One claim considered for a sentence, with the evidence for and against it."""

    claim_id: str
    fuzzy: float
    coverage: float
    similarity: float
    gate_passed: bool
    gate_reason: str
    semantic: float | None = None  # cosine of the sentence with the claim's closest text; None: not computed


@dataclass(frozen=True)
class Explanation:
    """Everything the matcher looked at for one sentence, for ``labourwatch claims match``."""

    sentence: str
    normalised: str
    candidates: tuple[Candidate, ...]
    figures: tuple[str, ...]
    differences: tuple[Difference, ...]
    match: ClaimMatch
    subject: slots.Subject | None = None
    # Words of a Korean, Russian, Chinese or Japanese sentence and the lexicon entry that glossed each.
    glosses: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "sentence": self.sentence,
            "normalised": self.normalised,
            "candidates": [vars(candidate) for candidate in self.candidates],
            "figures": list(self.figures),
            "differences": [vars(difference) for difference in self.differences],
            "match": vars(self.match),
            "subject": _subject_data(self.subject),
            "glosses": [list(pair) for pair in self.glosses],
        }


@dataclass(frozen=True)
class _Analysed:
    """A text analysed once: its subject at once; its figures, comparison side and canonical form on first use.

    A sentence that does not mention North Korea is decided by its subject alone, so its figures are never read.
    """

    text: str
    prepared: str
    subject: slots.Subject

    @cached_property
    def side(self) -> Side:
        return Side(raw=self.text, prepared=self.prepared, quantities=tuple(extract_from_prepared(self.prepared)))

    @cached_property
    def canonical(self) -> str:
        return canonical_text(self.prepared, list(self.side.quantities))


@lru_cache(maxsize=8192)  # a sentence is analysed by the matcher and again by the store (its figures, subject)
def analyse(text: str) -> _Analysed:
    """Normalise a raw sentence or claim text into everything matching needs."""
    # "IT" (information technology) is told from the pronoun "it" by case, before casefolding loses it.
    prepared = prepare_text(_IT_RE.sub("information technology", text))
    return _Analysed(text, prepared, slots.subject(prepared))


def _content_tokens(canonical: str) -> set[str]:
    # No letter is also a digit, so an alphabetic token needs no character-by-character look.
    return {token for token in canonical.split() if token.isalpha() or not any(char.isdigit() for char in token)}


class ClaimMatcher:
    """Matches sentences against a fixed list of claims, analysed once at construction.

    Each claim is found through its own text and through its paraphrases (sentences a reviewer tied to it, in any
    language): retrieval scores a sentence against every one of them and keeps the claim's best. What the claim
    says (its figures and slots, its subject) is always read from the claim's own text.
    """

    def __init__(self, claims: Sequence[Claim], scorer: str = "token_set_ratio", semantic: bool | None = None) -> None:
        self.claims = list(claims)
        # The semantic signal (analysis.claims.semantic) is on unless the config switches it off.
        self.semantic = semantic_signal.enabled() if semantic is None else semantic
        self._raw_texts = [text for claim in self.claims for text in (claim.text, *claim.paraphrases)]
        self._vectors: Any = None
        self._verdicts: dict[str, ClaimMatch] = {}  # oldest first (see _match_serial)
        self._analysed = [analyse(claim.text) for claim in self.claims]
        self._positions = {claim.id: index for index, claim in enumerate(self.claims)}
        # The texts retrieval scores against: each claim's own, then its paraphrases; each with its claim.
        self._owners = [index for index, claim in enumerate(self.claims) for _ in (claim.text, *claim.paraphrases)]
        canonical = [text.canonical for claim, own in zip(self.claims, self._analysed, strict=True)
                     for text in (own, *map(analyse, claim.paraphrases))]  # fmt: skip
        self._index_of_texts = CandidateIndex(canonical, scorer)
        self._widest = max((1 + len(claim.paraphrases) for claim in self.claims), default=1)
        self._tokens = [_content_tokens(text) for text in canonical]
        # Document frequency counts a word once per claim, however many of its texts use it.
        per_claim: dict[int, set[str]] = {}
        for owner, tokens in zip(self._owners, self._tokens, strict=True):
            per_claim.setdefault(owner, set()).update(tokens)
        frequency = Counter(token for tokens in per_claim.values() for token in tokens)
        count = max(1, len(self.claims))
        self._idf = {token: math.log((count + 1) / (seen + 0.5)) for token, seen in frequency.items()}
        self._idf_totals = [sum(self._idf[token] for token in tokens) for tokens in self._tokens]
        # What each claim reports beyond whom it is about: its content words other than the subject's.
        per_claim_tokens: dict[int, set[str]] = {}
        for owner, tokens in zip(self._owners, self._tokens, strict=True):
            per_claim_tokens.setdefault(owner, set()).update(tokens - _SUBJECT_TOKENS)
        self._predicates = [frozenset(per_claim_tokens.get(index, ())) for index in range(len(self.claims))]

    def _coverage(self, entry: int, tokens: set[str]) -> float:
        """How well a claim text's content words and the sentence's agree, IDF-weighted: the share of the claim's
        words the sentence has (recall), and the share of the sentence's claim-vocabulary words the claim has
        (precision; words no claim uses, such as attributions, are neutral), as an F-measure."""
        total = self._idf_totals[entry]
        if total == 0:
            return 0.0
        idf = self._idf
        shared = sum(idf[token] for token in self._tokens[entry] & tokens)
        recall = shared / total
        if BETA is None:
            return recall
        spoken = sum(idf[token] for token in tokens if token in idf)
        precision = shared / spoken if spoken else 0.0
        if not shared:
            return 0.0
        return (1 + BETA**2) * precision * recall / (BETA**2 * precision + recall)

    def _top(self, canonical: Sequence[str]) -> list[list[tuple[int, float]]]:
        """For each canonical sentence, the best (text entry, score) pairs: enough that every one of the
        ``TOP_K`` best claims is among them even when the best texts are paraphrases of one claim."""
        return self._index_of_texts.top(canonical, k=TOP_K * self._widest)

    def _cosines(self, texts: Sequence[str]) -> Any:
        """Cosines of each sentence with every claim text (rows: sentences), or None without the semantic signal."""
        if not self.semantic or not texts or not self._raw_texts:
            return None
        if self._vectors is None:
            self._vectors = semantic_signal.claim_vectors(self._raw_texts)
        return semantic_signal.similarities(texts, self._vectors)

    def _candidates(self, item: _Analysed, top: list[tuple[int, float]], cosines: Any = None) -> list[Candidate]:
        tokens = _content_tokens(item.canonical)
        scores: dict[int, float | None] = {int(entry): score for entry, score in top}
        if cosines is not None:  # the semantically closest texts are candidates too, whatever their fuzzy score
            for entry in cosines.argsort()[::-1][:TOP_K]:
                scores.setdefault(int(entry), None)
        cut = SEMANTIC_CUT["cross" if NATIVE_SCRIPT_RE.search(item.text) else "same"]
        best: dict[int, Candidate] = {}
        for entry, score in scores.items():
            index = self._owners[entry]
            fuzzy = (self._index_of_texts.score(item.canonical, entry) if score is None else score) / 100
            coverage = self._coverage(entry, tokens)
            similarity = _FUZZY_WEIGHT * fuzzy + (1 - _FUZZY_WEIGHT) * coverage
            semantic = None if cosines is None else float(cosines[entry])
            if semantic is not None:
                # Either signal can carry a claim: wording (fuzzy, coverage) or meaning, on the same scale.
                similarity = max(similarity, MIN_SIMILARITY + semantic - cut)
            claim_side = self._analysed[index].side
            if item.side.amount_kinds & claim_side.amount_kinds:
                similarity += FIGURE_BONUS + (SHAPE_BONUS if item.side.has_range == claim_side.has_range else 0.0)
            if index in best and best[index].similarity >= similarity:
                continue
            passed, reason = slots.gate(item.subject, self._analysed[index].subject)
            best[index] = Candidate(self.claims[index].id, fuzzy, coverage, similarity, passed, reason, semantic)
        return sorted(best.values(), key=lambda candidate: -candidate.similarity)[:TOP_K]

    def _decide(self, item: _Analysed, candidates: list[Candidate]) -> tuple[ClaimMatch, tuple[Difference, ...]]:
        if not self.claims:
            return ClaimMatch("new", None, 1.0, 0.0, reasons=("no known claims",)), ()
        if not item.subject.mentions_dprk:
            return ClaimMatch("new", None, 1.0, 0.0, reasons=(_NO_DPRK,)), ()
        passing = [candidate for candidate in candidates if candidate.gate_passed]
        if not passing:
            best = candidates[0]
            reason = f"subject gate: {best.gate_reason} (nearest {best.claim_id})"
            return _new(best, reason)
        best = passing[0]
        not_a_report = decisions.stance(item.prepared)
        if not_a_report:
            return _new(best, f"{not_a_report}, not a report of {best.claim_id}")
        if best.similarity < MIN_SIMILARITY:
            reason = f"nearest claim {best.claim_id} too dissimilar ({best.similarity:.2f} < {MIN_SIMILARITY})"
            return _new(best, reason)
        ties = [c for c in passing if c.similarity >= max(MIN_SIMILARITY, best.similarity - TIE_MARGIN)]
        stated = item.side.amount_kinds
        if stated and not stated & self._claim_side(best).amount_kinds:
            # The closest claim does not state the sentence's kind of amount: a claim that does is the one the
            # figure speaks to, when it is close enough to be a candidate at all.
            ties += [c for c in passing if c not in ties and stated & self._claim_side(c).amount_kinds
                     and c.similarity >= max(MIN_SIMILARITY, best.similarity - KIND_MARGIN)]
        background = item.side.background_sectors
        if background and not any(background & self._claim_side(c).background_sectors for c in ties):
            # The same for a sector named as background ("besides construction, …"): the claim that names it so.
            ties += [c for c in passing if c not in ties and background & self._claim_side(c).background_sectors
                     and c.similarity >= max(MIN_SIMILARITY, best.similarity - KIND_MARGIN)]
        trades = item.side.sectors
        if stated and trades and not trades & self._claim_side(best).sectors:
            # The same for the trade a figure is stated of ("IT workers earn up to $1bn a year"): the claim that
            # states that kind of amount of that trade, over the closest claim that states it of no trade.
            ties += [c for c in passing if c not in ties and trades & self._claim_side(c).sectors
                     and stated & self._claim_side(c).amount_kinds
                     and c.similarity >= max(MIN_SIMILARITY, best.similarity - KIND_MARGIN)]
        compared = [(c, tuple(compare(item.side, self._analysed[self._index(c.claim_id)].side))) for c in ties]
        # Among near-ties, a claim that states the kind of quantity the sentence states (a share, a count of
        # workers) is the one the figure speaks to; then, the claim the sentence agrees with. A figureless claim
        # ("most of the pay") agrees with any figure, so it must not win over the claim that has the figure. Then
        # the claim that differs from the sentence in the fewest slots.
        # Then the claim whose figure has the sentence's shape (a range for a range), and the claim whose source
        # or actor the sentence names ("a UN special rapporteur estimated"). A sentence that names a sector as
        # background ("besides construction, …") speaks to the claim that names it so, not to the claim that it is
        # the main trade, before anything but the kind of amount.
        best, differences = min(compared, key=lambda pair: (
            not (stated & self._claim_side(pair[0]).amount_kinds),
            bool(background) and not background & self._claim_side(pair[0]).background_sectors,
            len(pair[1]), -shared_slots(item.side, self._claim_side(pair[0])),
            bool(stated and trades) and not trades & self._claim_side(pair[0]).sectors,
            item.side.has_range != self._claim_side(pair[0]).has_range,
            not (item.side.actors & self._claim_side(pair[0]).actors)))
        own = decisions.of_its_own(item.side, self._claim_side(best), differences) or self._meaning_apart(item, best)
        if own:
            return _new(best, f"a claim of its own, not {best.claim_id}: {own}")
        if differences:
            return _updates(best, differences)
        return self._corroborates(item, passing, best)

    def _corroborates(self, item: _Analysed, passing: list[Candidate],
                      best: Candidate) -> tuple[ClaimMatch, tuple[Difference, ...]]:
        """The verdict on a sentence that changes no slot of ``best``: its corroboration, unless it says something
        of its own (then another close claim may be the one it updates) or only whom the claim is about."""
        novelty = decisions.novelty(item.side, self._claim_side(best))
        if novelty:
            # What the closest claim lacks, another close one may state: "most are now put to work on farms" is
            # not the scale claim's figure but the sector claim's update.
            others = [c for c in passing if c is not best
                      and c.similarity >= max(MIN_SIMILARITY, passing[0].similarity - KIND_MARGIN)
                      and not decisions.novelty(item.side, self._claim_side(c))]
            if not others:
                return _new(best, f"a claim of its own, not {best.claim_id}: {novelty}")
            best = others[0]
            differences = tuple(compare(item.side, self._claim_side(best)))
            if differences:
                return _updates(best, differences)
        profiled = self._profile_changed(item, passing, best)
        if profiled is not None:
            return profiled
        if not self._reports(item, best):
            return _new(best, f"nothing of what {best.claim_id} reports: only whom it is about is shared")
        reason = "same subject; every figure, place, sector and direction compatible"
        return ClaimMatch("corroborates", best.claim_id, _confidence(best), best.similarity, reasons=(reason,)), ()

    def _profile_changed(self, item: _Analysed, passing: list[Candidate],
                         best: Candidate) -> tuple[ClaimMatch, tuple[Difference, ...]] | None:
        """The update of a close claim that says who the workers are, when the sentence says they are someone else
        and ``best`` says nothing of who they are ("most of them are middle-aged men" is not the seafood-export
        claim's corroboration but the young-women claim's update); None otherwise."""
        if not item.side.profile or self._claim_side(best).profile:
            return None
        for other in passing:
            if other is best or other.similarity < max(MIN_SIMILARITY, passing[0].similarity - KIND_MARGIN):
                continue
            differences = tuple(compare(item.side, self._claim_side(other)))
            if any(difference.slot == "profile" for difference in differences):
                return _updates(other, differences)
        return None

    def _meaning_apart(self, item: _Analysed, candidate: Candidate) -> str:
        """"" unless a Korean, Russian, Chinese or Japanese sentence shares a claim's glossed words but not its
        meaning (``MEANING_VETO``): a quote on paperwork that names workers sent to Russia is not the claim that
        50,000 may be sent. Such a sentence is ``new`` about North Korean workers, so it goes to the review queue
        with its candidate claims."""
        if candidate.semantic is None or candidate.semantic >= MEANING_VETO or not NATIVE_SCRIPT_RE.search(item.text):
            return ""
        return f"its words are the claim's but not its meaning ({candidate.semantic:.2f} < {MEANING_VETO})"

    def _index(self, claim_id: str) -> int:
        return self._positions[claim_id]

    def _reports(self, item: _Analysed, candidate: Candidate) -> bool:
        """Whether a sentence says something of what a claim reports, not only of whom: a word of the claim's
        beyond its subject's, the kind of amount it states, or, by the semantic signal, its meaning."""
        index = self._index(candidate.claim_id)
        predicate = self._predicates[index]
        if not predicate or predicate & _content_tokens(item.canonical):
            return True
        if item.side.amount_kinds & self._analysed[index].side.amount_kinds:
            return True
        cut = SEMANTIC_CUT["cross" if NATIVE_SCRIPT_RE.search(item.text) else "same"]
        return candidate.semantic is not None and candidate.semantic >= cut

    def _claim_side(self, candidate: Candidate) -> Side:
        return self._analysed[self._index(candidate.claim_id)].side

    def match_many(self, sentences: Sequence[str], processes: int = 1) -> list[ClaimMatch]:
        """The verdict on each sentence, scoring all sentences against all claims in one cdist call.

        Each distinct sentence is analysed once; sentences the subject gate rejects outright (no mention of
        North Korea) are neither normalised nor scored: their subject alone decides them. With ``processes``
        above 1, a large batch is split over that many forked processes (see :mod:`analysis.claims.parallel`).
        """
        if processes > 1:
            return split_map(self._match_serial, sentences, processes)
        return self._match_serial(sentences)

    def _match_serial(self, sentences: Sequence[str]) -> list[ClaimMatch]:
        # A verdict depends on the text and the claims alone: a sentence seen before (the background paragraph in
        # every article of an outlet, the unchanged sentences of an article's next version, a wire copy carried
        # by several outlets) is not matched again.
        verdicts = self._verdicts
        unseen = [sentence for sentence in dict.fromkeys(sentences) if sentence not in verdicts]
        if unseen:
            for sentence, verdict in zip(unseen, self._match_unseen(unseen), strict=True):
                verdicts[sentence] = verdict
            while len(verdicts) > VERDICT_CACHE:
                del verdicts[next(iter(verdicts))]
        return [verdicts[sentence] for sentence in sentences]

    def _match_unseen(self, sentences: Sequence[str]) -> list[ClaimMatch]:
        analysed = {sentence: analyse(sentence) for sentence in sentences}
        scored = list(dict.fromkeys(item.canonical for item in analysed.values() if item.subject.mentions_dprk))
        tops = dict(zip(scored, self._top(scored), strict=True))
        candidates = {sentence: self._candidates(item, tops[item.canonical]) if item.subject.mentions_dprk else []
                      for sentence, item in analysed.items()}
        # Meaning is asked only where it can change the verdict (_needs_meaning).
        asked = [sentence for sentence, item in analysed.items()
                 if item.subject.mentions_dprk and _needs_meaning(item, candidates[sentence])]
        cosines = self._cosines(asked)
        if cosines is not None:
            for number, sentence in enumerate(asked):
                candidates[sentence] = self._candidates(analysed[sentence], tops[analysed[sentence].canonical],
                                                        cosines[number])
        return [self._decide(analysed[sentence], candidates[sentence])[0] for sentence in sentences]

    def match(self, sentence: str) -> ClaimMatch:
        """The verdict on one sentence."""
        return self.match_many([sentence])[0]

    def explain(self, sentence: str) -> Explanation:
        """The verdict on one sentence with the evidence behind it."""
        item = analyse(sentence)
        cosines = self._cosines([sentence])
        candidates = self._candidates(item, self._top([item.canonical])[0], None if cosines is None else cosines[0])
        match, differences = self._decide(item, candidates)
        figures = tuple(f"{q.kind}:{q.text}={q.value:g}" + "".join(f" {u}" for u in (q.currency, q.period) if u)
                        for q in item.side.quantities)
        return Explanation(sentence, item.canonical, tuple(candidates), figures, differences, match, item.subject,
                           (*glosses_in(sentence), *synonyms_in(item.prepared)))


def _subject_data(subject: slots.Subject | None) -> dict[str, Any] | None:
    if subject is None:
        return None
    return {key: sorted(value) if isinstance(value, frozenset) else value for key, value in vars(subject).items()}


# Words that say whom a claim is about (North Korean workers abroad, and where), not what it reports.
_SUBJECT_TOKENS = frozenset({"dprk", "worker", "workers", "labour", "abroad", "north", "korean", "national", "citizen"}
                            | {name for name in GAZETTEER if " " not in name})


def _needs_meaning(item: _Analysed, candidates: list[Candidate]) -> bool:
    """Whether the semantic signal may change a verdict: where the closest claim by wording (glossed wording, for
    other languages) is not clearly close (``CLEARLY_CLOSE``); and, for English, not far either (``MEANING_FLOOR``).
    On the labelled sets, meaning changed no verdict outside that band, and embedding a sentence costs more than
    all the rest of matching it. Text in other scripts keeps the signal below the band: a word the lexicon lacks
    leaves only meaning to find its claim."""
    close = bool(candidates) and candidates[0].similarity >= CLEARLY_CLOSE
    if NATIVE_SCRIPT_RE.search(item.text):
        return not close
    return bool(candidates) and not close and candidates[0].similarity >= MEANING_FLOOR


def _confidence(candidate: Candidate) -> float:
    return round(min(1.0, 0.5 + abs(candidate.similarity - MIN_SIMILARITY)), 3)


def _new(closest: Candidate, reason: str) -> tuple[ClaimMatch, tuple[Difference, ...]]:
    """A ``new`` verdict on a sentence whose closest claim is ``closest``, and why."""
    return ClaimMatch("new", None, _confidence_new(closest.similarity), closest.similarity, reasons=(reason,)), ()


def _updates(best: Candidate, differences: tuple[Difference, ...]) -> tuple[ClaimMatch, tuple[Difference, ...]]:
    """An ``updates`` verdict on ``best``, with the old and new value of every slot that changed."""
    reasons = tuple(f"{d.slot} changed: {d.old} -> {d.new}" for d in differences)
    return ClaimMatch("updates", best.claim_id, _confidence(best), best.similarity, tuple(d.old for d in differences),
                      tuple(d.new for d in differences), reasons), differences


def _confidence_new(similarity: float) -> float:
    return round(min(1.0, 0.5 + abs(MIN_SIMILARITY - similarity)), 3)
