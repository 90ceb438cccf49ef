"""Finding numbers in article text and reading their values (a first version of the figure extractor)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CURRENCY = "$€£¥₩₽"
_GROUP_SPACES = " \u00a0\u202f\u2009"
# Multipliers written after a number; keys are lowercase. Single letters only count when attached ("10k").
_MULTIPLIERS: dict[str, int] = {
    "k": 10**3,
    "thousand": 10**3,
    "тыс": 10**3,
    "千": 10**3,
    "천": 10**3,
    "만": 10**4,
    "万": 10**4,
    "萬": 10**4,
    "m": 10**6,
    "mn": 10**6,
    "mln": 10**6,
    "million": 10**6,
    "млн": 10**6,
    "억": 10**8,
    "亿": 10**8,
    "億": 10**8,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "млрд": 10**9,
    "tn": 10**12,
    "trillion": 10**12,
}
_ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")

_NUMBER_RE = re.compile(
    rf"""
    (?<!\d)(?<!\d[.,])                      # never start inside another number
    (?P<currency>[{_CURRENCY}]\s?)?
    (?P<digits>
        \d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?            # 50,000   1,234.5
      | \d{{1,3}}(?:[{_GROUP_SPACES}]\d{{3}})+(?:,\d+)?  # 50 000   1 234,5
      | \d+(?:[.,]\d+)?                            # 2024   1.5   1,5
    )
    (?P<suffix>
        \s?(?:million|billion|trillion|thousand|mln|mn|bn|tn|млрд|млн|тыс)(?![^\W\d_])
      | (?:k|m|b|st|nd|rd|th)(?![^\W\d_])
      | [千천만万萬억亿億]
    )?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Letters that make a number part of a name when they come right before it ("G7", "Covid-19").
_IDENTIFIER_LETTER_RE = re.compile(r"[A-Za-z\u00c0-\u024f\u0400-\u04ff]")
# Words before a hyphen that qualify a year rather than name a thing ("mid-2024").
_HYPHEN_PREFIXES = frozenset({"mid", "early", "late", "pre", "post", "end", "around", "since"})
_WORD_BEFORE_HYPHEN_RE = re.compile(r"([A-Za-z]+)-$")


def _is_identifier(text: str, start: int, end: int) -> bool:
    """Whether the number at ``text[start:end]`` belongs to a name such as "G7", "Covid-19", "5G"."""
    if end < len(text) and _IDENTIFIER_LETTER_RE.match(text[end]):
        return True
    if start == 0:
        return False
    before = text[start - 1]
    if _IDENTIFIER_LETTER_RE.match(before):
        return True
    if before == "-" and start >= 2 and _IDENTIFIER_LETTER_RE.match(text[start - 2]):
        prefix = _WORD_BEFORE_HYPHEN_RE.search(text, max(0, start - 20), start)
        return not (prefix and prefix.group(1).lower() in _HYPHEN_PREFIXES)
    return False


_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
# Clock times and days of the month are when something was said, not a figure that was reported.
_CALENDAR_RE = re.compile(
    rf"(?<![\d:])\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?![\d:])"
    rf"|(?<![\w.])\d{{1,2}}\s+(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}}\b)?"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?!\d|,\d)(?:,?\s+\d{{4}}\b)?",
    re.IGNORECASE,
)


def _calendar_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _CALENDAR_RE.finditer(text)]


def find_numbers(text: str) -> list[str]:
    """The numeric tokens of ``text`` as written ("50,000", "1.5 million", "$500m", "2024"), in order.

    Digits that are part of identifiers ("Covid-19", "Hwasong-15", "G7", "5G") are left out, and so,
    for now, are numbers with a unit attached ("10km").
    """
    tokens: list[str] = []
    calendar = _calendar_spans(text)
    for match in _NUMBER_RE.finditer(text):
        if any(start <= match.start() and match.end() <= end for start, end in calendar):
            continue
        # A currency sign marks an amount even when letters precede it ("US$500m").
        if match.group("currency") is None and _is_identifier(text, match.start(), match.end()):
            continue
        tokens.append(match.group(0).strip())
    return tokens


_TOKEN_RE = re.compile(
    rf"^[{_CURRENCY}]?\s*(?P<digits>\d[\d,.{_GROUP_SPACES}]*?)\s*(?P<suffix>[^\d\s,.]*)$", re.IGNORECASE
)
_THOUSANDS_COMMA_RE = re.compile(r",(?=\d{3}(?!\d))")


def number_value(token: str) -> float | None:
    """The value of a token from find_numbers ("50,000" → 50000.0, "$1.5bn" → 1.5e9), or None.

    A comma followed by exactly three digits is a thousands separator; any other comma is a decimal
    comma ("1,5" → 1.5).
    """
    match = _TOKEN_RE.match(token.strip())
    if match is None:
        return None
    suffix = match.group("suffix").lower()
    if suffix in _ORDINAL_SUFFIXES or not suffix:
        multiplier = 1
    elif suffix in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[suffix]
    else:
        return None
    digits = match.group("digits")
    for space in _GROUP_SPACES:
        digits = digits.replace(space, "")
    digits = _THOUSANDS_COMMA_RE.sub("", digits).replace(",", ".")
    try:
        # Decimal keeps "1.1 million" equal to "1,100,000", which float arithmetic would not.
        return float(Decimal(digits) * multiplier)
    except InvalidOperation:
        return None
