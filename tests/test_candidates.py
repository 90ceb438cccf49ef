"""New claims grouped across outlets (db.candidates) on SQLite and PostgreSQL: one candidate per claim, a sighting
per article that reports it, an alert when first seen and again only when a repeat states a new figure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.claims.matcher import ClaimMatch
from analysis.claims.sentences import SentenceMatch
from db import candidates
from db.engine import Database
from db.migrate import upgrade
from db.models import Article, ArticleVersion, CandidateClaim, CandidateSighting, Source
from tests.web.test_review import NEW
from tests.web.test_review_groups import REWORDED, _outlet

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SHIPYARDS = "More than 3,400 North Korean workers are employed at shipyards in Primorye, a leaked report says."
# The same claim as another outlet writes it: other words around the same report.
SHIPYARDS_REWORDED = "More than 3,400 North Korean workers are employed at shipyards in Primorye, according to a leaked report."
SHIPYARDS_MORE = "More than 4,100 North Korean workers are employed at shipyards in Primorye, a leaked report says."
SEAFOOD = "North Korean women at seafood plants in Hunchun are paid $230 a month, a rights group found."
TRAINS = "Direct passenger trains between Moscow and Pyongyang resumed for the first time since 2020."


def sentence(index: int, text: str, on_subject: bool = True) -> SentenceMatch:
    return SentenceMatch(index, text, ClaimMatch("new", None, 0.7, 0.3), on_subject)


def publish(db: Database, source_id: str, texts: Sequence[str], *, at: datetime = T0,
            article_id: int | None = None) -> tuple[int, dict[int, candidates.Grouped]]:
    """Store a version of an article (a new one unless ``article_id``) of ``source_id`` carrying ``texts`` as its
    new-claim sentences, and group them as the crawl does; the article id and what grouping made of them."""
    with db.write() as session:
        return store(session, source_id, texts, at=at, article_id=article_id)


def store(session: Session, source_id: str, texts: Sequence[str], *, at: datetime = T0, article_id: int | None = None,
          on_subject: bool = True,
          grouping: candidates.Grouping | None = None) -> tuple[int, dict[int, candidates.Grouped]]:
    """:func:`publish` in the caller's transaction; ``on_subject``: the sentences' matcher flag; ``grouping``: the
    transaction's grouping of several versions, as the crawl's writer groups a batch (one version alone without)."""
    if session.get(Source, source_id) is None:
        session.add(Source(id=source_id, kind="feed", url=f"http://{source_id}.example/rss.xml", name=source_id))
        session.flush()
    if article_id is None:
        url = f"http://{source_id}.example/{at.timestamp()}-{len(texts)}-{hash(tuple(texts))}"
        article = Article(source_id=source_id, url=url, canonical_url=url, title="t", relevant=True,
                          first_seen_at=at)
        session.add(article)
        session.flush()
        article_id = article.id
    number = session.scalar(select(func.count()).select_from(ArticleVersion)
                            .where(ArticleVersion.article_id == article_id)) or 0
    version = ArticleVersion(article_id=article_id, number=number + 1, fetched_at=at, url="http://x",
                             title="t", text=" ".join(texts), content_hash=f"{article_id}-{number}")
    session.add(version)
    session.flush()
    found = [sentence(i, t, on_subject) for i, t in enumerate(texts)]
    if grouping is not None:
        return article_id, grouping.group(article_id=article_id, version_id=version.id, source_id=source_id,
                                          sentences=found, now=at)
    grouped = candidates.group_new_claims(session, article_id=article_id, version_id=version.id,
                                          source_id=source_id, sentences=found, now=at)
    return article_id, grouped


def counts(session: Session) -> tuple[int, int]:
    claims = session.scalar(select(func.count()).select_from(CandidateClaim)) or 0
    sightings = session.scalar(select(func.count()).select_from(CandidateSighting)) or 0
    return int(claims), int(sightings)


def test_the_same_sentence_from_three_outlets_is_one_candidate_alerted_once(database: Database) -> None:
    results = [publish(database, outlet, [SHIPYARDS], at=T0 + timedelta(hours=n))[1][0]
               for n, outlet in enumerate(("gazette", "herald", "courier"))]
    assert [r.alert for r in results] == [True, False, False]
    assert [r.first for r in results] == [True, False, False]
    assert len({r.candidate_id for r in results}) == 1
    with database.read() as session:
        assert counts(session) == (1, 3)
        claim = session.get(CandidateClaim, results[0].candidate_id)
        assert claim is not None and claim.sightings == 3 and claim.first_source_id == "gazette"
        assert claim.first_seen_at == T0 and claim.last_seen_at == T0 + timedelta(hours=2)
        assert claim.sentence == SHIPYARDS and claim.figures == claim.alerted_figures == ["count:3400"]
        found = candidates.candidate_counts(session, [claim.id])[claim.id]
    assert (found.sightings, found.outlets) == (3, 3)


def test_a_reworded_repeat_is_grouped_and_a_new_figure_alerts_again(database: Database) -> None:
    _, first = publish(database, "gazette", [SHIPYARDS])
    _, reworded = publish(database, "herald", [SHIPYARDS_REWORDED], at=T0 + timedelta(hours=1))
    _, more = publish(database, "courier", [SHIPYARDS_MORE], at=T0 + timedelta(hours=2))
    _, old_again = publish(database, "tribune", [SHIPYARDS], at=T0 + timedelta(hours=3))
    assert first[0].candidate_id == reworded[0].candidate_id == more[0].candidate_id == old_again[0].candidate_id
    assert (reworded[0].alert, reworded[0].figures_changed) == (False, False)
    assert (more[0].alert, more[0].figures_changed, more[0].first) == (True, True, False)
    # An outlet still printing the figure alerted first is no change: both figures were alerted.
    assert (old_again[0].alert, old_again[0].figures_changed) == (False, False)
    with database.read() as session:
        claim = session.get(CandidateClaim, first[0].candidate_id)
        assert claim is not None and claim.alerted_figures == ["count:3400", "count:4100"]
        assert claim.figures == ["count:3400"] and claim.sightings == 4


def test_unrelated_new_claims_are_not_grouped(database: Database) -> None:
    _, grouped = publish(database, "gazette", [SHIPYARDS, SEAFOOD, TRAINS])
    _, other = publish(database, "herald", [SEAFOOD.replace("$230", "$310"), TRAINS], at=T0 + timedelta(hours=1))
    assert len({g.candidate_id for g in grouped.values()}) == 3 and all(g.first for g in grouped.values())
    assert other[0].candidate_id == grouped[1].candidate_id and other[0].alert and other[0].figures_changed
    assert other[1].candidate_id == grouped[2].candidate_id and not other[1].alert
    with database.read() as session:
        assert counts(session) == (3, 5)


def test_the_same_articles_next_version_is_no_new_sighting(database: Database) -> None:
    article_id, first = publish(database, "gazette", [SHIPYARDS, SEAFOOD])
    _, again = publish(database, "gazette", [SEAFOOD, SHIPYARDS, TRAINS], at=T0 + timedelta(hours=1),
                       article_id=article_id)
    assert again[0] == candidates.Grouped(first[1].candidate_id, first=False, figures_changed=False, alert=False)
    assert again[1] == candidates.Grouped(first[0].candidate_id, first=False, figures_changed=False, alert=False)
    assert again[2].first and again[2].alert
    with database.read() as session:
        assert counts(session) == (3, 3)
        assert {c.sightings for c in session.scalars(select(CandidateClaim))} == {1}
    # The article's next version with the figure revised: the same candidate, alerted for its new figure, still
    # one article reporting it.
    _, revised = publish(database, "gazette", [SHIPYARDS_MORE], at=T0 + timedelta(hours=2), article_id=article_id)
    assert revised[0].candidate_id == first[0].candidate_id and revised[0].alert and revised[0].figures_changed
    with database.read() as session:
        claim = session.get(CandidateClaim, first[0].candidate_id)
        assert claim is not None and claim.sightings == 1


def test_versions_grouped_in_one_transaction_are_grouped_as_one_after_another(database: Database) -> None:
    """The crawl's writer groups a batch's versions in one transaction (``Grouping``: each candidate read once, its
    changes and the sightings written by ``finish``): the verdicts and rows are those of grouping each alone."""
    with database.write() as session:
        grouping = candidates.Grouping(session)
        gazette, first = store(session, "gazette", [SHIPYARDS, SEAFOOD], grouping=grouping)
        _, reworded = store(session, "herald", [SHIPYARDS_REWORDED], at=T0 + timedelta(hours=1), grouping=grouping)
        # The gazette's next version: its seafood sentence was reported (earlier in this transaction), its figure
        # revised.
        _, again = store(session, "gazette", [SEAFOOD, SHIPYARDS_MORE], at=T0 + timedelta(hours=2),
                         article_id=gazette, grouping=grouping)
        _, old_again = store(session, "tribune", [SHIPYARDS], at=T0 + timedelta(hours=3), grouping=grouping)
        grouping.finish()
    shipyards, seafood = first[0].candidate_id, first[1].candidate_id
    assert first[0].alert and first[1].alert and shipyards != seafood
    assert reworded[0] == candidates.Grouped(shipyards, first=False, figures_changed=False, alert=False)
    assert again[0] == candidates.Grouped(seafood, first=False, figures_changed=False, alert=False)
    assert again[1] == candidates.Grouped(shipyards, first=False, figures_changed=True, alert=True)
    assert old_again[0] == candidates.Grouped(shipyards, first=False, figures_changed=False, alert=False)
    with database.read() as session:
        assert counts(session) == (2, 5)
        claim = session.get(CandidateClaim, shipyards)
        assert claim is not None and claim.sightings == 3  # gazette, herald, tribune: the gazette's again is no more
        assert claim.alerted_figures == ["count:3400", "count:4100"] and claim.last_seen_at == T0 + timedelta(hours=3)
        other = session.get(CandidateClaim, seafood)
        assert other is not None and other.sightings == 1 and other.last_seen_at == T0


def test_candidates_outside_the_window_and_off_subject_sentences_are_left_alone(database: Database) -> None:
    _, old = publish(database, "gazette", [SHIPYARDS])
    _, later = publish(database, "herald", [SHIPYARDS], at=T0 + candidates.WINDOW + timedelta(days=1))
    assert later[0].first and later[0].candidate_id != old[0].candidate_id
    with database.write() as session:
        _, grouped = store(session, "aside", [SEAFOOD], on_subject=False)
    assert grouped == {}


def test_a_rolled_back_candidate_is_forgotten(database: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), database.write() as session:
        store(session, "gazette", [TRAINS])
        raise Boom
    # On SQLite the next candidate takes the rolled-back one's id: the key in memory must be the new sentence's.
    _, grouped = publish(database, "herald", [SEAFOOD])
    assert grouped[0].first and grouped[0].alert
    _, grouped = publish(database, "courier", [TRAINS])
    assert grouped[0].first and grouped[0].alert
    with database.read() as session:
        assert counts(session) == (2, 2)


def test_sightings_of_finds_the_candidate_of_a_stored_sentence(database: Database) -> None:
    first_article, _ = publish(database, "gazette", [SHIPYARDS])
    second_article, _ = publish(database, "herald", [SHIPYARDS_REWORDED], at=T0 + timedelta(hours=1))
    with database.read() as session:
        found = candidates.sightings_of(session, [(first_article, SHIPYARDS), (second_article, SHIPYARDS_REWORDED),
                                                  (second_article, TRAINS)])
    assert set(found) == {(first_article, SHIPYARDS), (second_article, SHIPYARDS_REWORDED)}
    with database.read() as session:
        assert candidates.warm(session, T0) == 1  # keyed ahead of the first store transaction
    assert {(s.sightings, s.outlets) for s in found.values()} == {(2, 2)}


def test_claims_matches_shows_how_often_a_new_claim_was_reported(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'lw.db'}")
    upgrade(db)
    _outlet(db, "gazette", "Gazette", NEW, hours=1)
    _outlet(db, "herald", "Herald", REWORDED, hours=2)
    db.dispose()
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///{tmp_path / 'lw.db'}'}}\n")
    command = [sys.executable, "-m", "labourwatch", "--config", str(config), "claims", "matches", "--label", "new"]
    listed = subprocess.run([*command, "--format", "json"], capture_output=True, text=True, timeout=120, check=True)
    rows = json.loads(listed.stdout)
    assert len(rows) == 2 and {row["sentence"] for row in rows} == {NEW, REWORDED}
    assert {(row["candidate"]["sightings"], row["candidate"]["outlets"]) for row in rows} == {(2, 2)}
    assert len({row["candidate"]["id"] for row in rows}) == 1 and "seen" not in rows[0]
    table = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True,
                           env={**os.environ, "COLUMNS": "250"})
    assert "2× by 2" in table.stdout
