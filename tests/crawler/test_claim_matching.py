"""Claim matching during the crawl: every new version's claim sentences are stored with their provenance."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select

from analysis.claims.model import claims_from_yaml_data
from db import claims as claim_store
from db.engine import Database
from db.models import Article, ArticleVersion, ClaimMatchRow
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs

CLAIMS = Path(__file__).resolve().parents[1] / "analysis" / "claims" / "data" / "known_claims.yaml"


def import_claims(db: Database) -> None:
    with db.write() as session:
        claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(CLAIMS.read_text())))


def matches_by_version(db: Database) -> dict[int, list[ClaimMatchRow]]:
    found: dict[int, list[ClaimMatchRow]] = {}
    with db.read() as session:
        for row in session.scalars(select(ClaimMatchRow).order_by(ClaimMatchRow.sentence_index)):
            found.setdefault(row.version_id, []).append(row)
    return found


def test_new_versions_carry_their_claim_matches_with_provenance(database: Database, web: FixtureWeb) -> None:
    import_claims(database)
    report = crawl(database, specs(web.sources()))
    assert report.status == "ok"
    found = matches_by_version(database)
    with database.read() as session:
        versions = {v.id: v for v in session.scalars(select(ArticleVersion))}
        articles = {a.id: a for a in session.scalars(select(Article))}
    assert found, "the fixture web's on-topic articles restate known claims"
    assert set(found) <= set(versions)
    labels = {row.label for rows in found.values() for row in rows}
    assert {"corroborates", "new"} <= labels
    for version_id, rows in found.items():
        version, article = versions[version_id], articles[versions[version_id].article_id]
        assert article.relevant
        for row in rows:
            # Provenance: the version, its article's source and the URL it was fetched from, and the time.
            assert (row.article_id, row.source_id, row.url) == (article.id, article.source_id, version.url)
            assert row.matched_at == version.fetched_at
            assert row.sentence in version.text
            assert (row.claim_id is None) == (row.label == "new")
    counted = sum(report.stats.get(f"claims_{label}", 0) for label in ("corroborates", "updates", "new"))
    assert counted == sum(len(rows) for rows in found.values())


def test_a_figure_edit_is_matched_again_in_the_new_version_only(database: Database, web: FixtureWeb) -> None:
    import_claims(database)
    sources = specs(web.sources())
    crawl(database, sources)
    before = matches_by_version(database)
    change = web.advance()
    crawl(database, sources)
    after = matches_by_version(database)
    assert {k: [r.id for r in v] for k, v in after.items() if k in before} == {
        k: [r.id for r in v] for k, v in before.items()}  # old versions keep their verdicts untouched
    with database.read() as session:
        new_versions = {v.id: v for v in session.scalars(select(ArticleVersion).where(ArticleVersion.number > 1))}
    edited = {v.url for v in new_versions.values()}
    assert set(change.figure_edits) <= edited
    for url, (_, new_figure) in change.figure_edits.items():
        version = next(v for v in new_versions.values() if v.url == url)
        sentences = [row.sentence for row in after.get(version.id, [])]
        assert any(new_figure in sentence for sentence in sentences), (url, new_figure, sentences)


def test_without_claims_nothing_is_matched(database: Database, web: FixtureWeb) -> None:
    report = crawl(database, specs(web.sources()))
    assert report.status == "ok"
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(ClaimMatchRow)) == 0
    assert not any(key.startswith("claims_") for key in report.stats)
