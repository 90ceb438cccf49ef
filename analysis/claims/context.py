"""Sentences that name their subject only through the article: "their wages", "these labourers", "a typical
monthly wage for them", "이들의 임금", "他们的工资", "их зарплата".

In an article about North Korean workers, such a sentence is about them too. :func:`article_context` reads what
an article is about from its sentences that say it outright (North Korean workers, and the one country they are
in when the article names only one); :func:`read_in_context` writes the reference out ("their wages" → "the North
Korean workers' wages"), so the matcher judges the sentence as the article's reader understands it. A sentence
that names North Korea itself, or no one, is left as it is, and so is every sentence of an article that is not
about North Korean workers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from analysis.claims import slots
from analysis.claims.quantities import prepare_text

# Nouns for the workers an article is about, trades included ("the developers", "these seamstresses").
_PEOPLE = r"men|women|people"
_WORKERS = (
    r"workers|labou?rers|employees|staff|builders|loggers|waitresses|hands|crews?|workforce"
    r"|developers|programmers|coders|engineers|specialists|technicians|seamstresses|deminers|sappers|nationals"
    r"|personnel|recruits|migrants|fishermen|miners|welders|labou?r force"
)
_PEERS = r"colleagues|co-workers|coworkers|fellow workers|comrades|compatriots|workmates|crew"
# English references to people named earlier, each with what it stands for. A noun names its people whatever the
# sentence says of them ("men like these", "the developers"); a pronoun counts only in a sentence about work.
_NOUNS = (
    # "men like these", "workers like him", "women like her": people of the article's kind.
    # People named by sex alone are the article's workers: "the men" are "the North Korean men workers".
    (re.compile(rf"\b(?P<noun>{_PEOPLE})\s+like\s+(?:these|those|them|him|her|us|me)\b", re.IGNORECASE),
     r"North Korean \g<noun> workers"),
    (re.compile(rf"\b(?P<noun>{_WORKERS})\s+like\s+(?:these|those|them|him|her|us|me)\b", re.IGNORECASE),
     r"North Korean \g<noun>"),
    # "these young women", "the Korean-speaking labourers": up to two words describing them between.
    (re.compile(rf"\b(?P<det>[Tt]hese|[Tt]hose|[Ss]uch|[Tt]he)\s+(?P<adj>(?:[a-z][\w-]*\s+){{0,2}}?)(?P<noun>{_PEOPLE})\b"),
     r"\g<det> \g<adj>North Korean \g<noun> workers"),
    (re.compile(rf"\b(?P<det>[Tt]hese|[Tt]hose|[Ss]uch|[Tt]he)\s+(?P<adj>(?:[a-z][\w-]*\s+){{0,2}}?)(?P<noun>{_WORKERS})\b"),
     r"\g<det> \g<adj>North Korean \g<noun>"),
    (re.compile(rf"\b(?:he|she|i|him|her|me) and (?:his|her|my) (?:{_PEERS})\b", re.IGNORECASE),
     "North Korean workers"),
)
# Any of the nouns the English patterns above look for: a sentence without one (most) skips them, since trying
# each (two with up to two words between) at every word was a third of claim matching's time in a crawl.
_ENGLISH_NOUN_RE = re.compile(rf"\b(?:{_PEOPLE}|{_WORKERS}|{_PEERS})\b", re.IGNORECASE)
# Korean, Chinese, Japanese and Russian have no articles: a bare worker noun in an article about North Korean
# workers is "the workers" (written in the language, so glossing reads them).
_NATIVE_NOUNS = (
    (re.compile(r"(?<!북한 )(?<!북한)(?<!북 )(노동자|근로자|노무자|작업자)"), r"북한 \1"),
    (re.compile(r"(?<!朝鲜)(?<!朝鮮)(工人|劳工|勞工|劳务人员|勞務人員|女工)"), r"朝鲜\1"),
    (re.compile(r"(?<!北朝鮮)(?<!北朝鮮の)(労働者|労務者|作業員)"), r"北朝鮮\1"),
    # Nouns only: "строители" (builders), not "строительные" (construction, an adjective).
    (re.compile(r"(?<![\w-])(рабоч(?:ие|их|им|ими)|работник\w*|строител(?:и|ей|ям|ями|ях|ь)\b)", re.IGNORECASE),
     r"северокорейские \1"),
)
_PRONOUNS = (
    (re.compile(r"\b[Tt]heir\b"), "the North Korean workers'"),
    (re.compile(r"\bthem\b"), "North Korean workers"),
    (re.compile(r"(?:^|(?<=[,;:]\s))[Tt]hey\b"), "North Korean workers"),
)
# The same in Korean, Chinese, Japanese and Russian (written in the language, so glossing reads them).
_NATIVE = (
    (re.compile(r"이들|그들"), "북한 노동자들"),
    (re.compile(r"(?:这些|這些|那些)(?=工人|劳工|勞工|员工|女工)"), "这些朝鲜"),
    (re.compile(r"他们|他們|她们|她們"), "朝鲜劳工"),
    (re.compile(r"彼ら|彼女ら|彼女たち"), "北朝鮮労働者"),
    (re.compile(r"(?<!\w)(?:эти|этих|этим)\s+(?=рабоч|работник|строител|лесоруб)", re.IGNORECASE), "северокорейские "),
    (re.compile(r"(?<!\w)(?:их|они|им)(?!\w)", re.IGNORECASE), "северокорейские рабочие"),
)
# Words that make a sentence worth reading in context: it speaks of work, pay, hours, papers or conditions.
_ABOUT_WORK_RE = re.compile(
    r"\b(?:work\w*|wages?|pay|paid|salar\w+|earn\w*|income|hours?|shifts?|passports?|visas?|dormitor\w+|minders?"
    r"|take home|hand(?:s|ed)? over|per cent|percent|a month|monthly|annual\w*|a week|defect\w*|escap\w*|fle[de]\w*"
    r"|sent|dispatch\w*|hired|employ\w*|labou?r\w*|jobs?|sites?|factor\w+|camps?|days? off|months?|a day|a year)\b"
)

# Places that stand for where workers are (a region's country is implied by it; regions are left to the text).
_COUNTRIES = frozenset({"russia", "china", "mongolia", "poland", "qatar", "kuwait", "uae", "malaysia", "vietnam",
                        "cambodia", "laos", "belarus", "kazakhstan", "uzbekistan", "africa", "middle east"})


@dataclass(frozen=True)
class Context:
    """What an article is about, as its own sentences say it outright."""

    dprk_workers: bool
    place: str | None = None  # the one country the article's North Korean workers are in, if it names one


NO_CONTEXT = Context(dprk_workers=False)


def article_context(sentences: Sequence[str], title: str = "") -> Context:
    """The context of an article from its title and sentences: about North Korean workers when any of them says
    so, with the place its North Korean workers are in when all such sentences name the same one country."""
    about = [prepare_text(text) for text in (title, *sentences) if text]
    about = [text for text in about if about_dprk_workers(slots.subject(text))]
    if not about:
        return NO_CONTEXT
    # A region stands for its country ("in Jilin": in China).
    countries = Counter(place for text in about for place in slots.place_closure(slots.places(text))
                        if place in _COUNTRIES)
    place = next(iter(countries)) if len(countries) == 1 else None
    return Context(dprk_workers=True, place=place)


def about_dprk_workers(subject: slots.Subject) -> bool:
    """North Korean workers by name, or North Koreans and their work in one sentence ("North Korean women at the
    plant rioted over unpaid wages")."""
    return subject.dprk_workers or (subject.mentions_dprk and subject.labour and not subject.foreign_workers)


@lru_cache(maxsize=4096)  # copies, updates and re-checks of a story repeat its sentences, in the same context
def read_in_context(sentence: str, context: Context) -> str | None:
    """The sentence with its reference to the article's North Korean workers written out, or None when it needs no
    context (it names North Korea or its workers itself, refers to no one, or the article is about someone else)."""
    if not context.dprk_workers:
        return None
    prepared = prepare_text(sentence)
    found = slots.subject(prepared)
    if found.dprk_workers or found.foreign_workers:
        return None
    # A sentence naming North Korea may still name its workers only through the article ("Pyongyang will send
    # 70,000 men like these to Russia"); a pronoun in it is North Korea's own, not the workers'.
    # The native patterns look for letters an ASCII sentence does not have.
    native = not sentence.isascii()
    rewritten = _rewrite(sentence, (*(_NOUNS if _ENGLISH_NOUN_RE.search(sentence) else ()),
                                    *(_NATIVE_NOUNS if native else ())))
    if rewritten is None and found.mentions_dprk:
        return None
    if rewritten is None:
        if not _ABOUT_WORK_RE.search(prepared) and not slots.sectors(prepared, sentence):
            return None
        rewritten = _rewrite(sentence, (*_PRONOUNS, *(_NATIVE if native else ())))
        if rewritten is None:
            return None
    if context.place and not slots.places(prepare_text(rewritten)):
        rewritten = f"{rewritten.rstrip().rstrip('.')} (in {context.place.title()})."
    return rewritten


def _rewrite(sentence: str, patterns: Sequence[tuple[re.Pattern[str], str]]) -> str | None:
    """The sentence with the first reference that one of ``patterns`` finds written out; None if none does."""
    for pattern, replacement in patterns:
        rewritten, count = pattern.subn(replacement, sentence, count=1)
        if count:
            return rewritten
    return None
