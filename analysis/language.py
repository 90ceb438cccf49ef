"""A script-based language guess for the five topic languages: cheap, offline, no model to download."""

from __future__ import annotations

from collections import Counter

_RANGES = (
    ("ko", (0xAC00, 0xD7AF)), ("ko", (0x1100, 0x11FF)), ("ko", (0x3130, 0x318F)),
    ("ja", (0x3040, 0x30FF)),
    ("zh", (0x4E00, 0x9FFF)),
    ("ru", (0x0400, 0x04FF)),
    ("en", (0x0041, 0x005A)), ("en", (0x0061, 0x007A)),
)


def _script(char: str) -> str | None:
    code = ord(char)
    for language, (low, high) in _RANGES:
        if low <= code <= high:
            return language
    return None


def guess_language(text: str, sample: int = 2000) -> str | None:
    """``ko``, ``ja``, ``zh``, ``ru`` or ``en`` by the dominant script of the first ``sample`` characters.

    Kana anywhere means Japanese (Japanese mixes kana with Han characters); Latin script is reported
    as English, the only Latin-script language the topic terms cover."""
    counts = Counter(filter(None, map(_script, text[:sample])))
    if not counts:
        return None
    if counts["ja"] and counts["ja"] * 10 >= counts["zh"]:
        return "ja"
    return counts.most_common(1)[0][0]
