"""``/articles/{id}/evidence.warc.gz``: the stored raw responses of one article's versions as a WARC/1.1 file,
streamed (each batch of versions read in a worker thread, written and sent before the next is read)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from db import evidence
from db.evidence import EvidenceSelection, EvidenceSelectionError
from db.warc import WARC_MEDIA_TYPE, warc_chunks
from web.deps import database, options, read


@dataclass(frozen=True)
class _Planned:
    count: int
    up_to: int


def _plan(session: Session, selection: EvidenceSelection) -> _Planned | None:
    try:
        evidence.check_selection(session, selection)
    except EvidenceSelectionError:
        return None
    return _Planned(evidence.count_captures(session, selection), evidence.last_version_id(session, selection))


async def article_evidence(request: Request) -> Response:
    """The article's versions that kept their raw response: response, request, metadata (and revisit) records,
    each record its own gzip member. 404 for an unknown article or one without stored raw responses."""
    article_id: int = request.path_params["article_id"]
    selection = EvidenceSelection(article_id=article_id)
    planned = await read(request, _plan, selection)
    if planned is None:
        raise HTTPException(404, f"There is no article with id {article_id}.")
    if planned.count == 0:
        raise HTTPException(404, f"No raw response is stored for article {article_id} (raw responses are kept "
                                 "with crawl.keep_raw, for crawl.raw_retention).")
    filename = f"labourwatch-article-{article_id}.warc.gz"
    # A sync iterator: Starlette runs each step, so each batch's read, in a worker thread.
    chunks = warc_chunks(database(request), selection, planned.up_to, filename=filename, gzip=True,
                         request_defaults=dict(options(request).request_headers))
    return StreamingResponse(chunks, media_type=WARC_MEDIA_TYPE, headers={
        "content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"})


routes: list[BaseRoute] = [
    Route("/articles/{article_id:int}/evidence.warc.gz", article_evidence, name="article_evidence"),
]
