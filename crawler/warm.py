"""Imported by the extraction workers' fork server (``crawler.workers``): builds the claim matcher's lexicons (the
multilingual glossary, the English synonyms, the gazetteer and slot patterns) once, there, so every worker forked
from it starts with them in memory (their pages shared, not copied) instead of each building them during its first
page. Importing it twice does nothing more."""

from __future__ import annotations

from analysis.claims.compare import compare
from analysis.claims.matcher import analyse
from analysis.claims.normalise import normalise_for_matching

# One sentence in the five languages reaches every lexicon the matcher builds on first use: glossing, the
# synonyms, figures, and every slot that comparing reads.
_SAMPLE = "North Korean workers 북한 노동자 северокорейские рабочие 朝鲜劳工 北朝鮮労働者 earn $500 a month in Russia."
normalise_for_matching(_SAMPLE)
compare(analyse(_SAMPLE).side, analyse("North Korean workers in China earn $300 a month.").side)
