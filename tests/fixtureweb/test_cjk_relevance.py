"""The Chinese and Japanese fixture articles as the topic filter and the claim-sentence picker see them.

Every zh/ja article of a few sites is generated and scored with the shipped config's topic and with the
built-in DEFAULT_TOPIC: on-topic stories (North Korean workers in Russia and China) must be relevant under
every headline variant, off-topic ones (weather, sport, a missile launch, a Chinese factory strike, a
market) must not, and every on-topic story must offer claim sentences that name North Korea and its labour.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.claims.sentences import claim_sentences
from analysis.relevance import DEFAULT_TOPIC, TopicMatcher, score_relevance
from labourwatch.config import load_config
from labourwatch.fixtureweb import CLOCK_BASE
from labourwatch.fixtureweb.content import Article, format_figure, language_pack, make_article

CONFIG = Path(__file__).resolve().parents[2] / "config.yaml"
SITES = ("huaxia", "toyo", "s7")  # the site id seeds each article's random choices
ARTICLES_PER_KIND = 15  # three rounds of the five templates of each kind
LANGUAGES = ("zh", "ja")


@pytest.fixture(scope="module", params=["shipped", "default"])
def matcher(request: pytest.FixtureRequest) -> TopicMatcher:
    if request.param == "default":
        return TopicMatcher(DEFAULT_TOPIC)
    return TopicMatcher(load_config(str(CONFIG), environ={}).topic)


def _articles(language: str, on_topic: bool) -> list[Article]:
    return [
        make_article(site, language, index, on_topic, index, CLOCK_BASE)
        for site in SITES
        for index in range(ARTICLES_PER_KIND)
    ]


def _body(article: Article) -> str:
    return "\n".join([article.standfirst, *article.paragraphs()])


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_topic_articles_are_relevant_under_every_headline(matcher: TopicMatcher, language: str) -> None:
    articles = _articles(language, True)
    assert {a.topic for a in articles} == {t.key for t in language_pack(language).on_topic}
    for article in articles:
        body = _body(article)
        for title in article.titles:
            relevance = score_relevance(title, body, matcher.topic)
            assert relevance.relevant, (article.slug, title)
            assert relevance.score >= matcher.topic.min_score
        # The body stands on its own: a crawler that sees no headline still keeps the story.
        assert matcher.score("", body).relevant, article.slug


@pytest.mark.parametrize("language", LANGUAGES)
def test_off_topic_articles_are_not_relevant(matcher: TopicMatcher, language: str) -> None:
    articles = _articles(language, False)
    assert {a.topic for a in articles} == {t.key for t in language_pack(language).off_topic}
    for article in articles:
        body = _body(article)
        for title in article.titles:
            assert not matcher.score(title, body).relevant, (article.slug, title)
        text = "\n".join([*article.titles, body])
        # The hard negatives: North Korea without its workers, workers without North Korea.
        if article.topic == "missile-test":
            assert matcher.groups_in(text) == {"dprk"}, article.slug
        elif article.topic == "factory-strike":
            assert matcher.groups_in(text) == {"labour"}, article.slug
        else:
            assert "dprk" not in matcher.groups_in(text), article.slug


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_topic_articles_have_claim_sentences_about_north_korean_labour(
    matcher: TopicMatcher, language: str
) -> None:
    for article in _articles(language, True):
        body = _body(article)
        sentences = [sentence for _, sentence in claim_sentences(body, matcher)]
        both = [s for s in sentences if matcher.groups_in(s) == {"dprk", "labour"}]
        assert both, article.slug
        # The figure a figure edit changes sits in a claim sentence, so the edit reaches the claim matcher.
        key = article.figure_key()
        assert key is not None
        figure = format_figure(key, article.figures[key], language)
        assert any(figure in s for s in both), (article.slug, figure)
