"""The topic filter: does an article talk about North Korean workers, by keyword proximity."""

from __future__ import annotations

import copy
import re
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from analysis.types import Relevance, Topic, TopicTerms

# Scripts written without spaces between words: their terms match as plain substrings.
_UNSPACED_SCRIPT_RE = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# A straight apostrophe in a term also matches the typographic ones that articles use.
_APOSTROPHES = "'’ʼ‘"
_APOSTROPHE_CLASS = "['’ʼ‘]"

# Score shape: one co-occurrence scores exactly min_score; more pairs add up to _BODY_WEIGHT of the
# remaining headroom, a co-occurrence inside the title adds _TITLE_WEIGHT.
_BODY_WEIGHT = 0.7
_TITLE_WEIGHT = 0.3
_PAIR_DECAY = 0.8
# Without a co-occurrence, the fraction of min_score kept to rank near misses for review.
_BOTH_GROUPS_APART = 0.5
_ONE_GROUP_ONLY = 0.25


@dataclass(frozen=True)
class _Term:
    """One configured term, compiled."""

    text: str
    language: str
    pattern: re.Pattern[str]
    needle: str  # a lowercase piece every match contains, to skip the regex on most articles
    # A Korean term written in Hanja only ("北", the headline abbreviation) is a Korean term only in Korean
    # text: in Chinese or Japanese it would match 北京, 东北 and 北海道.
    needs_hangul: bool = False


@dataclass(frozen=True)
class _Mention:
    """Where one term matched."""

    start: int
    end: int
    term: _Term


def compile_term(term: str) -> re.Pattern[str]:
    """The pattern of one term: a case-insensitive phrase whose words may each end in ``*`` (a prefix).

    ``"worker*"`` matches workers and worker's; ``"Северн* Коре*"`` matches Северная Корея and Северной
    Кореи, as Russian's case endings need. Latin and Cyrillic terms match at word boundaries; Hangul, kana
    and CJK terms match as substrings, because those scripts attach particles and compounds without spaces
    ("북한 노동자들이"), so a ``*`` there changes nothing. Whitespace in a term matches any run of whitespace.
    Raises ValueError for an empty term or a ``*`` anywhere but at the end of a word.
    """
    words = term.split()
    if not words or any(not word.rstrip("*") or "*" in word[:-1] for word in words):
        raise ValueError(
            f"bad topic term {term!r}: use words separated by spaces, each optionally ending in a single '*'")
    unspaced = bool(_UNSPACED_SCRIPT_RE.search(term))
    pieces = []
    for word in words:
        is_prefix = word.endswith("*")
        body = "".join(_APOSTROPHE_CLASS if c in _APOSTROPHES else re.escape(c) for c in word.removesuffix("*"))
        if not unspaced:
            # A prefix word swallows the rest of its word, so that exclusions can cover the whole word.
            body += r"\w*" if is_prefix else r"(?!\w)"
        pieces.append(body)
    pattern = r"\s+".join(pieces)
    return re.compile(pattern if unspaced else rf"(?<!\w){pattern}", re.IGNORECASE)


def _needle(term: str) -> str:
    """The longest piece of ``term`` that every match contains literally, lowercased."""
    pieces = re.split(rf"[\s*{_APOSTROPHES}]+", term.lower())
    return max(pieces, key=len)


def _compile_group(languages: dict[str, TopicTerms], group: str) -> tuple[_Term, ...]:
    """The compiled terms of one group ("dprk", "labour" or "exclude") over all languages."""
    return tuple(
        _Term(text, language, compile_term(text), _needle(text),
              needs_hangul=language == "ko" and not _HANGUL_RE.search(text))
        for language, terms in sorted(languages.items())
        for text in getattr(terms, group)
    )


def _find_spans(text: str, lowered: str, terms: tuple[_Term, ...]) -> list[tuple[int, int, _Term]]:
    """Every match of every term, unordered."""
    # Looking for the needle in lowercased text is ~50 times faster than a case-insensitive regex
    # with a lookbehind, and rules out most terms for most articles.
    hangul = None
    spans: list[tuple[int, int, _Term]] = []
    for term in terms:
        if term.needle not in lowered:
            continue
        if term.needs_hangul:
            hangul = bool(_HANGUL_RE.search(text)) if hangul is None else hangul
            if not hangul:
                continue
        spans.extend((match.start(), match.end(), term) for match in term.pattern.finditer(text))
    return spans


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans merged into disjoint ones, sorted."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _is_hidden(start: int, end: int, hidden: list[tuple[int, int]], starts: list[int]) -> bool:
    """Whether [start, end) lies inside one of the disjoint sorted ``hidden`` spans."""
    index = bisect_right(starts, start) - 1
    return index >= 0 and hidden[index][1] >= end


