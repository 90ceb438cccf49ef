"""One multilingual lexicon: Korean, Russian, Chinese and Japanese words glossed into the English words the claim
matcher reads, so a sentence in any of the five languages meets the English known claims on the same terms.

The lexicon is data (``glossary.yaml`` beside this module); each entry maps an English gloss to the words that mean
it in each language. Glossing happens after figures were
read (:mod:`analysis.claims.native`) and before anything else looks at the text: the subject gate, the place,
sector, direction and movement slots, and the canonical text that fuzzy retrieval scores all read the glosses as
they read English copy. The lexicon covers what reporting on overseas North Korean labour says: who (North
Korea, workers and the other roles the subject gate tells apart, nationalities), where (the places of
:mod:`analysis.claims.places`), what (sectors, wages, visas, sanctions, sending and returning, rising and
falling) and who says so (the UN, intelligence agencies, governments).

Matching rules: Korean, Chinese and Japanese words are found anywhere (those languages attach particles or
write no spaces), longest first, so "朝鲜族" (ethnic Koreans of China) is never read as "朝鲜" (North Korea).
A Russian word must start a word; ``*`` at its end stands for any ending (Russian inflects: "росси*" is Россия,
России, российский…).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from analysis.claims.native import NATIVE_SCRIPT_RE

_LANGUAGES = ("ko", "ru", "zh", "ja")


class GlossaryError(ValueError):
    """The lexicon file is not what :func:`load_glossary` expects (shipped data: a bug, caught by the tests)."""


def parse_glossary(data: object) -> dict[str, dict[str, tuple[str, ...]]]:
    """The lexicon from parsed YAML, words NFKC-normalised and casefolded as the text they are matched in;
    GlossaryError naming every entry that is malformed."""
    if not isinstance(data, dict):
        raise GlossaryError("the glossary must be a mapping of English gloss to {language: [words]}")
    problems: list[str] = []
    glossary: dict[str, dict[str, tuple[str, ...]]] = {}
    for gloss, languages in data.items():
        if not isinstance(gloss, str) or not gloss.strip() or not isinstance(languages, dict) or not languages:
            problems.append(f"{gloss!r}: must be an English gloss with a mapping of languages to words")
            continue
        entry: dict[str, tuple[str, ...]] = {}
        for language, words in languages.items():
            if language not in _LANGUAGES:
                problems.append(f"{gloss}.{language}: unknown language (known: {', '.join(_LANGUAGES)})")
            elif not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                problems.append(f"{gloss}.{language}: must be a list of words")
            elif bad := [w for w in words if "**" in w or w.startswith("*")]:
                problems.append(f"{gloss}.{language}: '*' may only end a word: {', '.join(bad)}")
            else:
                entry[language] = tuple(unicodedata.normalize("NFKC", w).casefold().strip() for w in words)
        glossary[gloss] = entry
    if problems:
        raise GlossaryError("; ".join(problems))
    return glossary


@lru_cache(maxsize=1)
def load_glossary() -> dict[str, dict[str, tuple[str, ...]]]:
    """The shipped lexicon (``glossary.yaml``), read once."""
    text = resources.files("analysis.claims").joinpath("glossary.yaml").read_text(encoding="utf-8")
    return parse_glossary(load_shipped_yaml(text))


def load_shipped_yaml(text: str) -> Any:
    """YAML of a file shipped in the package (trusted, so libyaml's fast loader when it is there: the glossary
    reads in 0.02 s instead of 0.18 s)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader, C or Python


def _pattern(word: str, language: str) -> str:
    """The regex of one lexicon word: ``*`` is any ending of the word it ends; Russian words are whole words."""
    body = r"\w*".join(re.escape(part) for part in word.split("*"))
    if language != "ru":
        return body
    return r"(?<!\w)" + body + ("" if word.endswith("*") else r"(?!\w)")


