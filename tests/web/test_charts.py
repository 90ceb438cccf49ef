"""The SVG charts of web.charts, on their own: scales and ticks, one mark per report or per day and type, the
claim's value as a line, the stacking of bars, and hostile labels (outlet names are text from outlets) escaped into
well-formed SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from db.browse_views import claim_amount
from web.charts import (
    CLAIMED,
    CORROBORATED,
    HEIGHT,
    UPDATE,
    Mark,
    Scale,
    events_chart,
    figure_chart,
    figure_marks,
    nice_ticks,
    short_number,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script><img src=x onerror="x"> & "quoted"'
START = datetime(2025, 3, 1, 8, tzinfo=UTC)


def parse(markup: str) -> ET.Element:
    """The chart as XML: it must be well-formed, whatever its labels said."""
    return ET.fromstring(markup)


def attr(element: ET.Element, name: str) -> float:
    return float(element.attrib[name])


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0, 50_000, [0, 20_000, 40_000, 60_000]), (0, 4, [0, 1, 2, 3, 4]), (0, 7, [0, 2, 4, 6, 8]),
    (0, 1, [0, 0.25, 0.5, 0.75, 1]), (0, 0, [0, 0.25, 0.5, 0.75, 1]), (0, 183, [0, 50, 100, 150, 200])])
def test_ticks_are_round_and_cover_the_range(lo: float, hi: float, expected: list[float]) -> None:
    assert nice_ticks(lo, hi) == expected


def test_scale_and_short_numbers() -> None:
    y = Scale(0, 60_000, 180, 14)  # upwards, as on the charts
    assert (y(0), y(60_000), y(30_000)) == (180, 14, 97)
    assert Scale(5, 5, 0, 100)(5) == 50  # an empty range: the middle
    assert [short_number(v) for v in (0, 2.5, 9_999, 20_000, 1_200_000, 2_300_000_000)] == \
        ["0", "2.5", "9,999", "20k", "1.2m", "2.3bn"]


def _entry(role: str, claimed: bool, day: int, outlet: str, old: list[str] | None = None,
           new: list[str] | None = None) -> dict[str, Any]:
    match = {"fetched_at": (START + timedelta(days=day)).isoformat(), "source_name": outlet,
             "old_values": old or [], "new_values": new or []}
    return {"role": role, "claimed": claimed, "match": match}


TIMELINE = [
    _entry("repeated", True, 0, "alpha"),
    _entry("corroborated", True, 1, "beta"),
    _entry("changed", False, 2, HOSTILE, ["more than 50,000 workers"], ["45,000"]),
    _entry("repeated", False, 3, "gamma", ["50,000"], ["45,000"]),
    _entry("changed", False, 4, "delta", ["18 hours"], ["20 hours"]),  # another of the claim's figures
    _entry("changed", False, 5, "epsilon", ["50,000"], ["thousands"]),  # no amount
]


def test_figure_marks_place_each_report_on_the_claimed_amount_or_the_value_it_gave() -> None:
    marks, left_out = figure_marks(TIMELINE, 50_000.0)
    assert [(m.kind, m.value, m.first, m.at.day) for m in marks] == [
        (CLAIMED, 50_000, False, 1), (CORROBORATED, 50_000, False, 2), (UPDATE, 45_000, True, 3),
        (UPDATE, 45_000, False, 4)]
    assert left_out == 2
    assert marks[2].label == f"2025-03-03 · {HOSTILE}: 45,000 (first gave this value)"


def test_figure_chart_draws_one_dot_per_report_and_the_claim_as_a_line() -> None:
    marks, _ = figure_marks(TIMELINE, 50_000.0)
    markup = str(figure_chart(marks, 50_000.0, unit="workers"))
    svg = parse(markup)
    assert svg.tag == f"{SVG}svg" and svg.attrib["viewBox"] == "0 0 400 220" and svg.attrib["width"] == "100%"
    assert "style" not in markup  # the CSP allows no inline style
    dots = svg.findall(f".//{SVG}circle")
    assert len(dots) == len(marks) == 4
    # The y axis runs 0 to 60,000 (its ticks), so 50,000 and 45,000 sit at their share of the plot's height.
    bottom, top = HEIGHT - 40, 14
    level = {dot.findtext(f"{SVG}title"): attr(dot, "cy") for dot in dots}
    assert level["2025-03-01 · alpha: 50,000 (repeated the claim's value)"] == pytest.approx(
        bottom - (bottom - top) * 50 / 60, abs=0.01)
    assert level[f"2025-03-03 · {HOSTILE}: 45,000 (first gave this value)"] == pytest.approx(
        bottom - (bottom - top) * 45 / 60, abs=0.01)
    line = svg.find(f".//{SVG}line[@class='claimed-line']")
    assert line is not None and attr(line, "y1") == attr(line, "y2") == pytest.approx(
        bottom - (bottom - top) * 50 / 60, abs=0.01)
    # Time runs left to right; updates are highlighted, the first with a value larger; drawn last, on top.
    by_day = sorted(dots, key=lambda dot: attr(dot, "cx"))
    assert [dot.attrib["class"] for dot in by_day] == [
        "mark claimed", "mark corroborated", "mark update first", "mark update"]
    assert attr(by_day[2], "r") > attr(by_day[3], "r")
    assert [dot.attrib["class"] for dot in dots][-1] == "mark update first"
    ticks = [t.text for t in svg.iterfind(f".//{SVG}g[@class='axis y-axis']/{SVG}text[@class='tick']")]
    assert ticks == ["0", "20k", "40k", "60k"]
    labels = [t.text for t in svg.iterfind(f".//{SVG}text[@class='axis-label']")]
    assert labels == ["workers", "fetched (UTC)"]
    assert "2 gave another value (45,000)" in (svg.findtext(f"{SVG}desc") or "")


def test_hostile_labels_stay_text() -> None:
    mark = Mark(START, 3.0, UPDATE, HOSTILE, first=True)
    markup = str(figure_chart([mark], 2.0, unit=HOSTILE))
    assert "<script>" not in markup and "<img" not in markup and 'onerror="x"' not in markup
    assert "&lt;script&gt;" in markup
    svg = parse(markup)
    assert svg.findtext(f".//{SVG}circle/{SVG}title") == mark.label
    assert next(t.text for t in svg.iterfind(f".//{SVG}text[@class='axis-label']")) == HOSTILE
    bars = str(events_chart([date(2025, 3, 1)], {HOSTILE: [2]}))
    rect = parse(bars).find(f".//{SVG}rect")
    assert rect is not None and "<script>" not in bars and HOSTILE in (rect.findtext(f"{SVG}title") or "")


def test_a_report_on_one_day_is_drawn_in_the_middle_with_one_date() -> None:
    svg = parse(str(figure_chart([Mark(START, 50.0, CLAIMED, "alpha")], 50.0, unit="")))
    dot = svg.find(f".//{SVG}circle")
    assert dot is not None and attr(dot, "cx") == pytest.approx((46 + 400 - 12) / 2)
    dates = [t.text for t in svg.iterfind(f".//{SVG}g[@class='axis x-axis']/{SVG}text[@class='tick']")]
    assert dates == ["2025-03-01"]


def test_events_chart_stacks_one_bar_segment_per_day_and_type_with_events() -> None:
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(30)]
    series = {"story": [0] * 30, "claim_updated": [0] * 30}
    series["story"][0], series["story"][29], series["claim_updated"][29] = 2, 3, 5
    svg = parse(str(events_chart(days, series)))
    rects = svg.findall(f".//{SVG}rect")
    assert len(rects) == 3
    first, story, updated = rects
    assert [r.attrib["class"] for r in rects] == ["bar event-story", "bar event-story", "bar event-claim_updated"]
    # Ticks 0..8 (steps of 2): heights in proportion to the counts, segments of a day stacked edge to edge.
    unit = (HEIGHT - 40 - 14) / 8
    assert [attr(r, "height") for r in rects] == pytest.approx([2 * unit, 3 * unit, 5 * unit], abs=0.01)
    assert attr(updated, "y") + attr(updated, "height") == pytest.approx(attr(story, "y"), abs=0.01)
    assert attr(story, "y") + attr(story, "height") == pytest.approx(HEIGHT - 40, abs=0.01)
    assert attr(first, "x") < attr(story, "x") == attr(updated, "x")
    assert story.findtext(f"{SVG}title") == "2025-03-30: 3 story"
    dates = [t.text for t in svg.iterfind(f".//{SVG}g[@class='axis x-axis']/{SVG}text[@class='tick']")]
    assert dates == ["01 Mar", "16 Mar", "30 Mar"]
    assert svg.findtext(f"{SVG}desc") == "10 events in the 30 days to 2025-03-30; the most on 2025-03-30 (8)."


def test_events_chart_without_events_draws_no_bar() -> None:
    days = [date(2025, 3, 1) + timedelta(days=i) for i in range(30)]
    svg = parse(str(events_chart(days, {})))
    assert svg.findall(f".//{SVG}rect") == [] and svg.findtext(f"{SVG}desc") == "0 events in the 30 days to 2025-03-30"


def test_a_claim_is_charted_on_its_first_amount_not_a_year_date_or_resolution() -> None:
    assert claim_amount([{"value": 2397, "unit": "un_resolution"}, {"value": "2017-12", "unit": "date"},
                         {"value": 2019, "unit": "year"}]) is None
    assert claim_amount([{"value": 2015, "unit": "year"}, {"value": 30000, "unit": "workers", "qualifier": "about"},
                         {"value": 11500, "unit": "workers"}]) == {
        "value": 30000.0, "unit": "workers", "text": "about 30,000 workers"}
