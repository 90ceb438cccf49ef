"""Rules about language, numbers and entities found from the misses of probes_blind_g and probes_blind_xling_c,
each checked on wordings of its own (not the sets' sentences) and on the wording it must leave alone."""

from __future__ import annotations

import pytest

from analysis.claims import ClaimMatcher, slots
from analysis.claims.attribution import without_attributions
from analysis.claims.quantities import extract_quantities


def test_a_speaker_with_a_relative_clause_is_an_attribution() -> None:
    text = "former loggers who spent years in amur camps recount shifts of 16 hours."
    assert without_attributions(text).strip() == "shifts of 16 hours."
    # Without a verb of speech the relative clause is the report itself.
    kept = "workers who arrived in 2024 were put on building sites."
    assert without_attributions(kept) == kept


@pytest.mark.parametrize(("text", "sectors", "negated"), [
    ("most now work in fish-processing plants, not construction.", {"seafood"}, {"construction"}),
    ("they work on farms, not only in construction.", {"farming", "construction"}, set()),
    ("the women sew garments, not yet in restaurants.", {"clothing", "restaurants"}, set()),
])
def test_a_comma_and_not_deny_a_sector(text: str, sectors: set[str], negated: set[str]) -> None:
    assert slots.sectors(text) == sectors
    assert slots.negated_sectors(text) == negated


def test_a_sector_named_as_background_is_not_the_sentences_trade() -> None:
    text = "apart from building sites, the men are now sent to shipyards."
    assert slots.sectors(text) == {"shipyards"}
    assert slots.background_sectors(text) == {"construction"}
    # "IT" is read in the uncased text, and the background there is left out too.
    assert slots.sectors("beyond it work, they sew clothes.", "Beyond IT work, they sew clothes.") == {"clothing"}


@pytest.mark.parametrize(("sentence", "claim_id"), [
    # The other-sectors claim, not the main-sector one, whatever the language.
    ("Apart from building sites, North Korean workers in Russia now also go to fish farms and shipyards.", "K05"),
    ("Кроме строек, рабочих из КНДР в России направляют на верфи.", "K05"),
])
def test_besides_a_sector_speaks_to_the_claim_that_names_it_so(matcher: ClaimMatcher, sentence: str,
                                                               claim_id: str) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id) == ("updates", claim_id), match


@pytest.mark.parametrize(("text", "unit"), [
    ("北朝鮮の核実験は今回で7回目となる。", "times"),
    ("북한의 미사일 발사는 올해 들어 12번째다.", "times"),
    ("Employers posted 1,800 vacancies for North Korean builders.", "vacancies"),
    ("About 3,000 North Korean workers arrived.", None),
])
def test_counts_of_times_and_of_things_are_not_head_counts(text: str, unit: str | None) -> None:
    counts = [q for q in extract_quantities(text) if q.kind == "count"]
    assert counts and counts[-1].unit_guess == unit


@pytest.mark.parametrize(("text", "tally"), [
    ("defectors resident in south korea now number more than 30,000.", "stock"),
    ("the cumulative number of arrivals reached 34,000.", "stock"),
    ("only 196 defectors reached south korea in 2023.", "arrivals"),
    ("the number of workers in the country fell.", None),
])
def test_stock_and_flow(text: str, tally: str | None) -> None:
    assert slots.tally(text) == tally


def test_a_stock_does_not_update_a_count_of_arrivals(matcher: ClaimMatcher) -> None:
    stock = matcher.match("North Korean defectors resident in South Korea now number more than 30,000.")
    assert stock.label == "new", stock
    flow = matcher.match("Only 196 North Korean defectors reached South Korea in 2024.")
    assert (flow.label, flow.claim_id) == ("updates", "K37"), flow


def test_a_limit_broken_is_not_the_limit_set(matcher: ClaimMatcher) -> None:
    broken = matcher.match("Shipments of refined petroleum to North Korea breached the 500,000-barrel ceiling.")
    assert broken.label == "new", broken
    assert "breach of a limit" in broken.reasons[0]
    kept = matcher.match("Resolution 2397 capped North Korea's refined petroleum imports at 500,000 barrels a year.")
    assert (kept.label, kept.claim_id) == ("corroborates", "K39"), kept
    # "exceeded N" is a figure's more-than hedge.
    assert [q.qualifier for q in extract_quantities("Arrivals exceeded 10,000 in 2024.") if q.kind == "count"] == [
        "more_than"]


