"""Attributions say who reports, never who the sentence is about."""

from __future__ import annotations

import pytest

from analysis.claims.attribution import without_attributions
from analysis.claims.quantities import prepare_text
from analysis.claims.slots import gate, subject


@pytest.mark.parametrize(("sentence", "reported"), [
    ("Most of the pay is taken by the state, defectors say.", "most of the pay is taken by the state"),
    ("According to defectors, most of the pay is taken by the state.", "most of the pay is taken by the state"),
    ("Defectors say most of the pay is taken by the state.", "most of the pay is taken by the state"),
    ("A researcher at the institute told reporters that the workers earn little.", "the workers earn little"),
    # The report goes on about its speakers: they stay.
    ("The soldiers said they were sent to Kursk.", "the soldiers said they were sent to kursk"),
    ("North Korean workers earn little.", "north korean workers earn little"),
])
def test_the_report_is_kept_and_the_attribution_taken_out(sentence: str, reported: str) -> None:
    assert " ".join(without_attributions(prepare_text(sentence)).split()).rstrip(".") == reported


@pytest.mark.parametrize(("sentence", "passes"), [
    ("Most of what North Korean workers earn abroad is taken by the state, defectors say.", True),
    ("According to former soldiers, North Korean workers in Russia toil for 18 hours a day.", True),
    ("North Korean defectors say they were beaten by guards.", False),  # about the defectors themselves
    ("North Korean soldiers were sent to Kursk, officials said.", False),
])
def test_roles_in_attributions_never_decide_the_subject(sentence: str, passes: bool) -> None:
    claim = subject(prepare_text("Most of what North Korean workers earn abroad is taken by the state."))
    assert gate(subject(prepare_text(sentence)), claim)[0] is passes


@pytest.mark.parametrize(("sentence", "passes"), [
    ("Nepali labourers on Qatar's building sites reported 18-hour shifts, as did North Korea's workers.", False),
    ("Russia's building sites depend on migrants from Uzbekistan, who far outnumber North Korean workers.", False),
    ("North Korean workers in Russia work 18 hours a day, longer than Chinese workers do.", True),
])
def test_the_workers_named_first_are_the_subject(sentence: str, passes: bool) -> None:
    claim = subject(prepare_text("North Korean labourers in Russia are made to work for as long as 18 hours a day."))
    assert gate(subject(prepare_text(sentence)), claim)[0] is passes


@pytest.mark.parametrize(("sentence", "claim_text"), [
    # Other people named by nationality and sex.
    ("Thousands of Chinese women work in garment factories in Dandong, across the river from North Korea.",
     "Thousands of North Korean women work in garment factories in the Chinese border city of Dandong."),
    # A condition framing the whole report: what would happen.
    ("If UN sanctions were lifted, North Korea could send as many as 100,000 workers abroad.",
     "Before the 2017 sanctions, about 100,000 North Koreans were estimated to be working in some 40 countries."),
    # Pyongyang's own building projects are work inside North Korea.
    ("Around 3,000 North Korean labourers were working on Pyongyang's new Hwasong housing district.",
     "Around 3,000 North Korean labourers were working on construction projects in Qatar."),
])
def test_other_people_conditions_and_work_at_home_are_not_the_claims_subject(sentence: str, claim_text: str) -> None:
    assert not gate(subject(prepare_text(sentence)), subject(prepare_text(claim_text)))[0]
