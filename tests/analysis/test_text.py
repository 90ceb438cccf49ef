"""Tests for analysis.text: normalisation, content hashes, timestamp lines and sentence splitting."""

from __future__ import annotations

import time

import pytest

from analysis.text import content_hash, is_stamp_line, normalise_text, split_sentences

BASE = "SEOUL — North Korea has sent 50,000 workers to Russia.\nThey work 18 hours a day."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello,   World!", "hello world"),
        ("“Slavery,” he said — again.", "slavery he said again"),
        ("It’s 10,000 workers' pay", "its 10000 workers pay"),
        ("ＮＯＲＴＨ　Ｋｏｒｅａ １２３", "north korea 123"),  # full-width letters, digits and space (NFKC)
        ("STRASSE Straße", "strasse strasse"),  # casefold, not lower
        ("work\u00aders\u200b paid", "workers paid"),  # soft hyphen and zero-width space are invisible
        ("Line one\n\n\tLine two  ", "line one line two"),
        ("In 2024, 10,000 workers arrived.", "in 2024 10000 workers arrived"),
        ("Updated 5 minutes ago\nNorth Korean workers", "north korean workers"),
        ("북한 노동자들이 러시아에 파견됐다.", "북한 노동자들이 러시아에 파견됐다"),
        ("朝鲜劳工在丹东工作。“是的！”", "朝鲜劳工在丹东工作是的"),
        ("Северокорейские «рабочие» — здесь.", "северокорейские рабочие здесь"),
        ("", ""),
        ("...  —  !!!", ""),
    ],
)
def test_normalise_text(text: str, expected: str) -> None:
    assert normalise_text(text) == expected


@pytest.mark.parametrize(
    "edited",
    [
        BASE.replace(" ", "  "),
        BASE.replace("\n", "\n\n"),
        BASE.replace("\n", " "),
        "  " + BASE + "\n\n",
        BASE.replace("—", "-"),
        BASE.replace("—", "–"),
        BASE.replace("Russia.", "Russia"),
        BASE.replace("50,000", "50000"),
        BASE.replace("North Korea", "NORTH KOREA"),
        "Updated 5 minutes ago\n" + BASE,
        BASE + "\nLast updated: 27 Nov 2026 14:05 KST",
        "Published 3 hours ago\n" + BASE + "\n2026-11-27 14:05",
        "입력 2026.11.27 14:05\n" + BASE,
        "Обновлено 27 ноября 2026, 14:05\n" + BASE,
    ],
)
def test_cosmetic_edits_normalise_identically(edited: str) -> None:
    assert normalise_text(edited) == normalise_text(BASE)
    assert content_hash("Title", edited) == content_hash("Title", BASE)


@pytest.mark.parametrize(
    "edited",
    [
        BASE.replace("50,000", "15,000"),
        BASE.replace("18", "16"),
        BASE.replace("Russia", "China"),
        BASE.replace("workers", "labourers"),
        BASE + "\nIn 2024, 10,000 workers arrived.",
        BASE.replace("They work", "They do not work"),
    ],
)
def test_real_edits_change_normalised_text(edited: str) -> None:
    assert normalise_text(edited) != normalise_text(BASE)
    assert content_hash("Title", edited) != content_hash("Title", BASE)


@pytest.mark.parametrize(
    "line",
    [
        "Updated 5 minutes ago",
        "Last updated: 27 Nov 2026 14:05 KST",
        "Published 3 hours ago",
        "Published 3 hours ago.",
        "2026-11-27 14:05",
        "2026-11-27T14:05:00+09:00",
        "Posted on Monday, November 27, 2026 at 2:05 p.m. EST",
        "Updated Nov. 27, 2026 2:05 p.m. KST",
        "입력 2026.11.27 14:05",
        "입력 2026.11.27. 오후 2:05 | 수정 2026.11.27 15:00",
        "3시간 전",
        "Обновлено 27 ноября 2026, 14:05",
        "Опубликовано: 27.11.2026 14:05",
        "5 минут назад",
        "发布时间：2026-11-27 14:05",
        "2026年11月27日 14時05分",
        "just now",
        "Updated",  # an update marker on its own, as pages add when they edit
        "· Updated",
        "· 수정",
        "Обновлено",
    ],
)
def test_stamp_lines(line: str) -> None:
    assert is_stamp_line(line)
    assert normalise_text(line) == ""


@pytest.mark.parametrize(
    "line",
    [
        "In 2024, 10,000 workers arrived.",
        "Updated 5",  # a number is not a time
        "2019",  # a bare year may be a heading or a figure
        "Seoul, 27 Nov 2026",  # a dateline with a place says more than the time
        "Updated 5 minutes ago: 300 more workers arrived",
        "By Kim Jin, 27 Nov 2026",
        "입력 2026.11.27 14:05 북한 노동자",
        "Обновлено 27 ноября 2026: рабочие прибыли",
        "x" * 95 + " 14:05",
        "The ministry said on 27 Nov 2026 at 14:05 KST that 500 workers had arrived in Vladivostok.",
    ],
)
def test_lines_that_are_not_stamps(line: str) -> None:
    assert not is_stamp_line(line)
    assert normalise_text(line) != ""


