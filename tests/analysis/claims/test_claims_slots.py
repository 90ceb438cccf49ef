"""Slots beyond the figures, in English and glossed copy: visa kinds, barred or allowed, the currency and period of
money, and counts of one person; each decides corroborates vs updates against a claim that states it."""

from __future__ import annotations

import pytest

from analysis.claims import ClaimMatcher
from analysis.claims.matcher import analyse
from analysis.claims.model import Claim
from analysis.claims.quantities import extract_quantities, prepare_text
from analysis.claims.slots import negated_sectors, permission, sanctioners, visas


@pytest.mark.parametrize(("text", "kinds"), [
    ("North Korea sends workers to Russia on student and tourist visas", {"student", "tourist"}),
    ("about 8,000 of them on student visas", {"student"}),
    ("they arrive on work visas", {"work"}),
    ("по туристическим визам", {"tourist"}),
    ("유학·관광 비자로 러시아에 보내고 있다", {"student", "tourist"}),
    ("Kuwait stopped granting visas", set()),
    ("sending workers to Russia on business and diplomatic visas", {"business", "diplomatic"}),
])
def test_visa_kinds(text: str, kinds: set[str]) -> None:
    assert visas(prepare_text(text)) == kinds


@pytest.mark.parametrize(("text", "expected"), [
    ("the resolution barred countries from issuing new work permits", "ban"),
    ("Kuwait stopped granting visas to North Korean workers", "ban"),
    ("the resolution allowed countries to continue issuing work permits", "allow"),
    ("允许各国继续向朝鲜公民发放新的工作许可", "allow"),
    ("northern Russia hired more workers", None),
    ("despite the ban, Russia allowed them in", None),  # both: the sentence does not take a side
])
def test_barred_or_allowed(text: str, expected: str | None) -> None:
    assert permission(prepare_text(text)) == expected


@pytest.mark.parametrize(("text", "currency", "period"), [
    ("they earn $500m a year", "usd", "year"),
    ("an annual income of $1.2bn", "usd", "year"),
    ("up to 3,000 yuan a month", "cny", "month"),
    ("€5,000 per month", "eur", "month"),
    ("1000 рублей в месяц", "rub", "month"),
    ("年間2億5000万～6億円と推計", "jpy", "year"),
    ("月に30万ドル以上を稼ぐ", "usd", "month"),
    ("$300,000", "usd", None),
])
def test_currency_and_period_of_money(text: str, currency: str, period: str | None) -> None:
    [money] = [quantity for quantity in extract_quantities(text) if quantity.kind == "money"]
    assert (money.currency, money.period) == (currency, period)


@pytest.mark.parametrize(("text", "negated"), [
    ("most work on farms rather than construction sites", {"construction"}),
    ("대부분은 건설 현장이 아니라 농장과 온실에 투입됐다", {"construction"}),
    ("建設現場ではなく農場で働く", {"construction"}),
    ("不是在建筑工地，而是在农场", {"construction"}),
    ("на фермах, а не на стройках", {"construction"}),
    ("rather than construction. they also farm", {"construction"}),
])
def test_negated_sectors_in_every_language(text: str, negated: set[str]) -> None:
    assert negated_sectors(prepare_text(text)) == negated


@pytest.mark.parametrize(("sentence", "claim_id", "slot"), [
    ("A North Korean IT worker abroad can earn more than $300,000 a month.", "K26", "period"),
    ("UN monitors estimated North Korean IT workers abroad bring in between ¥250m and ¥600m a year.", "K25",
     "currency"),
    ("Russian figures show over 13,000 North Koreans came to Russia in 2024, some 8,000 of them on tourist visas.",
     "K13", "visa"),
    ("UN Security Council resolution 2375 of September 2017 allowed countries to keep issuing new work permits to "
     "North Korean nationals.", "K08", "permission"),
    ("Thousands of North Korean women assemble phone parts in electronics factories in Dandong.", "K36", "sector"),
    ("数千名朝鲜女工在辽宁丹东的电子厂组装手机零件。", "K36", "sector"),
    ("Mansudae Overseas Projects built statues across Africa and was hit by US sanctions in 2016.", "K23",
     "sanctions by"),
    ("万寿台海外開発会社はアフリカ諸国で銅像を建て、2016年に米国の独自制裁の対象となった。", "K23", "sanctions by"),
    ("North Korean loggers have worked in camps in Russia's Far East only since the early 2000s.", "K33", "era"),
    ("North Korean loggers have worked in camps in Russia's Far East since post-Soviet times.", "K33", "era"),
])
def test_a_changed_slot_makes_an_update(matcher: ClaimMatcher, sentence: str, claim_id: str, slot: str) -> None:
    explanation = matcher.explain(sentence)
    assert (explanation.match.label, explanation.match.claim_id) == ("updates", claim_id), explanation.match
    assert slot in {difference.slot for difference in explanation.differences}


