"""Fetching: Scrapy spiders by source kind, conditional GET, politeness and safety, article extraction."""
