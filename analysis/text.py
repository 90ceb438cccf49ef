"""Text normalisation for change detection, content hashing and sentence splitting."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# --- normalisation -----------------------------------------------------------------------------

# Characters dropped by normalise_text besides the Unicode P* categories: symbols and modifier letters
# that typesetting swaps in for quotes, apostrophes and dashes, so that re-typesetting is not a change.
_EXTRA_PUNCTUATION = frozenset("`´ʹʺʻʼʽˈ˝−⁓")


class _DropPunctuation(dict[int, int | None]):
    """A lazy str.translate table mapping punctuation and invisible format characters to None.

    Built lazily because scanning all 1.1 million code points at import costs more than any one article;
    each character is classified once and then served from the dict at C speed.
    """

    def __missing__(self, codepoint: int) -> int | None:
        char = chr(codepoint)
        category = unicodedata.category(char)
        # Cf covers soft hyphens and zero-width spaces: invisible edits must not count as changes.
        drop = category[0] == "P" or category == "Cf" or char in _EXTRA_PUNCTUATION
        value = None if drop else codepoint
        self[codepoint] = value
        return value


_PUNCTUATION_TABLE = _DropPunctuation()

_EN_MONTHS = r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
_EN_MONTHS += r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
_RU_MONTHS = (
    r"январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[йя]|июн[ья]|июл[ья]|августа?|сентябр[ья]|октябр[ья]"
    r"|ноябр[ья]|декабр[ья]|янв|февр?|мар|апр|авг|сент?|окт|нояб?|дек"
)
_UNITS_EN = r"sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|hours?|days?|weeks?|months?|years?"
_UNITS_RU = r"секунд[уы]?|минут[уы]?|час(?:а|ов)?|д(?:ень|ня|ней)|недел[юиь]"

# The parts of a stamp that carry a date or time; a line needs at least one to count as a stamp.
_STAMP_CORE = "|".join(
    (
        r"(?<!\d)\d{4}-\d{2}-\d{2}t\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?",
        r"(?<!\d)\d{4}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{1,2}(?!\d)\.?",
        r"(?<!\d)\d{1,2}[-./]\d{1,2}[-./]\d{2,4}(?!\d)",
        r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?",
        rf"(?<![\w.])\d{{1,2}}\s+(?:{_EN_MONTHS}|{_RU_MONTHS})\b\.?(?:,?\s*\d{{4}}\b)?(?:\s*г\.?)?",
        rf"\b(?:{_EN_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s*\d{{4}}\b)?",
        r"\d{4}\s*[年년]\s*\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]",
        r"\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]",
        r"\d{1,2}\s*[時时시]\s*\d{1,2}\s*[分분]",
        rf"\b(?:\d+|an?|one|a\s+few)\s+(?:{_UNITS_EN})\s+ago\b",
        rf"\b\d+\s+(?:{_UNITS_RU})\s+назад\b",
        r"\d+\s*(?:초|분|시간|일|주|개월)\s*전",
        r"\d+\s*(?:秒|分钟|分鐘|分|小时|小時|時間|天|日)\s*前",
        r"\bjust\s+now\b|\bтолько\s+что\b|방금|刚刚|剛剛",
    )
)
# Words that may surround the date or time on a stamp line, and nothing else.
_STAMP_FILLER = "|".join(
    (
        r"\b(?:last|first|updated?|edited|published|posted|modified|created|date|time|on|at|am|pm|today|yesterday)\b",
        r"\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b",
        r"\b(?:kst|jst|utc|gmt|bst|cet|cest|msk|est|edt|cst|cdt|pst|pdt|hkt|sgt)\b(?:\s*[+-]\s*\d{1,2})?",
        r"[+-]\d{2}:?\d{2}\b",
        r"\b(?:обновлено|опубликовано|изменено|дата|публикации|обновления|сегодня|вчера|в)\b",
        r"\bг\b",
        r"기사입력|최종수정|입력|수정|업데이트|등록|승인|송고|오전|오후|오늘|어제",
        r"发布时间|發布時間|更新时间|更新時間|发布|發布|更新日時|最終更新|更新|公開|配信|今天|昨天|今日|昨日",
    )
)
_STAMP_CORE_RE = re.compile(_STAMP_CORE, re.IGNORECASE)
# An update marker on its own ("· Updated", "수정") is a stamp too: pages add one when they edit.
_MARKER_RE = re.compile(r"\b(?:updated?|edited|modified)\b|обновлено|изменено|수정|업데이트|更新", re.IGNORECASE)
_STAMP_PIECE_RE = re.compile(f"{_STAMP_CORE}|{_STAMP_FILLER}", re.IGNORECASE)
_WORD_CHAR_RE = re.compile(r"\w")
# Stamps are short; a longer line is prose even when it holds a date, so skip the regex work.
_MAX_STAMP_LINE = 100


def is_stamp_line(line: str) -> bool:
    """Whether a line holds nothing but a publication or update timestamp."""
    if len(line) > _MAX_STAMP_LINE or not (_STAMP_CORE_RE.search(line) or _MARKER_RE.search(line)):
        return False
    # Remove every stamp piece; anything wordlike left over means the line says more than a time.
    return _WORD_CHAR_RE.search(_STAMP_PIECE_RE.sub(" ", line)) is None


def to_nfc(text: str) -> str:
    """``text`` in Unicode NFC, the form every stored title, byline and text has: a page written with
    decomposed characters (e + U+0301, Hangul as jamo) is stored as one with composed ones, so searches,
    snippets and comparisons see one spelling."""
    return unicodedata.normalize("NFC", text)


# The same text is normalised more than once per page: an article's text for its content hash and again for its
# copy sketch (analysis.nearcopy) in the extraction worker, a matched sentence for its background key (db.background)
# and again for its events (db.events) in the database writer. A few recent results are kept (texts are hashed once
# per string object; a hit costs well under a microsecond, an article's normalisation about 0.3 ms). Few: the repeats
# come close together, and each entry keeps a whole article's text (twice) alive in the daemon's process.
_NORMALISED_CACHE = 64


@lru_cache(maxsize=_NORMALISED_CACHE)
def normalise_text(text: str) -> str:
    """The form of ``text`` that decides whether an article changed.

    NFKC, timestamp-only lines dropped, casefolded, punctuation and invisible format characters
    removed, whitespace collapsed to single spaces.
    """
    text = unicodedata.normalize("NFKC", text)
    lines = [line for line in text.splitlines() if not is_stamp_line(line)]
    folded = "\n".join(lines).casefold().translate(_PUNCTUATION_TABLE)
    return " ".join(folded.split())


def content_hash(title: str, text: str) -> str:
    """The sha256 hex digest of the normalised title and text; NFKC inside ``normalise_text`` makes it the same
    for the NFC and any decomposed spelling of one text, so storing text in NFC changes no hash."""
    # Normalised text never holds a newline (whitespace is collapsed), so it separates unambiguously.
    payload = normalise_text(title) + "\n" + normalise_text(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --- sentence splitting ------------------------------------------------------------------------

_CLOSERS = "\"'”’»›)\\]}」』】〕）"
_OPENERS = "\"'“‘«‹([{「『【〔（"
_SENTENCE_END_RE = re.compile(
    rf"(?P<cjk>[。！？｡]+(?P<cjk_close>[{_CLOSERS}]*))"  # CJK full stops, with no space after them
    r"|(?P<ko>(?<=다)\.(?=[\uac00-\ud7a3]))"  # Korean "다." run into the next sentence without a space
    rf"|(?P<term>[.!?…]+)[{_CLOSERS}]*(?=\s)"  # Latin/Cyrillic: a terminator, closing quotes, then space
)
_WORD_BEFORE_RE = re.compile(r"[\w.]+$")
_NEXT_WORD_RE = re.compile(rf"\s*[{_OPENERS}]*(\w+)")
_HIRAGANA_RE = re.compile(r"[\u3041-\u309f]")
_INITIALISM_RE = re.compile(r"(?:[a-z]\.)+[a-z]")

# Abbreviations that never end a sentence: a name or a clarification always follows.
_NEVER_FINAL = frozenset(
    {
        "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "capt", "cpl", "maj", "adm", "rep",
        "sen", "gov", "pres", "rev", "hon", "amb", "messrs", "st", "vs", "e.g", "i.e", "cf", "viz", "approx",
        "ca",
    }
)  # fmt: skip
# Abbreviations that do not end a sentence when a number follows ("No. 2397", "Feb. 12").
_BEFORE_NUMBER = frozenset(
    {
        "no", "nos", "p", "pp", "vol", "art", "fig", "ch", "sec", "para", "jan", "feb", "mar", "apr", "jun",
        "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
# Abbreviations that may end a sentence; they do only when a typical sentence opener follows ("etc."
# ends one whenever a capital follows, as any word does).
_SOMETIMES_FINAL = frozenset({"jr", "sr", "inc", "corp", "ltd", "co", "al"})
_SENTENCE_OPENERS = frozenset(
    {
        "The", "A", "An", "In", "On", "At", "But", "And", "He", "She", "It", "They", "We", "I", "This",
        "That", "These", "Those", "However", "Its", "Their", "His", "Her", "There", "According", "Meanwhile",
    }
)  # fmt: skip


def _ends_sentence(paragraph: str, match: re.Match[str]) -> bool:
    """Whether a terminator matched by _SENTENCE_END_RE really ends a sentence."""
    if match.group("cjk") is not None:
        # Japanese quotes go on with a particle: 「本当だ。」と彼は言った。 is one sentence.
        return not (match.group("cjk_close") and _HIRAGANA_RE.match(paragraph, match.end()))
    if match.group("term") is None:
        return True
    following = _NEXT_WORD_RE.match(paragraph, match.end())
    if following is None:
        return True
    next_word = following.group(1)
    if next_word[0].islower():
        # A lowercase continuation means an abbreviation or a quote inside the sentence ("?" he asked).
        return False
    if match.group("term") != ".":
        return True
    before = _WORD_BEFORE_RE.search(paragraph, max(0, match.start() - 40), match.start())
    word = before.group(0).strip(".") if before else ""
    return _word_ends_sentence(word, next_word)


def _word_ends_sentence(word: str, next_word: str) -> bool:
    """Whether ``word`` followed by "." and then ``next_word`` (not lowercase) closes a sentence."""
    lower = word.lower()
    if lower in _NEVER_FINAL:
        return False
    if lower in _BEFORE_NUMBER and next_word[0].isdigit():
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial, as in "John F. Kennedy"
    if lower in _SOMETIMES_FINAL or _INITIALISM_RE.fullmatch(lower):
        # "the U.S. Treasury" goes on, "sanctioned by the U.S. The ministry" does not.
        return next_word in _SENTENCE_OPENERS
    return True


def _split_paragraph(paragraph: str) -> list[str]:
    """The sentences of one paragraph, unstripped."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(paragraph):
        if _ends_sentence(paragraph, match):
            sentences.append(paragraph[start : match.end()])
            start = match.end()
    sentences.append(paragraph[start:])
    return sentences


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into stripped, non-empty sentences in order; every line break ends a sentence."""
    return [sentence for _, sentence in split_sentence_lines(text)]


def split_sentence_lines(text: str) -> list[tuple[int, str]]:
    """The sentences of ``split_sentences`` with the index of the line (of ``text.splitlines()``) each is on:
    a document's page or paragraph is found from it (``analysis.positions``)."""
    sentences: list[tuple[int, str]] = []
    for line, paragraph in enumerate(text.splitlines()):
        for sentence in _split_paragraph(paragraph):
            stripped = sentence.strip()
            if stripped:
                sentences.append((line, stripped))
    return sentences
