"""Search: migrations 0005 and 0013 (backfill, triggers, the stored tsvector) and /search and /api/search over a
crawled fixture web, on SQLite and PostgreSQL: English, Korean and Russian words and their other forms, prefixes,
cross-language search, ranking, marks, hostile text escaped, bad queries, pages."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pytest
import yaml
from alembic import command
from jsonschema import Draft202012Validator
from sqlalchemy import delete, select, text
from starlette.testclient import TestClient

from analysis.claims.model import claims_from_yaml_data
from analysis.diff import diff_versions
from analysis.text import content_hash
from analysis.types import ArticleDoc, Relevance
from db import claims as claim_store
from db import repository as repo
from db.engine import Database
from db.migrate import alembic_config, current_revision, head_revision, upgrade
from db.models import Article, ArticleVersion
from db.search import (
    MARK_END,
    MARK_START,
    ParsedQuery,
    SearchPage,
    SearchQueryError,
    parse_query,
    search_articles,
)
from labourwatch.fixtureweb import FixtureWeb
from tests.crawler.helpers import crawl, specs
from tests.databases import own_database_url
from web.app import create_app
from web.search import marked
from web.types import WebOptions

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_TITLE = "Crews sent to Quillmarsh <script>alert(1)</script>"
HOSTILE_TEXT = ("Officials in Quillmarsh said <script>alert(1)</script> that 4,000 North Korean workers arrived "
                "this spring. <img src=x onerror=alert(2)> Their wages go to Pyongyang.")

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
OPTIONS = repo.StoreOptions(revisit=(timedelta(hours=1),), keep_raw=False)


def store(db: Database, canonical: str, title: str, body: str, *, language: str = "en",
          at: datetime = NOW) -> repo.StoreOutcome:
    """Store one fetched article through the crawl's own repository code."""
    doc = ArticleDoc(url=canonical, canonical_url=canonical, title=title, text=body, language=language)
    raw = repo.RawCapture(url=canonical, status=200, headers={}, body=body.encode(), fetched_at=at)
    fetch = repo.ArticleFetch(doc=doc, relevance=Relevance(True, 0.8, ("worker*",)),
                              content_hash=content_hash(title, body), raw=raw, source_id=None,
                              discovered_url=canonical)
    with db.write() as session:
        return repo.store_article(session, fetch, OPTIONS, diff_versions)


def found(db: Database, query: str) -> list[tuple[int, int]]:
    """(article id, version number) of every hit."""
    with db.read() as session:
        return [(hit.article_id, hit.version) for hit in search_articles(session, query, page_size=50).hits]


def sqlite_index_is_sound(db: Database) -> None:
    if db.is_sqlite:  # rank=1: also compare the index with the content table
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO article_search(article_search, rank) VALUES ('integrity-check', 1)"))


def test_upgrade_indexes_stored_versions_and_the_index_follows_new_and_deleted_ones(db_url: str) -> None:
    db = Database(db_url)
    upgrade(db)
    first = store(db, "https://news.example/a/1", "Shipyard crews", "North Korean welders arrived in Nakhodka.")
    korean = store(db, "https://news.example/ko/2", "북한 노동자 파견", "러시아 건설 현장에 북한 노동자 파견 늘어",
                   language="ko")
    # Stored by the code of today, taken back to the schema before the search index (the models only fit
    # the head), then migrated to the index (0005) and its stemmed successor (0013).
    command.downgrade(alembic_config(db), "0004")
    upgrade(db)
    # Backfill: what was stored before the migrations is found.
    assert found(db, "nakhodka") == [(first.article_id, 1)]
    assert found(db, "노동자") == [(korean.article_id, 1)]
    # Stored under 0012 (the unstemmed index), found by another form of its words after 0013.
    command.downgrade(alembic_config(db), "0012")
    plural = store(db, "https://news.example/a/3", "Labourers return", "The labourers went home from Pyongyang.")
    upgrade(db)
    assert current_revision(db) == head_revision()
    assert found(db, "labourer") == [(plural.article_id, 1)]
    # A new version: the search sees the latest text only.
    store(db, "https://news.example/a/1", "Shipyard crews", "North Korean welders arrived in Vladivostok.",
          at=NOW + timedelta(hours=2))
    assert found(db, "vladivostok") == [(first.article_id, 2)]
    assert found(db, "nakhodka") == []
    sqlite_index_is_sound(db)
    # Deleting an article (its versions go by cascade) takes it out of the index.
    with db.write() as session:
        session.execute(delete(Article).where(Article.id == korean.article_id))
    assert found(db, "노동자") == []
    sqlite_index_is_sound(db)
    # Down and up again: the index is rebuilt from the stored versions.
    command.downgrade(alembic_config(db), "0004")
    command.upgrade(alembic_config(db), "head")
    assert found(db, "vladivostok") == [(first.article_id, 2)]
    sqlite_index_is_sound(db)
    db.dispose()


