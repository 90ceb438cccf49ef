"""Frozen value types passed between the pure core and its adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TextPositions:
    """Where a document's text lines were in the document: ``unit`` is ``page`` (PDF) or ``paragraph`` (DOCX), and
    ``starts[n]`` the index of the first line (of ``text.splitlines()``) of unit n + 1, ascending (a page without
    text starts where the next one does). ``analysis.positions`` reads them."""

    unit: str
    starts: tuple[int, ...]


@dataclass(frozen=True)
class ArticleDoc:
    """What extraction found on one article page."""

    url: str
    canonical_url: str
    title: str
    text: str
    byline: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    positions: TextPositions | None = None  # a document's pages or paragraphs; None for a web page


@dataclass(frozen=True)
class TopicTerms:
    """Keyword groups of one language: an article is on topic when a DPRK term and a labour term
    occur within ``Topic.window`` characters of each other.

    ``exclude`` lists phrases that hide any term match lying inside them, in every language: "Workers'
    Party" is North Korea's ruling party, not its workers; 朝鲜族 are China's ethnic Koreans.
    """

    dprk: tuple[str, ...]
    labour: tuple[str, ...]
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topic:
    """The topic filter: keyword groups per language code and the proximity window."""

    languages: dict[str, TopicTerms]
    window: int = 150
    min_score: float = 0.2


@dataclass(frozen=True)
class Relevance:
    """The topic filter's verdict on one article."""

    relevant: bool
    score: float
    terms: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    """How one stored version of an article differs from the previous one."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    unified: str
    title_changed: bool
    body_changed: bool
    figures_changed: bool
    figures_before: tuple[str, ...] = field(default=())
    figures_after: tuple[str, ...] = field(default=())
    # The line (of the text's ``splitlines()``) each added sentence is on in the new text, each removed one in
    # the old: a document's page or paragraph is found from it.
    added_lines: tuple[int, ...] = field(default=())
    removed_lines: tuple[int, ...] = field(default=())

    @property
    def changed_parts(self) -> tuple[str, ...]:
        """The names of the parts that changed, in a stable order: title, body, figures."""
        parts = (
            ("title", self.title_changed),
            ("body", self.body_changed),
            ("figures", self.figures_changed),
        )
        return tuple(name for name, changed in parts if changed)
