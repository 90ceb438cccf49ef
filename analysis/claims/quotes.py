"""Quotes and attributions: sentences that say who speaks or what was said, not a claim of their own.

"According to two former workers, it was like that." and "'It was terrible,' said an official." are matched
as ``new`` because no known claim resembles them, yet they report no figure and fill no claim slot: the article
page shows them as quotes and attributions instead. The stored verdicts are left as they are.
"""

from __future__ import annotations

import re

from analysis.claims import slots
from analysis.claims.attribution import without_attributions
from analysis.claims.quantities import extract_from_prepared, prepare_text

# Text between quotation marks: straight, typographic, guillemets and CJK corner brackets.
_QUOTED_RE = re.compile(r"\"[^\"]*\"|“[^”]*”|«[^»]*»|„[^“”]*[“”]|「[^」]*」")
# A word of what is left once attributions and quotations are out.
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
# At most this many words besides the attribution: "it was like that, a worker said" says nothing checkable.
_MOST_WORDS = 6


def attribution_only(sentence: str) -> bool:
    """Whether a raw sentence is mainly an attribution or a quotation that states no figure and no claim slot
    (place, sector, topic, direction): one the article page groups under quotes rather than as a new claim."""
    prepared = prepare_text(sentence)
    if extract_from_prepared(prepared):
        return False
    reported = without_attributions(prepared)
    unquoted = _QUOTED_RE.sub(" ", reported)
    if reported == prepared and unquoted == reported:
        return False  # neither attributed nor quoted: a plain statement
    if slots.places(reported) or slots.sectors(reported) or slots.topics(reported) or slots.direction(reported):
        return False
    # A quotation that takes up most of the sentence is the speaker's words; else what is left must be short.
    quoted = len(reported) - len(unquoted.strip())
    return quoted * 2 >= len(reported.strip()) or len(_WORD_RE.findall(unquoted)) <= _MOST_WORDS
