"""Copies across outlets in the database (SQLite and PostgreSQL): linking a copy to its original, repeats, copies
of copies, other sources only, and the "also published by" reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from analysis import nearcopy
from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import copies
from db import repository as repo
from db.engine import Database
from db.models import ArticleCopy, ArticleSketch, Source
from labourwatch.fixtureweb.copies import REWRITE, SIBLING, SYNDICATED, WIRE, article_text, copy_pairs

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)
PAIRS = copy_pairs(per_kind=2, seed=4)


def _pair(kind: str) -> tuple[str, str]:
    pair = next(p for p in PAIRS if p.kind == kind)
    return article_text(pair.first), article_text(pair.second)


def _sources(database: Database, *ids: str) -> None:
    with database.write() as session:
        session.add_all(Source(id=id_, kind="feed", url=f"https://{id_}.example/rss", name=f"<b>{id_}</b>")
                        for id_ in ids)


def _store(database: Database, source_id: str, slug: str, text: str, at: datetime, *, title: str = "A story",
           link: bool = True) -> tuple[int, copies.CopyOf | None]:
    """Store an article (or a new version of it) as the crawler does, then link it as the lead's store will."""
    url = f"https://{source_id}.example/{slug}"
    doc = ArticleDoc(url=url, canonical_url=url, title=title, text=text, language="en")
    raw = repo.RawCapture(url=url, status=200, headers={}, body=b"", fetched_at=at)
    fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.9, ("worker*",)),
                              content_hash=content_hash(title, text), raw=raw, source_id=source_id,
                              discovered_url=url)
    with database.write() as session:
        stored = repo.store_article(session, fetch, OPTIONS, diff_versions)
        found = copies.link_copy(session, stored.article_id, source_id, text, at) if link else None
    return stored.article_id, found


def test_a_wire_copy_of_another_source_is_linked_to_the_earlier_article(database: Database) -> None:
    _sources(database, "alpha", "beta")
    first, second = _pair(WIRE)
    original_id, none = _store(database, "alpha", "a", first, NOW, title="Original <i>title</i>")
    copy_id, found = _store(database, "beta", "b", second, NOW + timedelta(hours=1))
    assert none is None
    assert found is not None and found.article_id == original_id and found.source_id == "alpha"
    assert found.title == "Original <i>title</i>" and found.url == "https://alpha.example/a"
    assert found.similarity >= nearcopy.THRESHOLD
    with database.read() as session:
        assert copies.copy_of(session, copy_id) == found
        assert copies.copy_of(session, original_id) is None
        assert [(p.article_id, p.role) for p in copies.copies_of(session, copy_id)] == [(original_id, "original")]
        assert [(p.article_id, p.role, p.source_name) for p in copies.copies_of(session, original_id)] == [
            (copy_id, "copy", "<b>beta</b>")]


def test_a_light_rewrite_is_linked_and_a_sibling_story_is_not(database: Database) -> None:
    _sources(database, "alpha", "beta", "gamma")
    first, rewrite = _pair(REWRITE)
    original_id, _ = _store(database, "alpha", "a", first, NOW)
    _, found = _store(database, "beta", "b", rewrite, NOW + timedelta(hours=1))
    assert found is not None and found.article_id == original_id
    own, sibling = _pair(SIBLING)
    _store(database, "alpha", "c", own, NOW + timedelta(hours=2))
    _, none = _store(database, "gamma", "d", sibling, NOW + timedelta(hours=3))
    assert none is None


def test_linking_twice_is_harmless(database: Database) -> None:
    _sources(database, "alpha", "beta")
    first, second = _pair(SYNDICATED)
    original_id, _ = _store(database, "alpha", "a", first, NOW)
    copy_id, found = _store(database, "beta", "b", second, NOW + timedelta(hours=1))
    with database.write() as session:
        again = copies.link_copy(session, copy_id, "beta", second, NOW + timedelta(hours=2))
        again_original = copies.link_copy(session, original_id, "alpha", first, NOW + timedelta(hours=2))
    assert again == found and again_original is None
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(ArticleCopy)) == 1
        assert session.scalar(select(func.count()).select_from(ArticleSketch)) == 2 * nearcopy.BANDS