def _find_mentions(
    text: str, lowered: str, terms: tuple[_Term, ...], hidden: list[tuple[int, int]]
) -> list[_Mention]:
    """The mentions of a group's terms, outside hidden spans, in order.

    A match inside a longer match of the same group is one mention, not two: 朝鮮 inside 北朝鮮 counts
    once, under the longer term.
    """
    starts = [start for start, _ in hidden]
    found = [
        _Mention(start, end, term)
        for start, end, term in _find_spans(text, lowered, terms)
        if not _is_hidden(start, end, hidden, starts)
    ]
    found.sort(key=lambda mention: (mention.start, -mention.end))
    mentions: list[_Mention] = []
    for mention in found:
        if mentions and mention.end <= mentions[-1].end:
            continue
        mentions.append(mention)
    return mentions


def _count_pairs(first: list[int], second: list[int], window: int) -> int:
    """How many (first, second) start positions lie within ``window`` characters of each other."""
    ordered = sorted(first)
    return sum(bisect_right(ordered, pos + window) - bisect_left(ordered, pos - window) for pos in second)


def _score(pairs: int, title_pairs: int, groups_found: int, min_score: float) -> float:
    """The relevance score in [0, 1]; at least ``min_score`` exactly when there is a co-occurrence."""
    if pairs == 0:
        fraction = {0: 0.0, 1: _ONE_GROUP_ONLY}.get(groups_found, _BOTH_GROUPS_APART)
        return min_score * fraction
    growth = 1.0 - _PAIR_DECAY ** (pairs - 1)
    title_bonus = 1.0 if title_pairs else 0.0
    return min(1.0, min_score + (1.0 - min_score) * (_BODY_WEIGHT * growth + _TITLE_WEIGHT * title_bonus))


class TopicMatcher:
    """A Topic with its terms compiled once; ``score`` judges one article."""

    def __init__(self, topic: Topic) -> None:
        if topic.window <= 0 or not 0.0 < topic.min_score <= 1.0:
            raise ValueError(f"bad topic: window must be > 0 and min_score in (0, 1], got {topic}")
        self.topic = topic
        self._dprk = _compile_group(topic.languages, "dprk")
        self._labour = _compile_group(topic.languages, "labour")
        self._exclude = _compile_group(topic.languages, "exclude")

    def _mentions(self, text: str) -> tuple[list[_Mention], list[_Mention]]:
        """The DPRK-term and labour-term mentions of ``text``, outside excluded look-alikes."""
        lowered = text.lower()
        hidden = _merge_spans([(start, end) for start, end, _ in _find_spans(text, lowered, self._exclude)])
        return _find_mentions(text, lowered, self._dprk, hidden), _find_mentions(text, lowered, self._labour, hidden)

    def within(self, text: str) -> TopicMatcher:
        """This matcher with only the terms whose needle occurs in ``text``: for judging parts of ``text`` (its
        sentences) one by one, each then looks for the handful of terms the text holds, not for all of them. The
        same answers for any part, since a term found in a part has its needle in the whole."""
        lowered = text.lower()
        narrowed = copy.copy(self)
        narrowed._dprk, narrowed._labour, narrowed._exclude = (
            tuple(term for term in terms if term.needle in lowered)
            for terms in (self._dprk, self._labour, self._exclude))
        return narrowed

    def groups_in(self, text: str) -> frozenset[str]:
        """Which term groups ``text`` mentions: ``"dprk"``, ``"labour"``, both or neither."""
        dprk, labour = self._mentions(text)
        return frozenset(name for name, found in (("dprk", dprk), ("labour", labour)) if found)

    def score(self, title: str, text: str) -> Relevance:
        """Judge an article: relevant when a DPRK term and a labour term occur within the window."""
        haystack = f"{title}\n{text}"
        dprk, labour = self._mentions(haystack)
        window = self.topic.window
        dprk_starts = [m.start for m in dprk]
        labour_starts = [m.start for m in labour]
        pairs = _count_pairs(dprk_starts, labour_starts, window)
        title_end = len(title)
        title_pairs = _count_pairs(
            [s for s in dprk_starts if s < title_end], [s for s in labour_starts if s < title_end], window
        )
        groups_found = bool(dprk) + bool(labour)
        mentions = dprk + labour
        return Relevance(
            relevant=pairs > 0,
            score=_score(pairs, title_pairs, groups_found, self.topic.min_score),
            terms=tuple(sorted({m.term.text for m in mentions})),
            languages=tuple(sorted({m.term.language for m in mentions})),
        )


