"""The key a claim sentence is stored under with its article, by review decisions and candidate sightings alike."""

from __future__ import annotations

import hashlib


def sentence_hash(sentence: str) -> str:
    """The key a decision (and a candidate's sighting) is stored under, with the article id."""
    return hashlib.sha256(sentence.encode("utf-8")).hexdigest()
