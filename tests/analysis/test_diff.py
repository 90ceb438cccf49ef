"""Tests for analysis.diff: sentence-level differences between two versions of an article."""

from __future__ import annotations

import pytest

from analysis.diff import diff_versions

TITLE = "North Korean workers sent to Russia"
FIRST = "SEOUL, Feb. 12 (Reuters) – North Korea has sent 50,000 workers to Russia."
SECOND = "Mr. Kim said they work 18 hours a day."
THIRD = "The ministry declined to comment."
TEXT = f"{FIRST} {SECOND}\n{THIRD}"


def test_figure_edit() -> None:
    new_first = FIRST.replace("50,000", "15,000")
    diff = diff_versions(TITLE, TEXT, TITLE, TEXT.replace(FIRST, new_first))
    assert diff.removed == (FIRST,)
    assert diff.added == (new_first,)
    assert diff.figures_changed
    assert diff.figures_before == ("50,000",)
    assert diff.figures_after == ("15,000",)
    assert diff.body_changed
    assert not diff.title_changed
    assert diff.changed_parts == ("body", "figures")


def test_figures_written_in_words_are_figures() -> None:
    old = "They hand over four-fifths of their pay, and roughly twelve hundred of them work in Qatar."
    new = "They hand over half of their pay, and roughly twelve hundred of them work in Qatar."
    diff = diff_versions(TITLE, old, TITLE, new)
    assert diff.figures_changed and diff.figures_before == ("80",) and diff.figures_after == ("50",)
    # The same number in words and in digits is no change.
    same = diff_versions(TITLE, old, TITLE, old.replace("twelve hundred", "1200"))
    assert not same.figures_changed and same.body_changed


def test_appended_correction() -> None:
    correction = "Correction: an earlier version of this story misnamed the ministry."
    diff = diff_versions(TITLE, TEXT, TITLE, f"{TEXT}\n{correction}")
    assert diff.added == (correction,)
    assert diff.removed == ()
    assert diff.body_changed
    assert not diff.figures_changed
    assert not diff.title_changed
    assert diff.changed_parts == ("body",)


@pytest.mark.parametrize(
    "edited",
    [
        TEXT.replace(" ", "  "),
        TEXT.replace("\n", "\n\n"),
        TEXT.replace("–", "—"),
        TEXT.replace("Russia.", "Russia ."),
        TEXT.replace("day.", "day!"),
        TEXT.replace("50,000", "50000"),
        "  " + TEXT + "\n",
        TEXT.replace("\n", "\nUpdated 5 minutes ago\n"),
        "Last updated: 27 Nov 2026 14:05 KST\n" + TEXT,
    ],
)
def test_cosmetic_change_is_no_change(edited: str) -> None:
    diff = diff_versions(TITLE, TEXT, TITLE + " ", edited)
    assert diff.added == ()
    assert diff.removed == ()
    assert diff.unified == ""
    assert not diff.title_changed
    assert not diff.body_changed
    assert not diff.figures_changed
    assert diff.changed_parts == ()


def test_changed_timestamp_line_is_no_change() -> None:
    old = TEXT + "\nUpdated 5 minutes ago"
    new = TEXT + "\nUpdated 7 minutes ago"
    diff = diff_versions(TITLE, old, TITLE, new)
    assert diff.changed_parts == ()
    assert diff.figures_before == diff.figures_after == ()


def test_headline_change() -> None:
    diff = diff_versions(TITLE, TEXT, "North Korea sends 50,000 workers to Russia", TEXT)
    assert diff.title_changed
    assert not diff.body_changed
    assert not diff.figures_changed  # figures are counted in the body only
    assert diff.added == diff.removed == ()
    assert diff.changed_parts == ("title",)
    assert f"-# {TITLE}" in diff.unified.splitlines()
    assert "+# North Korea sends 50,000 workers to Russia" in diff.unified.splitlines()


def test_unified_diff_format() -> None:
    new_text = TEXT.replace("18 hours", "20 hours")
    diff = diff_versions(TITLE, TEXT, TITLE, new_text)
    assert diff.unified.splitlines() == [
        "--- previous",
        "+++ current",
        "@@ -1,4 +1,4 @@",
        f" # {TITLE}",
        f" {FIRST}",
        f"-{SECOND}",
        f"+{SECOND.replace('18', '20')}",
        f" {THIRD}",
    ]


def test_unified_diff_shows_cosmetically_edited_context_in_current_form() -> None:
    new_text = TEXT.replace("–", "—").replace("18 hours", "20 hours")
    diff = diff_versions(TITLE, TEXT, TITLE, new_text)
    lines = diff.unified.splitlines()
    assert f" {FIRST.replace('–', '—')}" in lines
    assert [line for line in lines[2:] if line[0] in "+-"] == [
        f"-{SECOND}",
        f"+{SECOND.replace('18', '20')}",
    ]


def test_removed_sentence() -> None:
    diff = diff_versions(TITLE, TEXT, TITLE, f"{FIRST}\n{THIRD}")
    assert diff.removed == (SECOND,)
    assert diff.added == ()
    assert diff.figures_changed
    assert diff.figures_before == ("18",)
    assert diff.figures_after == ()


def test_moved_sentence_changes_body_but_not_figures() -> None:
    diff = diff_versions(TITLE, TEXT, TITLE, f"{SECOND} {FIRST}\n{THIRD}")
    assert diff.body_changed
    assert set(diff.added) | set(diff.removed) <= {FIRST, SECOND}
    assert not diff.figures_changed


def test_figures_compare_by_value_and_count() -> None:
    old = "There were 50,000 workers. Another 50,000 arrived."
    same_value = "There were 50 000 workers. Another 50,000 arrived later."
    one_fewer = "There were 50,000 workers. Others arrived."
    assert not diff_versions("t", old, "t", same_value).figures_changed
    fewer = diff_versions("t", old, "t", one_fewer)
    assert fewer.figures_changed
    assert fewer.figures_before == ("50,000",)
    assert fewer.figures_after == ()


def test_figures_listed_in_order_of_appearance() -> None:
    old = "In 2023, 300 workers came. In 2024, 500 came. Pay was $10."
    new = "In 2023, 350 workers came. In 2024, 600 came. Pay was $12."
    diff = diff_versions("t", old, "t", new)
    assert diff.figures_before == ("300", "500", "$10")
    assert diff.figures_after == ("350", "600", "$12")


@pytest.mark.parametrize(
    ("old", "new", "added", "removed"),
    [
        (
            "북한 노동자 5만명이 파견됐다.",
            "북한 노동자 1만명이 파견됐다.",
            ("북한 노동자 1만명이 파견됐다.",),
            ("북한 노동자 5만명이 파견됐다.",),
        ),
        ("朝鲜劳工在丹东工作。他们很累。", "朝鲜劳工在丹东工作。他们很累。工资很低。", ("工资很低。",), ()),
        ("Рабочие прибыли. Их 500.", "Рабочие прибыли. Их 5000.", ("Их 5000.",), ("Их 500.",)),
    ],
)
def test_multilingual_diffs(old: str, new: str, added: tuple[str, ...], removed: tuple[str, ...]) -> None:
    diff = diff_versions("t", old, "t", new)
    assert diff.added == added
    assert diff.removed == removed


def test_empty_versions() -> None:
    assert diff_versions("", "", "", "").changed_parts == ()
    created = diff_versions("", "", "Title", "One sentence.")
    assert created.changed_parts == ("title", "body")
    assert created.added == ("One sentence.",)
