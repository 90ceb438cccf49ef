"""Words of a search query: Snowball stems, and the same word in the project's other languages.

``russian_prefix`` serves SQLite, whose FTS5 has no Russian stemmer: a Russian query word is looked up as its
Snowball stem followed by anything ("Пхеньяна" → ``пхенья*``, which finds Пхеньян, Пхеньяна, Пхеньяне).

``related_terms`` is the cross-language search: the multilingual lexicon of the claim matcher
(``analysis/claims/glossary.yaml``, English gloss → Korean, Russian, Chinese and Japanese words) read in both
directions, so "workers" also brings 노동자, рабоч*, 劳工, 労働者 … and 노동자 brings "workers" and the rest.
Terms come back in the query syntax of ``db.search``: a word ending in ``*`` is a prefix. Russian words keep the
lexicon's ``*``; Korean words get one, because Korean attaches particles to the word (노동자가, 노동자들).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from analysis.claims.glossary import load_glossary

if TYPE_CHECKING:
    import snowballstemmer

_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# A stem this short would reach unrelated words as a prefix (кор*: Корея, but also коридор): the word is kept.
MIN_STEM = 3
# Lexicon words of fewer characters than this are not matched as prefixes of a query word.
_MIN_PREFIX = 3


@lru_cache(maxsize=1)
def _stemmers() -> dict[str, snowballstemmer.Stemmer]:
    # Imported by the first search: its package imports the stemmers of every language (3 MiB), which a daemon
    # that is not asked to search would hold for its life.
    import snowballstemmer

    return {"en": snowballstemmer.stemmer("english"), "ru": snowballstemmer.stemmer("russian")}


def russian_prefix(word: str) -> str | None:
    """The Snowball stem of a Russian ``word`` (lowercase) to look up as a prefix, or None when ``word`` is not
    all Cyrillic letters or has no ending to take off that leaves ``MIN_STEM`` letters."""
    folded = word.casefold()
    if not _CYRILLIC_WORD.fullmatch(folded):
        return None
    stem = folded
    # Stemmed again until it stays: Snowball does not give every form one stem (Пхеньяна → пхенья, but
    # Пхеньяне → пхеньян), and the stem of a stem is the shorter prefix that every form starts with.
    for _ in range(3):
        shorter: str = _stemmers()["ru"].stemWord(stem)
        if shorter == stem or len(shorter) < MIN_STEM:
            break
        stem = shorter
    return stem if stem != folded else None


def _english_key(phrase: str) -> str:
    """A phrase as stemmed English words, lowercase: what a query word and a gloss are compared by."""
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)?", phrase.casefold())
    return " ".join(_stemmers()["en"].stemWords(words))


def _as_query_term(word: str, language: str) -> str:
    """A lexicon word in ``db.search``'s query syntax (Korean words as prefixes)."""
    if language == "ko":
        return " ".join(part.rstrip("*") + "*" for part in word.split())
    return word


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, list[str]], dict[str, str], list[tuple[str, str]]]:
    """(terms of each gloss, gloss of each stemmed English gloss, (prefix or word, gloss) of every other word)."""
    terms: dict[str, list[str]] = {}
    by_english: dict[str, str] = {}
    words: list[tuple[str, str]] = []
    for gloss, languages in load_glossary().items():
        terms[gloss] = [gloss] + [_as_query_term(w, lang) for lang, found in languages.items() for w in found]
        by_english.setdefault(_english_key(gloss), gloss)
        words += [(w, gloss) for found in languages.values() for w in found]
    return terms, by_english, words


def _glosses(term: str) -> list[str]:
    """The glosses ``term`` (a query word or phrase, ``*`` ends allowed) names, in English or another language."""
    _, by_english, words = _lexicon()
    plain = " ".join(word.rstrip("*") for word in term.casefold().split())
    found = [by_english[key]] if (key := _english_key(plain)) in by_english else []
    for word, gloss in words:
        prefix = word.endswith("*") and len(word) > _MIN_PREFIX
        if plain == word.rstrip("*") or (prefix and plain.startswith(word.rstrip("*"))):
            found.append(gloss)
    return list(dict.fromkeys(found))


def related_terms(term: str) -> list[str]:
    """The terms of every language that the lexicon gives for ``term``, the term itself left out, in lexicon
    order; empty when the lexicon does not have it."""
    terms = _lexicon()[0]
    own = term.casefold()
    related = [t for gloss in _glosses(term) for t in terms[gloss]]
    return [t for t in dict.fromkeys(related) if t.casefold() != own and t.rstrip("*") != own.rstrip("*")]


def has_hangul(term: str) -> bool:
    """Whether ``term`` has Korean letters (Korean is split at spaces: the index serves it; Chinese and Japanese
    are not)."""
    return bool(_HANGUL.search(term))
