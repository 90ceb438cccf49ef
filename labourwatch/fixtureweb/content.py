"""Deterministic article text: templates from ``corpus.json`` filled in from a seeded ``random.Random``.

An :class:`Article` is the mutable state of one published story; the fixture web edits it in place (figure
edits, corrections, headline changes) as it moves from state to state.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

# Values a figure can take; an edit moves to the next value in the tuple, so edits cycle forever.
FIGURE_CHOICES: dict[str, tuple[int, ...]] = {
    "workers": (50000, 15000, 35000, 45000, 20000),
    "entered": (10000, 12000, 8000, 11500, 9500),
    "hours": (18, 16, 20, 14),
    "share": (90, 80, 70, 95),
}
# Which figure a figure edit changes when an article has several.
FIGURE_PRIORITY = ("workers", "entered", "hours", "share")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Topic:
    """One story template: headline variants, a standfirst and paragraphs with ``{placeholders}``."""

    key: str
    titles: tuple[str, ...]
    standfirst: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class LanguagePack:
    """Everything written in one language: story templates, name pools and interface strings."""

    language: str
    on_topic: tuple[Topic, ...]
    off_topic: tuple[Topic, ...]
    figure_paragraphs: tuple[str, ...]
    context_paragraphs: tuple[str, ...]
    quotes: tuple[str, ...]
    pools: dict[str, tuple[dict[str, str], ...]]
    authors: tuple[str, ...]
    corrections: tuple[str, ...]
    ui: dict[str, Any]

    def text(self, key: str, **values: str) -> str:
        """An interface string with its placeholders filled in."""
        return fill(str(self.ui[key]), values)


def _topics(raw: list[dict[str, Any]]) -> tuple[Topic, ...]:
    return tuple(
        Topic(t["key"], tuple(t["titles"]), t["standfirst"], tuple(t["paragraphs"])) for t in raw
    )


@cache
def language_pack(language: str) -> LanguagePack:
    """The corpus for ``language`` ("en", "ko", "ru", "zh" or "ja"), loaded once."""
    raw = json.loads(Path(__file__).with_name("corpus.json").read_text("utf-8"))[language]
    return LanguagePack(
        language=language,
        on_topic=_topics(raw["on_topic"]),
        off_topic=_topics(raw["off_topic"]),
        figure_paragraphs=tuple(raw["figure_paragraphs"]),
        context_paragraphs=tuple(raw["context_paragraphs"]),
        quotes=tuple(raw["quotes"]),
        pools={name: tuple(entries) for name, entries in raw["pools"].items()},
        authors=tuple(raw["authors"]),
        corrections=tuple(raw["corrections"]),
        ui=raw["ui"],
    )


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` placeholders that ``values`` knows; leave the others for a later pass."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), template)


def format_figure(key: str, value: int, language: str) -> str:
    """A figure as the language writes it: 15,000 (en), 15 000 (ru), 1만 5천 (ko), 1.5万 (zh), 1万5000 (ja)."""
    if key in ("hours", "share"):
        return str(value)
    if language == "ru":
        return f"{value:,}".replace(",", " ")
    if language == "ko":
        return _korean_count(value)
    if language == "zh":
        return _chinese_count(value)
    if language == "ja":
        return _japanese_count(value)
    return f"{value:,}"


def _korean_count(value: int) -> str:
    # Korean groups by ten thousand (만) and writes thousands with 천: 13,221 → "1만 3천 221".
    man, rest = divmod(value, 10000)
    thousands, units = divmod(rest, 1000)
    parts = [f"{man}만"] if man else []
    parts += [f"{thousands}천"] if thousands else []
    parts += [str(units)] if units else []
    return " ".join(parts) or "0"


def _chinese_count(value: int) -> str:
    # Chinese news copy writes ten thousands as a decimal of 万: 15,000 → "1.5万", 11,500 → "1.15万", 8,000 → "8000".
    if value < 10000:
        return str(value)
    man, rest = divmod(value, 10000)
    return f"{man}.{rest:04d}".rstrip("0").rstrip(".") + "万"


def _japanese_count(value: int) -> str:
    # Japanese news copy writes 万 and then the rest in digits: 15,000 → "1万5000", 8,000 → "8000".
    man, rest = divmod(value, 10000)
    return (f"{man}万" if man else "") + (str(rest) if rest else "") or "0"


def format_datetime(moment: datetime, language: str) -> str:
    """A human date and time in the language's newspaper style (always UTC)."""
    ui = language_pack(language).ui
    return fill(ui["datetime_format"], {
        "d": str(moment.day), "month": ui["months"][moment.month - 1], "y": str(moment.year),
        "hh": f"{moment.hour:02d}", "mm": f"{moment.minute:02d}",
    })