def test_content_hash_is_sha256_hex() -> None:
    digest = content_hash("Title", "Text")
    assert len(digest) == 64
    assert int(digest, 16) >= 0


def test_content_hash_separates_title_from_text() -> None:
    assert content_hash("North Korea", "workers") != content_hash("North", "Korea workers")
    assert content_hash("A", "") != content_hash("", "A")


def test_content_hash_covers_title() -> None:
    assert content_hash("Old headline", BASE) != content_hash("New headline", BASE)
    assert content_hash("Headline", BASE) == content_hash("  headline!", BASE)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        (
            "SEOUL, Feb 12 (Reuters) – North Korea has sent workers. Officials confirmed it.",
            ["SEOUL, Feb 12 (Reuters) – North Korea has sent workers.", "Officials confirmed it."],
        ),
        (
            "SEOUL, Feb. 12 (Yonhap) -- Mr. Kim met Dr. Lee. They talked.",
            ["SEOUL, Feb. 12 (Yonhap) -- Mr. Kim met Dr. Lee.", "They talked."],
        ),
        (
            "About 1.5 million people and 10,000 workers left. Then 2.3% returned.",
            ["About 1.5 million people and 10,000 workers left.", "Then 2.3% returned."],
        ),
        (
            'He said: "We are slaves." Another worker agreed.',
            ['He said: "We are slaves."', "Another worker agreed."],
        ),
        ("He said: “We are slaves.” Another agreed.", ["He said: “We are slaves.”", "Another agreed."]),
        ('"Why?" he asked. Nobody answered.', ['"Why?" he asked.', "Nobody answered."]),
        (
            "The U.S. Treasury acted. It was sanctioned by the U.S. The ministry declined.",
            ["The U.S. Treasury acted.", "It was sanctioned by the U.S.", "The ministry declined."],
        ),
        (
            "The U.N. Security Council met on Jan. 5 and Feb. 6. It passed No. 2397.",
            ["The U.N. Security Council met on Jan. 5 and Feb. 6.", "It passed No. 2397."],
        ),
        ("He said no. The ministry disagreed.", ["He said no.", "The ministry disagreed."]),
        (
            "Tools, food, etc. The workers left, e.g. to Moscow, i.e. Russia.",
            ["Tools, food, etc.", "The workers left, e.g. to Moscow, i.e. Russia."],
        ),
        (
            "Tools, food, etc. North Korea sent more. The U.S. North Korea envoy spoke.",
            ["Tools, food, etc.", "North Korea sent more.", "The U.S. North Korea envoy spoke."],
        ),
        ("John F. Kennedy spoke. Then he left.", ["John F. Kennedy spoke.", "Then he left."]),
        ("Wait... what? Nothing!", ["Wait... what?", "Nothing!"]),
        ("First line without a stop\nSecond line.", ["First line without a stop", "Second line."]),
        ("Mr.\nKim", ["Mr.", "Kim"]),
        ("  \n\n  Padded.  \n", ["Padded."]),
        (
            "북한 노동자들이 러시아에 파견됐다. 정부는 확인했다.그러나 부인했다.",
            ["북한 노동자들이 러시아에 파견됐다.", "정부는 확인했다.", "그러나 부인했다."],
        ),
        (
            "그는 “노동자들이 파견됐다.”라고 말했다. 끝.",
            ["그는 “노동자들이 파견됐다.”라고 말했다.", "끝."],
        ),
        (
            "朝鲜劳工在丹东工作。他们每天工作十八小时！真的吗？是的。",
            ["朝鲜劳工在丹东工作。", "他们每天工作十八小时！", "真的吗？", "是的。"],
        ),
        (
            "北朝鮮労働者がロシアに派遣された。「本当だ。」と彼は言った。",
            ["北朝鮮労働者がロシアに派遣された。", "「本当だ。」と彼は言った。"],
        ),
        (
            "Первая фраза. Вторая, т.е. продолжение. В. Путин сказал.",
            ["Первая фраза.", "Вторая, т.е. продолжение.", "В. Путин сказал."],
        ),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_split_sentences_keeps_every_character_of_the_text() -> None:
    text = "SEOUL, Feb. 12 (Reuters) – One. “Two,” he said. Three?\nFour 1.5 million."
    assert "".join(split_sentences(text)).replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_normalise_and_split_are_fast_on_long_articles() -> None:
    # 40 articles' worth of text, plus lines built to tempt regex backtracking.
    paragraph = "SEOUL, Feb. 12 (Reuters) – Mr. Kim said 50,000 workers left on Jan. 5. “They suffer.” "
    hostile = "\n".join(["1" * 99, "1." * 49, "2026-11-27 " * 9, " " * 99, "a. " * 33])
    text = (paragraph * 2000) + "\n" + hostile * 100
    started = time.perf_counter()
    normalise_text(text)
    split_sentences(text)
    assert time.perf_counter() - started < 2.0
