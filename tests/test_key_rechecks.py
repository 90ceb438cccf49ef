"""A cluster crawl's reads are scoped to its politeness key: the due re-checks of one host, and only the sources it
syncs (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from analysis.urls import key_substring, politeness_key
from crawler.types import SourceSpec
from db import repository as repo
from db.engine import Database
from db.models import Article, Source

T0 = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


def add_articles(database: Database, urls: list[str], due: datetime = T0) -> None:
    """Relevant articles at ``urls``, each due for a re-check at ``due`` (later ones a second later each)."""
    with database.write() as session:
        for n, url in enumerate(urls):
            session.add(Article(source_id="feed", url=url, canonical_url=url, relevant=True,
                                next_check_at=due + timedelta(seconds=n)))


def test_the_due_rechecks_of_one_key_are_read_without_the_other_keys(database: Database) -> None:
    database.in_write(repo.sync_sources, [SourceSpec("feed", "feed", "https://a.example/rss")])
    add_articles(database, [
        "https://a.example/1", "https://A.Example:443/2", "http://a.example/3",  # 3 is a.example:80
        "https://ba.example/4",  # the host contains the key's: narrowed out here, not by the database
        "https://a.example:8443/5", "https://b.example/a.example/6", "https://a_example.org/7",
        "https://a.example/8"])
    with database.read() as session:
        due = repo.due_rechecks(session, T0 + timedelta(minutes=1), key="a.example:443")
        assert [url for _, url, _, _ in due] == ["https://a.example/1", "https://A.Example:443/2",
                                                 "https://a.example/8"]
        assert [url for _, url, _, _ in repo.due_rechecks(session, T0 + timedelta(minutes=1), 1,
                                                          key="a.example:443")] == ["https://a.example/1"]
        assert [url for _, url, _, _ in repo.due_rechecks(session, T0 + timedelta(minutes=1),
                                                          key="a.example:80")] == ["http://a.example/3"]
        # "_" is a literal in the key, not LIKE's any character
        assert [url for _, url, _, _ in repo.due_rechecks(session, T0 + timedelta(minutes=1),
                                                          key="a_example.org:443")] == ["https://a_example.org/7"]
        assert repo.due_rechecks(session, T0 + timedelta(minutes=1), key="c.example:443") == []
        # Not due yet at T0 + 0.5 s: only the first.
        assert [url for _, url, _, _ in repo.due_rechecks(session, T0 + timedelta(seconds=0.5),
                                                          key="a.example:443")] == ["https://a.example/1"]
        # Without a key, every host's, as before.
        assert len(repo.due_rechecks(session, T0 + timedelta(minutes=1))) == 8


def test_a_key_with_a_port_of_its_own_is_narrowed_by_it_and_not_crowded_out(database: Database) -> None:
    # Sites on one address, told apart by their ports (as on a test or intranet host): the other ports' re-checks,
    # due first and many more than a page, neither come back nor keep this key's from being read.
    database.in_write(repo.sync_sources, [SourceSpec("feed", "feed", "http://10.0.0.1:8001/rss")])
    others = [f"http://10.0.0.1:{8002 + n % 3}/{n}" for n in range(30)] + ["http://10.0.0.1:80011/x"]
    add_articles(database, [*others, "http://10.0.0.1:8001/a", "http://10.0.0.1:8001/b"])
    with database.read() as session:
        due = repo.due_rechecks(session, T0 + timedelta(minutes=1), 5, key="10.0.0.1:8001")
        assert [url for _, url, _, _ in due] == ["http://10.0.0.1:8001/a", "http://10.0.0.1:8001/b"]
        # The host on its default port is narrowed by the host alone: the other ports' re-checks, due first, fill
        # the first page read, and the rest is read for this key's.
        add_articles(database, [f"http://10.0.0.1/{n}" for n in range(5)], due=T0 + timedelta(hours=1))
    with database.read() as session:
        due = repo.due_rechecks(session, T0 + timedelta(hours=2), 3, key="10.0.0.1:80")
        assert [url for _, url, _, _ in due] == ["http://10.0.0.1/0", "http://10.0.0.1/1", "http://10.0.0.1/2"]
        due = repo.due_rechecks(session, T0 + timedelta(hours=2), 10, key="10.0.0.1:8001")
        assert [url for _, url, _, _ in due] == ["http://10.0.0.1:8001/a", "http://10.0.0.1:8001/b"]


def test_key_substring_is_in_every_url_of_the_key() -> None:
    urls = ["https://Example.org/a", "https://example.org:443/b", "http://example.org:8080/c", "http://[::1]:8080/d",
            "ftp://example.org/e", "https://a_b.example/f"]
    for url in urls:
        assert key_substring(politeness_key(url)).lower() in url.lower(), url
    assert key_substring("example.org:443") == "example.org"
    assert key_substring("example.org:8080") == "example.org:8080"


def test_a_key_that_is_a_whole_url_finds_its_own_rechecks(database: Database) -> None:
    database.in_write(repo.sync_sources, [SourceSpec("feed", "feed", "https://a.example/rss")])
    odd = "https://a.example:port/1"  # a malformed port: politeness_key makes the URL its own key
    add_articles(database, [odd, "https://a.example/2"])
    with database.read() as session:
        assert [url for _, url, _, _ in repo.due_rechecks(session, T0 + timedelta(minutes=1), key=odd)] == [odd]


def test_syncing_some_sources_leaves_the_others_as_they_are(database: Database) -> None:
    database.in_write(repo.sync_sources, [SourceSpec("a", "feed", "https://a.example/rss"),
                                          SourceSpec("b", "feed", "https://b.example/rss")])
    # A crawl of one key syncs its own sources only (disable_missing=False): b is neither read nor disabled.
    database.in_write(repo.sync_sources, [SourceSpec("a", "feed", "https://a.example/feed", name="A"),
                                          SourceSpec("c", "feed", "https://c.example/rss")], disable_missing=False)
    with database.read() as session:
        rows = {row.id: (row.url, row.name, row.enabled) for row in session.scalars(select(Source))}
    assert rows == {"a": ("https://a.example/feed", "A", True), "b": ("https://b.example/rss", None, True),
                    "c": ("https://c.example/rss", None, True)}
    database.in_write(repo.sync_sources, [SourceSpec("a", "feed", "https://a.example/feed", name="A")])
    with database.read() as session:
        assert {row.id: row.enabled for row in session.scalars(select(Source))} == {"a": True, "b": False,
                                                                                  "c": False}