def test_a_changed_profile_updates_the_claim_that_states_one(matcher: ClaimMatcher) -> None:
    match = matcher.match("在中国水产加工厂干活的朝鲜工人大多是男性。")
    assert (match.label, match.claim_id) == ("updates", "K16"), match


@pytest.mark.parametrize(("text", "kinds"), [
    ("The 2397 resolution limits North Korea to 500,000 barrels a year.", ["resolution", "count"]),
    ("The 2375 sanctions resolution barred new work permits.", ["resolution"]),
    ("About 2397 workers arrived.", ["count"]),
])
def test_a_number_before_resolution_is_its_number(text: str, kinds: list[str]) -> None:
    assert [q.kind for q in extract_quantities(text)] == kinds


@pytest.mark.parametrize("sentence", [
    "The UN panel estimated that North Korean IT workers abroad earn up to $1bn a year.",
    "유엔 전문가 패널은 북한 IT 노동자들이 연간 최대 10억 달러를 벌어들인다고 추산했다.",
])
def test_a_figure_stated_of_a_trade_goes_to_the_claim_of_that_trade(matcher: ClaimMatcher, sentence: str) -> None:
    match = matcher.match(sentence)
    assert (match.label, match.claim_id) == ("updates", "K25"), match
    # Stated of no trade, the same figure is the all-workers revenue claim's.
    general = matcher.match("Workers sent abroad were earning North Korea about $1bn a year, US officials estimated.")
    assert (general.label, general.claim_id) == ("updates", "K28"), general


@pytest.mark.parametrize(("text", "kind", "value", "high"), [
    ("Fourteen- to eighteen-hour days are the norm.", "hours", 14, 18),
    ("Nine in ten dollars they earn go to the state.", "percent", 90, 90),
    ("Two out of three of them work on building sites.", "percent", 66.67, 66.67),
])
def test_suspended_hyphen_ranges_and_shares_of_a_small_whole(text: str, kind: str, value: float, high: float) -> None:
    [quantity] = extract_quantities(text)
    assert (quantity.kind, quantity.low, quantity.high) == (kind, value, high)


def test_no_share_is_read_from_a_count_and_a_year_or_a_larger_part() -> None:
    assert [q.kind for q in extract_quantities("2 in 2024 and 12 in 10 cases")] == ["count", "year", "count", "count"]


def test_more_and_more_is_a_rise() -> None:
    assert slots.direction("more and more workers have fled since 2022.") == "up"
    assert slots.direction("less and less often do they flee.") == "down"


def test_a_second_month_beside_the_claims_month_is_another_event(matcher: ClaimMatcher) -> None:
    both = matcher.match("Russia's veto in March 2024 ended the mandate of the UN panel that monitored North Korea "
                         "sanctions, and it wound up in April 2024.")
    assert (both.label, both.claim_id) == ("corroborates", "K24"), both
    moved = matcher.match("The UN panel monitoring North Korea sanctions wound up in May 2024 after Russia's veto.")
    assert (moved.label, moved.claim_id) == ("updates", "K24"), moved


@pytest.mark.parametrize(("sentence", "label"), [
    ("北朝鮮は2024年、ロシアから原油100万バレル以上を輸入したとみられる。", "new"),  # crude oil, not refined petroleum
    ("第2397号决议将朝鲜的精炼石油进口上限定为每年50万桶。", "corroborates"),
    ("国連安保理は2024年4月、北朝鮮の人権問題について会合を開いた。", "new"),  # a meeting, not the panel's end
])
def test_goods_and_meetings_are_glossed(matcher: ClaimMatcher, sentence: str, label: str) -> None:
    assert matcher.match(sentence).label == label


def test_a_year_before_resolution_dates_it() -> None:
    assert [q.kind for q in extract_quantities("The 2017 resolution gave countries until the end of 2019.")] == [
        "year", "year"]
