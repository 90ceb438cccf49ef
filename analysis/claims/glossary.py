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
import unicodedata
from functools import lru_cache
from importlib import resources

import yaml

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
    return parse_glossary(yaml.safe_load(text))
# Scripts whose text is glossed; other text is returned as it is.
NATIVE_SCRIPT_RE = re.compile(r"[\u0400-\u04ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _pattern(word: str, language: str) -> str:
    """The regex of one lexicon word: ``*`` is any ending of the word it ends; Russian words are whole words."""
    body = r"\w*".join(re.escape(part) for part in word.split("*"))
    if language != "ru":
        return body
    return r"(?<!\w)" + body + ("" if word.endswith("*") else r"(?!\w)")


def _entries(glossary: dict[str, dict[str, tuple[str, ...]]]) -> list[tuple[str, str, str]]:
    """(pattern, plain word, gloss) for every word, the longest words first (the first alternative that matches
    at a position wins, so "朝鲜族" must be tried before "朝鲜")."""
    entries = [(_pattern(word, language), word.rstrip("*"), gloss)
               for gloss, languages in glossary.items() for language in _LANGUAGES
               for word in languages.get(language, ())]  # fmt: skip
    return sorted(entries, key=lambda entry: -len(entry[1]))


@lru_cache(maxsize=1)
def _compiled() -> tuple[re.Pattern[str], tuple[str, ...]]:
    entries = _entries(load_glossary())
    regex = re.compile("|".join(f"({pattern})" for pattern, _, _ in entries))
    return regex, tuple(gloss for _, _, gloss in entries)


# Negation of what is named, in the order English reads it ("rather than X"): Korean and Japanese mark it after
# the words ("건설 현장이 아니라", "建設現場ではなく"), Chinese and Russian before ("而不是", "а не", "не на").
_NEGATED_AFTER_RE = re.compile(
    r"((?:\s*[a-z][a-z'-]*){1,4})\s*(?:이|가|은|는)?\s*(?:아니라|아닌|ではなく|でなく|じゃなく)"
)
_NEGATED_BEFORE = {"而不是": "rather than", "而非": "rather than", "不是": "rather than", "而是": " . ",
                   "а не": "rather than", "не на": "not on", "не в": "not in"}  # fmt: skip
_NEGATED_BEFORE_RE = re.compile(r"(?<!\w)(?:а не|не на|не в)(?!\w)|而不是|而非|不是|而是")


def gloss(text: str) -> str:
    """``text`` (NFKC, casefolded) with every lexicon word replaced by its English gloss, spaced as a word, and
    negations written as English writes them."""
    if NATIVE_SCRIPT_RE.search(text) is None:
        return text
    regex, glosses = _compiled()
    text = regex.sub(lambda match: f" {glosses[match.lastindex - 1]} " if match.lastindex else match.group(0), text)
    text = _NEGATED_AFTER_RE.sub(lambda match: f" rather than {match.group(1).strip()} . ", text)
    return _NEGATED_BEFORE_RE.sub(lambda match: f" {_NEGATED_BEFORE[match.group(0)]} ", text)


def glosses_in(text: str) -> list[tuple[str, str]]:
    """(word as matched, gloss) for every lexicon word in a raw sentence: what ``claims match`` shows."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if NATIVE_SCRIPT_RE.search(text) is None:
        return []
    regex, glosses = _compiled()
    return [(match.group(0), glosses[match.lastindex - 1]) for match in regex.finditer(text) if match.lastindex]
