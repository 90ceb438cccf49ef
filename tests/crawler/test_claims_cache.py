"""A process keeps the known claims between its crawls (crawler.reuse.known_claims) only while the database's
fingerprint of them (db.claims.matching_fingerprint) is unchanged: a change made elsewhere, by another cluster node or a
``claims`` command, is matched by the process's next crawl."""

from __future__ import annotations

from dataclasses import replace

import yaml
from sqlalchemy import select

from analysis.claims.model import claims_from_yaml_data
from crawler import reuse
from db import claims as claim_store
from db.engine import Database
from db.models import ArticleVersion, KnownClaim
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.crawler.test_claim_matching import CLAIMS, matches_by_version


def other_node(database: Database) -> Database:
    """The same database through a pool of its own, as another node (or a ``claims`` command) reaches it."""
    return Database(database.url)


def versions(database: Database) -> set[int]:
    with database.read() as session:
        return set(session.scalars(select(ArticleVersion.id)))


def test_claims_imported_elsewhere_are_matched_by_the_next_crawl(database: Database, web: FixtureWeb) -> None:
    sources = specs(web.sources())
    crawl(database, sources)  # no known claims yet: this process keeps "none"
    assert not matches_by_version(database)
    before = versions(database)
    other = other_node(database)
    try:
        with other.write() as session:
            claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(CLAIMS.read_text())))
    finally:
        other.dispose()
    change = web.advance()
    assert change.figure_edits
    crawl(database, sources)
    found = matches_by_version(database)
    assert set(found) <= versions(database) - before  # the versions the second crawl stored
    assert any(row.claim_id is not None for rows in found.values() for row in rows), \
        "the edited and new articles restate known claims: the crawl after the import matched none of them"


def test_a_claim_changed_or_retired_elsewhere_reaches_the_next_read(database: Database) -> None:
    claims = claims_from_yaml_data(yaml.safe_load(CLAIMS.read_text()))
    with database.write() as session:
        claim_store.import_claims(session, claims)
    first = reuse.known_claims(database)
    assert first is not None and first.count == len(claims)
    assert reuse.known_claims(database) is first or database.is_sqlite  # unchanged: kept (PostgreSQL)
    other = other_node(database)
    try:
        with other.write() as session:  # a new wording of the first claim, from the claims file
            claim_store.import_claims(session, [replace(claims[0], paraphrases=(*claims[0].paraphrases, "reworded"))])
        changed = reuse.known_claims(database)
        assert changed is not None and changed is not first
        assert "reworded" in next(c for c in changed.matcher.claims if c.id == claims[0].id).paraphrases
        with other.write() as session:
            session.scalars(select(KnownClaim).where(KnownClaim.id == claims[1].id)).one().status = "retired"
        retired = reuse.known_claims(database)
    finally:
        other.dispose()
    assert retired is not None and retired.count == len(claims) - 1
    assert claims[1].id not in {c.id for c in retired.matcher.claims}
