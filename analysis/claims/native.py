"""Figures as Korean, Chinese, Japanese and Russian copy writes them, rewritten into the forms the figure
extractor reads (``analysis.claims.quantities``), so that one extractor compares figures in every language.

Runs inside :func:`analysis.claims.quantities.prepare_text` (after NFKC and casefolding), and only on text that
holds Hangul, kana, CJK ideographs or Cyrillic letters:

- myriad compounds become one number: "1만 2천" → "12000", "2億5000万" → "250000000", "3만23" → "30023";
- Chinese numerals before a counter: "两千名" → "2000名"; tenths and "百分之": "九成", "7割" → "90%", "70%";
- vague magnitudes become the English phrase with the same band: "수만", "数万", "десятки тысяч" →
  "tens of thousands";
- Russian number words and scale words: "пять тысяч" → "5000", "11,5 тысячи" → "11,5 тыс";
- hedges are written in English before their number, wherever the language puts them: "约10万" → "about 10万",
  "1만여 명" → "more than 1만 명", "2500名左右" → "about 2500名";
- years, dates, decades, ranges and resolution numbers in their native forms: "平成29年" → "2017年",
  "2017년 12월" → "dec 2017", "2000-х" → "2000s", "12～16" → "12 to 16", "第2397号决议" → "resolution 2397";
- a digit written right after a CJK character gets a space before it, so it starts a number of its own.
"""

from __future__ import annotations

import re
from decimal import Decimal

# Cyrillic, kana, CJK ideographs and Hangul: text with none of them needs neither these rewrites nor glossing
# (analysis.claims.glossary), and is returned as it is.
NATIVE_SCRIPT_RE = re.compile(r"[\u0400-\u04ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")

# --- myriad compounds ("1만 2천", "2億5000万", "1천200") ---------------------------------------------------
_UNIT_VALUES = {"억": 10**8, "亿": 10**8, "億": 10**8, "만": 10**4, "万": 10**4, "萬": 10**4,
                "천": 10**3, "千": 10**3, "백": 100, "百": 100}  # fmt: skip
_UNITS = "억亿億만万萬천千백百"
# Parts are joined by one space only when another number and unit follow ("1만 2천"); trailing digits when written
# on ("3만23"), or after one space when a counter follows them at once ("1만 1천 500명", "1만 3221명"), so "3만
# 2024년" stays two figures.
_COUNTERS = r"명|인|人|名|달러|ドル|美元|원|円|元|개|곳|家|社|시간|時間|小时"
_COMPOUND_RE = re.compile(
    rf"(?<![\d.,])(?:\d+(?:\.\d+)?\s?[{_UNITS}]+(?:\s(?=\d+(?:\.\d+)?\s?[{_UNITS}]))?)+"
    rf"(?:\d+(?![\d.,]|\s?[{_UNITS}])|\s\d{{1,4}}(?=\s?(?:{_COUNTERS})))?"
)
_PART_RE = re.compile(rf"(\d+(?:\.\d+)?)\s?([{_UNITS}]+)|(\d+)")


def _compound_value(text: str) -> Decimal | None:
    """The value of a run of number-and-unit parts ("2억 5천만" → 250000000), or None when it is one number with
    one unit ("3만", "1.2万"), which the extractor reads itself."""
    total = section = Decimal(0)
    parts = _PART_RE.findall(text)
    if len(parts) < 2 and not any(len(units) > 1 for _, units, _ in parts):
        return None
    for number, units, trailing in parts:
        if trailing:
            section += Decimal(trailing)
            continue
        value = Decimal(number)
        for unit in units:
            scale = _UNIT_VALUES[unit]
            if scale >= 10**4:  # 만 and 억 close a group: "5천만" is 5000 × 10⁴
                total += (section + value) * scale
                section = value = Decimal(0)
            else:
                value *= scale
        section += value
    return total + section


