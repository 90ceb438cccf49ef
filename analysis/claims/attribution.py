"""Attributions: the part of a sentence that says who reports it ("defectors say", "according to a researcher").

A sentence's subject is what it reports, never its source: "most of the money is taken by the state, defectors
say" is about workers' pay, not about defectors. The subject gate reads roles (workers, soldiers, defectors …)
from the sentence with its attributions taken out. Prepared (lower-case) text in, the same text with each
attribution blanked out.
"""

from __future__ import annotations

import re

# Verbs that introduce reported speech or belief, in the forms news copy uses them.
_SPEECH = (
    r"said|says|say|saying|told|tells|tell|report(?:s|ed)?|argue[sd]?|argues|insist(?:s|ed)?|claim(?:s|ed)?"
    r"|believe[sd]?|estimate[sd]?|testif(?:y|ies|ied)|recall(?:s|ed)?|allege[sd]?|wr[io]te|writes|added|adds"
    r"|not(?:ed|es)|warn(?:s|ed)|explain(?:s|ed)|describ(?:e|es|ed)|recount(?:s|ed)?|stat(?:es|ed)|confirm(?:s|ed)"
    r"|acknowledg(?:es|ed)"
)
# "according to X", up to the next clause boundary.
_ACCORDING_RE = re.compile(r"\baccording to\b[^,;:.]*,?")
# A closing attribution: ", a researcher at the institute told reporters." — a clause of at most eight words
# that ends the sentence and holds a verb of speech.
_TRAILING_RE = re.compile(rf",\s*(?:as\s+)?(?:[\w'.-]+\s+){{0,8}}?(?:{_SPEECH})\b[^,;:]*?[.!?\"”']*\s*$")
# An opening attribution: "Defectors say (that) …", "Seoul's spy agency believes …": at most six words, then the
# verb of speech (and who was told), then the report itself. The speakers may carry a relative clause of up to
# eight words that says who they are: "Defectors who worked on Russian building sites describe …".
_LISTENER = r"reporters|journalists|us|him|her|them|the (?:paper|newspaper|agency|broadcaster|outlet|committee|court)"
_SPEAKERS = r"(?:[\w'.-]+\s+){1,6}?|(?:[\w'.-]+\s+){1,3}?who\s+(?:[\w'.-]+\s+){1,8}?"
_LEADING_RE = re.compile(
    rf"^\s*(?:{_SPEAKERS})(?:{_SPEECH})(?:\s+(?:{_LISTENER}))?(?:\s*,|\s+that\b|(?=\s))"
)


# A report that goes on with a pronoun is about its speakers ("the soldiers said they were sent to Kursk").
_PRONOUN_RE = re.compile(r"\s*(?:they|he|she|we|i)\b")


def without_attributions(text: str) -> str:
    """``text`` without its attributions: what the sentence reports, not who reports it."""
    text = _ACCORDING_RE.sub(" ", text)
    text = _TRAILING_RE.sub(" ", text)
    leading = _LEADING_RE.match(text)
    if leading is None or _PRONOUN_RE.match(text, leading.end()):
        return text
    return " " + text[leading.end():]
