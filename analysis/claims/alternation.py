"""Faster regex alternations: the same matches as ``"|".join(alternatives)``, tried by first letter.

Python's regex engine tries the alternatives of ``a|b|c`` one after another at every position. When every
alternative starts with a plain letter, grouping them by that letter (``c(?:hina|hinese)|b(?:eijing)``) gives
the same match at every position, because alternatives with different first letters can never match at the
same position and those with the same one keep their order; but at each position only one group is entered.
"""

from __future__ import annotations

from collections.abc import Iterable

_QUANTIFIERS = frozenset("?*+{")


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a pattern: ``"a|b(?:c|d)"`` → ``["a", "b(?:c|d)"]``."""
    found: list[str] = []
    depth = 0
    start = 0
    in_class = escaped = False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            found.append(pattern[start:position])
            start = position + 1
    found.append(pattern[start:])
    return found


def by_first_letter(patterns: Iterable[str]) -> str:
    """An alternation of all the patterns' alternatives, grouped by first letter when that is safe.

    Falls back to the plain ``"|".join`` when an alternative does not start with a letter that stands alone
    (a group, an escape, a character class, or a letter with a quantifier such as ``a?``).
    """
    parts = [part for pattern in patterns for part in alternatives(pattern)]
    groups: dict[str, list[str]] = {}
    for part in parts:
        if not part or not (part[0].isascii() and part[0].isalpha()) or part[1:2] in _QUANTIFIERS:
            return "|".join(parts)
        groups.setdefault(part[0], []).append(part[1:])
    return "|".join(f"{letter}(?:{'|'.join(rests)})" for letter, rests in groups.items())
