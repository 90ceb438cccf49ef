"""Canonical text for fuzzy claim matching: figures as canonical tokens, names, synonyms and spellings unified."""

from __future__ import annotations

import re
from functools import lru_cache

from analysis.claims.alternation import by_first_letter
from analysis.claims.native import NATIVE_SCRIPT_RE
from analysis.claims.quantities import Quantity, extract_from_prepared, prepare_text
from analysis.claims.synonyms import word_map

# Multi-word variants first (applied in order); each maps to one canonical token or phrase.
_PHRASES: tuple[tuple[str, str], ...] = (
    (
        r"north korea'?s|north koreans?|north korea|n\.\s?korean?|democratic people'?s republic of korea|pyongyang'?s?"
        r"|dprk'?s?|the north(?! of| korea)|kim jong[- ]un'?s? regime|the regime",
        " dprk ",
    ),
    (r"south koreans?|south korea'?s?|seoul'?s?|the south(?! of| korea)", " southkorea "),
    (r"russia'?s|russian federation|russian|moscow'?s?|the kremlin|kremlin", " russia "),
    (r"china'?s|chinese|beijing", " china "),
    # "u(?<!\wu)" is "\bu" written to start with a letter, which keeps the scan below fast.
    (r"united states|america|american|washington|u(?<!\wu)\.s\.", " us "),
    (r"un security council|security council|unsc|united nations", " un "),
    (r"information technology|tech firms?|technology companies|tech companies|technology firms?", " infotech "),
    # Trades of IT work: "developers", "programmers" and "coders" are the claims' "IT workers".
    (r"(?:software |it |web )?(?:developers|programmers|coders|software engineers)", " infotech workers "),
    (r"apart from|besides|in addition to|as well as|beyond", " besides "),
    (r"overseas|abroad|outside the country|in other countries", " abroad "),
    (r"building sites?|construction sites?|building projects?|construction projects?|builders?", " construction "),
    (r"garments?|clothes|textiles?", " clothing "),
    (r"a year|per year|annually|each year|every year|per annum|a year each", " peryear "),
    (r"a day|per day|every day|daily|each day", " perday "),
    (r"labou?r force|work force|workforce|manpower|labou?rers?|employees|staff|nationals", " workers "),
    (r"labor\b", "labour"),
    (
        r"spy agency|intelligence agency|intelligence service|spy service|intelligence officials?|intelligence",
        " intelligence ",
    ),
    (r"repatriat\w+|sen[dt]\s+(?:\w+\s+){0,3}home|sen[dt]\s+(?:\w+\s+){0,3}back", " repatriate "),
    # Pay that changes hands: what "goes to the state" is what the state takes; what workers take home they keep.
    (r"go(?:es)? to|went to|handed (?:over )?to|hand(?:s|ed)? over|surrender(?:s|ed)?|remit(?:s|ted)? to"
     r"|turned over to|paid (?:in)?to", " taken "),
    (r"take home|takes home|took home|taking home|left with|get to keep|gets to keep|stays? with|remains? with",
     " keep "),
    (r"let in(?:to)?|lets in(?:to)?|admitted(?: to| into)?|allowed in(?:to)?|took in", " enter "),
    (r"pull(?:s|ed)? in|bring(?:s)? in|rake(?:s|d)? in|take(?:s)? in", " earn "),
)
# One pass for all variants: a named group per variant; at any position the earlier variant wins.
_PHRASE_RE = re.compile("|".join(f"(?P<p{index}>{pattern})" for index, (pattern, _) in enumerate(_PHRASES)))
_PHRASE_REPLACEMENTS = {f"p{index}": replacement for index, (_, replacement) in enumerate(_PHRASES)}
# The same alternatives without the groups and tried by first letter: it matches exactly where _PHRASE_RE does,
# several times faster; _PHRASE_RE is then run only where a variant is known to start, to tell which one it is.
_PHRASE_SCAN_RE = re.compile(by_first_letter(pattern for pattern, _ in _PHRASES))
# The English lexicon (synonyms.yaml): each variant read as the claims' own word.
_WORD_MAP = word_map()
_STOPWORDS = frozenset(
    {
        "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or", "but", "as", "is",
        "are", "was", "were", "be", "been", "being", "that", "which", "who", "whom", "this", "these", "those", "its",
        "their", "his", "her", "it", "they", "them", "than", "then", "there", "has", "have", "had", "also", "said",
        "says", "say", "according",
        # Hedges and modals: the figure's qualifier and the claim's certainty are read from the figures, never
        # from word overlap ("could send as many as" and "may be sent more than" say the same thing).
        "more", "many", "much", "over", "about", "nearly", "almost", "roughly", "may", "might", "could", "would",
        "can", "will", "yet", "soon", "possibly", "reportedly", "estimated",
    }
)  # fmt: skip
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def canonical_figure(quantity: Quantity) -> str:
    """A single-token form of a quantity ("50000", "90pct", "mag20000", "201712", "1200000000to2300000000")."""
    if quantity.kind == "percent":
        return f"{quantity.value:g}pct"
    if quantity.is_magnitude:
        return f"mag{int(quantity.low)}"
    if quantity.is_range:
        return f"{quantity.low:.0f} {quantity.high:.0f}"
    return f"{quantity.value:.0f}"


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    word = _WORD_MAP.get(word, word)
    if len(word) > 6 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 5 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2] if word[-3] not in "aeiou" or word.endswith("ied") else word[:-1]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and not word.isdigit():
        return word[:-1]
    return word


def _replace_phrases(text: str) -> str:
    """``text`` with every variant of :data:`_PHRASES` replaced, as ``_PHRASE_RE.sub`` would do it."""
    pieces: list[str] = []
    cursor = 0
    for found in _PHRASE_SCAN_RE.finditer(text):
        start = found.start()
        variant = _PHRASE_RE.match(text, start)
        assert variant is not None and variant.end() == found.end(), "the two patterns have the same alternatives"
        pieces.append(text[cursor:start])
        pieces.append(_PHRASE_REPLACEMENTS[str(variant.lastgroup)])
        cursor = found.end()
    if not pieces:
        return text
    pieces.append(text[cursor:])
    return "".join(pieces)


@lru_cache(maxsize=65536)
def _canonical_token(token: str) -> str:
    """The stemmed form of a token, or "" for a stop word (or a token of apostrophes and hyphens only)."""
    # A word left in Korean, Chinese, Japanese or Russian after glossing is one the lexicon does not know: it
    # cannot match an English claim's word and would only dilute the fuzzy score.
    if not token.isascii() and NATIVE_SCRIPT_RE.search(token):
        return ""
    stemmed = _stem(token.strip("'-"))
    return "" if stemmed in _STOPWORDS else stemmed


def canonical_text(prepared: str, quantities: list[Quantity]) -> str:
    """Prepared text with every quantity replaced by its canonical token, names and synonyms unified."""
    pieces: list[str] = []
    cursor = 0
    for quantity in quantities:
        start, end = quantity.span
        if start < cursor:
            continue
        pieces.append(prepared[cursor:start])
        pieces.append(f" {canonical_figure(quantity)} ")
        cursor = end
    pieces.append(prepared[cursor:])
    text = "".join(pieces)
    text = _replace_phrases(text)
    return " ".join(filter(None, map(_canonical_token, _TOKEN_RE.findall(text))))


def normalise_for_matching(text: str) -> str:
    """The canonical matching form of a raw sentence."""
    prepared = prepare_text(text)
    return canonical_text(prepared, extract_from_prepared(prepared))