def test_a_count_of_one_person_is_not_a_changed_figure(matcher: ClaimMatcher) -> None:
    match = matcher.match("2016년 4월 중국 내 북한 식당에서 일하던 종업원 12명과 지배인 1명이 집단 탈북해 한국에 입국했다.")
    assert (match.label, match.claim_id) == ("corroborates", "K22"), match


@pytest.mark.parametrize(("sentence", "label", "changed"), [
    ("Most of what North Korean workers earn abroad is taken by the regime as loyalty fees.", "corroborates", None),
    ("Most of what North Korean workers earn abroad is handed to Pyongyang as loyalty fees.", "corroborates", None),
    ("Most of what North Korean workers earn abroad is kept by their Russian employers.", "updates", "employers"),
    ("Most of what North Korean workers earn abroad ends up with Chinese middlemen rather than the state.",
     "updates", "brokers"),
])
def test_the_actor_who_takes_the_pay_is_a_slot(sentence: str, label: str, changed: str | None) -> None:
    claim = Claim("K06", "Most of what North Korean workers earn abroad is taken by the state as so-called loyalty fees.")
    explanation = ClaimMatcher([claim], semantic=False).explain(sentence)
    assert explanation.match.label == label
    assert [d.new for d in explanation.differences if d.slot == "actor"] == ([changed] if changed else [])


K28 = Claim("K28", "Workers sent abroad were earning North Korea an estimated $500m a year.")


@pytest.mark.parametrize(("sentence", "label"), [
    # A place or trade of its own and no figure: another claim, not the figure claim restated.
    ("North Korea has sent doctors and nurses to several African countries to earn foreign currency.", "new"),
    ("North Korean workers sent abroad earn the regime about $500m a year, mostly in Russia.", "corroborates"),
    ("Workers North Korea sends abroad earn it hundreds of millions of dollars a year.", "corroborates"),
    ("North Korean workers sent abroad earn the regime $800m a year.", "updates"),
])
def test_a_sentence_that_adds_its_own_place_and_omits_the_figure_is_a_claim_of_its_own(sentence: str,
                                                                                       label: str) -> None:
    assert ClaimMatcher([K28], semantic=False).match(sentence).label == label


K26 = Claim("K26", "A single North Korean IT worker abroad can earn more than $300,000 a year.")
K30 = Claim("K30", "North Korean workers abroad typically work between 12 and 16 hours a day.")
K03 = Claim("K03", "North Korean labourers in Russia are made to work for as long as 18 hours a day.")
K06 = Claim("K06", "Most of what North Korean workers earn abroad is taken by the state as so-called loyalty fees.")
K35 = Claim("K35", "As much as 90% of a North Korean overseas worker's wages goes to the state.")


