"""The review queue on SQLite and PostgreSQL: what it lists, what each decision does to the database, and the
token login, CSRF and origin checks that refuse every other write without changing anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
import yaml
from sqlalchemy import func, select
from starlette.testclient import TestClient

from analysis.claims.matcher import ClaimMatcher
from analysis.claims.model import claims_from_yaml_data
from db import claims as claim_store
from db import review as review_store
from db.engine import Database
from db.models import Article, ArticleVersion, ClaimMatchRow, KnownClaim, Review, Source
from tests.web.conftest import HOSTILE_TABLE, KNOWN_CLAIMS
from web import auth
from web.app import create_app
from web.types import WebOptions

TOKEN = "correct horse battery staple"
ORIGIN = {"origin": "http://testserver"}
T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)

NEW = "More than 3,400 North Korean workers are employed at shipyards in Primorye, a leaked report says."
OFF_SUBJECT = "Tourists from North Korea's neighbour China visited Vladivostok in record numbers last summer."
LOW = "Researchers estimate that the state takes as much as 70 per cent of what the workers earn."
HIGH = "More than 50,000 North Korean labourers may be sent to work in Russia, officials said."
UPDATE = "Former North Korean workers in Russia say they worked up to 16 hours a day."


@dataclass(frozen=True)
class Seeded:
    """Ids of the seeded matches: ``new`` is the v2 copy of a sentence also matched in v1 (``new_v1``)."""

    article_id: int
    new: int
    new_v1: int
    off_subject: int
    low: int
    high: int
    update: int


def _match(session: object, version: ArticleVersion, index: int, sentence: str, label: str, claim_id: str | None,
           confidence: float, on_subject: bool = True) -> ClaimMatchRow:
    row = ClaimMatchRow(version_id=version.id, article_id=version.article_id, source_id="gazette", url=version.url,
                        sentence_index=index, sentence=sentence, label=label, claim_id=claim_id,
                        confidence=confidence, score=confidence, on_subject=on_subject, claims_digest="d" * 64,
                        matched_at=version.fetched_at)
    session.add(row)  # type: ignore[attr-defined]
    return row


def seed(db: Database) -> Seeded:
    """The shipped claims, one article in two versions, and matches of every kind."""
    with db.write() as session:
        claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(KNOWN_CLAIMS.read_text("utf-8"))))
        session.add(Source(id="gazette", kind="feed", url="http://gazette.example/rss.xml", name="The Gazette"))
        session.flush()
        article = Article(source_id="gazette", url="http://gazette.example/a/1", canonical_url="http://gazette.example/a/1",
                          title="Shipyard workers", relevant=True, first_seen_at=T0)
        session.add(article)
        session.flush()
        versions = []
        for number in (1, 2):
            version = ArticleVersion(article_id=article.id, number=number, fetched_at=T0 + timedelta(hours=number),
                                     url=article.url, title="Shipyard workers", text="...", content_hash=str(number))
            session.add(version)
            versions.append(version)
        session.flush()
        v1, v2 = versions
        rows = [_match(session, v1, 0, NEW, "new", None, 0.7), _match(session, v2, 0, NEW, "new", None, 0.7),
                _match(session, v2, 1, OFF_SUBJECT, "new", None, 1.0, on_subject=False),
                _match(session, v2, 2, LOW, "corroborates", "K06", 0.534),
                _match(session, v2, 3, HIGH, "corroborates", "K01", 0.9),
                _match(session, v1, 4, UPDATE, "updates", "K03", 0.58)]
        session.flush()
        return Seeded(article.id, rows[1].id, rows[0].id, rows[2].id, rows[3].id, rows[4].id, rows[5].id)


@pytest.fixture
def seeded(database: Database) -> Seeded:
    return seed(database)


def make_client(db: Database, token: str | None = TOKEN, page_size: int = 50) -> TestClient:
    return TestClient(create_app(db, WebOptions(token=token, page_size=page_size)), raise_server_exceptions=False)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with make_client(database) as test_client:
        yield test_client


def form_csrf(html: str, action: str) -> str:
    found = re.search(rf'action="{re.escape(action)}".*?name="csrf" value="([0-9a-f]*)"', html, re.S)
    assert found, f"no form for {action}"
    return found.group(1)


def log_in(client: TestClient, token: str = TOKEN, name: str = "Ann Reviewer") -> httpx.Response:
    page = client.get("/login")
    return client.post("/login", data={"csrf": form_csrf(page.text, "/login"), "name": name, "token": token,
                                       "next": "/review"}, headers=ORIGIN, follow_redirects=False)


def post_action(client: TestClient, match_id: int, action: str, **fields: str) -> httpx.Response:
    path = f"/review/{match_id}/{action}"
    csrf = form_csrf(client.get("/review").text, path)
    return client.post(path, data={"csrf": csrf, **fields}, headers=ORIGIN, follow_redirects=False)


def queued_ids(db: Database) -> list[int]:
    with db.read() as session:
        return [item.match_id for item in review_store.queue(session).items]


def snapshot(db: Database) -> tuple[int, int, list[tuple[int, str, str | None]]]:
    with db.read() as session:
        reviews = session.scalar(select(func.count()).select_from(Review))
        claims = session.scalar(select(func.count()).select_from(KnownClaim))
        matches = [(row_id, label, claim_id) for row_id, label, claim_id in session.execute(
            select(ClaimMatchRow.id, ClaimMatchRow.label, ClaimMatchRow.claim_id).order_by(ClaimMatchRow.id))]
    return int(reviews or 0), int(claims or 0), matches


# --- the queue -------------------------------------------------------------------------------------------------

def test_queue_lists_new_and_low_confidence_sentences_once_newest_first(database: Database, seeded: Seeded,
                                                                         client: TestClient) -> None:
    with database.read() as session:
        page = review_store.queue(session)
    assert [item.match_id for item in page.items] == [seeded.low, seeded.new, seeded.update]  # v2 first, then id
    new = next(item for item in page.items if item.match_id == seeded.new)
    assert (new.copies, new.version, new.source, new.label) == (2, 2, "The Gazette", "new")  # v1's copy folded in
    low = next(item for item in page.items if item.match_id == seeded.low)
    assert low.claim_id == "K06" and low.claim_text and "loyalty fees" in low.claim_text
    assert 0.5 <= review_store.LOW_CONFIDENCE < 0.7

    html = client.get("/review").text
    assert NEW in html and "The Gazette" in html and f'href="/articles/{seeded.article_id}"' in html
    assert 'href="/claims/K06"' in html and "0.53" in html and OFF_SUBJECT not in html and HIGH not in html
    assert 'action="/review/' not in html  # not logged in: no forms
    assert "Log in to review" in html

    with make_client(database, page_size=2) as small:
        first, second = small.get("/review").text, small.get("/review?page=2").text
    assert LOW in first and NEW in first and UPDATE not in first and "Page 1 of 2" in first
    assert UPDATE in second and LOW not in second


def test_the_crawled_queue_holds_only_sentences_that_need_review_and_shows_markup_as_text(
        crawled_database: Database) -> None:
    with crawled_database.read() as session:
        page = review_store.queue(session, 1, 500)
        rows = {row.id: row for row in session.scalars(select(ClaimMatchRow))}
    assert page.total == len(page.items) > 0
    assert all(review_store.needs_review(rows[item.match_id]) for item in page.items)
    assert {item.label for item in page.items} >= {"new", "corroborates"}
    with make_client(crawled_database, page_size=500) as client:
        html = client.get("/review").text
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;h1&gt;broken&lt;/h1&gt;" in html
    assert HOSTILE_TABLE not in html and "<h1>broken" not in html


# --- decisions -------------------------------------------------------------------------------------------------

def test_promote_makes_an_active_claim_the_matcher_uses(database: Database, seeded: Seeded,
                                                        client: TestClient) -> None:
    assert log_in(client).status_code == 303
    text = "More than 3,400 North Korean workers are employed at shipyards in Primorye."
    response = post_action(client, seeded.new, "promote", claim_id="", text=text,
                           figures="3400:workers:more_than", subject="shipyard workers in Primorye", note="good one")
    assert response.status_code == 303 and response.headers["location"].startswith("/review?decided=")
    with database.read() as session:
        claim = session.get(KnownClaim, "R0001")
        assert claim is not None and claim.status == "active" and claim.text == text
        assert claim.figures == [{"value": 3400, "unit": "workers", "qualifier": "more_than"}]
        assert "The Gazette" in claim.source
        active = claim_store.list_claims(session, "active")
        review = session.scalars(select(Review)).one()
        relabelled = {(row.version_id, row.label, row.claim_id) for row in session.scalars(
            select(ClaimMatchRow).where(ClaimMatchRow.sentence == NEW))}
    assert (review.action, review.reviewer, review.claim_id, review.label_before, review.label_after) == (
        "promote", "Ann Reviewer", "R0001", "new", "corroborates")
    assert review.note == "good one" and review.decided_at.tzinfo is not None
    match = ClaimMatcher(active).match(NEW)
    assert (match.label, match.claim_id) == ("corroborates", "R0001")
    assert {label for _, label, _ in relabelled} == {"corroborates"} and len(relabelled) == 2  # both versions
    assert seeded.new not in queued_ids(database) and seeded.new_v1 not in queued_ids(database)
    assert "promoted to new claim" in client.get(response.headers["location"]).text
    done = client.get("/review?state=done").text
    assert NEW in done and "Ann Reviewer" in done and 'href="/claims/R0001"' in done
    # The next promotion without an id takes R0002; its figures default to the sentence's own.
    post_action(client, seeded.update, "promote")
    with database.read() as session:
        second = session.get(KnownClaim, "R0002")
    assert second is not None and second.text == UPDATE
    assert second.figures == [{"value": 16, "unit": "hours_per_day", "qualifier": "up_to"}]


def test_link_records_the_claim_and_the_label_the_figures_give(database: Database, seeded: Seeded,
                                                               client: TestClient) -> None:
    log_in(client)
    assert post_action(client, seeded.update, "link", claim_id="K03").status_code == 303  # 16 h vs the claim's 18
    assert post_action(client, seeded.low, "link", claim_id="K06").status_code == 303
    with database.read() as session:
        reviews = {r.match_id: r for r in session.scalars(select(Review))}
        update_row = session.get(ClaimMatchRow, seeded.update)
    assert (reviews[seeded.update].claim_id, reviews[seeded.update].label_after) == ("K03", "updates")
    assert (reviews[seeded.low].claim_id, reviews[seeded.low].label_after) == ("K06", "corroborates")
    assert update_row is not None and (update_row.old_values, update_row.new_values) == (["18"], ["16"])
    assert queued_ids(database) == [seeded.new]
    with database.read() as session:
        counts = session.scalar(select(func.count()).select_from(KnownClaim))
    assert post_action(client, seeded.new, "link", claim_id="K999").status_code == 400  # unknown claim
    assert snapshot(database)[1] == counts


def test_dismiss_takes_the_sentence_out_of_the_queue_and_changes_no_verdict(database: Database, seeded: Seeded,
                                                                            client: TestClient) -> None:
    log_in(client)
    before = snapshot(database)
    assert post_action(client, seeded.low, "dismiss", note="not about wages").status_code == 303
    reviews, claims, matches = snapshot(database)
    assert (reviews, claims, matches) == (1, before[1], before[2])
    assert seeded.low not in queued_ids(database)
    done = client.get("/review?state=done").text
    assert "dismiss" in done and "not about wages" in done and LOW in done


def test_a_decided_or_unqueued_sentence_cannot_be_decided(database: Database, seeded: Seeded,
                                                          client: TestClient) -> None:
    log_in(client)
    html = client.get("/review").text
    path = f"/review/{seeded.low}/dismiss"
    csrf = form_csrf(html, path)
    assert client.post(path, data={"csrf": csrf}, headers=ORIGIN, follow_redirects=False).status_code == 303
    again = client.post(path, data={"csrf": csrf}, headers=ORIGIN, follow_redirects=False)
    assert again.status_code == 409 and "not in the review queue" in again.text
    high = f"/review/{seeded.high}/dismiss"
    token = auth.csrf_token(TOKEN, auth.read_session(TOKEN, client.cookies[auth.SESSION_COOKIE]).binding, high)  # type: ignore[union-attr]
    assert client.post(high, data={"csrf": token}, headers=ORIGIN).status_code == 409  # confident: never queued
    assert client.post("/review/99999/dismiss", data={"csrf": auth.csrf_token(
        TOKEN, auth.read_session(TOKEN, client.cookies[auth.SESSION_COOKIE]).binding,  # type: ignore[union-attr]
        "/review/99999/dismiss")}, headers=ORIGIN).status_code == 404
    assert snapshot(database)[0] == 1


def test_a_taken_claim_id_or_bad_figures_are_refused(database: Database, seeded: Seeded,
                                                     client: TestClient) -> None:
    log_in(client)
    before = snapshot(database)
    taken = post_action(client, seeded.new, "promote", claim_id="K01", text=NEW)
    assert taken.status_code == 400 and "exists already" in taken.text
    bad = post_action(client, seeded.new, "promote", text=NEW, figures="3400:sheep per day")
    assert bad.status_code == 400 and "not a unit name" in bad.text
    assert snapshot(database) == before


# --- refusals --------------------------------------------------------------------------------------------------

def test_without_a_token_the_queue_is_read_only(database: Database, seeded: Seeded) -> None:
    before = snapshot(database)
    with make_client(database, token=None) as client:
        page = client.get("/review")
        assert page.status_code == 200 and NEW in page.text and "read-only" in page.text
        assert 'action="/review/' not in page.text
        login = client.get("/login")
        assert login.status_code == 200 and "read-only" in login.text and 'name="token"' not in login.text
        for action in review_store.ACTIONS:
            refused = client.post(f"/review/{seeded.new}/{action}", data={"csrf": "x"}, headers=ORIGIN)
            assert refused.status_code == 403 and "read-only" in refused.text and "web.token" in refused.text
        assert client.post("/login", data={"token": ""}, headers=ORIGIN).status_code == 403
    assert snapshot(database) == before


def test_a_wrong_token_gets_no_session(database: Database, seeded: Seeded, client: TestClient) -> None:
    before = snapshot(database)
    response = log_in(client, token="wrong")
    assert response.status_code == 403 and "Wrong token" in response.text
    assert auth.SESSION_COOKIE not in client.cookies
    refused = client.post(f"/review/{seeded.new}/dismiss", data={"csrf": "0" * 64}, headers=ORIGIN)
    assert refused.status_code == 403 and "not logged in" in refused.text
    assert snapshot(database) == before


def test_csrf_and_origin_failures_are_refused_without_any_change(database: Database, seeded: Seeded,
                                                                 client: TestClient) -> None:
    log_in(client)
    before = snapshot(database)
    html = client.get("/review").text
    path = f"/review/{seeded.new}/dismiss"
    good = form_csrf(html, path)
    other = form_csrf(html, f"/review/{seeded.low}/dismiss")  # a real token, for another form
    attempts = [
        ({}, ORIGIN),  # no CSRF token
        ({"csrf": "0" * 64}, ORIGIN),  # a wrong one
        ({"csrf": other}, ORIGIN),  # another form's
        ({"csrf": good}, {"origin": "http://evil.example"}),  # cross-origin
        ({"csrf": good}, {"origin": "null"}),
        ({"csrf": good}, {"referer": "http://evil.example/review"}),
        ({"csrf": good}, {"referer": "http://testserver.evil.example/review"}),
        ({"csrf": good}, {}),  # neither Origin nor Referer
    ]
    for data, headers in attempts:
        response = client.post(path, data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403, (data, headers)
        assert "Refused" in response.text and "text/html" in response.headers["content-type"]
    # A forged or foreign session cookie is no session.
    signed_elsewhere = auth.issue_session("another token", "Mallory")
    for cookie in (signed_elsewhere, client.cookies[auth.SESSION_COOKIE] + "0"):
        with make_client(database) as forger:
            forger.cookies.set(auth.SESSION_COOKIE, cookie)
            assert forger.post(path, data={"csrf": good}, headers=ORIGIN).status_code == 403
    assert snapshot(database) == before
    # The same form from this origin (by Referer alone) goes through.
    ok = client.post(path, data={"csrf": good}, headers={"referer": "http://testserver/review"},
                     follow_redirects=False)
    assert ok.status_code == 303


def test_get_never_changes_anything(database: Database, seeded: Seeded, client: TestClient) -> None:
    log_in(client)
    before = snapshot(database)
    for url in ("/review", "/review?state=done", f"/review/{seeded.new}/dismiss", "/login", "/logout",
                "/review?decided=1"):
        client.get(url)
    assert snapshot(database) == before
    assert client.get(f"/review/{seeded.new}/dismiss").status_code == 405


def test_logout_ends_the_session(database: Database, seeded: Seeded, client: TestClient) -> None:
    log_in(client)
    html = client.get("/review").text
    assert "Reviewing as" in html and "Ann Reviewer" in html
    response = client.post("/logout", data={"csrf": form_csrf(html, "/logout")}, headers=ORIGIN,
                           follow_redirects=False)
    assert response.status_code == 303 and auth.SESSION_COOKIE not in client.cookies
    assert "Log in to review" in client.get("/review").text


# --- the session cookie ----------------------------------------------------------------------------------------

def test_the_session_cookie_is_signed_never_the_token_and_expires(database: Database, client: TestClient) -> None:
    response = log_in(client)
    header = response.headers["set-cookie"]
    assert "lw_session=" in header and "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    value = client.cookies[auth.SESSION_COOKIE]
    assert TOKEN not in value and TOKEN.replace(" ", "") not in value
    session = auth.read_session(TOKEN, value)
    assert session is not None and session.reviewer == "Ann Reviewer"
    assert auth.read_session("another token", value) is None
    assert auth.read_session(TOKEN, value, now=datetime.now(UTC).timestamp() + auth.SESSION_MAX_AGE + 60) is None
    signature = value.rpartition(".")[2]
    assert auth.read_session(TOKEN, "eyJyIjogIk1hbGxvcnkiLCAidCI6IDB9." + signature) is None
    # CSRF tokens are bound to the session and to the form.
    assert auth.csrf_token(TOKEN, session.binding, "/review/1/dismiss") != auth.csrf_token(
        TOKEN, session.binding, "/review/2/dismiss")
    assert auth.token_matches(TOKEN, TOKEN) and not auth.token_matches(TOKEN, TOKEN + " ")


def test_login_redirects_only_within_the_site(database: Database, client: TestClient) -> None:
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/review"' in page.text
    for target, expected in (("//evil.example/x", "/review"), ("https://evil.example/", "/review"),
                             ("/review?state=done", "/review?state=done")):
        csrf = form_csrf(client.get("/login").text, "/login")
        response = client.post("/login", data={"csrf": csrf, "name": "Ann", "token": TOKEN, "next": target},
                               headers=ORIGIN, follow_redirects=False)
        assert response.headers["location"] == expected
    # A login form posted without its pre-login cookie is refused.
    csrf = form_csrf(client.get("/login").text, "/login")
    with make_client(database) as other:
        assert other.post("/login", data={"csrf": csrf, "token": TOKEN}, headers=ORIGIN).status_code == 403


def test_decisions_survive_a_rematch_that_replaces_the_match_rows(database: Database, seeded: Seeded) -> None:
    with database.write() as session:
        review_store.dismiss(session, seeded.low, reviewer="Ann")
    with database.write() as session:  # what `claims rematch` does: the version's rows deleted and re-inserted
        old = session.get(ClaimMatchRow, seeded.low)
        assert old is not None
        fields = {key: getattr(old, key) for key in ("version_id", "article_id", "source_id", "url",
                                                     "sentence_index", "sentence", "label", "claim_id", "confidence",
                                                     "score", "on_subject", "claims_digest", "matched_at")}
        session.delete(old)
        session.flush()
        session.add(ClaimMatchRow(**fields))
    with database.read() as session:
        review = session.scalars(select(Review)).one()
        assert review.match_id is None and review.sentence == LOW  # the decision outlives the row it was made on
        assert LOW not in [item.sentence for item in review_store.queue(session).items]


def test_link_to_offers_the_matchers_closest_claims_first_with_their_scores(seeded: Seeded,
                                                                           client: TestClient) -> None:
    log_in(client)
    html = client.get("/review").text
    section = html[html.index(f'action="/review/{seeded.update}/link"'):]
    section = section[:section.index("</select>")]
    best = section.index("The matcher's closest claims")
    assert best < section.index("All claims")
    offered = re.findall(r'<option value="(\w+)"[^>]*>\1 \((\d\.\d\d)\)', section[best:])
    # "worked up to 16 hours a day" in Russia: the two hours-a-day claims (K30: 12-16 hours, K03: 18 hours in
    # Russia) come first, best first.
    assert {claim_id for claim_id, _ in offered[:2]} == {"K03", "K30"}
    scores = [float(score) for _, score in offered]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1.2


def test_a_linked_sentence_becomes_a_paraphrase_that_later_matching_finds_the_claim_through(
        database: Database, seeded: Seeded, client: TestClient) -> None:
    korean = "해외 북한 노동자들은 번 돈의 대부분을 이른바 충성자금으로 당국에 빼앗긴다고 탈북민들은 말한다."
    with database.write() as session:
        article_id = session.scalars(select(Article.id)).first()
        version = session.scalars(select(ArticleVersion).where(ArticleVersion.number == 2)).one()
        row = _match(session, version, 7, korean, "new", None, 0.7)
        session.flush()
        match_id = row.id
    assert article_id is not None
    with database.read() as session:
        before = ClaimMatcher(claim_store.matching_claims(session))
    # Another outlet's copy of the same sentence: closer to the linked wording than to the claim's.
    other_outlet = "해외 북한 노동자들은 번 돈의 대부분을 이른바 충성자금으로 당국에 빼앗긴다고 탈북자들이 전했다."
    log_in(client)
    assert post_action(client, match_id, "link", claim_id="K06").status_code == 303
    with database.read() as session:
        claims = {claim.id: claim for claim in claim_store.matching_claims(session)}
    assert korean in claims["K06"].paraphrases
    after = ClaimMatcher(list(claims.values()))
    old, new = before.explain(other_outlet), after.explain(other_outlet)
    k06 = {c.claim_id: c.similarity for c in new.candidates}["K06"]
    assert k06 > max((c.similarity for c in old.candidates if c.claim_id == "K06"), default=0.0)
    assert (new.match.label, new.match.claim_id) == ("corroborates", "K06")
