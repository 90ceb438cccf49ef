"""A discovery as config: ``sources:`` entries with ids of their own, a commented YAML block that the config
loader accepts (checked here, before it is shown), and the JSON document of ``sources discover --format json``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from labourwatch.config import parse_config
from labourwatch.errors import ConfigError, LabourwatchError

if TYPE_CHECKING:  # the discovery package imports Scrapy: only the command that discovers pays for it
    from crawler.discovery import Candidate, Discovery

_SUFFIX = {"feed": "feed", "sitemap": "sitemap", "listing": "listing"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _slug(url: str) -> str:
    """``https://www.example.co.uk:8443/x`` → ``example-co-uk``: the host as a source id prefix."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:40].strip("-") or "site"


def _unique(base: str, taken: set[str]) -> str:
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


# The config loader resolves ``${NAME}`` in every string: a page title or URL holding one must not name an
# environment variable (or fail for want of one). A URL keeps its meaning with the brace percent-encoded.
def _literal_url(url: str) -> str:
    return url.replace("${", "$%7B")


def _literal(text: str) -> str:
    return text.replace("${", "$ {")


def _suffix(candidate: Candidate) -> str:
    return "news-sitemap" if candidate.news else _SUFFIX[candidate.kind]


def source_entries(discovery: Discovery, taken: Iterable[str] = ()) -> list[dict[str, Any]]:
    """One config entry per proposal; those not recommended are ``enabled: false``. Ids are the site's host
    and the kind, numbered past any id in ``taken`` (the sources already configured)."""
    used, prefix = set(taken), _slug(discovery.final_url or discovery.url)
    entries = []
    for candidate in discovery.candidates:
        entry: dict[str, Any] = {"id": _unique(f"{prefix}-{_suffix(candidate)}", used), "kind": candidate.kind,
                                 "url": _literal_url(candidate.url)}
        title = _CONTROL.sub(" ", candidate.title or "").strip()
        if title:
            entry["name"] = _literal(title[:200])
        language = (candidate.language or discovery.language or "").split("-")[0].lower()
        if re.fullmatch(r"[a-z]{2,3}", language):
            entry["language"] = language
        entry.update({key: _literal(value) if isinstance(value, str) else value
                      for key, value in candidate.options.items()})
        if not candidate.recommended:
            entry["enabled"] = False
        entries.append(entry)
    return entries


def _comment(candidate: Candidate) -> str:
    what = "news sitemap" if candidate.news else "sitemap index" if candidate.index else candidate.kind
    count = f"{candidate.items} {'child sitemaps' if candidate.index else 'links'}"
    note = f"; off: {candidate.note}" if not candidate.recommended and candidate.note else (
        f"; {candidate.note}" if candidate.note else "")
    return _CONTROL.sub(" ", f"# {what}, found by {candidate.found_by}, {count}{note}")


def sources_yaml(discovery: Discovery, entries: list[dict[str, Any]]) -> str:
    """The ``sources:`` block of ``entries``, each with a comment saying what it is and why it is on or off;
    raises LabourwatchError if the config loader would refuse it (a bug here, never the site's fault)."""
    on = sum(1 for e in entries if e.get("enabled", True))
    lines = [_CONTROL.sub(" ", f"# Proposed by `labourwatch sources discover {discovery.url}`: {on} of "
                               f"{len(entries)} switched on."), "sources:" if entries else "sources: []"]
    for candidate, entry in zip(discovery.candidates, entries, strict=True):
        lines.append(f"  {_comment(candidate)}")
        dumped = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=10_000)
        lines.extend(f"  {line}" for line in dumped.splitlines())
    text = "\n".join(lines) + "\n"
    try:
        parse_config(text, environ={})
    except ConfigError as exc:
        raise LabourwatchError("the proposed sources do not pass config validation: "
                               + "; ".join(exc.problems)) from exc
    return text


def discovery_json(discovery: Discovery, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything a discovery found: the config entries, each proposal's evidence, and every request made."""
    return {
        "url": discovery.url, "final_url": discovery.final_url, "title": discovery.title,
        "language": discovery.language, "sources": entries,
        "candidates": [{
            "id": entry["id"], "kind": c.kind, "url": c.url, "found_by": c.found_by, "title": c.title,
            "language": c.language, "items": c.items, "news": c.news, "index": c.index, "options": dict(c.options),
            "sample": list(c.sample), "recommended": c.recommended, "note": c.note,
        } for c, entry in zip(discovery.candidates, entries, strict=True)],
        "checks": [vars(check) for check in discovery.checks],
    }
