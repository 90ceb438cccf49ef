"""Server-rendered SVG charts of the researcher pages: a claim's figure history (the value each outlet report gave,
over time, against the claim's own value) and the dashboard's events per day by type (stacked bars).

Each chart is inline SVG markup: no script, no style attribute (the CSP forbids both), only classes that
web/static/pages.css colours, a ``viewBox`` so it scales to the screen, and a ``<title>``/``<desc>`` for screen
readers (the pages also list the numbers in a table). Every label is escaped here: outlet names and sentences
are text from outlets, hostile markup included.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape

from analysis.claims.quantities import extract_quantities

# The drawing's own units; the SVG is as wide as its box, so these set the proportions and the text size (13 units
# is about 11 px on a 390 px phone, 13 px at most on a desktop, where the chart's width is capped by CSS).
WIDTH, HEIGHT = 400.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 46.0, 12.0, 14.0, 40.0
CLAIMED, CORROBORATED, UPDATE = "claimed", "corroborated", "update"


@dataclass(frozen=True)
class Scale:
    """A linear map of the data interval [lo, hi] onto the drawing interval [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        share = (value - self.lo) / span if span else 0.5
        return round(self.start + share * (self.end - self.start), 2)


@dataclass(frozen=True)
class Mark:
    """One outlet report on a claim's figure: when it was fetched, the value it gave, its ``kind`` (``claimed``:
    it repeated the claim's value; ``corroborated``: it agreed without a figure, drawn on the claim's value;
    ``update``: it gave another value), whether it was the first to give that value, and who said it."""

    at: datetime
    value: float
    kind: str
    outlet: str
    first: bool = False

    @property
    def value_text(self) -> str:
        """The value as a reader writes it."""
        return number(self.value)

    @property
    def label(self) -> str:
        """The mark as one line of text: its tooltip and the row of the page's table."""
        what = {CLAIMED: "repeated the claim's value", CORROBORATED: "agreed without a figure",
                UPDATE: "first gave this value" if self.first else "gave another value"}[self.kind]
        return f"{self.at:%Y-%m-%d} · {self.outlet}: {self.value_text} ({what})"


def number(value: float) -> str:
    """A value as a reader writes it: 50,000; 2.5; 1,200,000,000."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")


def short_number(value: float) -> str:
    """A tick label: 50k, 1.2m, 2.3bn — narrow enough for the axis."""
    for at_least, size, suffix in ((1e9, 1e9, "bn"), (1e6, 1e6, "m"), (1e4, 1e3, "k")):
        if abs(value) >= at_least:
            return f"{value / size:.3g}{suffix}"
    return number(value)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) from at most ``lo`` to at least ``hi``,
    about ``count`` intervals."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw)
    first = math.floor(lo / step) * step
    ticks = [first]
    while ticks[-1] < hi - 1e-9 * step:
        ticks.append(round(first + len(ticks) * step, 10))
    return ticks


def _text(x: float, y: float, content: str, cls: str, anchor: str = "middle") -> str:
    return f'<text class="{cls}" x="{x:g}" y="{y:g}" text-anchor="{anchor}">{escape(content)}</text>'


def _svg(cls: str, chart_id: str, title: str, desc: str, body: list[str]) -> Markup:
    # Markup by construction: every text and attribute value in ``body`` went through escape() or is a number.
    return Markup(  # noqa: S704
        f'<svg class="chart {cls}" id="{escape(chart_id)}" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" width="100%" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>' + "".join(body) + "</svg>")


def _y_axis(ticks: list[float], y: Scale, label: str) -> list[str]:
    """Gridlines and labels of the value axis, and its title along the left edge."""
    parts = ['<g class="axis y-axis">']
    for tick in ticks:
        at = y(tick)
        parts.append(f'<line class="grid" x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{at:g}" y2="{at:g}"/>')
        parts.append(_text(LEFT - 4, at + 4, short_number(tick), "tick", "end"))
    middle = (TOP + HEIGHT - BOTTOM) / 2
    parts.append(f'<text class="axis-label" x="12" y="{middle:g}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {middle:g})">{escape(label)}</text>')
    return [*parts, "</g>"]


def _x_labels(labels: list[tuple[float, str]], title: str) -> list[str]:
    """Labels under the time axis (the first anchored left, the last right, so that neither is cut) and its
    title."""
    base = HEIGHT - BOTTOM
    parts = ['<g class="axis x-axis">',
             f'<line class="baseline" x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{base:g}" y2="{base:g}"/>']
    for index, (x, text) in enumerate(labels):
        anchor = ("start" if index == 0 and len(labels) > 1
                  else "end" if index and index == len(labels) - 1 else "middle")
        parts.append(_text(x, base + 15, text, "tick", anchor))
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 6, title, "axis-label"))
    return [*parts, "</g>"]


# --- a claim's figure history ---------------------------------------------------------------------------------

def _amount(text: str) -> float | None:
    """The first amount (not a year or a date) that ``text`` states; not a vague one ("tens of thousands"), which
    has no place on a value axis."""
    return next((q.value for q in extract_quantities(text)
                 if q.kind not in ("year", "date") and q.qualifier != "magnitude"), None)


def _when(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def figure_marks(timeline: Sequence[Mapping[str, Any]], claimed: float) -> tuple[list[Mark], int]:
    """The marks of a claim's figure history (``db.browse_views.figure_history``'s ``timeline``) on the claim's
    amount ``claimed``, and how many reports could not be drawn: an update of another of the claim's figures
    (its old value is not the claimed amount) or one whose new value is no amount or a vague one."""
    marks: list[Mark] = []
    left_out = 0
    for entry in timeline:
        match = entry["match"]
        outlet = match.get("source_name") or "unknown source"
        if not match.get("fetched_at"):
            left_out += 1
            continue
        at = _when(match["fetched_at"])
        if entry["role"] == "corroborated":
            marks.append(Mark(at, claimed, CORROBORATED, outlet))
            continue
        if entry["claimed"]:
            marks.append(Mark(at, claimed, CLAIMED, outlet))
            continue
        value = next((new for old, new in zip(match["old_values"], match["new_values"], strict=False)
                      if _amount(old) == claimed and _amount(new) is not None), None)
        if value is None:
            left_out += 1
            continue
        marks.append(Mark(at, _amount(value) or 0.0, UPDATE, outlet, first=entry["role"] == "changed"))
    return marks, left_out


def figure_chart(marks: Sequence[Mark], claimed: float, *, unit: str, chart_id: str = "figure-chart") -> Markup:
    """A claim's figure history as SVG: one dot per outlet report at the value it gave (updates highlighted, the
    first report of a new value larger), the claim's value as a horizontal line, value and date axes."""
    values = [claimed, *(mark.value for mark in marks)]
    ticks = nice_ticks(0.0, max(values))
    y = Scale(ticks[0], ticks[-1], HEIGHT - BOTTOM, TOP)
    times = [mark.at.timestamp() for mark in marks]
    first, last = (min(times), max(times)) if times else (0.0, 0.0)
    short = last - first < 86400
    if short:  # a day or less: spread over a day around its middle, labelled with the middle's date alone
        first, last = (first + last) / 2 - 43200, (first + last) / 2 + 43200
    x = Scale(first, last, LEFT + 8, WIDTH - RIGHT - 8)
    body = _y_axis(ticks, y, unit or "value")
    if marks:
        labelled = [(first + last) / 2] if short else [first, (first + last) / 2, last]
        days = [datetime.fromtimestamp(t, tz=marks[0].at.tzinfo) for t in labelled]
        body += _x_labels([(x(d.timestamp()), f"{d:%Y-%m-%d}") for d in days], "fetched (UTC)")
    level = y(claimed)
    body.append(f'<line class="claimed-line" x1="{LEFT:g}" x2="{WIDTH - RIGHT:g}" y1="{level:g}" y2="{level:g}"/>')
    body.append(_text(WIDTH - RIGHT, level - 5, f"claim: {number(claimed)}", "claimed-label", "end"))
    body.append('<g class="marks">')
    for mark in sorted(marks, key=lambda m: (m.kind == UPDATE, m.first)):  # updates drawn last, on top
        cls = f"mark {mark.kind}" + (" first" if mark.first else "")
        radius = 5.5 if mark.first else 4
        body.append(f'<circle class="{cls}" cx="{x(mark.at.timestamp()):g}" cy="{y(mark.value):g}" r="{radius:g}">'
                    f"<title>{escape(mark.label)}</title></circle>")
    body.append("</g>")
    updates = sum(1 for mark in marks if mark.kind == UPDATE)
    span = (f" from {min(marks, key=lambda m: m.at).at:%Y-%m-%d} to {max(marks, key=lambda m: m.at).at:%Y-%m-%d}"
            if marks else "")
    other = sorted({number(mark.value) for mark in marks if mark.kind == UPDATE})
    desc = (f"{len(marks)} outlet report{'s' if len(marks) != 1 else ''}{span}; the claim says {number(claimed)}"
            f"; {updates} gave another value" + (f" ({', '.join(other)})" if other else "") + ".")
    return _svg("figure-chart", chart_id, "Reported value over time", desc, body)


