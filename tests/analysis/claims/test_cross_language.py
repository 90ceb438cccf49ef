"""Korean, Russian, Chinese and Japanese sentences against the English known claims: the lexicon, the subject gate
and slots on glossed text, and the labelled multilingual dev set scored per language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.claims import ClaimMatcher, evaluate, examples_from_records
from analysis.claims.glossary import GlossaryError, glosses_in, load_glossary, parse_glossary
from analysis.claims.normalise import normalise_for_matching
from analysis.claims.quantities import prepare_text
from analysis.claims.sentences import claim_sentences
from analysis.claims.slots import places, sectors, subject
from analysis.relevance import DEFAULT_TOPIC, TopicMatcher

DATA = Path(__file__).parent / "data"


def test_the_shipped_glossary_loads_and_no_word_has_two_glosses() -> None:
    glossary = load_glossary()
    assert len(glossary) > 150
    owners: dict[tuple[str, str], str] = {}
    for gloss, languages in glossary.items():
        for language, words in languages.items():
            for word in words:
                assert owners.setdefault((language, word), gloss) == gloss, (language, word, gloss)


@pytest.mark.parametrize(("data", "problem"), [
    ([], "must be a mapping"),
    ({"russia": {"xx": ["x"]}}, "russia.xx: unknown language"),
    ({"russia": {"ru": "россия"}}, "russia.ru: must be a list of words"),
    ({"russia": {"ru": ["*росси"]}}, "'*' may only end a word: *росси"),
    ({"russia": {}}, "'russia': must be an English gloss"),
])
def test_a_malformed_glossary_is_refused_with_the_entry(data: object, problem: str) -> None:
    with pytest.raises(GlossaryError, match=problem.replace("*", r"\*").replace("(", r"\(")):
        parse_glossary(data)


@pytest.mark.parametrize(("text", "dprk_workers", "mentions_dprk", "expected_places"), [
    ("러시아에 파견된 북한 노동자들", True, True, {"russia"}),
    ("рабочие из КНДР на стройках Приморья", True, True, {"primorsky"}),
    ("朝鲜劳工在中国工厂打工", True, True, {"china"}),
    ("北朝鮮労働者がロシアで働いている", True, True, {"russia"}),
    ("中国朝鲜族工人在韩国打工", False, False, {"china", "south korea"}),  # ethnic Koreans of China
    ("日本国内の朝鮮学校に通う生徒", False, False, {"japan"}),  # Korean schools in Japan are not North Korea
    ("베트남 노동자 1만여 명이 파업했다", False, False, {"vietnam"}),
])
def test_the_subject_gate_reads_glossed_sentences(text: str, dprk_workers: bool, mentions_dprk: bool,
                                                  expected_places: set[str]) -> None:
    prepared = prepare_text(text)
    found = subject(prepared)
    assert (found.dprk_workers, found.mentions_dprk) == (dprk_workers, mentions_dprk), prepared
    assert places(prepared) == expected_places, prepared


@pytest.mark.parametrize(("text", "sector"), [
    ("북한 노동자들이 건설 현장에서 일한다", "construction"), ("Северокорейские лесорубы работают", "logging"),
    ("朝鲜工人在海产品加工厂", "seafood"), ("北朝鮮のIT技術者", "it"), ("朝鲜IT人员", "it"),
    ("縫製工場で働く北朝鮮の女性", "clothing"),
])
def test_sectors_are_read_in_every_language(text: str, sector: str) -> None:
    assert sector in sectors(prepare_text(text), text)


def test_words_the_lexicon_does_not_know_leave_the_canonical_text() -> None:
    canonical = normalise_for_matching("러시아에 파견된 북한 노동자들은 매주 생활총화에 참석한다")
    assert canonical.isascii() and {"russia", "dprk"} <= set(canonical.split())


def test_claims_match_can_show_which_entry_glossed_each_word() -> None:
    assert glosses_in("러시아에 파견된 북한 노동자") == [("러시아", "russia"), ("파견", "sent to"), ("북한", "north korean"),
                                                    ("노동자", "workers")]
    assert glosses_in("North Korean workers in Russia") == []
    assert ("кндр", "dprk") in glosses_in("Рабочие из КНДР")  # matched as the sentence is read: casefolded


def test_the_multilingual_dev_set_scores_in_every_language(matcher: ClaimMatcher) -> None:
    lines = (DATA / "eval_dev_xling.jsonl").read_text(encoding="utf-8").splitlines()
    examples = examples_from_records(json.loads(line) for line in lines if line.strip())
    report = evaluate(examples, matcher)
    assert set(report.languages) == {"ko", "ru", "zh", "ja"}
    for lang, part in report.languages.items():
        # Before the lexicon every sentence of these languages was "new" (macro-F1 0.15, right claim 0.00).
        assert part.macro_f1 >= 0.75 and part.claim_accuracy >= 0.85, (lang, part.errors)
    assert report.macro_f1 >= 0.84 and report.claim_accuracy >= 0.90, report.errors


@pytest.mark.parametrize(("sentence", "candidate"), [
    ("据估计，仍在中国务工的朝鲜人已不足1000人。", True),  # 23 characters, a whole claim
    ("북한 노동자 1만 명이 작년 러시아에 입국했다.", True),
    ("北朝鮮労働者1万人が昨年ロシアに入国した。", True),
    ("图片：朝鲜劳工", False),  # a caption
    ("사진=북한 노동자", False),
])
def test_dense_scripts_make_claim_sentences_at_fewer_characters(sentence: str, candidate: bool) -> None:
    assert bool(claim_sentences(sentence, TopicMatcher(DEFAULT_TOPIC))) is candidate
