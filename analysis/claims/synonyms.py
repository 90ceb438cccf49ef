"""The English lexicon of the claim matcher: the known claims' words and the words news copy uses for them.

``synonyms.yaml`` beside this module lists, for a word of the claims' wording, its variants; normalising reads
each variant as its word ("siphoned" as "taken"), so that a paraphrase and its claim share the word that
matters. ``claims match`` shows the entries a sentence used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any

from analysis.claims.glossary import load_shipped_yaml

_WORD_RE = re.compile(r"^[a-z][a-z'-]*$")
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


class SynonymsError(ValueError):
    """The lexicon is malformed: every problem, one per line."""


def parse_synonyms(data: Any) -> dict[str, str]:
    """Each variant mapped to its word, from the YAML mapping ``word: [variants]``; SynonymsError listing every
    problem (not a mapping, a non-word, a variant under two words)."""
    if not isinstance(data, dict):
        raise SynonymsError("the lexicon must be a mapping of words to lists of variants")
    problems: list[str] = []
    owner: dict[str, str] = {}
    for word, variants in data.items():
        if not isinstance(word, str) or not _WORD_RE.match(word):
            problems.append(f"{word!r}: not a lower-case word")
            continue
        if not isinstance(variants, list) or not variants:
            problems.append(f"{word}: expected a non-empty list of variants")
            continue
        for variant in variants:
            if not isinstance(variant, str) or not _WORD_RE.match(variant):
                problems.append(f"{word}: {variant!r} is not a lower-case word")
            elif variant in owner and owner[variant] != word:
                problems.append(f"{word}: {variant!r} is already a variant of {owner[variant]!r}")
            elif variant == word or variant in data:
                problems.append(f"{word}: {variant!r} is a word of the lexicon itself")
            else:
                owner[variant] = word
    if problems:
        raise SynonymsError("\n".join(problems))
    return owner


@lru_cache(maxsize=1)
def word_map() -> dict[str, str]:
    """The shipped lexicon (``synonyms.yaml``): variant → word, read once."""
    text = resources.files("analysis.claims").joinpath("synonyms.yaml").read_text(encoding="utf-8")
    return parse_synonyms(load_shipped_yaml(text))


def synonyms_in(text: str) -> list[tuple[str, str]]:
    """The (variant, word) entries a casefolded text uses, in order, each once."""
    words = word_map()
    found = dict.fromkeys((token, words[token]) for token in _TOKEN_RE.findall(text) if token in words)
    return list(found)