def _replace_compound(match: re.Match[str]) -> str:
    value = _compound_value(match.group(0))
    if value is None:
        return match.group(0)
    return f"{value.normalize():f}"


# --- Chinese numerals ("两千名", "九成", "百分之九十") --------------------------------------------------------
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_CN_SMALL = {"十": 10, "百": 100, "千": 1000}
_CN_LARGE = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_CN_NUMERAL = "〇零一二两兩三四五六七八九十百千万萬亿億"
# Chinese numerals are read only before a counter or unit: elsewhere the characters are words ("一般", "万寿台").
_CN_COUNTERS = r"名|人|个|個|家|倍|年|小时|小時|時間|国|國|カ国|か国|美元|ドル|元|円|桶|次|座"
_CN_NUMBER_RE = re.compile(rf"(?<![{_CN_NUMERAL}\d])([〇零一二两兩三四五六七八九十][{_CN_NUMERAL}]*)(?={_CN_COUNTERS})")
# Tenths ("九成", "7割"), but not the words that start with 成 ("5成员": five members).
_TENTHS_RE = re.compile(
    r"(?<![\d.,〇零一二两兩三四五六七八九十])([一二三四五六七八九]|\d)\s?[成割](?![员員立为為功果本长長])"
)
_PERCENT_CN_RE = re.compile(rf"百分之([{_CN_NUMERAL}]+|\d+(?:\.\d+)?)")
# Fractions: Chinese and Korean name the denominator first ("三分之二", "3분의 2"), as Japanese does ("3分の2").
_FRACTION_CJK_RE = re.compile(rf"([{_CN_NUMERAL}]+|\d+)\s?(?:分之|분의|分の)\s?([{_CN_NUMERAL}]+|\d+)")
# Russian fraction words: "две трети" (two-thirds), "треть", "четверть", "три четверти".
_FRACTION_RU_RE = re.compile(r"\b(?:(одна|две|три)\s+)?(трет(?:ь|и|ей)|четверт(?:ь|и|ей))(?![а-яё])")
_RU_SMALL = {"одна": 1, "две": 2, "три": 3}


def _cn_value(numerals: str) -> int | None:
    """The value of a run of Chinese numerals ("两千五百" → 2500, "十二" → 12, "二〇一七" → 2017), or None."""
    if all(char in _CN_DIGITS for char in numerals):
        return int("".join(str(_CN_DIGITS[char]) for char in numerals))
    total = section = digit = 0
    for char in numerals:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_SMALL:
            section += (digit or 1) * _CN_SMALL[char]
            digit = 0
        elif char in _CN_LARGE:
            total += (section + digit) * _CN_LARGE[char]
            section = digit = 0
        else:
            return None
    return total + section + digit


def _replace_cn_number(match: re.Match[str]) -> str:
    value = _cn_value(match.group(1))
    return match.group(0) if value is None else str(value)


def _replace_tenths(match: re.Match[str]) -> str:
    digit = match.group(1)
    value = int(digit) if digit.isdigit() else _CN_DIGITS[digit]
    return f"{value * 10}%"


def _fraction_percent(numerator: int | None, denominator: int | None) -> str | None:
    if numerator is None or not denominator or numerator > denominator:
        return None
    return f"{numerator / denominator * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else _cn_value(text)


def _replace_cjk_fraction(match: re.Match[str]) -> str:
    percent = _fraction_percent(_number(match.group(2)), _number(match.group(1)))
    return match.group(0) if percent is None else f" {percent} "


def _replace_ru_fraction(match: re.Match[str]) -> str:
    numerator = _RU_SMALL[match.group(1)] if match.group(1) else 1
    percent = _fraction_percent(numerator, 3 if match.group(2).startswith("трет") else 4)
    return match.group(0) if percent is None else f" {percent} "


def _replace_cn_percent(match: re.Match[str]) -> str:
    number = match.group(1)
    if number[0].isdigit():
        return f"{number}%"
    value = _cn_value(number)
    return match.group(0) if value is None else f"{value}%"


