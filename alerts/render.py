"""Messages from events: one set of Jinja2 templates rendered three ways — markdown, plain text and HTML — so
each channel gets the body written in the format it shows (``alerts.send`` picks it from apprise).

Article titles, sentences and source names are hostile input. In bodies every value goes through the ``md``
filter, which makes it literal text in the message's format: markdown-escaped (backslashes, HTML entities), left
as it is in plain text, HTML-escaped in HTML. Links (``link``) are only made to http(s) URLs; the few structural
pieces (``strong``, ``quote``, ``rule``) are filters and globals of the format too. In all three, control, bidi
and zero-width characters are removed first (``plain_text``).

A message title is plain text, and apprise hands it on as it is: as the mail Subject, the ``title`` field of
json/xml/form posts, a chat card's heading, or — for channels without a title — blended into the body. No one
escaping is right for all of these (``&lt;`` would show as such in a Subject), so titles are neutralised instead:
``plain_text``, then ``<`` and ``>`` replaced by ``‹`` and ``›`` (no tag, no autolink), and ``](`` split (no
markdown link).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

# The body formats, named as apprise names them (``apprise.NotifyFormat`` values).
MARKDOWN, TEXT, HTML = "markdown", "text", "html"
FORMATS = (MARKDOWN, TEXT, HTML)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|~>])")
# Characters that act rather than show. Controls (C0, C1: terminal escape sequences, line breaks) become spaces;
# bidi embeddings, overrides, isolates and marks (an RTL override shows what follows it reversed), zero-width
# spaces, word joiners and the BOM are dropped. Zero-width (non-)joiners stay: scripts and emoji need them.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_TITLE_MARKUP = str.maketrans({"<": "\u2039", ">": "\u203a"})
_TITLE_MAX = 200
_URL_SAFE = ":/?#@!$&*+,;=%-._~"  # no parentheses, brackets, quotes, spaces or angle brackets
# Blocks of an HTML body that are already elements (only our filters write a "<" in a body: values are escaped).
_HTML_BLOCKS = ("<p>", "<blockquote>", "<hr>", "<ul>")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


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


def escape_text(value: Any) -> Markup:
    """``value`` as literal plain text: ``plain_text``, nothing escaped (a text body is not interpreted)."""
    return Markup(plain_text(value))  # noqa: S704 (plain text: nothing in it acts)


def escape_html(value: Any) -> Markup:
    """``value`` as literal text in HTML: ``plain_text``, HTML-escaped (quotes included)."""
    return Markup(html.escape(plain_text(value), quote=True))  # noqa: S704 (escaped here)


def _web_url(url: Any) -> str | None:
    """``url`` percent-encoded when it is an http(s) URL, else None (javascript:, data:, relative: no link)."""
    if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
        return None
    # Percent-encoding, not backslashes: markdown renderers differ on escapes inside link targets.
    return quote(plain_text(url), safe=_URL_SAFE)


class _Escaped(Markup):
    """Text one of the filters below made: escaped for its format, never escaped again. (Jinja's own filters
    return plain ``Markup`` — HTML-escaped only — which ``md`` still escapes for the format.)"""

    __slots__ = ()


@dataclass(frozen=True)
class _Style:
    """How one body format writes literal text, a link and the few structural pieces the templates use."""

    text: Callable[[Any], Markup]
    strong: str  # a format string around escaped text
    quote: str
    rule: str
    link: str  # a format string with {label} and {url}
    attribute_url: bool = False  # the URL goes into an HTML attribute (HTML-escaped there)

    def esc(self, value: Any) -> Markup:
        """``value`` escaped for this format, unless it already is (the result of one of these filters)."""
        return value if isinstance(value, _Escaped) else _Escaped(self.text(value))

    def values(self, items: Iterable[Any]) -> Markup:
        """Items (figures, claim ids) escaped and joined by commas; TypeError when there is no list."""
        return self.esc(", ".join(plain_text(item) for item in items))

    def wrap(self, form: str) -> Callable[[Any], Markup]:
        """A filter putting escaped text into ``form``."""
        return lambda value: _Escaped(form.format(self.esc(value)))

    def make_link(self, title: Any, url: Any) -> Markup:
        """``title`` linked to ``url`` when that is an http(s) URL; the title alone otherwise."""
        label = self.esc(title) or _Escaped("(untitled)")
        safe = _web_url(url)
        if safe is None:
            return label
        url = html.escape(safe, quote=True) if self.attribute_url else safe
        return _Escaped(self.link.format(label=label, url=url))  # label escaped, URL percent-encoded


_STYLES: dict[str, _Style] = {
    MARKDOWN: _Style(escape_markdown, "**{}**", "> {}", "---", "[{label}]({url})"),
    TEXT: _Style(escape_text, "{}", "\u201c{}\u201d", "----------", "{label} <{url}>"),
    HTML: _Style(escape_html, "<b>{}</b>", "<blockquote>{}</blockquote>", "<hr>",
                 '<a href="{url}" rel="noopener noreferrer nofollow">{label}</a>', attribute_url=True),
}


def _environment(fmt: str) -> Environment:
    # Autoescape on: anything a template prints without |md or link() is HTML-escaped, so a forgotten filter
    # shows entities instead of letting markup through.
    style = _STYLES[fmt]
    env = Environment(loader=PackageLoader("alerts", "templates"), autoescape=True, undefined=StrictUndefined,
                      keep_trailing_newline=False, trim_blocks=False)
    env.filters.update(md=style.esc, values=style.values, strong=style.wrap(style.strong),
                       quote=style.wrap(style.quote))
    env.globals.update(link=style.make_link, rule=Markup(style.rule), fmt=fmt)  # noqa: S704 (constant)
    return env


_ENVS = {fmt: _environment(fmt) for fmt in FORMATS}


def _html_blocks(body: str) -> str:
    """An HTML body from blank-line-separated blocks: paragraphs (lines joined by ``<br>``), ``- `` lines as a
    list; blocks that are elements already stay as they are."""
    out = []
    for block in _BLANK_LINES.split(body.strip()):
        lines = block.splitlines()
        if block.startswith(_HTML_BLOCKS):
            out.append(block)
        elif all(line.startswith("- ") for line in lines):
            out.append("<ul>" + "".join(f"<li>{line[2:]}</li>" for line in lines) + "</ul>")
        elif block:
            out.append("<p>" + "<br>\n".join(lines) + "</p>")
    return "\n\n".join(out)


def _finish(body: str, fmt: str) -> str:
    body = _BLANK_LINES.sub("\n\n", body.strip())
    return _html_blocks(body) if fmt == HTML else body


@dataclass(frozen=True)
class Message:
    """A rendered alert: a plain-text title and its body in markdown (``body``), and, when rendered for them, in
    plain text and HTML (``alerts.send`` sends the one the channel shows)."""

    title: str
    body: str
    text: str | None = None
    html: str | None = None

    def body_for(self, fmt: str) -> tuple[str, str]:
        """The body for a channel that shows ``fmt`` and the format it is written in: this message's rendering
        in ``fmt`` when it has one, else the markdown (apprise then converts it)."""
        own = {MARKDOWN: self.body, TEXT: self.text, HTML: self.html}.get(fmt)
        return (own, fmt) if own is not None else (self.body, MARKDOWN)


def notice(title: str, text: str) -> Message:
    """A message of our own words (no event): ``text`` as literal text in every format."""
    return Message(plain_title(title), *(_finish(str(_STYLES[fmt].esc(text)), fmt) for fmt in FORMATS))


def _clip(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(0, room - 1)].rstrip() + "…"


def _title(event: Mapping[str, Any]) -> str:
    kind = str(event["type"])
    source = f" ({plain_title(event['source_id'])})" if event.get("source_id") else ""
    room = _TITLE_MAX - len(source) - len("[labourwatch] ")
    if kind == "story":
        # "K01 updated: 10,000 → 12,000 — <headline>": what changed first, the headline after it, both kept
        # (the summary shortened first, to at most what leaves half the room for the headline).
        summary, headline = plain_title(event.get("summary")), plain_title(event.get("title"))
        if summary and headline:
            summary = _clip(summary, max(room // 2, room - 3 - len(headline)))
            text = f"{summary} — {headline}"
        else:
            text = summary or headline or "story"
    elif kind == "baseline":
        text = plain_title(event.get("title") or event.get("summary") or "baseline")
    else:
        subject = event.get("summary") if kind in ("claim_updated", "claim_corroborated") else event.get("title")
        text = plain_title(f"{kind.replace('_', ' ')}: {subject or event.get('summary') or ''}")
    return f"[labourwatch] {_clip(text, room)}{source}"


def _body(event: Mapping[str, Any], web_url: str, fmt: str) -> str:
    return _finish(_ENVS[fmt].get_template("event.j2").render(event=_Event(event), web_url=web_url), fmt)


def render_event(event: Mapping[str, Any], web_url: str | None = None) -> Message:
    """The message for one event (the dict form of ``db.events.event_dict``), in every body format."""
    base = (web_url or "").rstrip("/")
    return Message(_title(event), *(_body(event, base, fmt) for fmt in FORMATS))


def render_digest(route: str, events: Sequence[Mapping[str, Any]], since: str, web_url: str | None = None) -> Message:
    """One grouped message for a route's period: most important first, then oldest first."""
    ordered = sorted(events, key=lambda e: (-int(e.get("importance") or 0), str(e.get("created_at")), e.get("id")))
    base = (web_url or "").rstrip("/")

    def body(fmt: str) -> str:
        def one(event: Mapping[str, Any]) -> Markup:
            return Markup(_body(event, base, fmt))  # noqa: S704 (rendered with escaping)

        template = _ENVS[fmt].get_template("digest.j2")
        return _finish(template.render(route=route, events=ordered, since=since, render_event=one), fmt)

    counts: dict[str, int] = {}
    for event in ordered:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items())
    return Message(plain_title(f"[labourwatch] digest for {route}: {parts}")[:_TITLE_MAX],
                   *(body(fmt) for fmt in FORMATS))


class _Event(dict[str, Any]):
    """An event dict whose keys templates can read as attributes, details (and lists of dicts in them) included;
    missing keys are None."""

    def __getattr__(self, name: str) -> Any:
        return _wrapped(self.get(name))


def _wrapped(value: Any) -> Any:
    if isinstance(value, dict):
        return _Event(value)
    if isinstance(value, list):  # a story's claims: a list of dicts
        return [_Event(item) if isinstance(item, dict) else item for item in value]
    return value