@pytest.mark.parametrize(("sentence", "claim_id", "old", "new"), [
    # One person's money is the per-person claim's, not the national revenue's.
    ("North Korean IT workers can each earn more than $360,000 a year.", "K26", ("$300,000",), ("$360,000",)),
    ("North Korean workers sent abroad were earning North Korea $800m a year.", "K28", ("$500m",), ("$800m",)),
    # A range is compared end to end with the range claim.
    ("North Korean workers abroad spend anywhere from 10 to 14 hours a day on the job.", "K30", ("12–16",),
     ("10–14",)),
    ("North Korean labourers in Russia work up to 21 hours a day.", "K03", ("18",), ("21",)),
    # A share goes to the claim stating a share, not to the figureless "most of the pay".
    ("The state takes 50 per cent of what North Korean workers earn abroad.", "K35", ("90%",), ("50 per cent",)),
])
def test_a_figure_goes_to_the_claim_that_states_its_kind_and_shape(sentence: str, claim_id: str,
                                                                   old: tuple[str, ...], new: tuple[str, ...]) -> None:
    match = ClaimMatcher([K26, K28, K30, K03, K06, K35], semantic=False).match(sentence)
    assert (match.label, match.claim_id, match.old_values, match.new_values) == ("updates", claim_id, old, new)


def test_a_sentence_stating_only_another_kind_of_amount_is_a_claim_of_its_own() -> None:
    k34 = Claim("K34", "Mongolia had about 1,200 North Korean workers in 2017 and promised to send them home.")
    match = ClaimMatcher([k34], semantic=False).match(
        "A typical monthly wage for North Korean workers in Mongolia in 2017 was $300.")
    assert match.label == "new" and "the claim count" in match.reasons[0]


@pytest.mark.parametrize("sentence", [
    "North Korean workers at Chinese seafood plants are paid roughly $300 a month, the investigation found.",
    "North Korean workers at Chinese seafood plants put in 14-hour shifts, the investigation found.",
])
def test_pay_or_hours_against_a_claim_stating_neither_is_a_claim_of_its_own(sentence: str) -> None:
    k15 = Claim("K15", "North Korean workers have been found processing seafood at Chinese plants whose products "
                       "were shipped to the United States and Europe.")
    match = ClaimMatcher([k15, K28], semantic=False).match(sentence)
    assert match.label == "new", match


def test_a_sentence_sharing_only_whom_a_claim_is_about_is_not_that_claim() -> None:
    k01 = Claim("K01", "More than 50,000 North Korean labourers may be sent to work in Russia.")
    matcher = ClaimMatcher([K28, k01], semantic=False)
    # Only "North Korean workers" in common: the claims report pay and a scale of dispatch, the sentence neither.
    assert matcher.match("Russia's ambassador praised North Korean workers for their discipline.").label == "new"
    # The claim's own report in other words still finds it.
    assert matcher.match("North Korean workers abroad earn the regime about $500m a year.").claim_id == "K28"


def test_a_year_that_differs_does_not_make_an_update_of_a_claim_whose_amounts_are_of_another_kind() -> None:
    k13 = Claim("K13", "Russian data show more than 13,000 North Koreans entered Russia in 2024, about 8,000 of them "
                       "on student visas.")
    match = ClaimMatcher([k13], semantic=False).match(
        "China's trade with North Korea recovered to about $2.3bn in 2023, Chinese customs data show.")
    assert match.label == "new" and "money" in match.reasons[0]


@pytest.mark.parametrize(("text", "bodies"), [
    ("Mansudae was put under UN sanctions in 2016", {"the un"}),
    ("the firm was hit by unilateral US sanctions", {"the united states"}),
    ("sanctions imposed by the Security Council and by Washington", {"the un", "the united states"}),
    ("a Washington official praised the workers", set()),  # no sanctions spoken of: no sanctioner
    ("2016年に米国の独自制裁の対象となった", {"the united states"}),
    ("попала под санкции ООН", {"the un"}),
])
def test_who_imposed_the_sanctions(text: str, bodies: set[str]) -> None:
    assert sanctioners(prepare_text(text)) == bodies


def test_naming_the_claims_sanctioner_beside_another_is_no_change(matcher: ClaimMatcher) -> None:
    sentence = ("Mansudae Overseas Projects built statues in African countries and was put under UN sanctions in "
                "2016, US officials said.")
    assert (matcher.match(sentence).label, matcher.match(sentence).claim_id) == ("corroborates", "K23")