# --- vague magnitudes ---------------------------------------------------------------------------------------
_MAGNITUDE_WORDS = (
    (r"(?:수십|数十|數十)\s?(?:억|亿|億)", "billions"),
    (r"(?:수천|数千|數千)\s?(?:만|万|萬)", "tens of millions"),
    (r"(?:수백|数百|數百)\s?(?:만|万|萬)", "millions"),
    (r"(?:수|数|數)\s?(?:억|亿|億)", "hundreds of millions"),
    (r"(?:수십|数十|數十)\s?(?:만|万|萬)", "hundreds of thousands"),
    (r"(?:수|数|數)\s?(?:만|万|萬)", "tens of thousands"),
    (r"(?:수|数|數)\s?(?:천|千)", "thousands"),
    (r"(?:수|数|數)\s?(?:백|百)", "hundreds"),
    # "Dozens" is no figure in English copy either (no band of the policy's): a word, not "10".
    (r"(?:수십|数十|數十)(?=\s?(?:명|名|人|개|家|곳|社))", "dozens"),
    (r"\bсот(?:ни|ен|нями|нях)\s+тысяч\w*", "hundreds of thousands"),
    (r"\bдесят(?:ки|ков|ками|ках)\s+тысяч\w*", "tens of thousands"),
    (r"\bнескольк\w+\s+тысяч\w*", "several thousand"),
    (r"\bнескольк\w+\s+сот(?:ен|ни)\b", "a few hundred"),
    (r"\bмиллиард(?:ы|ов|ами)\b", "billions"),
    (r"\bмиллион(?:ы|ов|ами)\b", "millions"),
    (r"\bсот(?:ни|ен|нями|нях)\b", "hundreds"),
    (r"\bтысяч(?:и|ами|ах)\b", "thousands"),
    (r"\bдесят(?:ки|ков|ками|ках)\b", "dozens"),  # after "десятки тысяч": alternatives are tried in order
)
# Korean 수 ("number", also "can") and CJK 数 start ordinary words too: only before a unit and a counter or
# space do they make a magnitude ("수만 명", "数万名"); the Russian forms are whole words.
_MAGNITUDE_RE = re.compile("|".join(f"(?P<m{index}>{pattern})" for index, (pattern, _) in enumerate(_MAGNITUDE_WORDS)))


def _replace_magnitude(match: re.Match[str]) -> str:
    index = int(str(match.lastgroup)[1:])
    return f" {_MAGNITUDE_WORDS[index][1]} "


# --- Russian number words -------------------------------------------------------------------------------------
_RU_UNITS = {
    "один": 1, "одна": 1, "одну": 1, "одного": 1, "одной": 1, "два": 2, "две": 2, "двух": 2, "три": 3, "трёх": 3,
    "трех": 3, "четыре": 4, "четырёх": 4, "четырех": 4, "пять": 5, "пяти": 5, "шесть": 6, "шести": 6, "семь": 7,
    "семи": 7, "восемь": 8, "восьми": 8, "девять": 9, "девяти": 9, "десять": 10, "десяти": 10,
    "одиннадцать": 11, "двенадцать": 12, "тринадцать": 13, "четырнадцать": 14, "пятнадцать": 15,
    "шестнадцать": 16, "семнадцать": 17, "восемнадцать": 18, "девятнадцать": 19, "двадцать": 20, "двадцати": 20,
    "тридцать": 30, "тридцати": 30, "сорок": 40, "сорока": 40, "пятьдесят": 50, "пятидесяти": 50,
    "шестьдесят": 60, "семьдесят": 70, "восемьдесят": 80, "девяносто": 90, "сто": 100, "ста": 100,
    "двести": 200, "двухсот": 200, "триста": 300, "трёхсот": 300, "четыреста": 400, "пятьсот": 500,
    "пятисот": 500, "шестьсот": 600, "семьсот": 700, "восемьсот": 800, "девятьсот": 900,
}  # fmt: skip
_RU_SCALE_STEMS = (("тысяч", 10**3), ("миллион", 10**6), ("миллиард", 10**9))
_RU_WORD = "|".join(sorted(_RU_UNITS, key=len, reverse=True))
_RU_SCALE = r"(?:тысяч[аиуе]?|тысячей|тысячами|миллион(?:а|ов|ы)?|миллиард(?:а|ов|ы)?)"
_RU_NUMBER_RE = re.compile(rf"\b(?:(?:{_RU_WORD})\b\s*)+(?:{_RU_SCALE}\b)?|\bтысяч[ау]\b")
# A digit followed by a scale word: the extractor knows the abbreviations only.
_RU_DIGIT_SCALE_RE = re.compile(r"(\d)\s+(тысяч|миллион|миллиард)\w*")
_RU_ABBREVIATIONS = {"тысяч": "тыс", "миллион": "млн", "миллиард": "млрд"}


