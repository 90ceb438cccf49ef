"""Sentences that are something other than a report of the closest claim, and the look-alikes that still are."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.claims import ClaimMatcher, slots
from analysis.claims.decisions import stance
from analysis.claims.quantities import prepare_text
from labourwatch.config import read_claims


@pytest.mark.parametrize(("text", "expected"), [
    ("will pyongyang really send more than 50,000 labourers to russia? analysts say nobody yet knows.",
     "a question"),
    ("why are there more north korean workers in russia? more than 13,000 north koreans entered russia in 2024.",
     ""),  # the question asks; the next clause reports
    ("russia's labour ministry denied that it had issued any new work permits to north korean nationals.",
     "a denial"),
    ('"there are no north korean workers in our factories," the owner said.', "a denial"),
    ("pyongyang denied the reports, but un monitors found north korean workers in 40 countries.", ""),
    ("north korean workers in russia work up to 18 hours a day.", ""),
])
def test_questions_and_denials_are_not_reports(text: str, expected: str) -> None:
    assert stance(text) == expected


@pytest.mark.parametrize(("sentence", "claim_id"), [
    ("Will Pyongyang really send more than 50,000 labourers to Russia? Analysts in Seoul say nobody yet knows.",
     "K01"),
    ('"There are no North Korean workers in our factories," the owner of a Dandong garment plant told reporters.',
     "K36"),
    ("Resolution 2397 also limited North Korea's crude oil imports to 4 million barrels a year.", "K39"),
    ("Crew members on North Korean fishing boats off Russia's Pacific coast spend up to 18 hours a day at sea.",
     "K03"),
])
def test_look_alikes_that_report_nothing_of_the_claim_are_new(matcher: ClaimMatcher, sentence: str,
                                                              claim_id: str) -> None:
    match = matcher.match(sentence)
    assert match.label == "new", match
    assert claim_id in " ".join(match.reasons) or match.claim_id in (None, claim_id), match


@pytest.mark.parametrize(("sentence", "label", "claim_id"), [
    # other workers in a clause of contrast are not the subject
    ("Unlike the Central Asian migrants who drive Moscow's taxis, most North Korean workers in Russia are assigned "
     "to construction.", "corroborates", "K04"),
    ("Unlike Chinese migrant workers, who come and go freely, North Korean labourers in Russia are guarded by "
     "minders and rarely leave their sites or dorms.", "corroborates", "K32"),
    ("While Chinese staff go home at night, the North Koreans at Chinese seafood processors, mostly young women, "
     "are kept inside company compounds.", "corroborates", "K16"),
    # a refined-petroleum cap in other words is still the claim's
    ("UNSC 2397 limits the DPRK's imports of refined petroleum products to 500,000 barrels annually.",
     "corroborates", "K39"),
    # keeping the workers is not sending them home
    ("Mongolia had about 1,200 North Korean workers in 2017 and said it would let them stay.", "updates", "K34"),
])
def test_what_still_reports_the_claim(matcher: ClaimMatcher, sentence: str, label: str, claim_id: str) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id) == (label, claim_id), match


@pytest.mark.parametrize(("text", "movement"), [
    ("mongolia promised to send them home", "out"),
    ("mongolia said it would let them stay", "stay"),
    ("몽골은 북한 노동자들의 송환을 미루고 계속 고용하기로 했다", "stay"),
    ("over 10,000 north korean workers entered russia", "in"),
])
def test_kept_where_they_are_is_a_movement_of_its_own(text: str, movement: str) -> None:
    assert slots.movement(prepare_text(text)) == movement


def test_sailors_are_not_workers() -> None:
    subject = slots.subject(prepare_text("Thirteen North Korean sailors rescued by a patrol chose to return home."))
    assert "sailor" in subject.roles and "worker" not in subject.roles


@pytest.mark.parametrize("sentence", [
    "러시아 연해주 법원은 북한 노동자를 불법 고용한 건설업체에 벌금을 부과했다.",  # a court fines an employer
    "珲春一家海鲜加工厂近日发生火灾，多名朝鲜女工受伤。",  # a fire injures workers
    "在丹东服装厂工作的朝鲜女工每周都要参加政治学习会。",  # political study sessions
    "北朝鮮は2024年、ロシアに砲弾など約1万3千コンテナ分の武器を送ったとされる。",  # containers of weapons
    "Прокуратура Приморского края возбудила дело против строительной фирмы, незаконно нанимавшей граждан КНДР.",
])
def test_other_topics_in_other_languages_are_claims_of_their_own(matcher: ClaimMatcher, sentence: str) -> None:
    assert matcher.match(sentence).label == "new", matcher.match(sentence)


@pytest.mark.parametrize(("text", "who"), [
    ("Most of what North Korean workers earn abroad is taken by the state as so-called loyalty fees.", "the state"),
    ("North Korean workers receive only a small share of their pay, with the rest sent to Pyongyang.", "the state"),
    ("Workers keep most of their wages and only a small part goes to the state.", "workers"),
    ("海外の北朝鮮労働者は賃金の大半を手元に残すことができ、国家への「忠誠資金」はごく一部にとどまる。", "workers"),
    ("North Korean workers in Russia work up to 18 hours a day.", None),
])
def test_who_gets_most_of_the_pay(text: str, who: str | None) -> None:
    assert slots.majority(prepare_text(text)) == who


@pytest.mark.parametrize(("sentence", "claim_id", "slot"), [
    ("North Korean workers abroad keep most of what they earn; only a small part goes to the state as loyalty fees.",
     "K06", "majority"),
    ("North Korea sends workers to Russia on business and training visas to get around the UN ban on its overseas "
     "labour.", "K14", "visa"),
    ("North Korea sends workers to Russia on diplomatic passports to get around the UN ban on its overseas labour.",
     "K14", "visa"),
    ("Most of the North Korean workers in Chinese seafood plants are young women who are free to leave the company "
     "compounds.", "K16", "freedom"),
    ("Mongolia had about 1,200 North Korean workers in 2017 and declined to send them home.", "K34", "movement"),
])
def test_slots_of_polarity_and_papers(matcher: ClaimMatcher, sentence: str, claim_id: str, slot: str) -> None:
    explanation = matcher.explain(sentence)
    assert (explanation.match.label, explanation.match.claim_id) == ("updates", claim_id), explanation.match
    assert slot in {difference.slot for difference in explanation.differences}


@pytest.mark.parametrize(("sentence", "label"), [
    # hours are what it reports: the meals and political study that break the shifts are an aside
    ("Former North Korean workers on construction sites in Russia describe shifts lasting up to 18 hours a day, "
     "broken only by short meals and political study sessions.", "corroborates"),
    ("Former North Korean workers on construction sites in Russia describe shifts lasting up to 14 hours a day, "
     "broken only by short meals and political study sessions.", "updates"),
])
def test_a_topic_beside_the_claims_figure_is_an_aside(matcher: ClaimMatcher, sentence: str, label: str) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id) == (label, "K03"), match


def test_plants_that_go_on_employing_workers_say_nothing_of_their_freedom(matcher: ClaimMatcher) -> None:
    sentence = ("Seafood processing plants around Dandong in north-east China continue to employ North Korean "
                "workers, many of them young women, according to investigators.")
    assert matcher.match(sentence).label != "updates", matcher.explain(sentence).differences


def test_the_claim_that_speaks_of_who_gets_most_of_the_pay_is_the_sentences() -> None:
    # the shipped claims: K06 says who takes most of the pay; the sentence agrees with several claims alike
    shipped = ClaimMatcher([c for c in read_claims(Path(__file__).resolve().parents[3] / "known_claims.yaml")
                            if c.status == "active"])
    sentence = "Северокорейские рабочие за рубежом получают лишь малую часть заработанного, рассказали бывшие рабочие."
    match = shipped.match(sentence)
    assert (match.label, match.claim_id) == ("corroborates", "K06"), match
