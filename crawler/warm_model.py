"""Imported by the extraction workers' fork server (``crawler.workers``) when the crawl matches claims with the
semantic signal on: loads the model once, there, so every worker forked from it starts with it in memory (its
pages shared, not copied) instead of each loading it during its first page."""

from __future__ import annotations

from analysis.claims import semantic

semantic.warm()
