"""Tests for analysis.relevance: term patterns, the proximity rule, scores and the default topic."""

from __future__ import annotations

import pytest

from analysis.relevance import DEFAULT_TOPIC, TopicMatcher, compile_term, matcher_for, score_relevance
from analysis.types import Topic, TopicTerms

SIMPLE = Topic(languages={"en": TopicTerms(dprk=("North Korea*",), labour=("worker*",))}, window=20)


@pytest.mark.parametrize(
    ("text", "terms", "languages"),
    [
        ("North Korean workers arrived in Vladivostok.", ("North Korea*", "worker*"), ("en",)),
        ("Pyongyang sent laborers abroad.", ("Pyongyang", "laborer*"), ("en",)),
        ("Russia needs labour, and the DPRK supplies it.", ("DPRK", "labour"), ("en",)),
        ("N. Korea's workforce in Russia grows", ("N. Korea*", "workforce"), ("en",)),
        ("북한 노동자들이 러시아에 파견됐다", ("노동자", "북한"), ("ko",)),
        ("러시아 건설 현장의 북한 근로자", ("근로자", "북한"), ("ko",)),
        ("Северокорейские рабочие прибыли в Россию", ("рабоч*", "северокорейск*"), ("ru",)),
        ("В Россию прибыли рабочие из КНДР", ("КНДР", "рабоч*"), ("ru",)),
        ("朝鲜劳工在丹东海鲜加工厂工作", ("劳工", "朝鲜"), ("zh",)),
        ("北韓勞工在台灣", ("勞工", "北韓"), ("zh",)),
        ("北朝鮮労働者がロシアに派遣された", ("労働者", "北朝鮮"), ("ja",)),
        ("北朝鮮の労働者", ("労働者", "北朝鮮"), ("ja",)),
    ],
)
def test_default_topic_relevant(text: str, terms: tuple[str, ...], languages: tuple[str, ...]) -> None:
    result = score_relevance("", text, DEFAULT_TOPIC)
    assert result.relevant
    assert result.score >= DEFAULT_TOPIC.min_score
    assert result.terms == terms
    assert result.languages == languages


@pytest.mark.parametrize(
    "text",
    [
        "Chinese workers in Russia",
        "North Korea fired a missile",
        "North Korea fired a missile into the sea.",
        "A laboratory in North Korea",  # "labor" is a whole word, not a prefix
        "North Korea's ruling Workers' Party opened its congress",
        "North Korea's ruling Workers’ Party opened its congress",
        "North Korea dispatched troops to Russia",
        "Former North Korean labor camp prisoners testified",
        "Aid workers left North Korea",
        "Russian coworkers met in Pyongyang",  # "worker*" must start at a word boundary
        "북한이 미사일을 발사했다",
        "한국 조선업 노동자들이 파업했다",  # shipbuilding (조선) workers, not North Korea
        "북한이탈주민 근로자 지원 사업",  # defectors working in the South
        "중국 노동자들이 러시아에 갔다",
        "Министр иностранных дел КНДР прибыл в Москву с рабочим визитом",
        "КНДР провела испытание ракеты",
        "Рабочая группа России и КНДР собралась в Москве",  # a working group, not workers
        "Китайские рабочие прибыли в Россию",
        "吉林的朝鲜族工人",  # China's ethnic Koreans
        "朝鲜工人党召开大会",
        "朝鲜发射导弹",
        "中国工人在俄罗斯",
        "北朝鮮がミサイルを発射した",
        "朝鮮半島の労働者",
        "",
    ],
)
def test_default_topic_not_relevant(text: str) -> None:
    result = score_relevance("", text, DEFAULT_TOPIC)
    assert not result.relevant
    assert result.score < DEFAULT_TOPIC.min_score


def test_scores_only_north_korea_below_threshold_but_reports_the_term() -> None:
    result = score_relevance("North Korea fired a missile", "It landed in the sea.", DEFAULT_TOPIC)
    assert result.terms == ("North Korea*",)
    assert result.languages == ("en",)
    assert 0 < result.score < DEFAULT_TOPIC.min_score


def test_no_terms_scores_zero() -> None:
    result = score_relevance("Weather", "Sunny in Seoul.", DEFAULT_TOPIC)
    assert result.score == 0.0
    assert result.terms == ()
    assert result.languages == ()


