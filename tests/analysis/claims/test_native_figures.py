"""Figures as Korean, Chinese, Japanese and Russian copy writes them: one table row per native form, read by
the same extractor as English copy (``analysis.claims.native`` rewrites them first)."""

from __future__ import annotations

import pytest

from analysis.claims.native import native_forms
from analysis.claims.quantities import extract_quantities
from tests.analysis.claims.quantity_table import Expected, assert_quantities

# (text, [(kind, low, high, qualifier), ...])
CASES = [
    # myriad compounds, with and without spaces, and digits written on after a unit
    ("북한 노동자 1만 2천 명", [("count", 12_000, 12_000, "exact")]),
    ("1万2千人の労働者", [("count", 12_000, 12_000, "exact")]),
    ("2017년 3만23명에서 2018년 1만1490명으로", [("year", 2017, 2017, "exact"), ("count", 30_023, 30_023, "exact"),
                                            ("year", 2018, 2018, "exact"), ("count", 11_490, 11_490, "exact")]),
    ("노동자 약 1천200명", [("count", 1_200, 1_200, "about")]),
    ("2억 5천만 달러", [("money", 250e6, 250e6, "exact")]),
    ("3만 2024년", [("count", 30_000, 30_000, "exact"), ("year", 2024, 2024, "exact")]),
    ("북한 노동자 1만 1천 500명", [("count", 11_500, 11_500, "exact")]),
    ("북한 주민은 1만 3221명이며", [("count", 13_221, 13_221, "exact")]),
    ("2년 안에 모두 돌려보내야 한다", [("duration", 2, 2, "exact")]),  # within two years
    ("유엔 안보리 결의 제2397호는", [("resolution", 2397, 2397, "exact")]),  # digits after a space, then the counter
    # fractions, and "dozens", which is no figure in any language
    ("임금의 3분의 2", [("percent", 66.67, 66.67, "exact")]),
    ("две трети зарплаты", [("percent", 66.67, 66.67, "exact")]),
    ("数十名朝鲜工人", []),
    ("десятки северокорейцев", []),
    ("десятки тысяч рабочих", [("count", 20_000, 99_999, "magnitude")]),
    # witnesses, with the verb first as Russian puts it
    ("как рассказали два бывших рабочих, строят дома", []),
    ("1.2万名工人", [("count", 12_000, 12_000, "exact")]),
    # Chinese numerals, tenths and 百分之
    ("两千名朝鲜工人", [("count", 2_000, 2_000, "exact")]),
    ("工资最多有九成上缴国家", [("percent", 90, 90, "up_to")]),
    ("賃金の最大7割が国家に", [("percent", 70, 70, "up_to")]),
    ("百分之九十的工资", [("percent", 90, 90, "exact")]),
    ("工会5成员", [("count", 5, 5, "exact")]),  # five members: 成员 is not a tenth
    # vague magnitudes take the English bands
    ("수백 명 수준", [("count", 200, 999, "magnitude")]),
    ("数万名朝鲜劳工", [("count", 20_000, 99_999, "magnitude")]),
    ("数千名女工", [("count", 2_000, 9_999, "magnitude")]),
    ("수십만 명", [("count", 200_000, 999_999, "magnitude")]),
    ("数百万人", [("count", 2_000_000, 9_999_999, "magnitude")]),
    ("暗号資産数十億ドル相当", [("money", 2e9, 9_999_999_999, "magnitude")]),
    ("десятки тысяч рабочих", [("count", 20_000, 99_999, "magnitude")]),
    ("тысячи рабочих из КНДР", [("count", 2_000, 9_999, "magnitude")]),
    ("несколько тысяч строителей", [("count", 2_000, 9_999, "magnitude")]),
    # Russian number and scale words, decimal comma
    ("тысячу саперов и пять тысяч военных строителей", [("count", 1_000, 1_000, "exact"),
                                                       ("count", 5_000, 5_000, "exact")]),
    ("две тысячи рабочих", [("count", 2_000, 2_000, "exact")]),
    ("с 30 тыс. до 11,5 тыс.", [("count", 30_000, 30_000, "exact"), ("count", 11_500, 11_500, "up_to")]),
    ("5 тысяч рабочих", [("count", 5_000, 5_000, "exact")]),
    ("один из рабочих", []),
    # hedges before and after the number, in each language
    ("约10万名朝鲜人", [("count", 100_000, 100_000, "about")]),
    ("报告员估计，逾5万名朝鲜人", [("count", 50_000, 50_000, "more_than")]),
    ("베트남 노동자 1만여 명", [("count", 10_000, 10_000, "more_than")]),
    ("1만 명이 넘는 북한 노동자", [("count", 10_000, 10_000, "more_than")]),
    ("1만 명을 웃돈 것으로", [("count", 10_000, 10_000, "more_than")]),
    ("노동자를 5만 명 이상 보낼", [("count", 50_000, 50_000, "at_least")]),
    ("8천 명가량이", [("count", 8_000, 8_000, "about")]),
    ("2500名左右的朝鲜工人", [("count", 2_500, 2_500, "about")]),
    ("1万5000人余りに上った", [("count", 15_000, 15_000, "more_than")]),
    ("5万人超の労働者", [("count", 50_000, 50_000, "more_than")]),
    ("1万人近くが", [("count", 10_000, 10_000, "about")]),
    ("不足1000人", [("count", 1_000, 1_000, "fewer_than")]),
    ("최대 1만5천 명", [("count", 15_000, 15_000, "up_to")]),
    ("свыше 10 тыс. граждан", [("count", 10_000, 10_000, "more_than")]),
    ("около 11 тыс. военнослужащих", [("count", 11_000, 11_000, "about")]),
    ("до 22 часов в сутки", [("hours", 22, 22, "up_to")]),
    # years, dates, decades and eras
    ("2017년 12월 채택된", [("date", 201_712, 201_712, "exact")]),
    ("2024年1月，吉林省", [("date", 202_401, 202_401, "exact")]),
    ("2016年4月、中国にある", [("date", 201_604, 201_604, "exact")]),
    ("в июне 2025 года", [("date", 202_506, 202_506, "exact")]),
    ("в конце апреля 2024 года", [("date", 202_404, 202_404, "exact")]),
    ("12월 25일에 발표", []),
    ("平成29年、北朝鮮労働者", [("year", 2017, 2017, "exact")]),
    ("令和元年", [("year", 2019, 2019, "exact")]),
    ("лишь с 2000-х годов", [("year", 2000, 2009, "range")]),
    ("до 1,15 тыс. в 2018-м", [("count", 1_150, 1_150, "up_to"), ("year", 2018, 2018, "exact")]),
    # ranges, hours, money, resolutions, units
    ("每天工作12至14小时", [("hours", 12, 14, "range")]),
    ("1日12～16時間働く", [("hours", 12, 16, "range")]),
    ("하루 최대 18시간까지", [("hours", 18, 18, "up_to")]),
    ("12亿至23亿美元", [("money", 1.2e9, 2.3e9, "range")]),
    ("年間2億5000万～6億ドル", [("money", 250e6, 600e6, "range")]),
    ("約3億ドルと推定", [("money", 300e6, 300e6, "about")]),
    ("第2397号决议", [("resolution", 2397, 2397, "exact")]),
    ("안보리 결의 2397호는", [("resolution", 2397, 2397, "exact")]),
    ("国連安保理決議2397号は", [("resolution", 2397, 2397, "exact")]),
    ("согласно резолюции 2375", [("resolution", 2375, 2375, "exact")]),
    ("1人で月に30万ドル以上", [("money", 300_000, 300_000, "at_least")]),
    # names with digits are not figures
    ("코로나19 이전", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_native_figure_forms(text: str, expected: Expected) -> None:
    assert_quantities(text, expected)


@pytest.mark.parametrize(("text", "unit"), [("约50个国家", "countries"), ("約40カ国", "countries"),
                                            ("약 40개국", "countries"), ("40 стран", "countries"),
                                            ("每年200万桶", "barrels")])
def test_units_written_after_native_numbers(text: str, unit: str) -> None:
    [quantity] = extract_quantities(text)
    assert quantity.unit_guess == unit


@pytest.mark.parametrize("text", ["more than 50,000 North Korean workers in 2024", "Workers' Party", ""])
def test_text_without_native_scripts_is_returned_as_it_is(text: str) -> None:
    assert native_forms(text.casefold()) is not None
    assert native_forms(text.casefold()) == text.casefold()


def test_words_that_contain_number_characters_are_left_alone() -> None:
    assert native_forms("万寿台海外開発会社") == "万寿台海外開発会社"
    assert native_forms("一般的に") == "一般的に"


@pytest.mark.parametrize(("text", "kept"), [
    ("임금의 10%만 손에 쥐고 나머지는 국가에 바친다", True),  # keeps only 10%, the verb after the figure
    ("only 25 per cent stays with them", True),
    ("workers keep just a tenth of their pay", True),
    ("90% goes to the state and the workers keep the rest", False),  # the verb is another clause's
])
def test_a_kept_share_is_told_from_a_taken_one_whichever_side_the_verb_is_on(text: str, kept: bool) -> None:
    [share] = extract_quantities(text)
    assert share.complement is kept
