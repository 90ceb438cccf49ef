"""The evidence export (``labourwatch evidence export`` and ``/articles/{id}/evidence.warc.gz``) over the crawled
news web, on SQLite and PostgreSQL: the files pass warcio's own checker and indexer, each response record replays
the stored body (its SHA-256 is the stored one), the metadata records carry the version's fields, selections
select, a recorded 304 becomes a revisit record, and bad input gets a message and an exit code, no traceback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

import labourwatch
from db import queries
from db.engine import Database
from db.models import Article, ArticleVersion, RawResponse, utcnow
from db.repository import record_not_modified
from labourwatch.cli import load_all_commands
from labourwatch.config import parse_config
from web.app import CSP, create_app

WARCIO = str(Path(sys.executable).with_name("warcio"))


@dataclass
class Parsed:
    """The records of a WARC file, as warcio reads them back."""

    responses: dict[str, dict[str, object]] = field(default_factory=dict)  # record id -> what it holds
    requests: list[dict[str, object]] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    revisits: list[dict[str, str]] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


def parse(path: Path) -> Parsed:
    parsed = Parsed()
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            headers = dict(record.rec_headers.headers)
            parsed.types.append(record.rec_type)
            if record.rec_type == "response":
                parsed.responses[headers["WARC-Record-ID"]] = {
                    "url": headers["WARC-Target-URI"], "status": int(record.http_headers.get_statuscode()),
                    "http": dict((k.lower(), v) for k, v in record.http_headers.headers),
                    "body": record.content_stream().read()}
            elif record.rec_type == "request":
                parsed.requests.append({"warc": headers, "line": record.http_headers.to_str().split("\r\n")[0],
                                        "http": dict(record.http_headers.headers)})
            elif record.rec_type == "metadata":
                text = record.content_stream().read().decode("utf-8")
                fields = dict(line.split(": ", 1) for line in text.split("\r\n") if line)
                parsed.metadata.append({**fields, "refers-to": headers["WARC-Refers-To"]})
            elif record.rec_type == "revisit":
                parsed.revisits.append({**headers, "status": record.http_headers.get_statuscode()})
    return parsed


def config_for(db: Database, folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": db.url}}), encoding="utf-8")
    return path


def lw_process(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``labourwatch evidence export`` as users run it: a process of its own."""
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), "evidence", "export",
                             *args], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def lw(config: Path, *args: str) -> Ran:
    """The same command in this process (a process start costs two seconds; the error cases are many)."""
    result = CliRunner().invoke(load_all_commands(), ["--config", str(config), "evidence", "export", *args],
                                catch_exceptions=False)
    return Ran(result.exit_code, result.stdout, result.stderr)


def warcio(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WARCIO, *args], capture_output=True, text=True, timeout=120)


def stored(db: Database) -> dict[int, tuple[RawResponse, ArticleVersion, Article]]:
    """Every stored raw response by version id, with its version and article."""
    with db.read() as session:
        rows = session.execute(select(RawResponse, ArticleVersion, Article)
                               .join(ArticleVersion, ArticleVersion.id == RawResponse.version_id)
                               .join(Article, Article.id == ArticleVersion.article_id))
        return {raw.version_id: (raw, version, article) for raw, version, article in rows}


def exported_versions(parsed: Parsed) -> set[int]:
    return {int(m["version-id"]) for m in parsed.metadata}


