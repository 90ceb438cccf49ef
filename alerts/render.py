"""Messages from events: Jinja2 templates rendering markdown (apprise converts it for HTML or text channels).

Article titles, sentences and source names are hostile input. In bodies the ``md`` filter escapes markdown and
HTML, and links are only made to http(s) URLs. A message title is plain text, and apprise hands it on as it is:
as the mail Subject, the ``title`` field of json/xml/form posts, a chat card's heading, or — for channels
without a title — converted from markdown with the body (raw HTML passes through that conversion). No one
escaping is right for all of these (``&lt;`` would show as such in a Subject), so titles are neutralised
instead: control, bidi and zero-width characters removed, ``<`` and ``>`` replaced by ``‹`` and ``›`` (no tag,
no autolink), and ``](`` split (no markdown link). Both go through ``plain_text`` first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")
# Characters that act rather than show. Controls (C0, C1: terminal escape sequences, line breaks) become spaces;
# bidi embeddings, overrides, isolates and marks (an RTL override shows what follows it reversed), zero-width
# spaces, word joiners and the BOM are dropped. Zero-width (non-)joiners stay: scripts and emoji need them.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_TITLE_MARKUP = str.maketrans({"<": "\u2039", ">": "\u203a"})
_TITLE_MAX = 200
_URL_SAFE = ":/?#@!$&*+,;=%-._~"  # no parentheses, brackets, quotes, spaces or angle brackets


def plain_text(value: Any) -> str:
    """``value`` as one line of visible text: controls, bidi and zero-width characters removed, spaces collapsed."""
    return " ".join(_INVISIBLE.sub("", _CONTROLS.sub(" ", "" if value is None else str(value))).split())


def plain_title(value: Any) -> str:
    """``value`` as a title that shows the same as text, markdown or HTML: ``plain_text`` with ``<``/``>`` replaced
    by look-alikes and markdown link syntax split."""
    return plain_text(value).translate(_TITLE_MARKUP).replace("](", "] (")


def escape_markdown(value: Any) -> Markup:
    """``value`` as literal text in markdown: ``plain_text``, HTML-escaped, markdown punctuation backslash-escaped."""
    text = plain_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markup(_MD_SPECIAL.sub(r"\\\1", text))  # noqa: S704 (escaped on the line above)


def _link(title: Any, url: Any) -> Markup:
    label = escape_markdown(title) or Markup("(untitled)")
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return label
    # Percent-encoding, not backslashes: markdown renderers differ on escapes inside link targets.
    safe = quote(url, safe=_URL_SAFE)
    return Markup(f"[{label}]({safe})")  # noqa: S704 (label escaped, URL percent-encoded)


# Autoescape on: anything a template prints without |md or link() is HTML-escaped, so a forgotten filter
# shows entities instead of letting markup through.
_ENV = Environment(loader=PackageLoader("alerts", "templates"), autoescape=True, undefined=StrictUndefined,
                   keep_trailing_newline=False, trim_blocks=False)
_ENV.filters["md"] = escape_markdown
_ENV.globals["link"] = _link


@dataclass(frozen=True)
class Message:
    """A rendered alert: a plain-text title and a markdown body."""

    title: str
    body: str


def _title(event: Mapping[str, Any]) -> str:
    kind = str(event["type"]).replace("_", " ")
    subject = event.get("summary") if event["type"] in ("claim_updated", "claim_corroborated") else event.get("title")
    text = plain_title(f"{kind}: {subject or event.get('summary') or ''}")
    source = f" ({plain_title(event['source_id'])})" if event.get("source_id") else ""
    title = f"[labourwatch] {text}"
    return (title[: _TITLE_MAX - len(source) - 1] + "…" if len(title) + len(source) > _TITLE_MAX else title) + source


def render_event(event: Mapping[str, Any], web_url: str | None = None) -> Message:
    """The message for one event (the dict form of ``db.events.event_dict``)."""
    body = _ENV.get_template("event.md.j2").render(event=_Event(event), web_url=(web_url or "").rstrip("/"))
    return Message(_title(event), body.strip())


def render_digest(route: str, events: Sequence[Mapping[str, Any]], since: str, web_url: str | None = None) -> Message:
    """One grouped message for a route's period: most important first, then oldest first."""
    ordered = sorted(events, key=lambda e: (-int(e.get("importance") or 0), str(e.get("created_at")), e.get("id")))
    base = (web_url or "").rstrip("/")

    def one(event: Mapping[str, Any]) -> Markup:
        return Markup(render_event(event, base).body)  # noqa: S704 (rendered with escaping above)

    body = _ENV.get_template("digest.md.j2").render(route=route, events=ordered, since=since, render_event=one)
    counts: dict[str, int] = {}
    for event in ordered:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
    return Message(plain_title(f"[labourwatch] digest for {route}: {parts}")[:_TITLE_MAX], body.strip())


class _Event(dict[str, Any]):
    """An event dict whose keys templates can read as attributes, details included (missing keys are None)."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name)
        return _Event(value) if isinstance(value, dict) else value