@pytest.mark.parametrize("sentence", [
    # the same figures and years as K12's workers, in tonnes of fuel
    "Russia told the UN that its exports of refined petroleum to North Korea fell from about 30,000 tonnes in 2017 "
    "to about 11,500 tonnes in 2018.",
])
def test_a_count_of_things_is_not_a_count_of_people(matcher: ClaimMatcher, sentence: str) -> None:
    assert matcher.match(sentence).label == "new"


def test_nationals_are_people_not_countries() -> None:
    (count,) = [q for q in extract_quantities("more than 10,000 North Korean nationals entered") if q.kind == "count"]
    assert count.unit_guess is None


@pytest.mark.parametrize(("text", "unit"), [
    ("a Seoul NGO has documented 62 cases of abuse", "cases"),
    ("40 North Korean trading companies", "companies"),
    ("about 2,500 at garment plants in Jilin", None),  # people at plants
    ("13 restaurant staff defected", None),  # a singular noun before the count's noun is a modifier
    ("about 2,000 shipyard workers", None),
    ("2016年にポーランドで約2千人に上り、多くが造船所で働いていた", None),  # the counter 人 follows the number
])
def test_the_thing_a_count_counts(text: str, unit: str | None) -> None:
    (count,) = [q for q in extract_quantities(text) if q.kind == "count"]
    assert count.unit_guess == unit


@pytest.mark.parametrize(("sentence", "label", "claim_id"), [
    # a count for another country: a statistic of its own
    ("North Korea has begun sending workers to Belarus, with a first group of about 150 expected this year.",
     "new", None),
    # the place alone changed, or the figure alone: updates
    ("More than 50,000 North Korean labourers may be sent to work in Belarus.", "updates", "K01"),
    ("More than 150 North Korean labourers may be sent to work in Russia.", "updates", "K01"),
])
def test_a_figure_of_another_place_is_a_claim_of_its_own(matcher: ClaimMatcher, sentence: str, label: str,
                                                          claim_id: str | None) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id if label != "new" else None) == (label, claim_id), match


@pytest.mark.parametrize("sentence", [
    "North Korean loggers have been felling timber in Russia's Far East since Soviet times.",
    "북한 벌목공들은 소련 시절부터 러시아 극동의 벌목장에서 일해 왔다.",
])
def test_the_claims_era_in_other_words_corroborates(matcher: ClaimMatcher, sentence: str) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id) == ("corroborates", "K33"), match


def test_one_it_workers_pay_is_one_persons_money_however_the_it_is_written(matcher: ClaimMatcher) -> None:
    # "IT" is read as "information technology": one word more between "a" and "worker"
    match = matcher.match("A lone North Korean IT worker abroad can pull in upwards of $300k a year, officials say.")
    assert (match.label, match.claim_id) == ("corroborates", "K26"), match


@pytest.mark.parametrize(("sentence", "label", "claim_id"), [
    ("North Korean workers injured on Russian building sites are often denied medical treatment.", "new", None),
    ("Dozens of North Korean workers in Qatar were detained and deported for working on construction projects.",
     "new", None),
    # the claim itself speaks of the riot: a protest corroborates it
    ("Some 2,500 North Korean workers protested at factories in Jilin, China, in January 2024 over unpaid wages.",
     "corroborates", "K17"),
    # food factories are a sector, not food
    ("North Korean workers in Russia are being placed in food factories besides construction.", "updates", "K05"),
])
def test_a_sentence_on_another_topic_says_something_else(matcher: ClaimMatcher, sentence: str, label: str,
                                                         claim_id: str | None) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id if label != "new" else None) == (label, claim_id), match


@pytest.mark.parametrize(("text", "per_person"), [
    ("美国政府称，一名在海外工作的朝鲜IT人员年收入可超过10万美元。", True),
    ("북한 IT 노동자 한 명이 해외에서 연간 30만 달러 이상을 벌 수 있다.", True),
    ("約1万人の北朝鮮労働者が年間5億ドルを稼いだ", False),  # 10,000 people, not one
    ("21名の労働者が5億ドルを稼いだ", False),
])
def test_one_person_counted_with_a_counter(text: str, per_person: bool) -> None:
    side = analyse(text).side
    assert ("money per person" in side.amount_kinds) is per_person, side.amount_kinds