def test_a_copy_of_a_copy_points_to_the_original(database: Database) -> None:
    _sources(database, "alpha", "beta", "gamma")
    first, second = _pair(WIRE)
    unrelated, _ = _pair(SIBLING)
    original_id, _ = _store(database, "alpha", "a", first, NOW)
    copy_id, _ = _store(database, "beta", "b", second, NOW + timedelta(hours=1))
    # alpha's article is rewritten since: gamma's copy of beta's text matches beta's article only.
    _store(database, "alpha", "a", unrelated, NOW + timedelta(hours=2))
    third = second.replace("Reporting by", "Additional reporting by")
    third_id, found = _store(database, "gamma", "c", third, NOW + timedelta(hours=3))
    assert found is not None and found.article_id == original_id and found.source_id == "alpha"
    with database.read() as session:
        assert [(p.article_id, p.role) for p in copies.copies_of(session, third_id)] == [
            (original_id, "original"), (copy_id, "copy")]


def test_a_later_version_that_copies_an_earlier_story_re_points_its_own_copies(database: Database) -> None:
    _sources(database, "alpha", "beta", "gamma")
    first, second = _pair(WIRE)
    unrelated, _ = _pair(SIBLING)
    original_id, _ = _store(database, "alpha", "a", first, NOW)
    middle_id, none = _store(database, "beta", "b", unrelated, NOW + timedelta(hours=1))
    late_id, found = _store(database, "gamma", "c", second.replace("editing by", "edited by"),
                            NOW + timedelta(hours=2))
    assert none is None and found is not None and found.article_id == original_id
    # beta's article is rewritten into the wire story: it becomes a copy of alpha's, and gamma's stays there.
    _, now_copy = _store(database, "beta", "b", second, NOW + timedelta(hours=3))
    assert now_copy is not None and now_copy.article_id == original_id
    with database.read() as session:
        family = copies.copies_of(session, original_id)
        assert sorted(p.article_id for p in family) == sorted([middle_id, late_id])
        assert {p.role for p in family} == {"copy"}


def test_only_other_sources_are_copies(database: Database) -> None:
    _sources(database, "alpha")
    first, second = _pair(WIRE)
    _store(database, "alpha", "a", first, NOW)
    _, found = _store(database, "alpha", "b", second, NOW + timedelta(hours=1))
    assert found is None


def test_a_version_that_no_longer_copies_loses_its_link(database: Database) -> None:
    _sources(database, "alpha", "beta")
    first, second = _pair(WIRE)
    own, _ = _pair(SIBLING)
    _store(database, "alpha", "a", first, NOW)
    copy_id, found = _store(database, "beta", "b", second, NOW + timedelta(hours=1))
    assert found is not None
    _, gone = _store(database, "beta", "b", own, NOW + timedelta(hours=2))
    assert gone is None
    with database.read() as session:
        assert copies.copy_of(session, copy_id) is None and copies.copies_of(session, copy_id) == []


def test_only_earlier_articles_can_be_originals(database: Database) -> None:
    _sources(database, "alpha", "beta")
    first, second = _pair(WIRE)
    # The copy is stored first but only linked after the original arrives: the original is then the later one.
    copy_id, _ = _store(database, "beta", "b", second, NOW, link=False)
    original_id, found = _store(database, "alpha", "a", first, NOW + timedelta(hours=1))
    assert found is None  # the earlier article is not sketched yet: nothing to find
    with database.write() as session:
        assert copies.link_copy(session, original_id, "alpha", first, NOW) is None
        relinked = copies.link_copy(session, copy_id, "beta", second, NOW)
    assert relinked is None  # beta's article came first: alpha's later one cannot be its original
