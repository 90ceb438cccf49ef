"""The pure core of labourwatch: text normalisation, relevance, diffs and (later) claim matching.

Nothing in this package does I/O or imports Scrapy, SQLAlchemy or any other labourwatch package;
it takes plain values and returns frozen dataclasses, so the crawler, the CLI, the web UI and the
tests all share one implementation.
"""
