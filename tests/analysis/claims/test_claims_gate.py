"""The subject gate: North Korean workers versus other nationalities, soldiers, hackers, defectors and the rest."""

from __future__ import annotations

import pytest

from analysis.claims import slots
from analysis.claims.quantities import prepare_text

CLAIM = "More than 50,000 North Korean labourers may be sent to work in Russia."


def gate(sentence: str, claim: str = CLAIM) -> tuple[bool, str]:
    return slots.gate(slots.subject(prepare_text(sentence)), slots.subject(prepare_text(claim)))


@pytest.mark.parametrize(
    "sentence",
    [
        "Pyongyang may dispatch over 50,000 labourers to Russia.",
        "More than 50,000 workers from North Korea could be sent to Russia.",
        "The DPRK could send 50,000 laborers to Russia.",
        "N. Korea may send its workforce to Russia.",
        "Over 10,000 North Korean construction workers entered Russia.",
    ],
)
def test_north_korean_workers_pass(sentence: str) -> None:
    assert gate(sentence) == (True, "same subject")


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("More than 50,000 Chinese labourers may be sent to work in Russia.", "North Korea"),
        ("Chinese labourers are building a North Korean embassy in Russia.", "nationality"),
        ("Russia's employers recruit workers from India and Sri Lanka.", "North Korea"),
        ("Vietnamese workers join North Korea's partners in Russia's construction workforce.", "nationality"),
        ("Over 10,000 North Korean soldiers entered Russia during 2024.", "soldier"),
        ("North Korea had sent about 11,000 troops to Russia.", "soldier"),
        ("North Korean hackers stole $1.5bn in cryptocurrency.", "hacker"),
        ("A North Korean diplomat posted in Kuwait defected to South Korea.", "diplomat"),
        ("About 54,000 North Koreans worked at the Kaesong industrial park.", "inside North Korea"),
        ("North Korea was holding up to 120,000 people in political prison camps.", "prisoner"),
        ("Russian tourists holiday at North Korea's beach resort.", "tourist"),
        ("A North Korean worker died while building the stadium.", "event"),
        ("North Korean troops are being used as construction workers in Russia.", "soldier"),
    ],
)
def test_other_subjects_fail(sentence: str, why: str) -> None:
    passed, reason = gate(sentence)
    assert not passed
    assert why in reason


def test_claim_about_defectors_accepts_defectors() -> None:
    claim = "Only 236 North Korean defectors reached South Korea in 2024."
    assert gate("Just 236 North Korean defectors arrived in South Korea in 2024.", claim)[0]


def test_student_visas_are_not_students() -> None:
    assert "student" not in slots.subject(prepare_text("8,000 North Koreans on student visas")).roles
    assert "student" in slots.subject(prepare_text("North Korean students at Russian universities")).roles


def test_dprk_organisations_count_as_north_korea() -> None:
    assert slots.subject(prepare_text("Mansudae Overseas Projects built monuments in Africa")).mentions_dprk


def test_the_leaders_possessive_stands_for_north_korea() -> None:
    assert slots.subject(prepare_text("Kim's slaves toiled for up to eighteen hours a day")).mentions_dprk
    assert not slots.subject(prepare_text("Kim, a Seoul lawyer, toiled for eighteen hours a day")).mentions_dprk
