"""Writers that race on one database: two engines (as two dispatchers or daemons would have) storing the same
events or promoting review sentences at the same time. On PostgreSQL the second writer's INSERT really waits on
the first one's uncommitted row; SQLite serialises whole write transactions, and must give the same result."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from db import review as review_store
from db.engine import Database
from db.events import DeliveryTarget, EventDraft, record_events
from db.models import Article, ArticleVersion, ClaimMatchRow, Delivery, Event, KnownClaim, Source
from scheduler.metrics import Metrics
from tests.waiting import wait_until

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NEW = "More than 3,400 North Korean workers are employed at shipyards in Primorye, a leaked report says."
UPDATE = "About 1,200 North Korean workers were sent to building sites in Kazan last year."
TARGETS = [DeliveryTarget("newsroom", "aaaa", "json://127.0.0.1"), DeliveryTarget("ops", "bbbb", "mailto://x")]


def router(_: EventDraft) -> list[DeliveryTarget]:
    return TARGETS


def drafts(prefix: str, count: int) -> list[EventDraft]:
    return [EventDraft("new_article", f"new_article:{prefix}:{n}", f"Story {n}", "s") for n in range(count)]


def lock_waiters(database: Database) -> int:
    """How many sessions of this database wait for a row lock (PostgreSQL; 0 on SQLite, which cannot say)."""
    if database.is_sqlite:
        return 0
    with database.read() as session:
        return int(session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock'")) or 0)


def wait_for_blocked_writer(database: Database) -> None:
    """Until the other writer waits on our uncommitted rows (PostgreSQL); SQLite's waits on the write lock."""
    if not database.is_sqlite:
        wait_until(lambda: lock_waiters(database) >= 1, 30, "the second writer to wait on the first one's rows")


def run_both(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """Run two callables in threads; their results, or the first exception either raised."""
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    def runner(index: int, work: Callable[[], Any]) -> None:
        try:
            results[index] = work()
        except BaseException as exc:  # the test thread re-raises it
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(n, work)) for n, work in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    if errors:
        raise errors[0]
    return results[0], results[1]


@pytest.fixture
def engines(database: Database) -> Iterator[tuple[Database, Database]]:
    """Two more engines on the test database: two writers with their own connection pools."""
    pair = (Database(database.url), Database(database.url))
    yield pair
    for db in pair:
        db.dispose()


def counts(database: Database) -> tuple[int, int]:
    with database.read() as session:
        events = session.scalar(select(func.count()).select_from(Event))
        deliveries = session.scalar(select(func.count()).select_from(Delivery))
    return int(events or 0), int(deliveries or 0)


# --- events --------------------------------------------------------------------------------------------------

def test_a_writer_storing_keys_another_holds_uncommitted_stores_nothing_and_does_not_fail(
        database: Database, engines: tuple[Database, Database]) -> None:
    first_db, second_db = engines
    barrier = threading.Barrier(2, timeout=30)
    same = drafts("held", 12)

    def first() -> list[int]:
        with first_db.write() as session:
            stored = record_events(session, same, router, NOW)
            barrier.wait()
            wait_for_blocked_writer(database)  # commit only once the second writer waits on these rows
        return stored

    def second() -> list[int]:
        barrier.wait()
        with second_db.write() as session:
            return record_events(session, same, router, NOW)

    stored_first, stored_second = run_both(first, second)
    assert len(stored_first) == 12 and stored_second == []
    assert counts(database) == (12, 24)


def test_two_writers_storing_the_same_keys_at_once_make_one_event_and_one_delivery_set_each(
        database: Database, engines: tuple[Database, Database]) -> None:
    barrier = threading.Barrier(2, timeout=30)
    rounds, per_round = 8, 10

    def writer(db: Database) -> Callable[[], list[int]]:
        def work() -> list[int]:
            stored: list[int] = []
            for round_ in range(rounds):
                barrier.wait()  # both start each round's transaction together
                with db.write() as session:
                    stored += record_events(session, drafts(f"r{round_}", per_round), router, NOW)
            return stored
        return work

    first, second = run_both(writer(engines[0]), writer(engines[1]))
    assert counts(database) == (rounds * per_round, 2 * rounds * per_round)
    assert len(first) + len(second) == rounds * per_round  # each event reported stored by exactly one writer
    assert not set(first) & set(second)
    with database.read() as session:
        per_event = session.execute(select(Delivery.event_id, func.count()).group_by(Delivery.event_id)).all()
    assert {count for _, count in per_event} == {2} and len(per_event) == rounds * per_round


def test_record_events_takes_two_statements_whatever_the_number_of_drafts(database: Database) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        with database.write() as session:
            session.connection()  # BEGIN is not ours to count
            statements.clear()
            stored = record_events(session, drafts("count", 3), router, NOW)
            first = list(statements)
            statements.clear()
            again = record_events(session, drafts("count", 3), router, NOW)
            second = list(statements)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    # Before: a SELECT and an INSERT per draft plus one delivery INSERT per stored event (9 here, 3 when known).
    assert (len(stored), first) == (3, ["INSERT", "INSERT"])
    assert (again, second) == ([], ["INSERT"])


