"""The labourwatch exception hierarchy.

    LabourwatchError
    ├── ConfigError          invalid configuration; carries every problem with its path
    ├── CrawlError           a crawl could not start (not a per-source failure: those are recorded)
    └── DiscoveryError       ``sources discover`` could not read the site, or found nothing to propose

    db.errors.SchemaOutOfDateError   the database is not at the migration head (raised by db/, which
                                     cannot import this package)
"""

from __future__ import annotations


class LabourwatchError(Exception):
    """Base class of every error labourwatch raises on purpose."""


class ConfigError(LabourwatchError):
    """The configuration is invalid. ``problems`` holds one ``"path: message"`` line per problem."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))


class CrawlError(LabourwatchError):
    """A crawl could not be started at all."""


class DiscoveryError(LabourwatchError):
    """``sources discover`` could not read the site's page, or found no source on it."""
