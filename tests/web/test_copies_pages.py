"""Copies in the web UI and the API: "also published by" on a copy and on its original, ``copy_of``/``copies`` in
the article JSON, and outlets counted (copies marked) on a claim page; hostile titles and source names escaped; on
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import copies
from db import repository as repo
from db.engine import Database
from db.models import ArticleVersion, ClaimMatchRow, KnownClaim, Source
from labourwatch.fixtureweb.copies import SIBLING, WIRE, article_text, copy_pairs
from web.api import openapi_document
from web.app import create_app
from web.types import WebOptions

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)
PAIRS = copy_pairs(per_kind=1, seed=2)


@dataclass(frozen=True)
class Story:
    """Ids of the stored articles: an original, two copies of it and an unrelated article."""

    original: int
    copy: int
    second_copy: int
    unrelated: int


def _store(session: Session, source_id: str, slug: str, title: str, text: str, at: datetime) -> int:
    url = f"https://{source_id}.example/{slug}"
    doc = ArticleDoc(url=url, canonical_url=url, title=title, text=text, language="en")
    raw = repo.RawCapture(url=url, status=200, headers={}, body=b"", fetched_at=at)
    fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.9, ("worker*",)),
                              content_hash=content_hash(title, text), raw=raw, source_id=source_id,
                              discovered_url=url)
    stored = repo.store_article(session, fetch, OPTIONS, diff_versions)
    copies.link_copy(session, stored.article_id, source_id, text, at)
    return stored.article_id


def _match(session: Session, article_id: int, source_id: str) -> None:
    version = session.scalars(select(ArticleVersion).where(ArticleVersion.article_id == article_id)).one()
    session.add(ClaimMatchRow(
        version_id=version.id, article_id=article_id, source_id=source_id, url=version.url, sentence_index=0,
        sentence="More than 50,000 workers may be sent.", label="corroborates", claim_id="K99", confidence=0.9,
        score=0.9, claims_digest="d"))


@pytest.fixture
def story(database: Database) -> Story:
    wire = next(p for p in PAIRS if p.kind == WIRE)
    sibling = next(p for p in PAIRS if p.kind == SIBLING)
    first, second = article_text(wire.first), article_text(wire.second)
    with database.write() as session:
        session.add_all([Source(id="alpha", kind="feed", url="https://alpha.example/rss", name=f"Alpha {HOSTILE}"),
                         Source(id="beta", kind="feed", url="https://beta.example/rss", name=f"Beta {HOSTILE}"),
                         Source(id="gamma", kind="feed", url="https://gamma.example/rss", name=None)])
        session.add(KnownClaim(id="K99", text="More than 50,000 workers.", source="a report"))
        session.flush()
        original = _store(session, "alpha", "a", f"Original {HOSTILE}", first, NOW)
        copy = _store(session, "beta", "b", f"Copy {HOSTILE}", second, NOW + timedelta(hours=1))
        second_copy = _store(session, "gamma", "c", "Second copy", second.replace("editing", "edited"),
                             NOW + timedelta(hours=2))
        unrelated = _store(session, "gamma", "d", "Unrelated", article_text(sibling.second),
                           NOW + timedelta(hours=3))
        for article_id, source_id in ((original, "alpha"), (copy, "beta"), (second_copy, "gamma")):
            _match(session, article_id, source_id)
    return Story(original, copy, second_copy, unrelated)


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    with TestClient(create_app(database, WebOptions())) as test_client:
        yield test_client


def _section(html: str) -> str:
    found = re.search(r'<section class="also-published">(.*?)</section>', html, re.S)
    assert found is not None, "no 'Also published by' section"
    return found.group(1)


def test_a_copy_and_its_original_each_show_the_other_outlets_escaped(story: Story, client: TestClient) -> None:
    copy_page = client.get(f"/articles/{story.copy}").text
    section = _section(copy_page)
    assert "Also published by" in section
    assert f'<a href="/articles/{story.original}">Original {escape(HOSTILE)}</a>' in section
    assert f"Alpha {escape(HOSTILE)}" in section and f'<a href="/articles/{story.second_copy}">' in section
    assert f'href="/articles/{story.copy}"' not in section  # not itself
    assert f'class="copy-of"><a href="/articles/{story.original}">' in copy_page

    original_page = client.get(f"/articles/{story.original}").text
    section = _section(original_page)
    assert f'<a href="/articles/{story.copy}">Copy {escape(HOSTILE)}</a>' in section
    assert f"Beta {escape(HOSTILE)}" in section and "gamma" in section  # a source with no name shows its id
    assert 'class="copy-of"' not in original_page
    for html in (copy_page, original_page):
        assert HOSTILE not in html and "<script>alert" not in html

    assert 'class="also-published"' not in client.get(f"/articles/{story.unrelated}").text


def test_the_article_api_says_what_it_copies_and_who_else_published_it(story: Story, client: TestClient) -> None:
    copy_json = client.get(f"/api/articles/{story.copy}").json()
    assert copy_json["copy_of"]["article_id"] == story.original
    assert copy_json["copy_of"]["title"] == f"Original {HOSTILE}" and copy_json["copy_of"]["source_id"] == "alpha"
    assert [(c["article_id"], c["role"]) for c in copy_json["copies"]] == [
        (story.original, "original"), (story.second_copy, "copy")]
    original_json = client.get(f"/api/articles/{story.original}").json()
    assert original_json["copy_of"] is None
    assert [c["article_id"] for c in original_json["copies"]] == [story.copy, story.second_copy]
    assert {c["role"] for c in original_json["copies"]} == {"copy"}
    unrelated = client.get(f"/api/articles/{story.unrelated}").json()
    assert unrelated["copy_of"] is None and unrelated["copies"] == []
    schema = {"$ref": "#/components/schemas/ArticleDetail",
              "components": openapi_document("http://testserver")["components"]}
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for document in (copy_json, original_json, unrelated):
        assert [error.message for error in validator.iter_errors(document)] == []


def test_the_claim_page_counts_outlets_and_marks_copies(story: Story, client: TestClient) -> None:
    html = client.get("/claims/K99").text
    count = re.search(r'<dd class="outlet-count">(\d+)(.*?)</dd>', html, re.S)
    assert count is not None and count.group(1) == "3"
    assert "2 of them only through copies" in count.group(2)
    assert html.count('<span class="badge copy">copy</span>') == 2
    assert html.count(f'class="muted copy-of">of <a href="/articles/{story.original}">Alpha {escape(HOSTILE)}</a>') == 2
    assert HOSTILE not in html
