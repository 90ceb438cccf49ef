"""``labourwatch evidence export``: the raw responses stored with article versions, as a WARC/1.1 file."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import click

from db import evidence as evidence_store
from db.evidence import EvidenceSelection, EvidenceSelectionError
from db.warc import warc_chunks
from labourwatch.context import AppContext, pass_app
from labourwatch.moments import parse_moment


@click.group()
def evidence() -> None:
    """Evidence: the raw HTTP responses article versions were extracted from."""


def _selection(article_id: int | None, source_id: str | None, since: str | None,
               until: str | None) -> EvidenceSelection:
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    if start is not None and end is not None and start >= end:
        raise click.BadParameter(f"must be later than --since ({since})", param_hint="--until")
    return EvidenceSelection(article_id=article_id, source_id=source_id, since=start, until=end)


def _check_target(output: Path, force: bool) -> None:
    if output.is_dir():
        raise click.ClickException(f"{output} is a directory; give a file name, e.g. {output / 'evidence.warc.gz'}")
    if output.exists() and not force:
        raise click.ClickException(f"{output} exists; give --force to overwrite it")
    if not output.parent.is_dir():
        raise click.ClickException(f"cannot write {output}: directory {output.parent} does not exist")


@evidence.command("export")
@click.option("--article", "article_id", type=click.IntRange(min=1), default=None, metavar="ID",
              help="Only the versions of this article.")
@click.option("--source", "source_id", default=None, metavar="ID", help="Only the articles of this source.")
@click.option("--since", default=None, metavar="ISO", help="Only responses fetched at or after this time (UTC "
              "when no zone).")
@click.option("--until", default=None, metavar="ISO", help="Only responses fetched before this time (UTC when no "
              "zone).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The WARC file to write (e.g. evidence.warc.gz).")
@click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")
@click.option("--gzip/--no-gzip", "compress", default=True, show_default=True,
              help="Compress each record as its own gzip member (.warc.gz), or write plain WARC (.warc).")
@pass_app
def evidence_export(app: AppContext, article_id: int | None, source_id: str | None, since: str | None,
                    until: str | None, output: Path, force: bool, compress: bool) -> None:
    """Write the stored raw responses of the selected article versions as WARC/1.1: per version a response
    record (status, stored headers, body as fetched), a request record, a metadata record (fetch time, body
    SHA-256, text hash, ids, labourwatch version) and a revisit record when its last re-check answered 304.
    Criteria combine; none selects every version that has its raw response stored."""
    selection = _selection(article_id, source_id, since, until)
    _check_target(output, force)
    db = app.database()
    with db.read() as session:
        try:
            evidence_store.check_selection(session, selection)
        except EvidenceSelectionError as exc:
            raise click.ClickException(str(exc)) from None
        count = evidence_store.count_captures(session, selection)
        up_to = evidence_store.last_version_id(session, selection)
    if count == 0:
        raise click.ClickException(f"nothing to export: no stored raw response for {selection.describe()} (raw "
                                   "responses are kept with crawl.keep_raw, for crawl.raw_retention)")
    from crawler.settings import default_request_headers

    started = time.perf_counter()
    size = _write(output, warc_chunks(db, selection, up_to, filename=output.name, gzip=compress,
                                      request_defaults=default_request_headers(app.config.crawl_options)))
    click.echo(f"{output}: {count} version(s), {size:,} bytes in {time.perf_counter() - started:.2f} s", err=True)


def _write(output: Path, chunks: Iterable[bytes]) -> int:
    # Written beside the target and renamed into place: an export that fails leaves no partial file behind.
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    size = 0
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; the file gets the usual mode
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        os.replace(temporary, output)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return size


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