# --- review promotions -----------------------------------------------------------------------------------------

def seed(database: Database) -> None:
    """One article whose version has two new-claim sentences in the review queue."""
    with database.write() as session:
        session.add(Source(id="gazette", kind="feed", url="http://gazette.example/rss.xml", name="The Gazette"))
        session.flush()
        article = Article(source_id="gazette", url="http://gazette.example/a/1",
                          canonical_url="http://gazette.example/a/1", title="Workers", relevant=True,
                          first_seen_at=NOW)
        session.add(article)
        session.flush()
        version = ArticleVersion(article_id=article.id, number=1, fetched_at=NOW, url=article.url, title="Workers",
                                 text=f"{NEW} {UPDATE}", content_hash="1")
        session.add(version)
        session.flush()
        for index, sentence in enumerate((NEW, UPDATE)):
            session.add(ClaimMatchRow(version_id=version.id, article_id=article.id, source_id="gazette",
                                      url=article.url, sentence_index=index, sentence=sentence, label="new",
                                      claim_id=None, confidence=0.7, score=0.7, on_subject=True,
                                      claims_digest="d" * 64, matched_at=NOW))


def _match_id(database: Database, sentence: str) -> int:
    with database.read() as session:
        return next(item.match_id for item in review_store.queue(session).items if item.sentence == sentence)


def test_two_promotions_at_once_get_distinct_review_ids(database: Database,
                                                        engines: tuple[Database, Database]) -> None:
    seed(database)
    first_db, second_db = engines
    new, update = _match_id(database, NEW), _match_id(database, UPDATE)
    barrier = threading.Barrier(2, timeout=30)

    def first() -> str | None:
        with first_db.write() as session:
            decision = review_store.promote(session, new, reviewer="Ann")
            barrier.wait()
            wait_for_blocked_writer(database)  # the other promotion read R0001 as free and waits on ours
        return decision.claim_id

    def second() -> str | None:
        barrier.wait()
        with second_db.write() as session:
            return review_store.promote(session, update, reviewer="Bob").claim_id

    assert run_both(first, second) == ("R0001", "R0002")
    with database.read() as session:
        promoted = session.scalars(select(KnownClaim.text).where(KnownClaim.id.like("R%")).order_by(KnownClaim.id))
        assert list(promoted) == [NEW, UPDATE]


def test_two_reviewers_promoting_one_sentence_at_once_make_one_claim_and_tell_the_second(
        database: Database, engines: tuple[Database, Database]) -> None:
    seed(database)
    first_db, second_db = engines
    new = _match_id(database, NEW)
    barrier = threading.Barrier(2, timeout=30)

    def first() -> str | None:
        with first_db.write() as session:
            decision = review_store.promote(session, new, reviewer="Ann")
            barrier.wait()
            wait_for_blocked_writer(database)
        return decision.claim_id

    def second() -> str:
        barrier.wait()
        try:
            with second_db.write() as session:
                review_store.promote(session, new, reviewer="Bob")
        except review_store.AlreadyDecidedError as exc:
            return str(exc)
        return "promoted twice"

    claim_id, refusal = run_both(first, second)
    assert claim_id == "R0001" and "reload the queue" in refusal
    with database.read() as session:
        assert list(session.scalars(select(KnownClaim.id).where(KnownClaim.id.like("R%")))) == ["R0001"]


# --- claims import (each daemon imports the claims file at start) ------------------------------------------------

def test_two_daemons_importing_the_same_new_claims_at_once_both_succeed(
        database: Database, engines: tuple[Database, Database]) -> None:
    from analysis.claims.model import Claim
    from db.claims import ImportResult, import_claims

    claims = [Claim(id=f"K{n}", text=f"Claim {n} about North Korean workers.", source="test") for n in range(5)]
    first_db, second_db = engines
    barrier = threading.Barrier(2, timeout=30)

    def first() -> ImportResult:
        with first_db.write() as session:
            result = import_claims(session, claims)
            barrier.wait()
            wait_for_blocked_writer(database)
        return result

    def second() -> ImportResult:
        barrier.wait()
        with second_db.write() as session:
            return import_claims(session, claims)

    one, two = run_both(first, second)
    assert (one.added, two.added, two.unchanged) == (5, 0, 5)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(KnownClaim)) == 5


# --- articles and sources --------------------------------------------------------------------------------------

def _fetch(canonical: str, body: str) -> Any:
    from analysis.text import content_hash
    from analysis.types import ArticleDoc, Relevance
    from db import repository as repo

    doc = ArticleDoc(url=canonical, canonical_url=canonical, title="Shipyard crews", text=body, language="en")
    raw = repo.RawCapture(url=canonical, status=200, headers={}, body=body.encode(), fetched_at=NOW)
    return repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.8, ("worker*",)),
                             content_hash=content_hash("Shipyard crews", body), raw=raw, source_id=None,
                             discovered_url=canonical)