# --- the dashboard's events per day -------------------------------------------------------------------------------

def events_chart(days: Sequence[date], series: Mapping[str, Sequence[int]], *,
                 chart_id: str = "events-chart") -> Markup:
    """Events per day by type as stacked SVG bars: one bar per day of ``days`` (oldest first), one segment per
    type of ``series`` (counts by day, aligned with ``days``) that has events that day."""
    totals = [sum(counts[i] for counts in series.values()) for i in range(len(days))]
    ticks = nice_ticks(0.0, float(max(totals, default=0)) or 1.0)
    y = Scale(ticks[0], ticks[-1], HEIGHT - BOTTOM, TOP)
    slot = (WIDTH - RIGHT - LEFT) / max(len(days), 1)
    body = _y_axis(ticks, y, "events")
    if days:
        picks = sorted({0, len(days) // 2, len(days) - 1})
        body += _x_labels([(LEFT + slot * (i + 0.5), f"{days[i]:%d %b}") for i in picks], "day (UTC)")
    body.append('<g class="bars">')
    for i, day in enumerate(days):
        below = 0
        for kind, counts in series.items():
            if not counts[i]:
                continue
            top, bottom = y(below + counts[i]), y(below)
            tip = f"{day:%Y-%m-%d}: {counts[i]:,} {kind.replace('_', ' ')}"
            body.append(f'<rect class="bar event-{escape(kind)}" x="{LEFT + slot * i + slot * 0.1:.2f}" '
                        f'y="{top:g}" width="{slot * 0.8:.2f}" height="{bottom - top:.2f}">'
                        f"<title>{escape(tip)}</title></rect>")
            below += counts[i]
    body.append("</g>")
    total = sum(totals)
    busiest = max(range(len(days)), key=lambda i: totals[i]) if total else None
    desc = (f"{total:,} events in the {len(days)} days to {days[-1]:%Y-%m-%d}" if days else "No days.")
    if busiest is not None:
        desc += f"; the most on {days[busiest]:%Y-%m-%d} ({totals[busiest]:,})."
    return _svg("events-chart", chart_id, f"Events per day, last {len(days)} days", desc, body)