@pytest.mark.parametrize(
    ("text", "relevant"),
    [
        ("North Korea" + " " * 9 + "workers", True),  # starts 20 apart
        ("North Korea" + " " * 10 + "workers", False),  # starts 21 apart
        ("workers" + " " * 13 + "North Korea", True),  # either order
        ("workers" + " " * 14 + "North Korea", False),
    ],
)
def test_window_measures_start_to_start(text: str, relevant: bool) -> None:
    assert score_relevance("", text, SIMPLE).relevant is relevant


def test_title_and_text_are_searched_together() -> None:
    assert score_relevance("North Korea", "workers", SIMPLE).relevant
    assert not score_relevance("North Korea", "x" * 30 + " workers", SIMPLE).relevant


def test_score_grows_with_pairs_and_title() -> None:
    topic = Topic(languages=SIMPLE.languages, window=150)
    one = score_relevance("Report", "North Korean workers.", topic).score
    two = score_relevance("Report", "North Korean workers. More workers.", topic).score
    many = score_relevance("Report", "North Korean workers. " * 20, topic).score
    titled = score_relevance("North Korean workers", "Some text.", topic).score
    assert one == pytest.approx(topic.min_score)
    assert topic.min_score < two < many <= 1.0
    assert titled > one
    assert score_relevance("North Korean workers", "North Korean workers. " * 50, topic).score <= 1.0


@pytest.mark.parametrize("min_score", [0.05, 0.2, 0.6, 1.0])
def test_threshold_holds_for_any_min_score(min_score: float) -> None:
    topic = Topic(languages=SIMPLE.languages, window=150, min_score=min_score)
    hit = score_relevance("", "North Korean workers", topic)
    miss = score_relevance("", "North Korea fired a missile", topic)
    assert hit.relevant and hit.score >= min_score
    assert not miss.relevant and miss.score < min_score


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("labor", "labor", ["labor"]),
        ("labor", "Labor laboratory laborer", ["Labor"]),
        ("worker*", "workers coworkers Worker", ["workers", "Worker"]),
        ("North Korea*", "North Koreans and North\n  Korea's", ["North Koreans", "North\n  Korea"]),
        ("N. Korea*", "N. Korean N Korea", ["N. Korean"]),
        ("D.P.R.K.", "the D.P.R.K. said", ["D.P.R.K."]),
        ("Workers' Party", "Workers’ Party and Workers' Party", ["Workers’ Party", "Workers' Party"]),
        ("рабоч*", "Рабочие и нерабочие", ["Рабочие"]),
        ("КНДР", "КНДР, КНДРовский", ["КНДР"]),
        ("북한 노동자", "북한 노동자들이 북한노동자", ["북한 노동자"]),
        ("노동자", "북한노동자들이", ["노동자"]),
        ("朝鲜", "北朝鲜劳工", ["朝鲜"]),
        ("北朝鮮*", "北朝鮮労働者", ["北朝鮮"]),
        # A prefix on any word of a phrase: Russian case endings on every word.
        ("Северн* Коре*", "Северная Корея, Северной Кореи и Северную Корею", ["Северная Корея", "Северной Кореи",
                                                                              "Северную Корею"]),
        ("Северн* Коре*", "Северный Кавказ и Южная Корея", []),
        ("трудов* мигрант*", "трудовых мигрантов и трудовые мигранты", ["трудовых мигрантов", "трудовые мигранты"]),
        ("forced labo*", "Forced labour, forced laborers, forcedlabour", ["Forced labour", "forced laborers"]),
        ("North* Korea", "Northern Korea and North Korean", ["Northern Korea"]),
        ("Корейск* Народно-Демократическ* Республик*", "Корейской Народно-Демократической Республики",
         ["Корейской Народно-Демократической Республики"]),
    ],
)
def test_compile_term(term: str, text: str, expected: list[str]) -> None:
    assert [match.group(0) for match in compile_term(term).finditer(text)] == expected


@pytest.mark.parametrize("term", ["", "   ", "*", "wor*ker", "worker**", "North * Korea", "*North Korea",
                                  "Северн** Коре*"])
def test_compile_term_rejects_bad_terms(term: str) -> None:
    with pytest.raises(ValueError, match="bad topic term"):
        compile_term(term)


