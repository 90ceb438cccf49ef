"""Storage: migrations match the models, SQLite settings, and the article version/diff repository."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text

from analysis.diff import diff_versions
from analysis.types import ArticleDoc, Relevance
from db import export, queries
from db import repository as repo
from db.browse_lists import ArticleFilter
from db.engine import Database
from db.errors import SchemaOutOfDateError
from db.migrate import current_revision, head_revision, include_name, require_head, upgrade
from db.models import Article, ArticleVersion, Base, CrawlRun, RawResponse, VersionDiffRow

REVISIT = (timedelta(minutes=15), timedelta(hours=1))
OPTIONS = repo.StoreOptions(revisit=REVISIT, keep_raw=True)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_models_and_migrations_agree(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(database) == head_revision()


def test_the_newest_articles_of_one_kind_are_read_from_the_index_in_order(database: Database) -> None:
    """The API's newest on-topic articles behind many newer off-topic ones: PostgreSQL walked the primary key
    backwards past all of them (it takes them for evenly spread) until the statement named the index (relevant,
    id) of migration 0018 by its order."""
    rows = [{"url": f"https://x.example/{n}", "canonical_url": f"https://x.example/{n}", "title": "t",
             "relevant": n < 300, "relevance_score": 1.0, "matched_terms": [], "first_seen_at": NOW,
             "check_count": 0, "version_count": int(n < 300), "failed_checks": 0} for n in range(30_000)]
    with database.write() as session:
        session.execute(Article.__table__.insert(), rows)
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
        for relevant, before, newest in ((True, None, range(300, 290, -1)), (True, 150, range(149, 139, -1)),
                                         (False, None, range(30_000, 29_990, -1))):
            statement = export.newest_articles(ArticleFilter(relevant=relevant), limit=10, before=before)
            query = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[-1]) for row in connection.execute(
                text(("EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN ") + query)))
            assert "ix_articles_relevant_id" in plan, plan
            assert "Filter" not in plan and "Sort" not in plan and "TEMP B-TREE" not in plan, plan
            assert list(connection.execute(text(query)).scalars()) == list(newest)


def test_empty_database_is_refused_until_upgraded(db_url: str) -> None:
    db = Database(db_url)
    with pytest.raises(SchemaOutOfDateError, match="labourwatch db upgrade"):
        require_head(db)
    before, after = upgrade(db)
    assert before is None and after == head_revision()
    require_head(db)
    assert upgrade(db) == (after, after)  # idempotent
    db.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_read_then_write_transactions_do_not_fail_on_sqlite(sqlite_database: Database) -> None:
    # Read-then-write in many threads: with deferred BEGIN this fails with "database is locked".
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with sqlite_database.write() as session:
                    session.execute(select(func.count()).select_from(Article)).scalar()
                    repo.save_validators(session, f"https://e.org/{n}/{i}", f'"{n}-{i}"', None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with sqlite_database.read() as session:
        assert len(repo.validators_for(session, [f"https://e.org/{n}/{i}" for n in range(6) for i in range(15)])) == 90


def make_fetch(text_body: str, *, title: str = "North Korean workers in Russia", relevant: bool = True,
               url: str = "https://news.example/a/1?utm_source=rss", canonical: str = "https://news.example/a/1",
               at: datetime = NOW) -> repo.ArticleFetch:
    from analysis.text import content_hash

    doc = ArticleDoc(url=url, canonical_url=canonical, title=title, text=text_body, language="en")
    raw = repo.RawCapture(url=url, status=200, headers={"content-type": "text/html", "x-secret": "no"},
                          body=f"<html><body>{text_body}</body></html>".encode(), fetched_at=at)
    return repo.ArticleFetch(doc=doc, relevance=Relevance(relevant, 0.8 if relevant else 0.0, ("worker*",)),
                             content_hash=content_hash(title, text_body), raw=raw, source_id=None,
                             discovered_url=url)


BODY = "More than 50,000 North Korean workers may be sent to Russia.\nThey work up to 18 hours a day."


def test_new_article_then_unchanged_then_changed_with_diff(database: Database) -> None:
    with database.write() as session:
        first = repo.store_article(session, make_fetch(BODY), OPTIONS, diff_versions)
    assert first.action == "new" and first.version_id is not None
    with database.write() as session:
        same = repo.store_article(session, make_fetch(BODY.replace("  ", " ") + " ", at=NOW + timedelta(minutes=15)),
                                  OPTIONS, diff_versions)
    assert same.action == "unchanged"
    edited = BODY.replace("50,000", "15,000")
    with database.write() as session:
        changed = repo.store_article(session, make_fetch(edited, at=NOW + timedelta(hours=2)), OPTIONS, diff_versions)
    assert changed.action == "changed" and "figures" in changed.changed and "body" in changed.changed
    with database.read() as session:
        article = session.get(Article, first.article_id)
        assert article is not None and article.version_count == 2
        # The schedule restarts after a change.
        assert article.next_check_at == NOW + timedelta(hours=2) + REVISIT[0]
        diff = session.scalars(select(VersionDiffRow)).one()
        assert diff.removed == ["More than 50,000 North Korean workers may be sent to Russia."]
        assert diff.added == ["More than 15,000 North Korean workers may be sent to Russia."]
        assert diff.figures_before == ["50,000"] and diff.figures_after == ["15,000"]
        raw = session.scalars(select(RawResponse).order_by(RawResponse.id)).all()
        assert len(raw) == 2 and raw[0].headers == {"content-type": "text/html"}
        assert queries.raw_body(session, first.version_id).decode().startswith("<html><body>More than 50,000")
        rows = queries.diff_rows(session)
        assert rows[0]["url"] == "https://news.example/a/1" and rows[0]["article_id"] == first.article_id


def test_same_article_from_another_url_is_stored_once(database: Database) -> None:
    with database.write() as session:
        first = repo.store_article(session, make_fetch(BODY), OPTIONS, diff_versions)
    other = make_fetch(BODY, url="https://news.example/a/1?from=sitemap")
    with database.write() as session:
        second = repo.store_article(session, other, OPTIONS, diff_versions)
        assert repo.known_urls(session, ["https://news.example/a/1?from=sitemap"]) == {
            "https://news.example/a/1?from=sitemap"}
    assert second.article_id == first.article_id and second.action == "unchanged"
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_offtopic_article_is_remembered_but_not_versioned(database: Database) -> None:
    fetch = make_fetch("The weather in Seoul was sunny.", title="Weather", relevant=False)
    with database.write() as session:
        outcome = repo.store_article(session, fetch, OPTIONS, diff_versions)
    assert outcome.action == "new_offtopic"
    with database.read() as session:
        article = session.get(Article, outcome.article_id)
        assert article is not None and article.next_check_at is None and not article.relevant
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 0
        assert repo.known_urls(session, [fetch.discovered_url]) == {fetch.discovered_url}


def test_revisit_schedule_decays_then_stops(database: Database) -> None:
    with database.write() as session:
        outcome = repo.store_article(session, make_fetch(BODY), OPTIONS, diff_versions)
    times = []
    for step in range(3):
        with database.write() as session:
            repo.record_not_modified(session, outcome.article_id, NOW + timedelta(hours=step), REVISIT)
        with database.read() as session:
            article = session.get(Article, outcome.article_id)
            assert article is not None
            times.append(article.next_check_at)
    assert times == [NOW + REVISIT[1], None, None]


def test_keep_raw_off_stores_no_evidence(database: Database) -> None:
    options = repo.StoreOptions(revisit=REVISIT, keep_raw=False)
    with database.write() as session:
        repo.store_article(session, make_fetch(BODY), options, diff_versions)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(RawResponse)) == 0


def test_prune_raw_deletes_only_old_evidence(database: Database) -> None:
    with database.write() as session:
        repo.store_article(session, make_fetch(BODY, at=NOW - timedelta(days=400)), OPTIONS, diff_versions)
        repo.store_article(session, make_fetch(BODY + " New.", at=NOW, canonical="https://news.example/b"),
                           OPTIONS, diff_versions)
    with database.write() as session:
        assert repo.prune_raw(session, NOW - timedelta(days=365)) == 1
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(RawResponse)) == 1
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 2


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from db.migrate import MIGRATIONS, head_revision

    assert head_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_the_runs_of_an_owner_that_died_are_closed_and_no_others(database: Database) -> None:
    now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    with database.write() as session:
        dead = repo.start_run(session, "daemon", ["a"], owner="job 17")
        alive = repo.start_run(session, "daemon", ["b"], owner="job 18")
        cli = repo.start_run(session, "cli", ["c"])
        finished = repo.start_run(session, "daemon", ["d"], owner="job 17")
        repo.finish_run(session, finished, "ok", {"items": 1}, 0)
    assert database.in_write(repo.abort_runs_of, "job 17", now) == 1
    assert database.in_write(repo.abort_runs_of, "job 17", now) == 0  # again: nothing left to close
    with database.read() as session:
        states = dict(session.execute(select(CrawlRun.id, CrawlRun.status)).all())
    assert states == {dead: "aborted", alive: "running", cli: "running", finished: "ok"}


def test_a_batch_is_stored_as_its_fetches_would_be_one_after_another(database: Database) -> None:
    """``store_articles`` inserts the new articles of consecutive fetches together, yet stores what storing each
    fetch alone, in order, would: a fetch leading to an article made earlier in the batch is folded into it, and
    articles and versions get their ids in the fetches' order."""
    def at(url: str, body: str, **kwargs: Any) -> repo.ArticleFetch:
        return make_fetch(body, url=url, canonical=url.split("?")[0], **kwargs)

    with database.write() as session:
        old = repo.store_article(session, at("https://news.example/old", BODY), OPTIONS, diff_versions)
    batch = [at("https://news.example/n1", BODY + " One."),
             at("https://news.example/n2", "The weather in Seoul.", relevant=False),
             at("https://news.example/n1?from=feed", BODY + " One."),  # the first, reached under another URL
             replace(at("https://news.example/old", BODY.replace("50,000", "15,000"), at=NOW + timedelta(hours=1)),
                     article_id=old.article_id),  # a re-check of an article stored before, edited
             at("https://news.example/n3", BODY + " Three.")]
    with database.write() as session:
        outcomes = list(repo.store_articles(session, batch, OPTIONS, diff_versions))
    assert [o.action for o in outcomes] == ["new", "new_offtopic", "unchanged", "changed", "new"]
    assert outcomes[2].article_id == outcomes[0].article_id
    assert [n.code for n in outcomes[2].notices] == [repo.CANONICAL_FOLDED]
    assert old.article_id < outcomes[0].article_id < outcomes[1].article_id < outcomes[4].article_id
    versions = [old.version_id, outcomes[0].version_id, outcomes[3].version_id, outcomes[4].version_id]
    assert versions == sorted(v for v in versions if v is not None)
    with database.read() as session:
        owners = repo.article_ids(session, ["https://news.example/n1?from=feed", "https://news.example/n2"])
        assert owners == {"https://news.example/n1?from=feed": outcomes[0].article_id,
                          "https://news.example/n2": outcomes[1].article_id}
        first = session.get(Article, outcomes[0].article_id)
        assert first is not None and first.check_count == 1 and first.version_count == 1
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 4
        assert session.scalar(select(func.count()).select_from(RawResponse)) == 4
        assert session.scalars(select(VersionDiffRow.to_version_id)).all() == [outcomes[3].version_id]


def test_validators_saved_together_keep_the_last_of_each_url(database: Database) -> None:
    with database.write() as session:
        repo.save_validators(session, "https://e.org/1", '"a"', None)
        repo.save_validators(session, "https://e.org/2", '"b"', None)
    with database.write() as session:
        repo.save_many_validators(session, [
            ("https://e.org/1", None, None), ("https://e.org/2", None, "Mon, 30 Nov 2026 08:00:00 GMT"),
            ("https://e.org/3", '"c"', None), ("https://e.org/3", None, None), ("https://e.org/1", '"d"', None)])
    with database.read() as session:
        assert repo.validators_for(session, [f"https://e.org/{n}" for n in (1, 2, 3)]) == {
            "https://e.org/1": ('"d"', None), "https://e.org/2": (None, "Mon, 30 Nov 2026 08:00:00 GMT")}
