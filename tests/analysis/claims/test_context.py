"""Sentences that name North Korean workers only through the article ("their wages", "these labourers"): read
in the article's context, in English and the other four languages, and left alone everywhere else."""

from __future__ import annotations

import pytest

from analysis.claims import ClaimMatcher
from analysis.claims.context import NO_CONTEXT, Context, article_context, read_in_context
from analysis.claims.sentences import CONTEXT_REASON, match_article
from analysis.relevance import DEFAULT_TOPIC, TopicMatcher

LEAD = "More than 10,000 North Korean workers entered Russia in 2024, South Korean intelligence said."
ARTICLE = "\n".join([
    LEAD,
    "Their shifts last up to 20 hours a day, with one day off a month.",
    "A typical monthly wage for them is about $500, but as much as 80% of the pay goes to the state.",
    "These labourers rarely leave their dormitories.",
    "Officials in Moscow declined to comment on the report.",
])


@pytest.fixture(scope="module")
def topic() -> TopicMatcher:
    return TopicMatcher(DEFAULT_TOPIC)


def test_an_article_about_north_korean_workers_gives_its_context() -> None:
    assert article_context([LEAD]) == Context(dprk_workers=True, place="russia")
    assert article_context(["North Korean workers are in Russia and China."]).place is None  # two countries
    assert article_context(["Chinese workers went on strike in Guangdong."]) == NO_CONTEXT
    assert article_context([], title="North Korean labourers sent to Russia").dprk_workers


@pytest.mark.parametrize(("sentence", "read_as"), [
    ("Their shifts last up to 20 hours a day.", "the North Korean workers' shifts last up to 20 hours a day (in Russia)."),
    ("These labourers earn about $500 a month.", "These North Korean labourers earn about $500 a month (in Russia)."),
    ("A typical monthly wage for them is $500.", "A typical monthly wage for North Korean workers is $500 (in Russia)."),
    ("이들의 임금은 대부분 국가에 바쳐진다.", "북한 노동자들의 임금은 대부분 국가에 바쳐진다 (in Russia)."),
    ("他们每天工作16小时。", "朝鲜劳工每天工作16小时。 (in Russia)."),
    ("Их зарплата почти полностью уходит государству.",
     "северокорейские рабочие зарплата почти полностью уходит государству (in Russia)."),
    # Nouns name the article's people whatever the sentence says of them; men and women are its workers.
    ("Moscow could take in 80,000 men like these.", "Moscow could take in 80,000 North Korean men workers."),
    ("About 600 workers like him were in Mongolia.", "About 600 North Korean workers were in Mongolia."),
    ("These young women earn $300 a month.", "These young North Korean women workers earn $300 a month (in Russia)."),
    ("The developers can top $240,000 each.", "The North Korean developers can top $240,000 each (in Russia)."),
    ("It runs to 17 hours a day for him and his colleagues.",
     "It runs to 17 hours a day for North Korean workers (in Russia)."),
    # Languages without articles: a bare worker noun is the article's workers.
    ("노동자들은 하루 16시간 일한다.", "북한 노동자들은 하루 16시간 일한다 (in Russia)."),
    ("工人们每天工作16小时。", "朝鲜工人们每天工作16小时。 (in Russia)."),
    ("Рабочие трудятся по 16 часов в день.", "северокорейские Рабочие трудятся по 16 часов в день (in Russia)."),
    # A sentence naming North Korea may still name its workers only through the article.
    ("Pyongyang will send 70,000 men like these to Russia.",
     "Pyongyang will send 70,000 North Korean men workers to Russia."),
])
def test_references_are_written_out(sentence: str, read_as: str) -> None:
    assert read_in_context(sentence, Context(dprk_workers=True, place="russia")) == read_as


@pytest.mark.parametrize(("sentence", "context"), [
    ("Their shifts last up to 20 hours a day.", NO_CONTEXT),  # the article is about someone else
    ("North Korean workers' shifts last 20 hours.", Context(True)),  # names them itself
    ("Chinese workers say their shifts last 12 hours.", Context(True)),  # about other workers
    ("Officials declined to comment on the report.", Context(True)),  # no reference, nothing about work
    ("They declined to comment.", Context(True)),  # a reference, but not about work
    ("Pyongyang said they would comply.", Context(True)),  # a pronoun in a sentence naming North Korea is its own
    ("중국인 노동자들은 하루 12시간 일한다.", Context(True)),  # Chinese workers, named as such
])
def test_sentences_that_need_no_context_are_left_alone(sentence: str, context: Context) -> None:
    assert read_in_context(sentence, context) is None


def test_match_article_reads_referring_sentences_in_context(topic: TopicMatcher, matcher: ClaimMatcher) -> None:
    found = {match.index: match for match in match_article(ARTICLE, topic, matcher)}
    assert (found[0].match.label, found[0].match.claim_id) == ("corroborates", "K02")
    assert (found[1].match.label, found[1].match.claim_id, found[1].match.new_values) == ("updates", "K03", ("20",))
    assert (found[2].match.label, found[2].match.claim_id, found[2].match.new_values) == ("updates", "K35", ("80%",))
    assert found[1].sentence == ARTICLE.splitlines()[1]  # stored as written; the reading is in the reasons
    assert found[1].match.reasons[-1].startswith(CONTEXT_REASON)
    assert 4 not in found  # "Officials ... declined": no reference to the workers, no topic term


def test_the_same_sentences_in_an_article_about_someone_else_stay_unmatched(topic: TopicMatcher,
                                                                           matcher: ClaimMatcher) -> None:
    article = ARTICLE.replace("North Korean", "Uzbek").replace("South Korean intelligence", "Officials")
    assert all(match.match.label == "new" for match in match_article(article, topic, matcher))


def test_north_koreans_and_their_work_in_one_sentence_make_the_context() -> None:
    lead = "North Korean women at a seafood plant in Jilin rioted over unpaid wages in January 2024."
    assert article_context([lead]) == Context(dprk_workers=True, place="china")
    assert article_context(["North Korean women crossed into China."]) == NO_CONTEXT  # nothing about work