# --- the query language ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "groups", "excluded", "fts5"), [
    ("north korean", (("north",), ("korean",)), (), '("north") AND ("korean")'),
    ('"North Korean" workers -China', (("North Korean",), ("workers",)), ("China",),
     '(("North Korean") AND ("workers")) NOT ("China")'),
    ("russia OR china workers", (("russia", "china"), ("workers",)), (), '("russia" OR "china") AND ("workers")'),
    ('"unbalanced quote', (("unbalanced quote",),), (), '("unbalanced quote")'),
    ("NEAR(workers title:x *", (("NEAR(workers",), ("title:x",)), (), '("NEAR(workers") AND ("title:x")'),
    ('a"b OR', (("a",), ("b OR",)), (), '("a") AND ("b OR")'),
    ('x OR y"z"', (("x", "y"), ("z",)), (), '("x" OR "y") AND ("z")'),
    # Russian words are looked up by their Snowball stem as a prefix (SQLite's FTS5 has no Russian stemmer).
    ("노동자 рабочих", (("노동자",), ("рабочих",)), (), '("노동자") AND ("рабоч" *)'),
    ("worker* \"north kor* work\"", (("worker*",), ("north kor* work",)), (),
     '("worker" *) AND ("north kor" * + "work")'),
    ('"Северной Кореи" -trade*', (("Северной Кореи",),), ("trade*",),
     '(("северн" * + "кор" *)) NOT ("trade" *)'),
])
def test_queries_become_quoted_terms(query: str, groups: tuple[tuple[str, ...], ...], excluded: tuple[str, ...],
                                     fts5: str) -> None:
    parsed = parse_query(query)
    assert parsed == ParsedQuery(groups, excluded)
    assert parsed.fts5() == fts5


@pytest.mark.parametrize("query", ["", "   ", "***", '""', "OR", "-workers", '-"north korean" --x'])
def test_queries_without_words_to_find_are_refused_with_a_hint(query: str) -> None:
    with pytest.raises(SearchQueryError, match="word"):
        parse_query(query)


def test_marks_are_made_after_escaping_and_always_balanced() -> None:
    assert marked(f"a {MARK_START}<b>{MARK_END} & c") == "a <mark>&lt;b&gt;</mark> &amp; c"
    # Stray, doubled or unclosed sentinels (from article text itself) never leave a tag open or unopened.
    assert marked(f"x{MARK_END} {MARK_START}{MARK_START}y{MARK_END}{MARK_END} {MARK_START}z") == (
        "x <mark>y</mark> <mark>z</mark>")


