"""The figure extractor: counts, money, percentages, hours, years, dates and resolution numbers in a sentence.

Works on :func:`prepare_text` output (NFKC, casefolded, number words as digits), so spans and ``text`` refer
to that form. Ranges sharing a multiplier ("between 250 and 600 million") become one quantity with low/high.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal

from analysis.claims.glossary import gloss
from analysis.claims.native import native_forms
from analysis.claims.numwords import words_to_digits

Kind = Literal["count", "percent", "money", "year", "date", "hours", "duration", "resolution"]

_SCALE_VALUES = {
    "k": 10**3, "thousand": 10**3, "тыс": 10**3, "千": 10**3, "천": 10**3, "万": 10**4, "萬": 10**4, "만": 10**4,
    "m": 10**6, "mn": 10**6, "mln": 10**6, "million": 10**6, "млн": 10**6, "亿": 10**8, "億": 10**8, "억": 10**8,
    "b": 10**9, "bn": 10**9, "billion": 10**9, "млрд": 10**9, "trillion": 10**12, "tn": 10**12,
}  # fmt: skip
_SPACES = " \u00a0\u202f\u2009"
_NUM = (
    r"\d{1,3}(?:,\d{3})+(?:\.\d+)?"  # 50,000  1,234.5
    rf"|\d{{1,3}}(?:[{_SPACES}]\d{{3}})+(?![\d.,]\d)(?:,\d+)?"  # 50 000  13 221
    r"|\d{1,3}(?:\.\d{3})+(?![\d,])"  # 50.000
    r"|\d+(?:[.,]\d+)?"  # 2024  1.5  1,5
)
_SINGLE_RE = re.compile(
    r"(?<![\w.,])(?P<cur>us\$|\$|€|£|¥|₩|₽)?\s?"
    rf"(?P<num>{_NUM})"
    r"(?P<scale>\s?(?:thousand|million|billion|trillion|mln|mn|bn|tn|тыс|млн|млрд)\.?(?![^\W\d_])"
    r"|(?:k|m|bn|b)(?![^\W\d_])|\s?[千천만万萬억亿億])?"
    r"(?P<pct>\s?(?:%|per\s?cent\b|percent\b|pct\b))?"
)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_MONTH_YEAR_RE = re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?(?P<year>(?:19|20)\d\d)\b")
# Days of the month and datelines ("SEOUL, Feb 12 –", "12 February") are not figures.
_MONTH_WORD = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY_RE = re.compile(rf"\b{_MONTH_WORD}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!,\d)|\b\d{{1,2}}\s+{_MONTH_WORD}(?![a-z])")
# "the 1960s": a decade is a range of years.
# Clock times ("14:32", "9 am", "오전 9시", "9点", "9時") say when something was said, not what.
_CLOCK_RE = re.compile(
    r"(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])|(?<![\d.,])\d{1,2}(?::\d{2})?\s?(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
    r"|(?<![\d.,])\d{1,2}\s?(?:시(?!간)|点钟|點鐘|点(?!\d)|時(?!間))"
)
# A date in a correction or update stamp ("corrected on 3 March 2025") dates the article, not a claim.
_STAMP_BEFORE_RE = re.compile(r"\b(?:corrected|updated|amended|published|posted|clarified|correction)\b[^.;!?]{0,25}$")
# Counts of the people a report cites ("according to two former workers", "three defectors told", "two sources
# said", "interviews with 12 labourers") count witnesses, not what they report.
_CITED_BEFORE_RE = re.compile(
    r"\b(?:according to|interviews? with|interviewed|spoke (?:to|with)|speaking (?:to|with)|quoting|citing|cited"
    r"|survey(?:ed)? of|testimon(?:y|ies) (?:of|from))\s+(?:(?:some|about|at least|more than|over)\s+)?$"
)
_CITED_PEOPLE = (
    r"(?:sources?|witnesses|defectors|officials|people|workers|labou?rers|researchers|diplomats|interviewees"
    r"|escapees|former workers)"
)
_CITED_AFTER_RE = re.compile(
    rf"^\s+(?:[\w-]+\s+){{0,2}}?{_CITED_PEOPLE}\s+(?:who\s+)?(?:said|say|says|told|tell|interviewed"
    r"|quoted|spoke|described|recalled|testified|interviewed by)\b"
)
# The same with the verb first, as Russian copy and inverted English put it ("told two former workers", glossed
# "рассказали два бывших рабочих"; "said three defectors").
_SPEECH_BEFORE_RE = re.compile(r"\b(?:said|says|told|tells|recalled|testified|reported|explained)\s+$")
# ... and the clause ends there: "said 500 workers arrived" reports 500 workers.
_CITED_PEOPLE_AFTER_RE = re.compile(rf"^\s+(?:[\w-]+\s+){{0,2}}?{_CITED_PEOPLE}\s*(?:[,;:.]|who\b|and\b|$)")
_DECADE_RE = re.compile(r"(?<![\w-])((?:19|20)\d0)'?s\b")
_HEDGES = {
    "more_than": ("more than", "over", "upwards of", "in excess of", "above", "exceeding", "exceeded",
                  "more then"),
    "at_least": ("at least", "no fewer than", "no less than", "a minimum of"),
    "about": ("about", "around", "roughly", "some", "approximately", "nearly", "almost", "an estimated",
              "estimated", "close to", "circa", "approx", "about some", "just over", "just under"),
    "up_to": ("up to", "as many as", "as much as", "as long as", "as high as", "at most", "no more than",
              "a maximum of"),
    "fewer_than": ("fewer than", "less than", "under", "below"),
}  # fmt: skip
_HEDGE_OF = {phrase: name for name, phrases in _HEDGES.items() for phrase in phrases}
_HEDGE_RE = re.compile(r"(?:^|\W)(" + "|".join(sorted(map(re.escape, _HEDGE_OF), key=len, reverse=True)) + r")\W*$")
_MAGNITUDES = (
    ("hundreds of thousands", 200_000, 999_999),
    ("tens of thousands", 20_000, 99_999),
    ("tens of millions", 20_000_000, 99_999_999),
    ("hundreds of millions", 200_000_000, 999_999_999),
    ("hundreds", 200, 999),
    ("thousands", 2_000, 9_999),
    ("millions", 2_000_000, 9_999_999),
    ("billions", 2_000_000_000, 9_999_999_999),
)
_BANDS = {name: (low, high) for name, low, high in _MAGNITUDES}
# Every match of _MAGNITUDE_RE contains one of these.
_MAGNITUDE_SCALES = ("hundred", "thousand", "million", "billion")
_MAGNITUDE_RE = re.compile(
    r"\b(?:(?:a\s+few|several|many|a\s+couple\s+of)\s+(?P<few>hundred|thousand|million|billion)\b(?!\s*\d)"
    r"|(?P<vague>" + "|".join(name for name, _, _ in _MAGNITUDES) + r")\b)"
    r"(?P<money>\s+(?:of\s+(?:us\s+)?)?dollars|\s?(?:달러|美元|ドル|долл))?"
)
# Words a figure may follow with a hyphen: "mid-2024", and the second end of "a 10-to-12-hour day".
_HYPHEN_PREFIX_RE = re.compile(r"(?:mid|early|late|pre|post|end|\d-to)-$")
# A suspended hyphen may come first: "12- to 16-hour days".
_RANGE_GAP_RE = re.compile(r"^\s*(?:-\s+(?=to\b|and\b))?(?:-|–|—|to|and|-to-)\s*(?:(?:about|around|some)\s+)?$")
_FROM_BEFORE_RE = re.compile(r"\bfrom\s+(?:\w+\s+){0,1}$")
_CHANGE_BEFORE_RE = re.compile(
    r"\b(?:fell|fall(?:en|s|ing)?|rose|ris(?:en|es|ing)|increas\w+|decreas\w+|drop\w*|grew|grow\w*|climb\w*"
    r"|jump\w*|cut|reduc\w+|rais\w+|went|gone|up|down|chang\w+|revis\w+|mov\w+|shift\w+|halv\w+|doubl\w+)\s+"
    r"(?:\w+\s+){0,3}from\s+(?:\w+\s+)?$"
)
_BETWEEN_BEFORE_RE = re.compile(r"\bbetween\s+(?:\w+\s+){0,1}$")
# "resolution 2397", "resolution no. 2397", "resolutions 2375 and 2397", and with the body or punctuation between
# ("the same resolution, 2397", glossed "resolution security council 2397").
_RESOLUTION_BEFORE_RE = re.compile(
    r"\bresolutions?[\s,]+(?:(?:of\s+)?(?:the\s+)?(?:un|united nations|security council|unsc)[\s,]+){0,2}"
    r"(?:no\.?\s*|number\s+)?(?:\d+\s*(?:and|,)\s*)*$"
)
# A resolution named by its body alone ("UNSC 2397") and a committee named by its resolution ("the 1718
# sanctions committee", "the 1718 committee"): identifiers, never counts.
_BODY_BEFORE_RE = re.compile(r"\b(?:unsc|un security council|security council)\s+(?:no\.?\s*)?$")
_COMMITTEE_AFTER_RE = re.compile(r"^\s*(?:sanctions\s+)?committee(?!\s+members?)")
# The number put before its noun: "the 2397 resolution", "the 2375 sanctions resolution"; but "the 2017 resolution"
# is dated, as a number that reads as a year of the UN's time is (the Council's resolutions passed 2039 long ago).
_RESOLUTION_AFTER_RE = re.compile(r"^\s*(?:sanctions\s+)?resolution\b")
_UN_ERA_YEAR_RE = re.compile(r"19[4-9]\d|20[0-3]\d")
_MONEY_AFTER_RE = re.compile(
    r"^\s*(?:dollars|usd|euros?|won|yuan|roubles|rubles|руб|долл|евро|юан|달러|원|엔|위안|美元|元|円|ドル|ユーロ)"
)
_HOURS_AFTER_RE = re.compile(r"^\s*-?\s*(?:hours?|hrs?|час|시간|小时|小時|時間)")
# A length of time ("two years to send them home", "3 months", glossed "2년" → "2 years"): not a count of people.
_DURATION_AFTER_RE = re.compile(
    r"^\s*-?\s*(?:(?:years?|months?|weeks?|days?|лет|год\w*|месяц\w*)\b(?!\s+old)"
    r"|년|年|개월|个月|個月|ヶ月|カ月|か月|週間)"
)
# A number followed by the people it counts is a count even when it looks like a year ("2000 workers").
_COUNTED_AFTER_RE = re.compile(
    r"^\s*(?:workers|labou?rers|people|employees|nationals|citizens|men|women|명|名|人|человек|граждан|рабочих)"
)
# Currencies by sign and by the word after the amount (native words are glossed to "dollars" before this runs).
_CURRENCY_SIGNS = {"us$": "usd", "$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "₩": "krw", "₽": "rub"}
_CURRENCY_AFTER_RE = re.compile(
    r"^\s*(?:(?P<usd>dollars|usd|долл\w*|달러|美元|ドル)|(?P<eur>euros?|евро|ユーロ)|(?P<gbp>pounds?\s+sterling|pounds)"
    r"|(?P<jpy>yen|円|엔)|(?P<krw>won|원)|(?P<rub>roubles|rubles|руб\w*)|(?P<cny>yuan|renminbi|юан\w*|위안|元))"
)
# What an amount is per: written after it ("$500m a year") or just before it ("annual income of $500m").
_PERIOD_WORDS = (
    ("year", r"a year|per year|each year|every year|per annum|annually|yearly|a year each|peryear"),
    ("month", r"a month|per month|each month|every month|monthly"),
    ("week", r"a week|per week|each week|every week|weekly"),
    ("day", r"a day|per day|each day|every day|daily"),
)
_PERIOD_AFTER_RE = re.compile(
    r"^[^.;:!?]{0,25}?\b(?:" + "|".join(f"(?P<{name}>{words})" for name, words in _PERIOD_WORDS) + r")\b"
)
_PERIOD_BEFORE_RE = re.compile(
    r"\b(?:(?P<year>annual|yearly|a year|per year|every year|each year)|(?P<month>monthly|a month|per month)"
    r"|(?P<week>weekly|a week)|(?P<day>daily|a day|per day))\b[^.;:!?\d]{0,20}$"
)
_COUNTRIES_AFTER_RE = re.compile(r"^\s*(?:개국|개 나라|个国家|個國家|[カかヵヶケ]国|стран)")
_BARRELS_AFTER_RE = re.compile(r"^\s*(?:배럴|桶|バレル|баррел)")
# How many times something happened ("12回目", "세 번째", "第3次", "в 2 раза"): a frequency, never a head count.
_TIMES_AFTER_RE = re.compile(r"^\s*(?:回|度目|번째|번|차례|次|раза?\b|times\b)")
_DIGIT_RE = re.compile(r"\d")
# The most characters a match of _SINGLE_RE has before its first digit: a currency ("us$") and a space.
_MAX_LEAD = 4
_DOT_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")
_COMMA_THOUSANDS_RE = re.compile(r",(?=\d{3}(?!\d))")
_LETTER_BEFORE_RE = re.compile(r"[a-zа-я]-?$")
_LETTER_RE = re.compile(r"[a-zа-я]")
_LETTERS_RE = re.compile(r"[a-zа-я]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_YEAR_RE = re.compile(r"(?:19|20)\d\d")
_KEPT_SHARE_RE = re.compile(
    r"\b(?:keep|keeps|kept|retain|retains|retained|left\s+with|take\s+home|takes\s+home)\b\W*(?:\w+\W+){0,3}$"
)
# ... or after it, as Korean and Japanese put it ("10%만 손에 쥐고", glossed "10% keep") and English may ("only 25
# per cent stays with them"): the verb within a few words, before the clause ends.
_KEPT_AFTER_RE = re.compile(
    r"[^,;.]{0,25}?\b(?:keep|keeps|kept|retain|retains|retained|stays?\s+with|remains?\s+with|left\s+with)\b"
)


@dataclass(frozen=True)
class Quantity:
    """One figure: ``value`` is the base value (a range's low end, a magnitude's band floor).

    ``low``/``high`` bound ranges and vague magnitudes (equal to ``value`` otherwise); a date's value is
    ``year * 100 + month``; ``complement`` marks a share that someone keeps ("workers keep a tenth").
    """

    value: float
    low: float
    high: float
    kind: Kind
    qualifier: str
    unit_guess: str | None
    span: tuple[int, int]
    text: str
    complement: bool = False
    # Money only: the currency ("usd", "eur", "jpy" …) and what the amount is per ("year", "month", "day", …),
    # when the sentence says; None when it does not.
    currency: str | None = None
    period: str | None = None

    @property
    def is_range(self) -> bool:
        return self.qualifier == "range"

    @property
    def is_magnitude(self) -> bool:
        return self.qualifier == "magnitude"


@lru_cache(maxsize=8192)
def prepare_text(text: str) -> str:
    """NFKC, casefolded, typographic dashes and apostrophes unified, number words written as digits; Korean,
    Chinese, Japanese and Russian figures written as the extractor reads them and their words glossed in English
    (:mod:`analysis.claims.native`, :mod:`analysis.claims.glossary`). Cached: an article's sentences are prepared
    for its context, for matching and for its figures."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("\u2011", "-")
    return words_to_digits(gloss(native_forms(text)))