@dataclass(eq=False)
class Article:
    """One published article and its edit history (mutable: the fixture web edits it between states)."""

    site_id: str
    slug: str
    index: int
    language: str
    on_topic: bool
    topic: str
    author: str
    published: datetime
    titles: tuple[str, ...]
    title_index: int
    standfirst: str
    templates: tuple[str, ...]
    figures: dict[str, int]
    corrections: list[str] = field(default_factory=list)
    version: int = 1
    modified: datetime | None = None
    title_changed: datetime | None = None

    @property
    def title(self) -> str:
        """The current headline."""
        return self.titles[self.title_index % len(self.titles)]

    @property
    def last_modified(self) -> datetime:
        """When the main text or headline last changed (the publication time if never)."""
        return self.modified or self.published

    @property
    def feed_updated(self) -> datetime:
        """When something a feed shows about this article (its headline) last changed."""
        return self.title_changed or self.published

    def paragraphs(self) -> list[str]:
        """The main text, paragraph by paragraph, corrections last."""
        values = {k: format_figure(k, v, self.language) for k, v in self.figures.items()}
        return [fill(t, values) for t in self.templates] + list(self.corrections)

    def figure_key(self) -> str | None:
        """The figure a figure edit would change, if the article has one."""
        return next((k for k in FIGURE_PRIORITY if k in self.figures), None)

    def edit_figure(self, at: datetime) -> tuple[str, str]:
        """Change one figure in the body; returns the old and new figure as written."""
        key = self.figure_key()
        if key is None:
            raise ValueError(f"article {self.slug} has no figure to edit")
        choices = FIGURE_CHOICES[key]
        old = self.figures[key]
        new = choices[(choices.index(old) + 1) % len(choices)]
        self.figures[key] = new
        self._touch(at)
        return format_figure(key, old, self.language), format_figure(key, new, self.language)

    def change_headline(self, at: datetime) -> tuple[str, str]:
        """Move to the next headline variant; returns the old and new headline."""
        old = self.title
        self.title_index = (self.title_index + 1) % len(self.titles)
        self.title_changed = at
        self._touch(at)
        return old, self.title

    def add_correction(self, at: datetime) -> str:
        """Append a correction paragraph dated ``at``; returns its text."""
        pack = language_pack(self.language)
        template = pack.corrections[(self.index + len(self.corrections)) % len(pack.corrections)]
        text = fill(template, {"date": format_datetime(at, self.language)})
        self.corrections.append(text)
        self._touch(at)
        return text

    def _touch(self, at: datetime) -> None:
        self.version += 1
        self.modified = at


def make_article(site_id: str, language: str, index: int, on_topic: bool, ordinal: int,
                 published: datetime) -> Article:
    """Build article number ``index`` of a site; ``ordinal`` counts earlier articles of the same kind."""
    pack = language_pack(language)
    rng = random.Random(f"{site_id}:{index}")
    topics = pack.on_topic if on_topic else pack.off_topic
    offset = random.Random(f"topics:{site_id}:{on_topic}").randrange(len(topics))
    topic = topics[(ordinal + offset) % len(topics)]
    title_index = rng.randrange(len(topic.titles))
    author = rng.choice(pack.authors)
    values: dict[str, str] = {}
    for pool in pack.pools.values():
        values.update(rng.choice(pool))
    templates = _body_templates(pack, topic, rng) if on_topic else list(topic.paragraphs)
    templates = [fill(t, values) for t in templates]
    keys = {m[1] for t in templates for m in _PLACEHOLDER.finditer(t)}
    figures = {k: rng.choice(FIGURE_CHOICES[k]) for k in FIGURE_PRIORITY if k in keys}
    return Article(
        site_id=site_id, slug=f"{topic.key}-{index:04d}", index=index, language=language,
        on_topic=on_topic, topic=topic.key, author=author, published=published,
        titles=tuple(fill(t, values) for t in topic.titles), title_index=title_index,
        standfirst=fill(topic.standfirst, values), templates=tuple(templates), figures=figures,
    )


def _body_templates(pack: LanguagePack, topic: Topic, rng: random.Random) -> list[str]:
    # Topic paragraphs carry the story; one figure paragraph guarantees something to edit, and a
    # quote and a background paragraph make same-topic articles differ from each other.
    paragraphs = list(topic.paragraphs)
    figure = rng.choice(pack.figure_paragraphs)
    quote = rng.choice(pack.quotes)
    context = rng.choice(pack.context_paragraphs)
    return [*paragraphs[:2], figure, *paragraphs[2:3], quote, context, *paragraphs[3:]]