# --- /search over a crawled fixture web ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The fixture news web (English, Korean, Russian) crawled, advanced and crawled again, plus one article
    whose title and text carry markup and a Chinese and a Japanese one, stored by the repository."""
    for url in own_database_url(request, tmp_path_factory.mktemp("search"), request.param, "search"):
        db = Database(url)
        upgrade(db)
        with db.write() as session:
            claim_store.import_claims(session, claims_from_yaml_data(
                yaml.safe_load((ROOT / "known_claims.yaml").read_text("utf-8"))))
        with FixtureWeb() as web:
            sources = specs(web.sources())
            assert crawl(db, sources).status == "ok"
            web.advance()
            assert crawl(db, sources).status == "ok"
        store(db, "https://hostile.example/a/1", HOSTILE_TITLE, HOSTILE_TEXT)
        # Chinese and Japanese: the words inside runs of characters that the index keeps whole.
        store(db, "https://zh.example/a/1", "朝鲜劳工在俄罗斯", "据报道，数千名朝鲜劳工被派往俄罗斯远东地区的建筑工地。",
              language="zh")
        store(db, "https://ja.example/a/1", "ロシアで働く北朝鮮の労働者",
              "北朝鮮の労働者数千人がロシア極東の建設現場に派遣されたと報じられた。", language="ja")
        yield db
        db.dispose()


@pytest.fixture(scope="module")
def client(seeded: Database) -> Iterator[TestClient]:
    with TestClient(create_app(seeded, WebOptions(page_size=50))) as test_client:
        yield test_client


def latest_versions(db: Database) -> list[ArticleVersion]:
    with db.read() as session:
        return list(session.scalars(select(ArticleVersion).join(Article, Article.id == ArticleVersion.article_id)
                                    .where(ArticleVersion.number == Article.version_count)))


def having_word(db: Database, word: str) -> set[int]:
    """Articles whose latest title or text has ``word`` as a whole word (any case): what the index should find."""
    return {v.article_id for v in latest_versions(db)
            if word.casefold() in re.findall(r"[^\W_]+", f"{v.title} {v.text}".casefold())}


def having_prefix(db: Database, prefix: str) -> set[int]:
    """Articles whose latest title or text has a word that starts with ``prefix`` (any case)."""
    return {v.article_id for v in latest_versions(db)
            if any(w.startswith(prefix.casefold()) for w in re.findall(r"[^\W_]+", f"{v.title} {v.text}".casefold()))}


def hits(response_text: str) -> list[dict[str, str]]:
    """The hits of a results page: article id, title and snippet as HTML."""
    page = lxml.html.fromstring(response_text)
    found = []
    for item in page.cssselect("li.search-hit"):
        link = item.cssselect("a.search-title")[0]
        snippet = item.cssselect("p.search-snippet")[0]
        found.append({"href": link.get("href"), "title": lxml.html.tostring(link, encoding="unicode"),
                      "snippet": lxml.html.tostring(snippet, encoding="unicode")})
    return found


def article_ids(response_text: str) -> list[int]:
    ids = []
    for hit in hits(response_text):
        assert re.fullmatch(r"/articles/\d+", hit["href"]), hit["href"]
        ids.append(int(hit["href"].rsplit("/", 1)[1]))
    return ids


def test_an_english_word_finds_every_article_with_it_title_matches_first(seeded: Database,
                                                                          client: TestClient) -> None:
    response = client.get("/search", params={"q": "seafood"})
    assert response.status_code == 200
    ids = article_ids(response.text)
    expected = having_word(seeded, "seafood")
    assert len(expected) >= 2 and sorted(ids) == sorted(expected)
    in_title = {v.article_id for v in latest_versions(seeded) if "seafood" in v.title.lower()}
    assert 0 < len(in_title) < len(ids)
    # Ranking: every article with the word in its headline comes before those with it only in the text.
    assert set(ids[: len(in_title)]) == in_title
    for hit in hits(response.text):
        assert re.search(r"<mark>seafood</mark>", hit["title"] + hit["snippet"], re.IGNORECASE)
    assert f"{len(ids)} articles" in response.text


@pytest.mark.parametrize(("word", "language"), [("북한", "ko"), ("рабочих", "ru"), ("РАБОЧИХ", "ru")])
def test_korean_and_russian_words_are_found_in_any_case(seeded: Database, client: TestClient, word: str,
                                                        language: str) -> None:
    response = client.get("/search", params={"q": word})
    ids = article_ids(response.text)
    # Russian: every form of the word (рабочих, рабочие: stem рабоч); Korean: the word itself.
    stem = "рабоч" if language == "ru" else word
    assert having_word(seeded, word) <= set(ids)
    assert ids and sorted(ids) == sorted(having_prefix(seeded, stem))
    assert all(re.search(f"<mark>{stem}\\w*</mark>", h["title"] + h["snippet"], re.IGNORECASE)
               for h in hits(response.text))
    # The language filter keeps the articles in that language.
    languages = {v.article_id: v.language for v in latest_versions(seeded)}
    filtered = article_ids(client.get("/search", params={"q": word, "lang": language}).text)
    assert filtered and sorted(filtered) == sorted(i for i in ids if languages[i] == language)
    assert not article_ids(client.get("/search", params={"q": word, "lang": "ja"}).text)


@pytest.mark.parametrize(("forms", "stem"), [(("labourer", "labourers", "Labourers"), "labour"),
                                             (("Пхеньян", "Пхеньяна", "пхеньяне"), "пхен")])
def test_every_form_of_an_english_or_russian_word_finds_the_same_articles(seeded: Database, client: TestClient,
                                                                         forms: tuple[str, ...], stem: str) -> None:
    found = [article_ids(client.get("/search", params={"q": form}).text) for form in forms]
    union = set().union(*(having_word(seeded, form) for form in forms))
    # Each form alone is in fewer articles than all forms together: without stemming the searches differ.
    assert all(having_word(seeded, form) < union for form in forms[:2])
    assert [sorted(ids) for ids in found] == [sorted(found[0])] * len(forms), (forms, found, union)
    assert union <= set(found[0])
    with seeded.read() as session:
        page = search_articles(session, forms[0], page_size=100)
    assert all(re.search(f"{MARK_START}{stem}\\w*{MARK_END}", hit.title + hit.snippet, re.IGNORECASE)
               for hit in page.hits)


def test_a_prefix_finds_every_word_that_starts_so(seeded: Database, client: TestClient) -> None:
    ids = article_ids(client.get("/search", params={"q": "seafoo*"}).text)
    assert ids and sorted(ids) == sorted(having_prefix(seeded, "seafoo"))
    assert not article_ids(client.get("/search", params={"q": "seafoo"}).text)
    # A prefix inside a phrase: the words in a row, the last one any word that starts so.
    phrase = article_ids(client.get("/search", params={"q": '"north korean work*"'}).text)
    expected = {v.article_id for v in latest_versions(seeded)
                if re.search(r"\bnorth\W+korean\W+work", f"{v.title} {v.text}", re.IGNORECASE)}
    assert expected and sorted(phrase) == sorted(expected)


def test_korean_word_inside_longer_words_falls_back_to_substring_matching(seeded: Database,
                                                                          client: TestClient) -> None:
    # "노동" is only ever part of longer words (노동자, 노동력): no index term equals it.
    response = client.get("/search", params={"q": "노동"})
    expected = {v.article_id for v in latest_versions(seeded) if "노동" in v.title + v.text}
    assert expected and sorted(article_ids(response.text)) == sorted(expected)
    assert "matched as text inside words" in response.text
    assert all("<mark>노동</mark>" in h["title"] + h["snippet"] for h in hits(response.text))


def test_hostile_text_comes_back_escaped_with_the_match_marked(client: TestClient) -> None:
    response = client.get("/search", params={"q": "quillmarsh"})
    [hit] = hits(response.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit["title"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit["snippet"]
    assert "&lt;img src=x onerror" in hit["snippet"]
    assert "<mark>Quillmarsh</mark>" in hit["title"] and "<mark>Quillmarsh</mark>" in hit["snippet"]
    assert "<script>alert" not in response.text and "<img src=x" not in response.text
    assert "\x02" not in response.text and "\x03" not in response.text and "\x01" not in response.text


@pytest.mark.parametrize(("query", "message"), [
    ('"unbalanced', None), ("NEAR(workers", None), ("workers AND", None), ("title:workers", None),
    ("workers*", None), ("^workers", None), ('a"b"c', None), ("workers OR", None), ("wor'ker\\*", None),
    ("a:* & !b | c <-> d", None), ("x'' OR 'y\\' *", None), ("NOT x* AND (y OR", None), ("*a*b**", None),
    ("***", "Type one or more words"), ('"', "Type one or more words"), ("-workers", "cannot only exclude"),
    ("x" * 501, "too long"),
])
def test_bad_queries_get_a_page_never_an_error(client: TestClient, query: str, message: str | None) -> None:
    # Operators of the databases' own syntax are read as words; a query that cannot be run is a 400 with what
    # to type, on the page and in the API, never a 500.
    response = client.get("/search", params={"q": query})
    api = client.get("/api/search", params={"q": query})
    assert "Something went wrong" not in response.text
    if message:
        assert response.status_code == 400 and message in response.text and not hits(response.text)
        assert api.status_code == 400 and api.json()["error"].startswith("bad query: ")
        assert message in api.json()["error"]
    else:
        assert response.status_code == 200 and "search-count" in response.text
        assert api.status_code == 200 and [item["article_id"] for item in api.json()["items"]] == article_ids(
            response.text)


def test_results_come_in_pages(seeded: Database) -> None:
    total = len(having_word(seeded, "workers"))
    assert total > 5
    with TestClient(create_app(seeded, WebOptions(page_size=4))) as small:
        seen: list[int] = []
        url = "/search?q=workers"
        while url:
            page = small.get(url)
            ids = article_ids(page.text)
            assert 0 < len(ids) <= 4
            seen += ids
            following = lxml.html.fromstring(page.text).cssselect("a[rel=next]")
            url = following[0].get("href") if following else ""
        assert len(seen) == len(set(seen)) == total
        beyond = small.get("/search", params={"q": "workers", "page": "999"})
        assert "Nothing found on this page" in beyond.text
        assert small.get("/search", params={"q": "workers", "page": "abc"}).status_code == 200


def test_a_decomposed_query_is_read_as_the_composed_text_stored() -> None:
    decomposed = unicodedata.normalize("NFD", "Séoul 북한")
    assert decomposed != "Séoul 북한"
    assert parse_query(decomposed).groups == (("Séoul",), ("북한",))


def test_a_broad_query_ranks_and_counts_the_newest_matches_only(seeded: Database) -> None:
    every = having_word(seeded, "workers")
    recent = 4
    with seeded.read() as session:
        full = search_articles(seeded_session := session, "workers", page_size=100)
        capped = search_articles(seeded_session, "workers", page_size=100, recent=recent)
        newest = list(session.scalars(select(ArticleVersion.id).where(ArticleVersion.id.in_(
            [hit.version_id for hit in full.hits])).order_by(ArticleVersion.id.desc()).limit(recent)))
    assert (full.total, full.more) == (len(every), False) and len(every) > recent
    # The newest matching versions (all latest versions here, so none is left out), best first among them.
    assert capped.more and capped.total == recent
    assert {hit.version_id for hit in capped.hits} == set(newest)
    assert [hit.rank for hit in capped.hits] == sorted((hit.rank for hit in capped.hits), reverse=True)
    with TestClient(create_app(seeded, WebOptions(page_size=50))) as client:
        assert f"{len(every)} articles" in client.get("/search", params={"q": "workers"}).text


# --- cross-language search and the API --------------------------------------------------------------------------

def every_hit(db: Database, query: str, **options: Any) -> SearchPage:
    with db.read() as session:
        return search_articles(session, query, page_size=1000, **options)


def test_cross_language_search_adds_the_lexicon_words_and_says_so(seeded: Database, client: TestClient) -> None:
    off, on = every_hit(seeded, "workers"), every_hit(seeded, "workers", cross_language=True)
    assert off.also_searched == () and off.total == len(off.hits)
    assert {"노동자*", "рабоч*", "劳工", "労働者"} <= set(on.also_searched)
    found_off, found_on = {h.article_id for h in off.hits}, {h.article_id for h in on.hits}
    assert found_off < found_on
    languages = {v.article_id: v.language for v in latest_versions(seeded)}
    assert {languages[i] for i in found_off} == {"en"}
    # Korean words with particles attached (노동자가), Russian forms (рабочие, рабочих), Chinese and Japanese words
    # inside runs of characters: each language's articles that carry them are found.
    unspaced = [t for t in on.also_searched if re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff]+", t)]
    wanted = (having_prefix(seeded, "노동자") | having_prefix(seeded, "рабоч")
              | {v.article_id for v in latest_versions(seeded)
                 if v.language in ("zh", "ja") and any(t in v.title + v.text for t in unspaced)})
    assert {"ko", "ru", "zh", "ja"} <= {languages[i] for i in wanted} and wanted <= found_on
    assert all(MARK_START in h.title + h.snippet for h in on.hits)
    # The page: off by default, marked when on, the added terms listed.
    page_off = client.get("/search", params={"q": "workers"}).text
    page_on = client.get("/search", params={"q": "workers", "xlang": "1"}).text
    assert "Also searched" not in page_off and 'name="xlang" value="1" checked' not in page_off
    also = lxml.html.fromstring(page_on).cssselect("p.search-also")[0].text_content()
    assert also.startswith("Also searched (other languages):") and "노동자*" in also and "労働者" in also
    assert 'name="xlang" value="1" checked' in page_on
    unknown = client.get("/search", params={"q": "quillmarsh", "xlang": "1"}).text
    assert "the lexicon has no other words" in unknown and len(article_ids(unknown)) == 1
    # Excluding a word excludes its other-language words too.
    without = {h.article_id for h in every_hit(seeded, "workers -пхеньян", cross_language=True).hits}
    texts = {v.article_id: f"{v.title} {v.text}".casefold() for v in latest_versions(seeded)}
    named = {i for i, body in texts.items() if any(w in body for w in ("pyongyang", "пхеньян", "평양", "平壤"))}
    assert found_on & named and without == found_on - named


def test_each_page_is_marked_as_fts5_marks_each_of_its_rows(seeded: Database) -> None:
    """The page's marks are read as a range of the match list (FTS5 re-evaluates a MATCH for each rowid of an IN
    list: about 30 ms a row with a cross-language query's prefix terms); they are still those of its own rows."""
    if not seeded.is_sqlite:
        pytest.skip("FTS5's highlight() and snippet() are SQLite's")
    parsed, _ = parse_query("workers").expanded()
    pages: list[list[tuple[int, str, str]]] = []
    with seeded.read() as session:
        page = 1
        while True:
            found = search_articles(session, "workers", page=page, page_size=3, cross_language=True)
            if not found.hits:
                break
            pages.append([(h.version_id, h.title, h.snippet) for h in found.hits])
            page += 1
        raw = session.connection().exec_driver_sql
        matching = {row[0] for row in raw("SELECT rowid FROM article_search WHERE article_search MATCH ?",
                                          (parsed.fts5(),))}
        for rows in pages:
            for version_id, title, snippet in rows:
                own = raw("SELECT highlight(article_search, 0, ?, ?), snippet(article_search, 1, ?, ?, '…', 40) "
                          "FROM article_search WHERE article_search MATCH ? AND rowid = ?",
                          (MARK_START, MARK_END, MARK_START, MARK_END, parsed.fts5(), version_id)).first()
                if own is not None:  # (a Chinese or Japanese article found by substring is marked apart)
                    assert (title, snippet) == tuple(own), version_id
    assert len(pages) > 3
    # Pages whose rowid range holds matches of other pages: the rows the marks must not be mixed up with.
    assert any(matching & set(range(min(v for v, _, _ in rows), max(v for v, _, _ in rows) + 1))
               - {v for v, _, _ in rows} for rows in pages)