def _decimal(number: str, scaled: bool) -> Decimal | None:
    digits = number
    for space in _SPACES:
        digits = digits.replace(space, "")
    if not scaled and _DOT_THOUSANDS_RE.fullmatch(digits):
        digits = digits.replace(".", "")
    if "," in digits:
        digits = _COMMA_THOUSANDS_RE.sub("", digits).replace(",", ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        return None


@dataclass
class _Raw:
    """A single number as matched, before ranges are joined."""

    start: int
    end: int
    number: Decimal
    scale: int
    currency: bool
    percent: bool
    digits: str
    currency_sign: str | None = None


def _single_matches(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_SINGLE_RE.finditer(text)``, found faster.

    Every match has a digit at most four characters after its start ("us$ 5"), so the regex is only run
    from just before the next digit instead of being tried at every position of the text.
    """
    position = 0
    while (digit := _DIGIT_RE.search(text, position)) is not None:
        match = _SINGLE_RE.search(text, max(position, digit.start() - _MAX_LEAD))
        if match is None:
            return
        yield match
        position = match.end()


def _singles(text: str, skip: list[tuple[int, int]]) -> list[_Raw]:
    found: list[_Raw] = []
    for match in _single_matches(text):
        start, end = match.span()
        if any(low <= start < high for low, high in skip):
            continue
        before = text[max(0, start - 12) : start]
        if not match.group("cur") and _LETTER_BEFORE_RE.search(before) and not _HYPHEN_PREFIX_RE.search(before):
            continue  # part of a name: Covid-19, Hwasong-15, G7
        if before.endswith(("=", "_", "/", "#", "&")):
            continue  # part of code or a link written into the text: "x=3", "page_2", "/2024/"
        if _LETTER_RE.match(text, end) and not match.group("scale"):
            continue  # 5g, 10km, 18th
        scale_word = (match.group("scale") or "").strip().rstrip(".")
        number = _decimal(match.group("num"), bool(scale_word))
        if number is None:
            continue
        sign = match.group("cur")
        found.append(
            _Raw(start, end, number, _SCALE_VALUES.get(scale_word, 1), bool(sign), bool(match.group("pct")),
                 match.group("num"), _CURRENCY_SIGNS.get(sign) if sign else None)
        )  # fmt: skip
    return found


def _hedge(text: str, start: int) -> str:
    match = _HEDGE_RE.search(text, max(0, start - 20), start)
    return _HEDGE_OF[match.group(1)] if match else "exact"


# Counted things that are not people, as a count's unit. Plural only: a count of them takes the plural ("62
# cases", "40 companies"), while the singular before a number's noun is a modifier ("13 restaurant staff").
_THINGS = frozenset({
    "cases", "incidents", "companies", "firms", "businesses", "restaurants", "sites", "projects", "ships", "vessels",
    "boats", "flights", "containers", "factories", "plants", "shipyards", "dormitories", "deaths", "complaints",
    "lawsuits", "contracts", "accounts", "websites", "ads", "adverts", "advertisements", "vacancies", "listings",
    "postings", "inspections", "checks", "vehicles", "cars", "trucks", "launches", "missiles", "tests",
})


_UNIT_STOP_WORDS = frozenset({
    "a", "per", "of", "in", "from", "to", "and", "year", "years", "day", "at", "on", "across", "for", "with", "by",
    "into", "near", "inside", "over", "under", "among", "were", "was", "are", "is", "have", "had", "who", "which",
})


def _unit_guess(text: str, end: int) -> str | None:
    after = text[end : end + 40]
    if _COUNTRIES_AFTER_RE.match(after):
        return "countries"
    if _BARRELS_AFTER_RE.match(after):
        return "barrels"
    if _TIMES_AFTER_RE.match(after):
        return "times"
    # In Korean, Chinese or Japanese copy the counter follows the number (명, 人, 家): English words glossed further
    # on name something else ("約2千人…多くが shipyards で").
    words = _LETTERS_RE.findall(_CJK_RE.split(after, 1)[0])[:4]
    for word in words:
        if word.startswith("countr") or word == "nations":  # "nationals" are people
            return "countries"
        if word.startswith("barrel"):
            return "barrels"
        if word.startswith(("tonne", "ton")):  # "30,000 tonnes" of fuel is not 30,000 workers
            return "tonnes"
        if word in _THINGS:  # "62 cases", "40 companies": a count of things, not of the workers
            return word
        if word in _UNIT_STOP_WORDS:  # what follows names no unit of the number: "2,500 at garment plants"
            return None
    return None


def _kind(text: str, first: _Raw, last: _Raw) -> Kind:
    before = text[max(0, first.start - 48) : first.start]
    after = text[last.end : last.end + 24]
    if "resolution" in before and _RESOLUTION_BEFORE_RE.search(before):
        return "resolution"
    if _resolution_number(first, last) and (_BODY_BEFORE_RE.search(before) or _COMMITTEE_AFTER_RE.match(after)):
        return "resolution"
    if (_resolution_number(first, last) and _RESOLUTION_AFTER_RE.match(after)
            and not _UN_ERA_YEAR_RE.fullmatch(first.digits)):
        return "resolution"
    if first.percent or last.percent:
        return "percent"
    if first.currency or last.currency or _MONEY_AFTER_RE.match(after):
        return "money"
    if _HOURS_AFTER_RE.match(after):
        return "hours"
    if _DURATION_AFTER_RE.match(after) and not _year_like(first):
        return "duration"
    plain = first.scale == 1 and last.scale == 1 and bool(_YEAR_RE.fullmatch(first.digits))
    plain = plain and not _COUNTED_AFTER_RE.match(after)
    if plain and _YEAR_RE.fullmatch(last.digits):
        return "year"
    return "count"


def _resolution_number(first: _Raw, last: _Raw) -> bool:
    """Whether a figure is written as Security Council resolutions are numbered: three or four bare digits."""
    bare = first is last and first.scale == 1 and not first.currency
    return bare and re.fullmatch(r"\d{3,4}", first.digits) is not None


def _year_like(raw: _Raw) -> bool:
    return raw.scale == 1 and not raw.currency and _YEAR_RE.fullmatch(raw.digits) is not None


def _joinable(text: str, first: _Raw, second: _Raw) -> bool:
    if not _RANGE_GAP_RE.match(text[first.end : second.start]):
        return False
    if _year_like(first) != _year_like(second):
        return False
    gap = text[first.end : second.start].strip()
    opening = text[max(0, first.start - 20) : first.start]
    if gap.startswith("and"):
        return bool(_BETWEEN_BEFORE_RE.search(opening))
    if not _FROM_BEFORE_RE.search(opening):
        return True
    # "from 10 to 12 hours" is a range; "fell from 30,000 to 11,500" is a change between two figures.
    return not _CHANGE_BEFORE_RE.search(text[max(0, first.start - 40) : first.start])


def _build(text: str, first: _Raw, last: _Raw) -> Quantity:
    kind = _kind(text, first, last)
    low_scale = first.scale
    # A shared multiplier: "between 250 and 600 million", "$1.2-2.3 billion" (not "250000000 to 6億").
    if first is not last and first.scale == 1 and last.scale > 1 and first.number < last.number * 1000:
        low_scale = last.scale
    low = float(first.number * low_scale)
    high = float(last.number * last.scale)
    if kind == "year":
        low, high = float(first.number), float(last.number)
    qualifier = "range" if first is not last else _hedge(text, first.start)
    span = (first.start, last.end)
    complement = kind == "percent" and bool(_KEPT_SHARE_RE.search(text[max(0, first.start - 40) : first.start])
                                            or _KEPT_AFTER_RE.match(text, last.end))
    currency, period = _money_unit(text, first, last) if kind == "money" else (None, None)
    return Quantity(
        value=low, low=low, high=high, kind=kind, qualifier=qualifier, unit_guess=_unit_guess(text, last.end),
        span=span, text=text[span[0] : span[1]].strip(), complement=complement, currency=currency, period=period,
    )  # fmt: skip


def _money_unit(text: str, first: _Raw, last: _Raw) -> tuple[str | None, str | None]:
    """The currency and the period of an amount of money, where the sentence gives them."""
    currency = first.currency_sign or last.currency_sign
    after = text[last.end : last.end + 40]
    if currency is None and (found := _CURRENCY_AFTER_RE.match(after)):
        currency = found.lastgroup
    period = _PERIOD_AFTER_RE.match(after) or _PERIOD_BEFORE_RE.search(text, max(0, first.start - 40), first.start)
    return currency, period.lastgroup if period else None


def _numeric(text: str, skip: list[tuple[int, int]]) -> list[Quantity]:
    raws = _singles(text, skip)
    quantities: list[Quantity] = []
    index = 0
    while index < len(raws):
        first = raws[index]
        if index + 1 < len(raws) and _joinable(text, first, raws[index + 1]):
            quantities.append(_build(text, first, raws[index + 1]))
            index += 2
        else:
            quantities.append(_build(text, first, first))
            index += 1
    return quantities


def _magnitudes(text: str) -> list[Quantity]:
    found: list[Quantity] = []
    for match in _MAGNITUDE_RE.finditer(text):
        name = match.group("vague") or match.group("few") + "s"
        low, high = _BANDS[name]
        money = bool(match.group("money")) or text[max(0, match.start() - 1) : match.start()] == "$"
        found.append(
            Quantity(value=float(low), low=float(low), high=float(high), kind="money" if money else "count",
                     qualifier="magnitude", unit_guess=None, span=match.span(), text=match.group(0))
        )  # fmt: skip
    return found


def _decades(text: str) -> list[Quantity]:
    found: list[Quantity] = []
    for match in _DECADE_RE.finditer(text):
        start = float(match.group(1))
        found.append(Quantity(start, start, start + 9, "year", "range", None, match.span(), match.group(0)))
    return found


def _dates(text: str) -> list[Quantity]:
    found: list[Quantity] = []
    for match in _MONTH_YEAR_RE.finditer(text):
        year, month = int(match.group("year")), _MONTHS[match.group("month")[:3]]
        value = float(year * 100 + month)
        found.append(Quantity(value, value, value, "date", "exact", None, match.span(), match.group(0)))
    return found


def extract_from_prepared(text: str) -> list[Quantity]:
    """The quantities of text already passed through :func:`prepare_text`, in order of position."""
    # Each pattern needs a substring that most sentences lack; looking for it first is cheaper than the regex.
    months = any(month in text for month in _MONTHS)
    dates = (_dates(text) if months else []) + (_decades(text) if "0s" in text or "0's" in text else [])
    skip = [quantity.span for quantity in dates]
    dates = [date for date in dates if not _STAMP_BEFORE_RE.search(text, max(0, date.span[0] - 40), date.span[0])]
    if months:
        skip += [match.span() for match in _DAY_RE.finditer(text)]
    if ":" in text or "m" in text or any(mark in text for mark in ("시", "点", "點", "時")):
        skip += [match.span() for match in _CLOCK_RE.finditer(text)]
    magnitudes = _magnitudes(text) if any(scale in text for scale in _MAGNITUDE_SCALES) else []
    quantities = dates + magnitudes + [q for q in _numeric(text, skip) if not _cited(text, q)]
    return sorted(quantities, key=lambda quantity: quantity.span)


def _cited(text: str, quantity: Quantity) -> bool:
    """Whether a count is of the people a report cites (see ``_CITED_BEFORE_RE``), not a reported figure."""
    if quantity.kind != "count" or quantity.value >= 1000:
        return False
    start, end = quantity.span
    after = text[end : end + 60]
    if _CITED_BEFORE_RE.search(text, max(0, start - 40), start) or _CITED_AFTER_RE.match(after):
        return True
    return bool(_SPEECH_BEFORE_RE.search(text, max(0, start - 20), start) and _CITED_PEOPLE_AFTER_RE.match(after))


def extract_quantities(text: str) -> list[Quantity]:
    """The quantities of a raw sentence (see :func:`prepare_text` for the form that spans refer to)."""
    return extract_from_prepared(prepare_text(text))
