"""Evidence as WARC/1.1 (ISO 28500:2017), written with warcio: per stored article version a ``response`` record
(the raw response), a ``request`` record concurrent to it, a ``metadata`` record about it, and a ``revisit``
record when the article's last re-check answered 304.

What the database does not keep is reconstructed, and every reconstruction is said so in the metadata record:

- the status line: the crawl keeps the status code only, so it reads ``HTTP/1.1 <code> <standard reason>``;
- the response headers: the crawl keeps six (content-type, etag, last-modified, date, content-language, server;
  names in lower case) and the body as Scrapy handed it over, already decoded; so no Content-Encoding or
  Transfer-Encoding is written (the body is not encoded) and Content-Length is the stored body's length. warcio
  writes a header value that is not ASCII %-encoded (RFC 8187), the way it writes every HTTP header;
- the request: the crawl does not record it. ``GET``, the URL and Host are certain; the other headers are those
  the crawler sends by default under the configuration in force at export time (``request_defaults``, from
  ``crawler.settings.default_request_headers``). A re-check may also have carried If-None-Match /
  If-Modified-Since, which are not kept and are left out.

Record ids are UUIDs derived from the version and its body's SHA-256, so the same capture has the same
WARC-Record-ID in every export, and a revisit's WARC-Refers-To names its response in any file.
"""

from __future__ import annotations

import http
import io
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from importlib import metadata
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from db.engine import Database
from db.evidence import BATCH, Capture, EvidenceSelection, captures_after

WARC_VERSION = "1.1"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Record ids derive from this namespace: never change it, or the same capture gets new ids.
RECORD_NAMESPACE = uuid.UUID("0d4f3f0e-61a5-4a52-9d4e-7a1b3c2e9f10")
# Said of a body that was decoded before it was stored (it is, always: Scrapy decodes gzip, deflate, br, zstd).
_ENCODING_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
WARC_MEDIA_TYPE = "application/warc"


def labourwatch_version() -> str:
    """The installed labourwatch distribution's version (db cannot import the labourwatch package)."""
    try:
        return metadata.version("labourwatch")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"


def record_id(capture: Capture, kind: str) -> str:
    """The WARC-Record-ID of one record (``kind``: request, response, metadata, revisit) of a capture."""
    return f"<urn:uuid:{uuid.uuid5(RECORD_NAMESPACE, f'{capture.version_id}:{capture.sha256}:{kind}')}>"