def _ru_value(words: str) -> int | None:
    total = current = 0
    for word in words.split():
        if word in _RU_UNITS:
            current += _RU_UNITS[word]
            continue
        scale = next((value for stem, value in _RU_SCALE_STEMS if word.startswith(stem)), None)
        if scale is None:
            return None
        total += max(current, 1) * scale
        current = 0
    value = total + current
    return value or None


def _replace_ru_number(match: re.Match[str]) -> str:
    text = match.group(0)
    # "один" alone is nearly always a pronoun or an article ("один из"), never a reported figure.
    if text.strip() in ("один", "одна", "одну", "одного", "одной"):
        return text
    value = _ru_value(text)
    return text if value is None else f"{value} "


# --- hedges ---------------------------------------------------------------------------------------------------
_PRE_HEDGES = {
    "about": ("大约", "大約", "约", "約", "약", "およそ", "около", "примерно", "приблизительно", "порядка", "почти",
              "将近", "接近", "거의"),
    "more than": ("超过", "超過", "逾", "более", "свыше", "больше"),
    "at least": ("至少", "少なくとも", "최소", "не менее", "по меньшей мере", "как минимум"),
    "up to": ("最多", "多达", "多達", "最高", "最大", "최대", "до"),
    "fewer than": ("不足", "不到", "少于", "少於", "менее", "меньше", "미만"),
}  # fmt: skip
_PRE_HEDGE_OF = {word: english for english, words in _PRE_HEDGES.items() for word in words}
_PRE_HEDGE_RE = re.compile(
    r"(?<![a-zа-яё0-9_])("
    + "|".join(sorted(map(re.escape, _PRE_HEDGE_OF), key=len, reverse=True))
    + r")\s?(?:有|达|達|为|為)?\s?(?=\d)"
)
_POST_HEDGES = {
    "more than": ("여", "余り", "余", "多", "남짓", "超", "넘는", "넘게", "넘어", "넘은", "웃돈", "웃도는", "を超える",
                  "を超え", "超える"),
    "at least": ("이상", "以上"),
    "about": ("左右", "가량", "정도", "前後", "程度", "ほど", "ぐらい", "くらい", "쯤", "近く"),
    "fewer than": ("未満", "미만"),
    "up to": ("以下", "이하"),
}  # fmt: skip
_POST_HEDGE_OF = {word: english for english, words in _POST_HEDGES.items() for word in words}
_COUNTER = r"명|名|人|человек|граждан|рабочих|달러|美元|ドル|元|円|원|долл\w*|руб\w*"
_POST_HEDGE_RE = re.compile(
    rf"(?P<number>(?<![\d.,])\d[\d.,]*(?:\s?[{_UNITS}])?)(?P<counter>\s?(?:{_COUNTER})?)"
    r"(?P<particle>\s?(?:이|가|을|를|が|を)?\s?)"
    r"(?P<hedge>" + "|".join(sorted(map(re.escape, _POST_HEDGE_OF), key=len, reverse=True)) + ")"
)
# These follow the number directly ("1万多名", "20여 명"); after a counter or particle they are other words.
_DIRECT_ONLY = frozenset({"여", "多", "余"})