# Matchers by id(topic). The entry keeps the topic alive, so its id cannot be reused while cached;
# the identity check guards against anything else. Topics are treated as immutable once scored.
_MATCHERS: dict[int, tuple[Topic, TopicMatcher]] = {}
_MATCHERS_LOCK = threading.Lock()
_MATCHERS_MAX = 16


def matcher_for(topic: Topic) -> TopicMatcher:
    """The compiled matcher of ``topic``, built on first use and cached."""
    with _MATCHERS_LOCK:
        cached = _MATCHERS.get(id(topic))
        if cached is not None and cached[0] is topic:
            return cached[1]
    matcher = TopicMatcher(topic)
    with _MATCHERS_LOCK:
        if len(_MATCHERS) >= _MATCHERS_MAX:
            del _MATCHERS[next(iter(_MATCHERS))]  # evict the oldest
        _MATCHERS[id(topic)] = (topic, matcher)
    return matcher


def score_relevance(title: str, text: str, topic: Topic) -> Relevance:
    """Judge an article against ``topic`` (see TopicMatcher.score)."""
    return matcher_for(topic).score(title, text)


# Default terms (the shipped config.yaml has longer lists). Russian case endings are covered by a "*" on
# each inflected word ("Северн* Коре*": Северная Корея, Северной Кореи, Северную Корею). Exclusions hide
# look-alikes: the ruling Workers' Party, working visits and groups, troop dispatches, China's ethnic
# Koreans (朝鲜族), defectors living in the South (북한이탈주민).
DEFAULT_TOPIC = Topic(
    languages={
        "en": TopicTerms(
            dprk=(
                "North Korea*", "N. Korea*", "N Korea*", "DPRK", "D.P.R.K.", "Pyongyang",
                "Democratic People's Republic of Korea",
            ),
            labour=(
                "worker*", "labourer*", "laborer*", "labour", "labor", "workforce", "manpower", "dispatch*",
                "programmer*", "software developer*", "IT specialist*",
            ),
            exclude=(
                "Workers' Party", "Workers Party", "Labour Party", "Labor Party", "Party of Labour",
                "Party of Labor", "labour camp*", "labor camp*", "aid worker*", "humanitarian worker*",
                "dispatched troops", "dispatch troops", "dispatching troops", "dispatch of troops",
                "troop dispatch*", "dispatched soldiers", "dispatch soldiers", "dispatching soldiers",
                "dispatch of soldiers",
            ),
        ),
        "ko": TopicTerms(
            dprk=("북한", "북측", "평양", "조선민주주의인민공화국"),
            labour=("노동자", "근로자", "노동력", "노무자", "인력", "벌목공", "건설공", "편법 파견"),
            exclude=("북한이탈주민", "북한 이탈주민"),
        ),
        "ru": TopicTerms(
            dprk=(
                "КНДР", "Северн* Коре*", "северокорейск*",
                "северокорейц*", "Пхеньян*",
            ),
            labour=("рабоч*", "работник*", "строител*", "мигрант*", "трудящ*", "рабсил*", "лесоруб*",
                    "лесозаготов*"),
            exclude=(
                "рабочий визит*", "рабочим визитом", "рабочего визита", "рабочем визите", "рабочая групп*",
                "рабочей групп*", "рабочую группу", "рабочие группы", "рабочих групп", "рабочая поездк*",
                "рабочей поездк*", "рабочую поездку", "Рабочая партия", "Рабочей партии", "Рабочую партию",
            ),
        ),
        "zh": TopicTerms(
            dprk=("朝鲜", "朝鮮", "北朝鲜", "北韩", "北韓", "平壤"),
            labour=(
                "劳工", "勞工", "工人", "移工", "劳务", "勞務", "务工", "務工", "打工", "劳动力", "勞動力",
                "劳动者", "勞動者", "外劳", "外勞",
            ),
            exclude=("朝鲜族", "朝鮮族", "朝鲜半岛", "朝鮮半島", "工人党", "工人黨"),
        ),
        "ja": TopicTerms(
            dprk=("北朝鮮", "朝鮮民主主義人民共和国", "平壌"),
            labour=("労働者", "勤労者", "出稼ぎ", "労働力", "就労", "派遣労働"),
            exclude=("朝鮮半島", "朝鮮族"),
        ),
    },
)  # fmt: skip
