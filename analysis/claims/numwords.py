"""Rewriting number words and fractions as digits ("twelve hundred" → "1200", "two-thirds" → "66.67%")."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4, "fifth": 5, "fifths": 5,
    "sixth": 6, "sixths": 6, "eighth": 8, "eighths": 8, "tenth": 10, "tenths": 10,
}  # fmt: skip

_UNIT_WORD = r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
_UNIT_WORD += r"|sixteen|seventeen|eighteen|nineteen)"
_TENS_WORD = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_NUMBER_WORD = rf"(?:{_TENS_WORD}(?:[-\s]{_UNIT_WORD})?|{_UNIT_WORD})"
_SCALE_WORD = r"(?:hundred|thousand|million|billion)"
_PART = rf"(?:{_NUMBER_WORD}|{_SCALE_WORD})"
# A run of number words; "a"/"an" only count before a scale word ("a thousand"), "and" only inside a run.
_WORDS_RE = re.compile(rf"\b(?:an?\s+{_SCALE_WORD}|{_NUMBER_WORD})\b(?:(?:(?<=hundred)\s+and\s+|\s+|-)(?:{_PART})\b)*")
_POINT_RE = re.compile(rf"\b(\d+|{_NUMBER_WORD})\s+point\s+({_UNIT_WORD})\b")
_HALF_SCALE_RE = re.compile(rf"\b(?:a\s+)?half\s+an?\s+({_SCALE_WORD})\b")
_AND_A_HALF_RE = re.compile(rf"\b(\d+|{_NUMBER_WORD})\s+and\s+a\s+half\s+({_SCALE_WORD})\b")
_FRACTION_RE = re.compile(
    rf"\b(?:(?P<num>an?|one|two|three|four|five|seven|nine|{_NUMBER_WORD})[\s-]+)?"
    r"(?P<den>halves|half|thirds?|quarters?|fifths?|sixths?|eighths?|tenths?)\b(?!\s+an?\s)"
)
# Substrings that every word _FRACTION_RE rewrites contains.
_DENOMINATOR_STEMS = ("half", "halves", "third", "quarter", "fifth", "sixth", "eighth", "tenth")
# A share said as a count of a small whole: "nine in ten", "9 out of 10", "two of every three" (after number words
# are written as digits).
_IN_EVERY_RE = re.compile(r"\b(\d{1,2})\s+(?:in|out of|of every)\s+(100|10|[2-9])\b(?![.,]\d)")
# "the first half of 2024" is a period, not a share.
_NOT_SHARE_BEFORE_RE = re.compile(r"(?:first|second|last|latter|former|other)\s*$")


def _words_value(words: str) -> int | None:
    """The value of a run of number words, or None when the run is not a number ("a" alone)."""
    total = 0
    current = 0
    seen_number = False
    for word in re.split(r"[\s-]+", words.strip()):
        if word == "and" or not word:
            continue
        if word in _SCALES:
            scale = _SCALES[word]
            current = max(current, 1) * scale
            if scale >= 1000:
                total += current
                current = 0
            seen_number = True
        elif word in _UNITS:
            current += _UNITS[word]
            seen_number = seen_number or word not in ("a", "an")
        else:
            return None
    return total + current if seen_number else None


def _replace_words(match: re.Match[str]) -> str:
    text = match.group(0)
    # A lone "one" is nearly always a pronoun ("one of the"), never a reported figure.
    if text.strip() == "one":
        return text
    value = _words_value(text)
    return text if value is None else str(value)


def _replace_fraction(match: re.Match[str]) -> str:
    numerator_word = match.group("num")
    denominator = _DENOMINATORS[match.group("den")]
    if numerator_word is None:
        if denominator != 2 or _NOT_SHARE_BEFORE_RE.search(match.string, 0, match.start()):
            return match.group(0)
        numerator = 1
    else:
        parsed = _words_value(numerator_word)
        if parsed is None and numerator_word in ("a", "an"):
            parsed = 1
        if parsed is None or parsed >= denominator:
            return match.group(0)
        numerator = parsed
    percent = round(100 * numerator / denominator, 2)
    return f"{percent:g}%"


def _replace_and_a_half(match: re.Match[str]) -> str:
    whole = match.group(1)
    value = int(whole) if whole.isdigit() else _words_value(whole)
    return match.group(0) if value is None else str(int((value + 0.5) * _SCALES[match.group(2)]))


def _replace_point(match: re.Match[str]) -> str:
    whole = match.group(1)
    whole_value = int(whole) if whole.isdigit() else _words_value(whole)
    fraction = _words_value(match.group(2))
    return match.group(0) if whole_value is None or fraction is None else f"{whole_value}.{fraction}"


def words_to_digits(text: str) -> str:
    """``text`` (casefolded) with number words and fractions written as digits and percentages.

    "fifty thousand" → "50000", "two hundred and fifty" → "250", "half a million" → "500000",
    "two point five million" → "2.5 million", "two and a half thousand" → "2500", "a third" → "33.33%",
    "half" → "50%".
    """
    # Each rewrite needs a word that most sentences lack; looking for it first is much cheaper than the regex.
    if "half" in text:
        text = _HALF_SCALE_RE.sub(lambda match: str(_SCALES[match.group(1)] // 2), text)
        text = _AND_A_HALF_RE.sub(_replace_and_a_half, text)
    if "point" in text:
        text = _POINT_RE.sub(_replace_point, text)
    if any(word in text for word in _DENOMINATOR_STEMS):
        text = _FRACTION_RE.sub(_replace_fraction, text)
    text = _WORDS_RE.sub(_replace_words, text)
    if " in " in text or " of" in text:
        text = _IN_EVERY_RE.sub(_replace_in_every, text)
    return text


def _replace_in_every(match: re.Match[str]) -> str:
    numerator, denominator = int(match.group(1)), int(match.group(2))
    return match.group(0) if numerator >= denominator else f"{round(100 * numerator / denominator, 2):g}%"