@pytest.mark.parametrize(
    "topic",
    [
        Topic(languages=SIMPLE.languages, window=0),
        Topic(languages=SIMPLE.languages, min_score=0.0),
        Topic(languages=SIMPLE.languages, min_score=1.5),
    ],
)
def test_matcher_rejects_bad_topics(topic: Topic) -> None:
    with pytest.raises(ValueError, match="bad topic"):
        TopicMatcher(topic)


def test_exclusions_apply_across_languages() -> None:
    topic = Topic(
        languages={
            "en": TopicTerms(dprk=("North Korea*",), labour=("worker*",)),
            "xx": TopicTerms(dprk=(), labour=(), exclude=("Workers' Party",)),
        }
    )
    assert not score_relevance("", "North Korea's Workers' Party met", topic).relevant
    assert score_relevance("", "North Korea's workers met", topic).relevant


def test_a_match_inside_a_longer_match_counts_once() -> None:
    # zh 朝鮮 lies inside ja 北朝鮮: one mention, reported under the longer term only.
    result = score_relevance("", "北朝鮮労働者", DEFAULT_TOPIC)
    assert "朝鮮" not in result.terms
    assert result.score == pytest.approx(DEFAULT_TOPIC.min_score)


def test_matcher_is_cached_per_topic() -> None:
    other = Topic(languages=SIMPLE.languages, window=20)
    assert matcher_for(SIMPLE) is matcher_for(SIMPLE)
    assert matcher_for(other) is not matcher_for(SIMPLE)
    assert matcher_for(other).topic is other


def test_matcher_cache_survives_many_topics() -> None:
    topics = [Topic(languages=SIMPLE.languages, window=20 + n) for n in range(40)]
    for topic in topics:
        assert matcher_for(topic).topic is topic
    assert score_relevance("", "North Korean workers", topics[0]).relevant


def test_seed_article_is_relevant() -> None:
    article = (
        "Interviews conducted with several North Korean workers who managed to escape Russia paints a vivid "
        "picture. Pyongyang is sending more than 50,000 laborers to bolster its war effort."
    )
    result = score_relevance("North Korean Workers Endure 'Slavery' in Russia", article, DEFAULT_TOPIC)
    assert result.relevant
    assert result.score > 0.5
    assert result.terms == ("North Korea*", "Pyongyang", "laborer*", "worker*")


def test_a_korean_term_in_hanja_counts_only_in_korean_text() -> None:
    topic = Topic(languages={"ko": TopicTerms(dprk=("北",), labour=("노동자",)),
                             "zh": TopicTerms(dprk=("朝鲜",), labour=("工人",)),
                             "ja": TopicTerms(dprk=("北朝鮮",), labour=("労働者",))})
    assert score_relevance("", "北 노동자 1만명 러시아행", topic).relevant
    # 北京 and 北海道 next to a labour word: not North Korea outside Korean text.
    assert not score_relevance("", "北京的建筑工人上街抗议工资拖欠。", topic).relevant
    assert not score_relevance("", "北海道の労働者が賃上げを求めた。", topic).relevant
    assert score_relevance("", "在俄罗斯的朝鲜工人超过一万人。", topic).relevant


def test_a_matcher_within_a_text_judges_its_sentences_as_the_whole_matcher_does() -> None:
    # The fixture web's articles in all five languages, on and off the topic: each sentence gets the same groups
    # from the matcher narrowed to its article's terms as from the full one.
    from datetime import UTC, datetime

    from analysis.text import split_sentences
    from labourwatch.fixtureweb.content import make_article

    matcher, published = matcher_for(DEFAULT_TOPIC), datetime(2026, 1, 1, tzinfo=UTC)
    checked = found = 0
    for language in ("en", "ko", "ru", "zh", "ja"):
        for index in range(12):
            article = make_article(f"site-{language}", language, index, index % 3 != 0, index, published)
            text = "\n".join([article.title, article.standfirst, *article.paragraphs()])
            narrowed = matcher.within(text)
            for sentence in split_sentences(text):
                groups = matcher.groups_in(sentence)
                assert narrowed.groups_in(sentence) == groups, sentence
                checked, found = checked + 1, found + bool(groups)
    assert checked > 500 and 0 < found < checked  # sentences with and without topic terms were compared
    # Narrowed to a text without the terms, it finds none; the full matcher is unchanged by narrowing.
    assert matcher.within("Weather in Lisbon.").groups_in("North Korean workers") == frozenset()
    assert matcher.groups_in("North Korean workers") == frozenset({"dprk", "labour"})