def _replace_post_hedge(match: re.Match[str]) -> str:
    hedge = match.group("hedge")
    if hedge in _DIRECT_ONLY and (match.group("counter").strip() or match.group("particle").strip()):
        return match.group(0)
    return f" {_POST_HEDGE_OF[hedge]} {match.group('number')}{match.group('counter')} "


# --- years, dates, ranges, resolutions -------------------------------------------------------------------------
_ERAS = {"平成": 1988, "令和": 2018, "昭和": 1925}
_ERA_RE = re.compile(r"(平成|令和|昭和)\s?(\d{1,2}|元)\s?年")
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_CJK_DATE_RE = re.compile(r"((?:19|20)\d\d)\s?[년年]\s?(1[0-2]|0?[1-9])\s?[월月](?:\s?([0-3]?\d)\s?[일日])?")
_CJK_DAY_RE = re.compile(r"(?<!\d)(1[0-2]|0?[1-9])\s?[월月]\s?([0-3]?\d)\s?[일日]")
_RU_MONTHS = (("январ", "jan"), ("феврал", "feb"), ("март", "mar"), ("апрел", "apr"), ("ма", "may"),
              ("июн", "jun"), ("июл", "jul"), ("август", "aug"), ("сентябр", "sep"), ("октябр", "oct"),
              ("ноябр", "nov"), ("декабр", "dec"))  # fmt: skip
_RU_DATE_RE = re.compile(
    r"\b(?:(?P<day>[0-3]?\d)\s+)?(?P<month>январ[яье]|феврал[яье]|марта?|марте|апрел[яье]|ма[яйе]|июн[яье]|июл[яье]"
    r"|августа?|августе|сентябр[яье]|октябр[яье]|ноябр[яье]|декабр[яье])\b(?:\s+(?P<year>(?:19|20)\d\d))?"
)
_RU_DECADE_RE = re.compile(r"\b((?:19|20)\d0)-(?:х|е|ые|ых)\b")
_RU_YEAR_SUFFIX_RE = re.compile(r"\b((?:19|20)\d\d)-(?:м|го|й|е|х)\b")
# "since" and "until" a year, as each language marks them (before or after the year): "2022년 이후", "2022年以降",
# "自2017年", "2017年以来", "с 2000-х", "до 2019 года", "2019년까지", "2019年末までに".
_YEAR = r"((?:19|20)\d\ds?)"
_SINCE_RE = re.compile(
    rf"{_YEAR}\s?[년年]?\s?(?:이후|부터|以降|以来|以來|から|起)|(?:自|从|從)\s?{_YEAR}|(?<!\w)с\s+{_YEAR}"
)
_UNTIL_RE = re.compile(rf"{_YEAR}\s?[년年]?\s?(?:말|末|底)?\s?(?:까지|までに|まで|前|以前)|(?<!\w)до\s+{_YEAR}")
_RANGE_RE = re.compile(rf"(?<=[\d{_UNITS}])\s?[~〜至到]\s?(?=\d)")
_RESOLUTION_RE = re.compile(
    r"(?:决议|決議|결의|резолюци\w*)\s?(?:№\s?|第\s?|제\s?)?(\d{3,4})\s?[号號호]?"
    r"|第\s?(\d{3,4})\s?[号號]\s?(?:决议|決議)"
)
# "1日" (a day), "1年間" (a year), "1人当たり", "1인당" (per person) say what a figure is per, not a figure.
_PER_ONE_RE = re.compile(r"(?<![\d.,])1\s?(?:日|天|年間|人当たり|人あたり|人で|인당)")
# Chinese and Japanese write numbers on after a word; Korean puts a space there, and a digit written on after
# Hangul is part of a name ("코로나19").
_SPACE_BEFORE_DIGIT_RE = re.compile(r"(?<=[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff])(?=\d)")