def api_ids(client: TestClient, params: dict[str, str]) -> tuple[list[int], dict[str, Any]]:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return [item["article_id"] for item in body["items"]], body


@pytest.mark.parametrize("params", [
    {"q": "workers"}, {"q": "workers", "xlang": "1"}, {"q": "рабочих", "lang": "ru"}, {"q": '"north korean" -china'},
    {"q": "seafoo*"}, {"q": "노동"}, {"q": "quillmarsh"},
])
def test_the_api_returns_what_the_page_shows(client: TestClient, params: dict[str, str]) -> None:
    page = client.get("/search", params=params).text
    ids, body = api_ids(client, params)
    assert ids and ids == article_ids(page)
    assert f"{body['total']} article" in lxml.html.fromstring(page).cssselect("p.search-count")[0].text_content()
    document = client.get("/api/openapi.json").json()
    validator = Draft202012Validator({"$ref": "#/components/schemas/SearchResults",
                                      "components": document["components"]},
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert not list(validator.iter_errors(body))
    for item, hit in zip(body["items"], hits(page), strict=True):
        assert MARK_START not in item["title"] + item["snippet"]
        assert lxml.html.fromstring(item["snippet_html"]).text_content() == item["snippet"]
        assert "<mark>" in item["title_html"] + item["snippet_html"]
        shown, given = lxml.html.fromstring(hit["title"]), lxml.html.fromstring(f"<p>{item['title_html']}</p>")
        assert shown.text_content() == given.text_content() == item["title"]
        assert [m.text for m in shown.cssselect("mark")] == [m.text for m in given.cssselect("mark")]


def test_api_pages_follow_next_and_hostile_text_stays_escaped(seeded: Database) -> None:
    with TestClient(create_app(seeded, WebOptions(page_size=50))) as client:
        every, _ = api_ids(client, {"q": "workers", "xlang": "1", "limit": "500"})
        seen: list[int] = []
        url = "/api/search?q=workers&xlang=1&limit=7"
        while url:
            ids, body = api_ids(client, dict(parse_qsl(urlsplit(url).query)))
            assert len(ids) <= 7 and body["page_size"] == 7
            seen += ids
            url = body["next"]
        assert len(seen) > 7 and seen == every
        _, hostile = api_ids(client, {"q": "quillmarsh"})
        [item] = hostile["items"]
        assert "<script>" in item["title"] and "&lt;script&gt;" in item["title_html"]
        assert "<script>" not in item["title_html"] + item["snippet_html"]
        assert client.get("/api/search").status_code == 400
        assert client.get("/api/search", params={"q": "workers", "limit": "0"}).status_code == 400
        assert "search" in client.get("/api/openapi.json").json()["paths"]["/api/search"]["get"]["summary"].lower()
