"""Imported by the extraction workers' fork server (``crawler.workers``): loads the claim matcher's semantic
model once, there, so every worker forked from it starts with the model in memory (its pages shared, not copied)
instead of each loading it during its first page. Nothing else; importing it twice does nothing more."""

from __future__ import annotations

from analysis.claims import semantic

semantic.warm()