class _Index:
    """The lexicon ready for scanning: Korean, Chinese and Japanese words by their first character (longest
    first), and one regex for the Russian ones, tried only where a Russian word can start.

    Scanning a sentence once, looking up only the words that begin with the character at hand, is about a
    thousand times faster than one regex alternation of all ~1,000 words tried at every position."""

    def __init__(self, glossary: dict[str, dict[str, tuple[str, ...]]]) -> None:
        literal: dict[str, list[tuple[str, str]]] = {}
        russian: list[tuple[str, str, str]] = []
        for gloss, languages in glossary.items():
            for language in _LANGUAGES:
                for word in languages.get(language, ()):
                    if language == "ru":
                        russian.append((_pattern(word, language), word.rstrip("*"), gloss))
                    else:
                        literal.setdefault(word[0], []).append((word, gloss))
        self.literal = {char: sorted(words, key=lambda pair: -len(pair[0])) for char, words in literal.items()}
        # Longest first: the first alternative that matches at a position wins. One regex per first letter, so a
        # position tries only the words that can start there.
        russian.sort(key=lambda entry: -len(entry[1]))
        by_first: dict[str, list[tuple[str, str]]] = {}
        for pattern, word, gloss in russian:
            by_first.setdefault(word[0], []).append((pattern, gloss))
        self.russian = {
            char: (re.compile("|".join(f"({pattern})" for pattern, _ in entries)), tuple(g for _, g in entries))
            for char, entries in by_first.items()
        }

    def scan(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, gloss) of every lexicon word in ``text``, left to right, not overlapping."""
        found: list[tuple[int, int, str]] = []
        position, length = 0, len(text)
        while position < length:
            char = text[position]
            russian = self.russian.get(char)
            if russian is not None and (position == 0 or not _is_word_char(text[position - 1])):
                match = russian[0].match(text, position)
                if match is not None and match.lastindex:
                    found.append((position, match.end(), russian[1][match.lastindex - 1]))
                    position = max(match.end(), position + 1)
                    continue
            for word, gloss in self.literal.get(char, ()):
                if text.startswith(word, position):
                    found.append((position, position + len(word), gloss))
                    position += len(word)
                    break
            else:
                position += 1
        return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


_index_lock = threading.Lock()
_built: _Index | None = None


def _index() -> _Index:
    """The lexicon ready for scanning, built once per process: extraction threads that all start with a sentence
    to gloss must not each build it (lru_cache lets them)."""
    global _built
    if _built is None:
        with _index_lock:
            if _built is None:
                _built = _Index(load_glossary())
    return _built


# Negation of what is named, in the order English reads it ("rather than X"): Korean and Japanese mark it after
# the words ("건설 현장이 아니라", "建設現場ではなく"), Chinese and Russian before ("而不是", "а не", "не на").
_SPACES_RE = re.compile(r"[ \t]{2,}")
# "\b" before each word: without it one word can be split several ways, and the search backtracks badly.
_NEGATED_AFTER_RE = re.compile(
    r"((?:\s*\b[a-z][a-z'-]*){1,4})\s*(?:이|가|은|는)?\s*(?:아니라|아닌|ではなく|でなく|じゃなく)"
)
_NEGATED_BEFORE = {"而不是": "rather than", "而非": "rather than", "不是": "rather than", "而是": " . ",
                   "а не": "rather than", "не на": "not on", "не в": "not in"}  # fmt: skip
_NEGATED_BEFORE_RE = re.compile(r"(?<!\w)(?:а не|не на|не в)(?!\w)|而不是|而非|不是|而是")


def gloss(text: str) -> str:
    """``text`` (NFKC, casefolded) with every lexicon word replaced by its English gloss, spaced as a word, and
    negations written as English writes them."""
    if NATIVE_SCRIPT_RE.search(text) is None:
        return text
    pieces: list[str] = []
    cursor = 0
    for start, end, english in _index().scan(text):
        pieces.append(text[cursor:start])
        pieces.append(f" {english} ")
        cursor = end
    pieces.append(text[cursor:])
    # One space between words: glossing leaves runs of them, and slot patterns read "stopped issuing" as written.
    text = _SPACES_RE.sub(" ", "".join(pieces))
    text = _NEGATED_AFTER_RE.sub(lambda match: f" rather than {match.group(1).strip()} . ", text)
    return _NEGATED_BEFORE_RE.sub(lambda match: f" {_NEGATED_BEFORE[match.group(0)]} ", text)


def glosses_in(text: str) -> list[tuple[str, str]]:
    """(word as matched, gloss) for every lexicon word in a raw sentence: what ``claims match`` shows."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if NATIVE_SCRIPT_RE.search(text) is None:
        return []
    return [(text[start:end], english) for start, end, english in _index().scan(text)]