def _year_text(match: re.Match[str]) -> str:
    """The year (or decade, "2000s") a since/until match names."""
    return next(group for group in match.groups() if group)


def _replace_era(match: re.Match[str]) -> str:
    number = 1 if match.group(2) == "元" else int(match.group(2))
    return f"{_ERAS[match.group(1)] + number}年"


def _replace_cjk_date(match: re.Match[str]) -> str:
    return f" {_MONTH_NAMES[int(match.group(2)) - 1]} {match.group(1)} "


def _replace_cjk_day(match: re.Match[str]) -> str:
    return f" {_MONTH_NAMES[int(match.group(1)) - 1]} {int(match.group(2))} "


def _replace_ru_date(match: re.Match[str]) -> str:
    month = next(english for stem, english in _RU_MONTHS if match.group("month").startswith(stem))
    if match.group("year"):
        return f"{month} {match.group('year')}"
    if match.group("day"):
        return f"{month} {match.group('day')}"
    return match.group(0)


def _replace_resolution(match: re.Match[str]) -> str:
    return f" resolution {match.group(1) or match.group(2)} "


def _replace_per_one(match: re.Match[str]) -> str:
    text = match.group(0)
    return " a day " if text[-1] in "日天" else " a year " if "年" in text else " per person "


def native_forms(text: str) -> str:
    """``text`` (NFKC, casefolded) with native figure forms rewritten as described in the module docstring."""
    if NATIVE_SCRIPT_RE.search(text) is None:
        return text
    if "年" in text:
        text = _ERA_RE.sub(_replace_era, text)
    text = _RESOLUTION_RE.sub(_replace_resolution, text)
    text = _CJK_DATE_RE.sub(_replace_cjk_date, text)
    text = _CJK_DAY_RE.sub(_replace_cjk_day, text)
    text = _RU_DATE_RE.sub(_replace_ru_date, text)
    text = _RU_DECADE_RE.sub(r"\1s", text)
    text = _RU_YEAR_SUFFIX_RE.sub(r"\1", text)
    text = _SINCE_RE.sub(lambda match: f" since {_year_text(match)} ", text)
    text = _UNTIL_RE.sub(lambda match: f" until {_year_text(match)} ", text)
    text = _PER_ONE_RE.sub(_replace_per_one, text)
    text = _PERCENT_CN_RE.sub(_replace_cn_percent, text)
    text = _FRACTION_CJK_RE.sub(_replace_cjk_fraction, text)
    text = _FRACTION_RU_RE.sub(_replace_ru_fraction, text)
    text = _TENTHS_RE.sub(_replace_tenths, text)
    # Russian number words before magnitudes: "две тысячи" is 2000, "тысячи рабочих" thousands of workers.
    text = _RU_NUMBER_RE.sub(_replace_ru_number, text)
    text = _RU_DIGIT_SCALE_RE.sub(lambda match: f"{match.group(1)} {_RU_ABBREVIATIONS[match.group(2)]}", text)
    text = _MAGNITUDE_RE.sub(_replace_magnitude, text)
    text = _CN_NUMBER_RE.sub(_replace_cn_number, text)
    text = _COMPOUND_RE.sub(_replace_compound, text)
    text = _RANGE_RE.sub(" to ", text)
    text = _POST_HEDGE_RE.sub(_replace_post_hedge, text)
    text = _PRE_HEDGE_RE.sub(lambda match: f" {_PRE_HEDGE_OF[match.group(1)]} ", text)
    text = text.replace("퍼센트", "%").replace("процентов", "%").replace("процента", "%")
    return _SPACE_BEFORE_DIGIT_RE.sub(" ", text)