def test_the_export_of_everything_checks_indexes_and_replays_the_stored_bodies(
        crawled_database: Database, tmp_path: Path) -> None:
    db, out = crawled_database, tmp_path / "all.warc.gz"
    result = lw_process(config_for(db, tmp_path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = stored(db)
    assert len(rows) >= 20 and f"{len(rows)} version(s)" in result.stderr

    check = warcio("check", "-v", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "digest failed" not in check.stdout
    index = [json.loads(line) for line in warcio("index", str(out)).stdout.splitlines()]
    kinds = [entry["warc-type"] for entry in index]
    assert kinds[0] == "warcinfo"
    assert kinds.count("response") == kinds.count("request") == kinds.count("metadata") == len(rows)
    # Each record is its own gzip member: every index entry starts a member that decompresses on its own.
    data = out.read_bytes()
    assert all(data[int(entry["offset"]):int(entry["offset"]) + 2] == b"\x1f\x8b" for entry in index)

    parsed = parse(out)
    assert exported_versions(parsed) == set(rows)
    for meta in parsed.metadata:
        raw, version, article = rows[int(meta["version-id"])]
        response = parsed.responses[meta["refers-to"]]
        # Replayed: the body in the record is the body as fetched, byte for byte.
        body = response["body"]
        assert isinstance(body, bytes)
        assert hashlib.sha256(body).hexdigest() == raw.sha256 == meta["body-sha256"]
        assert response["url"] == raw.url and response["status"] == raw.status
        http = response["http"]
        assert isinstance(http, dict)
        assert http["content-type"] == raw.headers["content-type"]
        # The body is stored decoded: the headers must not say it is encoded, and its length is its own.
        assert "content-encoding" not in http and http["content-length"] == str(len(body))
        # The metadata record carries the version's fields.
        assert meta["article-id"] == str(article.id) and meta["version-number"] == str(version.number)
        assert meta["source-id"] == (article.source_id or "")
        assert meta["text-content-hash"] == f"sha256:{version.content_hash}"
        assert meta["labourwatch-version"] == labourwatch.__version__
        assert meta["fetched-at"] == raw.fetched_at.isoformat()
    # A request per response, concurrent to it, for the same URL, with what is certain of it.
    assert {str(r["warc"]["WARC-Concurrent-To"]) for r in parsed.requests} == set(parsed.responses)
    for request in parsed.requests:
        warc, http = request["warc"], request["http"]
        assert isinstance(warc, dict) and isinstance(http, dict)
        response = parsed.responses[warc["WARC-Concurrent-To"]]
        assert warc["WARC-Target-URI"] == response["url"]
        assert str(request["line"]).startswith("GET /") and http["Host"].startswith("127.0.0.1:")
        assert http["User-Agent"].startswith("labourwatch/")
    with db.read() as session:  # the one decompression the CLI uses is the one the rest of the code reads with
        version_id = next(iter(rows))
        assert queries.raw_body(session, version_id) == next(
            r["body"] for r in parsed.responses.values() if r["url"] == rows[version_id][0].url)


def test_selection_by_article_source_and_fetch_time(crawled_database: Database, tmp_path: Path) -> None:
    db, config = crawled_database, config_for(crawled_database, tmp_path)
    rows = stored(db)
    edited = next(article.id for _, version, article in rows.values() if version.number == 2)
    by_article = tmp_path / "article.warc.gz"
    assert lw(config, "--article", str(edited), "-o", str(by_article)).returncode == 0
    assert exported_versions(parse(by_article)) == {v for v, (_, _, a) in rows.items() if a.id == edited}
    assert len(exported_versions(parse(by_article))) >= 2

    source = rows[min(rows)][2].source_id
    assert source is not None
    by_source = tmp_path / "source.warc"
    assert lw(config, "--source", source, "--no-gzip", "-o", str(by_source)).returncode == 0
    assert by_source.read_bytes().startswith(b"WARC/1.1\r\n")  # plain WARC, no gzip member
    assert warcio("check", str(by_source)).returncode == 0
    assert exported_versions(parse(by_source)) == {v for v, (_, _, a) in rows.items() if a.source_id == source}

    # The second crawl's first new version splits the fetch times in two.
    cut = min(raw.fetched_at for raw, version, _ in rows.values() if version.number == 2)
    before, after = tmp_path / "before.warc.gz", tmp_path / "after.warc.gz"
    assert lw(config, "--until", cut.isoformat(), "-o", str(before)).returncode == 0
    assert lw(config, "--since", cut.isoformat(), "-o", str(after)).returncode == 0
    early, late = exported_versions(parse(before)), exported_versions(parse(after))
    assert early and late and not early & late and early | late == set(rows)
    assert all(rows[v][0].fetched_at < cut for v in early) and all(rows[v][0].fetched_at >= cut for v in late)


def test_a_recorded_304_becomes_a_revisit_record_of_the_latest_version(crawled_database: Database,
                                                                        tmp_path: Path) -> None:
    db, config = crawled_database, config_for(crawled_database, tmp_path)
    rows = stored(db)
    edited = next(article for _, version, article in rows.values() if version.number == 2)
    latest = max(v for v, (_, _, a) in rows.items() if a.id == edited.id)
    out = tmp_path / "revisit.warc.gz"
    assert lw(config, "--article", str(edited.id), "-o", str(out)).returncode == 0
    assert parse(out).revisits == []  # the crawl recorded no 304 for it

    checked_at = utcnow()
    with db.write() as session:  # what the crawl stores when a re-check answers 304
        record_not_modified(session, edited.id, checked_at, [timedelta(hours=1)])
    assert lw(config, "--article", str(edited.id), "-o", str(out), "--force").returncode == 0
    assert warcio("check", str(out)).returncode == 0
    parsed = parse(out)
    assert len(parsed.revisits) == 1
    revisit = parsed.revisits[0]
    latest_meta = next(m for m in parsed.metadata if m["version-id"] == str(latest))
    assert revisit["WARC-Refers-To"] == latest_meta["refers-to"]
    assert revisit["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert revisit["WARC-Refers-To-Target-URI"] == rows[latest][0].url
    assert revisit["WARC-Target-URI"] == edited.url and revisit["status"] == "304"
    assert latest_meta["not-modified-at"] == checked_at.isoformat()
    # A fetch-time range that ends before the 304 leaves it out.
    until = tmp_path / "until.warc.gz"
    assert lw(config, "--article", str(edited.id), "--until", (checked_at - timedelta(microseconds=1)).isoformat(),
              "-o", str(until)).returncode == 0
    assert parse(until).revisits == [] and latest in exported_versions(parse(until))


def test_bad_input_gets_a_message_and_an_exit_code(crawled_database: Database, tmp_path: Path) -> None:
    config = config_for(crawled_database, tmp_path)
    out = tmp_path / "e.warc.gz"
    cases = [
        (["--article", "999999", "-o", str(out)], 1, "no article 999999"),
        (["--source", "no-such-source", "-o", str(out)], 1, "no source 'no-such-source'"),
        (["--since", "2999-01-01", "-o", str(out)], 1, "nothing to export"),
        (["--since", "yesterday", "-o", str(out)], 2, "is not an ISO date"),
        (["--since", "2026-02-01", "--until", "2026-01-01", "-o", str(out)], 2, "must be later than --since"),
        (["-o", str(tmp_path / "missing" / "e.warc.gz")], 1, "does not exist"),
        (["-o", str(tmp_path)], 1, "is a directory"),
        (["-o", "/proc/e.warc.gz"], 1, "cannot write /proc/e.warc.gz"),  # no file can be made there, even by root
        ([], 2, "Missing option '-o'"),
    ]
    for args, code, message in cases:
        result = lw(config, *args)
        assert (result.returncode, message in result.stderr) == (code, True), (args, result.stderr)
    assert not out.exists() and not list(tmp_path.glob(".e.warc.gz*"))  # nothing half-written left behind

    out.write_bytes(b"kept")
    refused = lw(config, "-o", str(out))
    assert refused.returncode == 1 and "--force" in refused.stderr and out.read_bytes() == b"kept"
    assert lw(config, "-o", str(out), "--force").returncode == 0
    assert warcio("check", str(out)).returncode == 0


@pytest.mark.parametrize("gone", [False, True])
def test_the_article_page_links_to_a_streamed_valid_warc(crawled_database: Database, tmp_path: Path,
                                                         gone: bool) -> None:
    db = crawled_database
    rows = stored(db)
    article_id = next(article.id for _, version, article in rows.values() if version.number == 2)
    with db.read() as session:
        offtopic = session.scalar(select(Article.id).where(~Article.id.in_(select(ArticleVersion.article_id))))
    assert offtopic is not None
    # The options `labourwatch web` builds from the config: the request records carry its user agent.
    options = parse_config(yaml.safe_dump({"crawl": {"user_agent": "evidence-test/1.0 (+mailto:x@example.org)"}}),
                           environ={}).web_options
    with TestClient(create_app(db, options), raise_server_exceptions=False) as client:
        page = client.get(f"/articles/{article_id}")
        assert f'href="/articles/{article_id}/evidence.warc.gz"' in page.text
        if gone:
            for path in (f"/articles/{2**40}/evidence.warc.gz", "/articles/999999/evidence.warc.gz",
                         f"/articles/{offtopic}/evidence.warc.gz"):
                response = client.get(path)
                assert response.status_code == 404 and "Traceback" not in response.text, path
            assert "evidence.warc.gz" not in client.get(f"/articles/{offtopic}").text
            return
        response = client.get(f"/articles/{article_id}/evidence.warc.gz")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/warc"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["content-disposition"] == f'attachment; filename="labourwatch-article-{article_id}.warc.gz"'
    path = tmp_path / "served.warc.gz"
    path.write_bytes(response.content)
    assert warcio("check", str(path)).returncode == 0
    parsed = parse(path)
    assert exported_versions(parsed) == {v for v, (_, _, a) in rows.items() if a.id == article_id}
    for meta in parsed.metadata:
        body = parsed.responses[meta["refers-to"]]["body"]
        assert isinstance(body, bytes) and hashlib.sha256(body).hexdigest() == rows[int(meta["version-id"])][0].sha256
    assert parsed.requests
    for request in parsed.requests:
        http = request["http"]
        assert isinstance(http, dict) and http["User-Agent"] == "evidence-test/1.0 (+mailto:x@example.org)"
        assert "gzip" in http["Accept-Encoding"]


def test_headers_that_describe_an_encoding_are_not_written_for_a_decoded_body(crawled_database: Database,
                                                                               tmp_path: Path) -> None:
    # The crawl keeps six headers, none about encoding, and the body Scrapy decoded; a row that says otherwise
    # (stored by another version, or by hand) must still give a response whose headers describe its body.
    db = crawled_database
    version_id, (raw, _, article) = next(iter(stored(db).items()))
    with db.write() as session:
        row = session.get(RawResponse, raw.id)
        assert row is not None
        row.headers = {**row.headers, "Content-Encoding": "gzip", "transfer-encoding": "chunked",
                       "content-length": "12"}
    out = tmp_path / "decoded.warc.gz"
    assert lw(config_for(db, tmp_path), "--article", str(article.id), "-o", str(out)).returncode == 0
    assert warcio("check", str(out)).returncode == 0
    parsed = parse(out)
    meta = next(m for m in parsed.metadata if m["version-id"] == str(version_id))
    response = parsed.responses[meta["refers-to"]]
    http, body = response["http"], response["body"]
    assert isinstance(http, dict) and isinstance(body, bytes)
    assert not {"content-encoding", "transfer-encoding"} & set(http)
    assert http["content-length"] == str(len(body)) == str(raw.size)
    assert http["content-type"] == raw.headers["content-type"]
