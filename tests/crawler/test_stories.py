"""Stories, baselines and background: which of a change's events are sent, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from db import background
from db.engine import Database
from db.events import EventDraft, StoredArticle
from db.models import Article, Event, Source
from db.story import ChangeContext, story_draft
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.crawler.test_claim_matching import import_claims

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def stored_events(db: Database) -> list[Event]:
    with db.read() as session:
        found = list(session.scalars(select(Event).order_by(Event.id)))
        session.expunge_all()
    return found


def _articles(db: Database, source_id: str, count: int) -> list[int]:
    with db.write() as session:
        if session.get(Source, source_id) is None:
            session.add(Source(id=source_id, kind="feed", url=f"https://{source_id}.example/feed"))
            session.flush()
        rows = [Article(source_id=source_id, url=f"https://{source_id}.example/{n}",
                        canonical_url=f"https://{source_id}.example/{source_id}-{n}") for n in range(count)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_a_sentence_an_outlet_printed_before_is_a_repeat_and_in_three_articles_background(database: Database) -> None:
    one, two, three = _articles(database, "desk", 3)
    [elsewhere] = _articles(database, "other", 1)
    context = "The UN banned the employment of North Korean workers in 2017, with a 2019 deadline."
    news = "Some 12,000 North Korean workers entered Russia in 2024."

    def record(article: int, sentences: list[str], source: str = "desk") -> background.Repeated:
        with database.write() as session:
            return background.record_sentences(session, source, article, list(enumerate(sentences)), NOW)

    assert record(one, [context, news]) == background.Repeated()
    # Case, spacing and punctuation aside it is the same sentence; a changed figure makes another.
    second = record(two, ["New reporting.", context.upper().replace(",", ""), news.replace("12,000", "15,000")])
    assert second.repeats == {1} and not second.background
    assert record(two, ["New reporting.", context]) == second.__class__(frozenset({1}), frozenset())  # again: same
    third = record(three, [context])
    assert third.repeats == {0} and third.background == {0}
    assert record(elsewhere, [context], "other") == background.Repeated()  # another outlet's first
    with database.read() as session:
        assert background.background_sentences(session, "desk", [context, news]) == {context}
        assert background.background_sentences(session, "other", [context]) == set()


def _claim(kind: str, index: int, claim_id: str | None, **details: Any) -> EventDraft:
    return EventDraft(kind, f"{kind}:v1:s{index}", "T", "S", claim_id=claim_id, confidence=0.9,
                      details={"sentence": f"sentence {index}", "sentence_index": index, "figures": ["1"],
                               **details})


def test_a_story_lists_updates_first_then_new_claims_then_corroborations_and_counts_what_it_left_out() -> None:
    stored = StoredArticle("new", 7, 11, 1, "desk", "https://desk.example/a", "<b>Headline</b>", 0.9)
    drafts = [
        _claim("claim_corroborated", 1, "K07"),
        _claim("new_claim", 2, None),
        _claim("claim_updated", 3, "K01", old_values=["10,000"], new_values=["12,000"]),
        _claim("claim_corroborated", 4, "K03"),
        _claim("claim_corroborated", 5, "K07", quiet="background"),
        _claim("new_claim", 6, None, quiet="repeat"),
    ]
    story = story_draft(stored, drafts, ChangeContext())
    assert [(c["verdict"], c["sentence_index"]) for c in story.details["claims"]] == [
        ("updates", 3), ("new", 2), ("corroborates", 1), ("corroborates", 4)]
    assert story.details["omitted"] == {"background": 1, "repeats": 1}
    assert story.summary == "K01 updated: 10,000 → 12,000; 1 new claim; corroborates K03, K07"
    assert story.key == "story:v11" and story.title == "<b>Headline</b>" and not story.quiet
    assert story.importance > story_draft(stored, drafts[:1], ChangeContext()).importance
    copy = story_draft(stored, drafts, ChangeContext(copy_of={"source_id": "wire", "article_id": 1}))
    assert copy.summary.startswith("copy of wire;") and copy.details["copy_of"]["article_id"] == 1
    assert story_draft(stored, drafts, ChangeContext(baseline=True)).quiet


def test_a_source_whose_first_poll_fails_takes_its_baseline_when_a_poll_works(database: Database,
                                                                              web: FixtureWeb) -> None:
    import_claims(database)
    working = web.sources()[0]
    broken = dict(working, url=web.site_url("fault") + "/faults/500.xml")
    crawl(database, specs([broken]))
    assert not [e for e in stored_events(database) if e.type == "baseline"]
    crawl(database, specs([working]))
    found = stored_events(database)
    [summary] = [e for e in found if e.type == "baseline"]
    assert [s["source_id"] for s in summary.details["sources"]] == [working["id"]]
    assert summary.details["sources"][0]["articles"] > 0
    assert all(e.details.get("quiet") == "baseline" for e in found if e.type == "story") and found
    # From now on its changes are stories to send.
    before = max(e.id for e in found)
    web.advance()
    crawl(database, specs([working]))
    later = [e for e in stored_events(database) if e.id > before]
    assert [e for e in later if e.type == "story"] and not [e for e in later if e.type == "baseline"]
    assert not any(e.details.get("quiet") == "baseline" for e in later)


def test_a_source_can_opt_out_of_its_baseline(database: Database, web: FixtureWeb) -> None:
    import_claims(database)
    crawl(database, specs([dict(web.sources()[0], baseline=False)]))
    found = stored_events(database)
    assert not [e for e in found if e.type == "baseline"]
    stories = [e for e in found if e.type == "story"]
    assert stories and not any(e.details.get("quiet") == "baseline" for e in stories)
