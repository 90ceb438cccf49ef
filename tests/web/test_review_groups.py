"""The review queue shows a new claim several outlets reported (a candidate claim) once, with its count and its
repeats; a decision on it is recorded for every sighting, in one transaction (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from analysis.claims.matcher import ClaimMatch
from analysis.claims.sentences import SentenceMatch
from db import candidates
from db import review as review_store
from db.engine import Database
from db.models import Article, ArticleVersion, CandidateClaim, ClaimMatchRow, Review, Source
from tests.web.test_review import NEW, T0, Seeded, _match, log_in, make_client, post_action, queued_ids, seed

REWORDED = "More than 3,400 North Korean workers are employed at shipyards in Primorye, according to a leaked report."
HOSTILE_TITLE = "<script>window.__pwned=1</script> Herald"


def _outlet(db: Database, source_id: str, title: str, sentence: str, hours: int, *, decided_by: str = "") -> int:
    """Another outlet's article carrying ``sentence`` as a new claim, grouped as the crawl groups it; its match id.
    ``decided_by``: a reviewer dismissed the sentence before it was grouped."""
    with db.write() as session:
        session.add(Source(id=source_id, kind="feed", url=f"http://{source_id}.example/rss.xml", name=source_id))
        session.flush()
        article = Article(source_id=source_id, url=f"http://{source_id}.example/1",
                          canonical_url=f"http://{source_id}.example/1", title=title, relevant=True,
                          first_seen_at=T0 + timedelta(hours=hours))
        session.add(article)
        session.flush()
        version = ArticleVersion(article_id=article.id, number=1, fetched_at=T0 + timedelta(hours=hours),
                                 url=article.url, title=title, text=sentence, content_hash=source_id)
        session.add(version)
        session.flush()
        row = _match(session, version, 0, sentence, "new", None, 0.7)
        row.source_id = source_id
        session.flush()
        if decided_by:
            review_store.dismiss(session, row.id, reviewer=decided_by)
        _group(session, version, [row])
        return row.id


def _group(session: object, version: ArticleVersion, rows: list[ClaimMatchRow]) -> None:
    matches = [SentenceMatch(row.sentence_index, row.sentence, ClaimMatch("new", None, 0.7, 0.3), True) for row in rows]
    candidates.group_new_claims(session, article_id=version.article_id, version_id=version.id,  # type: ignore[arg-type]
                                source_id=rows[0].source_id, sentences=matches, now=version.fetched_at)


def seed_groups(db: Database, herald_decided_by: str = "") -> tuple[Seeded, int, int]:
    """The review seed (the Gazette's NEW in two versions), grouped, then two other outlets repeating it."""
    seeded = seed(db)
    with db.write() as session:
        for number in (1, 2):
            version = session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == seeded.article_id,
                                                                   ArticleVersion.number == number)).one()
            _group(session, version, list(session.scalars(select(ClaimMatchRow).where(
                ClaimMatchRow.version_id == version.id, ClaimMatchRow.sentence == NEW))))
    herald = _outlet(db, "herald", HOSTILE_TITLE, REWORDED, hours=3, decided_by=herald_decided_by)
    courier = _outlet(db, "courier", "Courier", NEW, hours=4)
    return seeded, herald, courier


def test_a_candidate_is_queued_once_with_its_count_and_repeats(database: Database) -> None:
    seeded, herald, courier = seed_groups(database)
    with database.read() as session:
        page = review_store.queue(session)
    ids = [item.match_id for item in page.items]
    # Newest first: the candidate stands where its newest sighting (the Courier's) is, as its first sighting (the
    # Gazette's, by its newest version's match).
    assert ids == [seeded.new, seeded.low, seeded.update] and page.total == 3
    item = page.items[0]
    assert (item.sightings, item.outlets, item.sentence) == (3, 3, NEW) and item.candidate_id is not None
    assert [(r.source, r.sentence) for r in item.repeats] == [("herald", REWORDED), ("courier", NEW)]
    assert herald not in ids and courier not in ids and seeded.new_v1 not in ids
    with make_client(database) as client:
        html = client.get("/review").text
    assert html.count(f'data-candidate="{item.candidate_id}"') == 1
    assert "Reported in <span class=\"sightings\">3</span> articles by <span class=\"outlets\">3</span> outlets" in html
    assert REWORDED in html and HOSTILE_TITLE not in html and "&lt;script&gt;window.__pwned=1" in html


def test_dismissing_a_candidate_records_one_review_per_sighting(database: Database) -> None:
    seeded, herald, courier = seed_groups(database)
    with make_client(database) as client:
        log_in(client)
        response = post_action(client, seeded.new, "dismiss", note="not new")
        assert response.status_code == 303 and "repeats=2" in response.headers["location"]
        assert "and recorded for its 2 repeats from other articles" in client.get(response.headers["location"]).text
    with database.read() as session:
        reviews = session.scalars(select(Review).order_by(Review.article_id)).all()
        sources = {session.get(Article, r.article_id).source_id for r in reviews}  # type: ignore[union-attr]
    assert [(r.action, r.note, r.reviewer) for r in reviews] == [("dismiss", "not new", "Ann Reviewer")] * 3
    assert sources == {"gazette", "herald", "courier"}
    assert {r.sentence for r in reviews} == {NEW, REWORDED}
    queued = queued_ids(database)
    assert not {seeded.new, seeded.new_v1, herald, courier} & set(queued) and queued == [seeded.low, seeded.update]
    # A later repeat of the dismissed claim is not queued again: the decision covers it.
    later = _outlet(database, "tribune", "Tribune", NEW, hours=9)
    assert later not in queued_ids(database)


def test_linking_a_candidate_relabels_every_sighting(database: Database) -> None:
    seeded, herald, courier = seed_groups(database)
    with database.write() as session:
        decision = review_store.link(session, seeded.new, reviewer="Ann", claim_id="K01")
    assert decision.repeats == 2
    with database.read() as session:
        rows = session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.id.in_(
            [seeded.new, seeded.new_v1, herald, courier]))).all()
        reviews = session.scalars(select(Review)).all()
    # K01 says more than 50,000 may be sent to Russia: 3,400 at shipyards in Primorye updates it.
    assert {(row.label, row.claim_id) for row in rows} == {("updates", "K01")}
    assert len(reviews) == 3 and {r.claim_id for r in reviews} == {"K01"}


def test_a_decision_on_one_sighting_keeps_the_others_already_decided(database: Database) -> None:
    seeded, _, _ = seed_groups(database, herald_decided_by="Bob")  # decided before it was grouped
    with database.read() as session:
        assert seeded.new not in [item.match_id for item in review_store.queue(session).items]
    with database.write() as session:
        # A stale form of the first sighting still decides it and the others not yet decided.
        decision = review_store.dismiss(session, seeded.new, reviewer="Ann")
    assert decision.repeats == 1
    with database.read() as session:
        by_reviewer = {r.reviewer for r in session.scalars(select(Review))}
        assert len(session.scalars(select(Review)).all()) == 3 and by_reviewer == {"Ann", "Bob"}
        assert session.scalar(select(CandidateClaim.sightings)) == 3


def test_the_read_only_queue_shows_groups_too(database: Database) -> None:
    seed_groups(database)
    with make_client(database, token=None) as client:
        html = client.get("/review").text
    assert 'class="repeats"' in html and 'action="/review/' not in html