def warc_date(moment: datetime) -> str:
    """A WARC-Date: UTC, with microseconds when there are any (WARC/1.1 allows them)."""
    return str(datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def status_line(status: int) -> str:
    """``<code> <reason>``, the reason being the standard phrase (the stored response keeps only the code)."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def response_headers(stored: Mapping[str, object], body_length: int) -> list[tuple[str, str]]:
    """The response headers to write for a stored (decoded) body: the stored ones, less any that describe an
    encoding of the body, and Content-Length of the body as stored."""
    kept = [(str(k), str(v)) for k, v in stored.items() if str(k).lower() not in _ENCODING_HEADERS]
    return [*kept, ("content-length", str(body_length))]


def request_headers(url: str, defaults: Mapping[str, str]) -> list[tuple[str, str]]:
    """The request's headers: Host, from the URL (certain), then ``defaults`` (reconstructed)."""
    host = urlsplit(url).netloc.rpartition("@")[2]
    return [("Host", host), *((k, v) for k, v in defaults.items() if k.lower() != "host")]


def request_target(url: str) -> str:
    """The request line's target: the URL's path and query (``/`` when empty)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class EvidenceWriter:
    """Writes the WARC records of captures to ``out``, each record its own gzip member when ``gzip``."""

    def __init__(self, out: BinaryIO, *, gzip: bool = True, request_defaults: Mapping[str, str] | None = None) -> None:
        self._writer = WARCWriter(out, gzip=gzip, warc_version=WARC_VERSION)
        self._request_defaults = dict(request_defaults or {})
        self.version = labourwatch_version()
        self.records = 0

    def warcinfo(self, filename: str, description: str) -> None:
        """The file's first record: what made it and what it holds."""
        info = {
            "software": f"labourwatch/{self.version} (warcio/{metadata.version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "description": f"labourwatch evidence export: {description}",
        }
        self._write(self._writer.create_warcinfo_record(filename, info))

    def capture(self, capture: Capture) -> None:
        """The response, request and metadata records of one capture, and its revisit record if it has one."""
        date = warc_date(capture.fetched_at)
        response = self._writer.create_warc_record(
            capture.url, "response", payload=io.BytesIO(capture.body), length=len(capture.body),
            http_headers=StatusAndHeaders(status_line(capture.status),
                                          response_headers(capture.headers, len(capture.body)), protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Record-ID": record_id(capture, "response"), "WARC-Date": date})
        request = self._writer.create_warc_record(
            capture.url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {request_target(capture.url)} HTTP/1.1",
                                          request_headers(capture.url, self._request_defaults),
                                          is_http_request=True),
            warc_headers_dict={"WARC-Record-ID": record_id(capture, "request"), "WARC-Date": date})
        # warcio writes the response, then the request with WARC-Concurrent-To naming the response.
        self._writer.write_request_response_pair(request, response)
        self.records += 2
        self._write(self._metadata(capture, date))
        if capture.not_modified is not None:
            self._write(self._revisit(capture, date))

    def _metadata(self, capture: Capture, date: str) -> object:
        fields = {
            "labourwatch-version": self.version,
            "article-id": str(capture.article_id),
            "version-number": str(capture.number),
            "version-id": str(capture.version_id),
            "source-id": capture.source_id or "",
            "fetched-at": capture.fetched_at.isoformat(),
            "body-sha256": capture.sha256,
            "body-length": str(len(capture.body)),
            "text-content-hash": f"sha256:{capture.content_hash}",
            "text-content-hash-of": "the normalised title and main text extracted from the body",
            "status-line": "reconstructed: the crawl keeps the status code, not the protocol or reason",
            "response-headers": "as stored: content-type, etag, last-modified, date, content-language, server; "
                                "body stored decoded, so no content-encoding; content-length is the body's",
            "request": "reconstructed: GET, the URL and Host are certain; other headers are the crawler's defaults "
                       "under the configuration at export time; conditional headers of a re-check are unknown",
        }
        if capture.not_modified is not None:
            fields["not-modified-at"] = capture.not_modified.at.isoformat()
        body = "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode("utf-8")
        return self._writer.create_warc_record(
            capture.url, "metadata", payload=io.BytesIO(body), length=len(body),
            warc_content_type="application/warc-fields",
            warc_headers_dict={"WARC-Record-ID": record_id(capture, "metadata"), "WARC-Date": date,
                               "WARC-Refers-To": record_id(capture, "response")})

    def _revisit(self, capture: Capture, date: str) -> object:
        # The 304's own headers are not stored: the block is its status line alone.
        assert capture.not_modified is not None
        return self._writer.create_warc_record(
            capture.not_modified.url, "revisit",
            http_headers=StatusAndHeaders(status_line(304), [], protocol="HTTP/1.1"),
            warc_headers_dict={
                "WARC-Record-ID": record_id(capture, "revisit"), "WARC-Date": warc_date(capture.not_modified.at),
                "WARC-Profile": SERVER_NOT_MODIFIED, "WARC-Refers-To": record_id(capture, "response"),
                "WARC-Refers-To-Target-URI": capture.url, "WARC-Refers-To-Date": date})

    def _write(self, record: object) -> None:
        self._writer.write_record(record)
        self.records += 1



def warc_chunks(db: Database, selection: EvidenceSelection, up_to: int, *, filename: str, gzip: bool = True,
                request_defaults: Mapping[str, str] | None = None) -> Iterator[bytes]:
    """The WARC file of the selected captures with version ids up to ``up_to``, in pieces: the warcinfo record,
    then the records of one batch of captures per piece, each batch read in its own short read."""
    buffer = io.BytesIO()
    writer = EvidenceWriter(buffer, gzip=gzip, request_defaults=request_defaults)
    writer.warcinfo(filename, selection.describe())
    yield _taken(buffer)
    after = 0
    while True:
        with db.read() as session:
            batch = captures_after(session, selection, after, up_to, BATCH)
        for capture in batch:
            writer.capture(capture)
        if batch:
            yield _taken(buffer)
        if len(batch) < BATCH:
            return
        after = batch[-1].version_id


def _taken(buffer: io.BytesIO) -> bytes:
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data
