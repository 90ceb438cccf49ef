"""Sentence-level differences between two stored versions of an article."""

from __future__ import annotations

import difflib
from collections import Counter

from analysis.claims.numwords import words_to_digits
from analysis.figures import find_numbers, number_value
from analysis.text import normalise_text, split_sentence_lines
from analysis.types import VersionDiff


def _sentences(text: str) -> tuple[list[str], list[str], list[int]]:
    """The sentences of ``text``, their normalised forms and the lines they are on, leaving out sentences that
    normalise to nothing (timestamp lines, stray punctuation), which the content hash ignores too."""
    originals: list[str] = []
    normalised: list[str] = []
    lines: list[int] = []
    for line, sentence in split_sentence_lines(text):
        key = normalise_text(sentence)
        if key:
            originals.append(sentence)
            normalised.append(key)
            lines.append(line)
    return originals, normalised, lines


def _figure_key(token: str) -> float | str:
    """What makes two figures the same: their value ("50,000" is 50 000), else their normalised text."""
    value = number_value(token)
    return normalise_text(token) if value is None else value


def _unmatched_figures(tokens: list[str], others: list[str]) -> tuple[str, ...]:
    """The tokens, in order, that have no counterpart of equal value left in ``others`` (a multiset)."""
    available = Counter(_figure_key(token) for token in others)
    unmatched: list[str] = []
    for token in tokens:
        key = _figure_key(token)
        if available[key] > 0:
            available[key] -= 1
        else:
            unmatched.append(token)
    return tuple(unmatched)


def _unified(old_lines: list[str], new_lines: list[str]) -> str:
    """A unified diff of two line lists, labelled previous and current; empty when they are equal."""
    lines = difflib.unified_diff(old_lines, new_lines, fromfile="previous", tofile="current", lineterm="")
    return "\n".join(lines)


def diff_versions(old_title: str, old_text: str, new_title: str, new_text: str) -> VersionDiff:
    """How the new version of an article differs from the old one, sentence by sentence.

    Sentences are compared in normalised form, so re-punctuation and re-spacing are not changes;
    ``added`` and ``removed`` carry the sentences as written.
    """
    old_sentences, old_keys, old_at = _sentences(old_text)
    new_sentences, new_keys, new_at = _sentences(new_text)
    # Lines for the unified diff: a sentence equal to its counterpart up to normalisation is shown in
    # its current form on both sides, so the diff lists exactly the added and removed sentences.
    old_lines = list(old_sentences)
    added: list[str] = []
    removed: list[str] = []
    added_lines: list[int] = []
    removed_lines: list[int] = []
    matcher = difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            old_lines[i1:i2] = new_sentences[j1:j2]
        else:
            removed.extend(old_sentences[i1:i2])
            added.extend(new_sentences[j1:j2])
            removed_lines.extend(old_at[i1:i2])
            added_lines.extend(new_at[j1:j2])
    title_changed = normalise_text(old_title) != normalise_text(new_title)
    shown_old_title = old_title if title_changed else new_title
    figures_before = _unmatched_figures(_numbers(old_sentences), _numbers(new_sentences))
    figures_after = _unmatched_figures(_numbers(new_sentences), _numbers(old_sentences))
    return VersionDiff(
        added=tuple(added),
        removed=tuple(removed),
        unified=_unified([f"# {shown_old_title}", *old_lines], [f"# {new_title}", *new_sentences]),
        title_changed=title_changed,
        body_changed=bool(added or removed),
        figures_changed=bool(figures_before or figures_after),
        figures_before=figures_before,
        figures_after=figures_after,
        added_lines=tuple(added_lines),
        removed_lines=tuple(removed_lines),
    )


def _numbers(sentences: list[str]) -> list[str]:
    """The numeric tokens of the sentences, in order; numbers written in words count, in digits ("twelve
    hundred" is 1200, "four-fifths" 80), so an edit from "a third" to "half" is a changed figure too."""
    return [token for sentence in sentences for token in find_numbers(words_to_digits(sentence))]