def test_two_writers_storing_the_same_new_article_at_once_make_one_article(
        database: Database, engines: tuple[Database, Database]) -> None:
    from datetime import timedelta

    from analysis.diff import diff_versions
    from db import repository as repo

    options = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=True)
    barrier = threading.Barrier(2, timeout=30)
    url = "https://news.example/a/shipyards"
    same = _fetch(url, NEW)

    def first() -> str:
        with engines[0].write() as session:
            stored = repo.store_article(session, same, options, diff_versions)
            barrier.wait()
            wait_for_blocked_writer(database)  # commit once the second writer waits on this article
        return stored.action

    def second() -> str:
        barrier.wait()
        with engines[1].write() as session:
            return repo.store_article(session, same, options, diff_versions).action

    actions = run_both(first, second)
    assert actions == ("new", "unchanged")  # the second found the first's article, did not fail
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 1


def test_two_daemons_adding_the_same_new_source_at_once_both_succeed(
        database: Database, engines: tuple[Database, Database]) -> None:
    from crawler.types import SourceSpec
    from db import repository as repo

    spec = SourceSpec(id="new-outlet", kind="feed", url="https://news.example/rss.xml", name="New outlet")
    barrier = threading.Barrier(2, timeout=30)

    def first() -> None:
        with engines[0].write() as session:
            repo.sync_sources(session, [spec], disable_missing=False)
            barrier.wait()
            wait_for_blocked_writer(database)

    def second() -> None:
        barrier.wait()
        with engines[1].write() as session:
            repo.sync_sources(session, [spec], disable_missing=False)

    run_both(first, second)
    with database.read() as session:
        assert session.scalars(select(Source.id)).all() == ["new-outlet"]


# --- transactions PostgreSQL aborts for a race: run again, counted -------------------------------------------

@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite serialises writes: it cannot deadlock
def test_two_writers_deadlocking_on_the_same_articles_end_with_one_row_each_and_a_counted_retry(
        database: Database, engines: tuple[Database, Database]) -> None:
    """Two nodes store the same two new articles (and their events) in opposite orders, each in one transaction:
    each holds the article the other wants next, PostgreSQL aborts one of them (deadlock), and ``in_write`` runs
    that one again, which finds both of the other's rows."""
    from datetime import timedelta

    from analysis.diff import diff_versions
    from db import repository as repo
    from db.retries import COUNTS

    options = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=True)
    pages = [_fetch(f"https://news.example/a/{name}", NEW) for name in ("shipyards", "kazan")]
    barrier = threading.Barrier(2, timeout=30)
    before = COUNTS.snapshot()

    def writer(db: Database, order: list[Any]) -> Callable[[], list[str]]:
        runs = []

        def transaction(session: Any) -> list[str]:
            runs.append(1)
            first = repo.store_article(session, order[0], options, diff_versions)
            if len(runs) == 1:
                barrier.wait()  # both hold their first article, uncommitted: now each asks for the other's
            second = repo.store_article(session, order[1], options, diff_versions)
            record_events(session, [EventDraft("new_article", f"new_article:{o.article_id}", "t", "s")
                                    for o in (first, second)], router, NOW)
            return [first.action, second.action]

        return lambda: [*db.in_write(transaction), f"runs={len(runs)}"]

    results = run_both(writer(engines[0], pages), writer(engines[1], pages[::-1]))
    # One ran once and stored both; the other was aborted, ran again, and found both stored. (On a loaded machine
    # its second run can meet the first still committing and be aborted once more: each abort is counted.)
    done, retried = sorted(results)
    assert done == ["new", "new", "runs=1"], results
    assert retried[:2] == ["unchanged", "unchanged"] and retried[2] in ("runs=2", "runs=3"), results
    after = COUNTS.snapshot()
    aborted = int(retried[2].removeprefix("runs=")) - 1
    assert after["deadlock"] - before["deadlock"] >= 1, (before, after)
    assert (after["deadlock"] - before["deadlock"]) + (after["serialization_failure"]
                                                      - before["serialization_failure"]) == aborted, (before, after)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 2
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 2
    assert counts(database) == (2, 4)  # one event per article, its deliveries once
    # /metrics of the process shows the count.
    body = Metrics().render().decode()
    assert f'labourwatch_db_retries_total{{reason="deadlock"}} {float(after["deadlock"])}' in body


def test_a_transaction_failing_for_another_reason_runs_once() -> None:
    from sqlalchemy.exc import IntegrityError

    from db.retries import COUNTS, retrying

    runs = []
    before = COUNTS.snapshot()

    def transaction() -> None:
        runs.append(1)
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        retrying(transaction)
    assert runs == [1] and COUNTS.snapshot() == before
