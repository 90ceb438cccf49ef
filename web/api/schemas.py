"""The JSON schemas of the API's OpenAPI document: what its items look like (``SCHEMAS``, the document's
``components``) and the small pieces the parameters are described with."""

from __future__ import annotations

from typing import Any

from db.events import EVENT_TYPES
from db.export import LABELS


def ref(name: str) -> dict[str, Any]:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(properties), "properties": properties}


def _list(item: str) -> dict[str, Any]:
    return _object(items={"type": "array", "items": ref(item)},
                   next={"type": ["string", "null"], "format": "uri", "description": "the next page, or null"})


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
STRS = {"type": "array", "items": STR}
POSITION = {"type": ["string", "null"], "description": 'where a document\'s sentence is: "p. 3" (PDF page), "¶ 12" '
            "(DOCX paragraph), null for a web page's"}
POSITIONS = {"type": "array", "items": POSITION, "description": "parallel to the sentences"}
EVENT = _object(id=INT, type={"enum": list(EVENT_TYPES)}, key=STR, created_at=TIME, source_id=_or_null(STR),
                article_id=_or_null(INT), version_id=_or_null(INT), claim_id=_or_null(STR), url=_or_null(STR),
                title=STR, summary=STR, details={"type": "object"}, importance=INT)
ARTICLE_FIELDS: dict[str, dict[str, Any]] = dict(
    id=INT, url=STR, source_id=_or_null(STR), title=_or_null(STR), language=_or_null(STR),
    published_at=_or_null(TIME), relevant=BOOL, relevance_score=NUM, matched_terms=STRS, version_count=INT,
    first_seen_at=TIME, last_checked_at=_or_null(TIME))
DIFF = _object(id=INT, from_version_id=INT, changed=STRS, title_before=_or_null(STR), title_after=_or_null(STR),
               added=STRS, removed=STRS, added_positions=POSITIONS, removed_positions=POSITIONS, figures_before=STRS,
               figures_after=STRS, unified=STR, created_at=TIME)
VERSION = _object(id=INT, number=INT, fetched_at=TIME, url=STR, title=STR, byline=_or_null(STR),
                  published_at=_or_null(TIME), modified_at=_or_null(TIME), language=_or_null(STR),
                  content_hash=STR, text=STR, diff=_or_null(ref("Diff")))
FIGURE = _object(value={"type": ["number", "string"]}, unit=STR, qualifier=STR)
COPY_OF = _object(article_id=INT, source_id=_or_null(STR), title=STR, url=STR, similarity=NUM)
PUBLICATION = _object(article_id=INT, source_id=_or_null(STR), source_name=_or_null(STR), title=STR, url=STR,
                      role={"enum": ["original", "copy"]}, similarity=_or_null(NUM), first_seen_at=TIME)
CLAIM_FIELDS: dict[str, dict[str, Any]] = dict(
    id=STR, text=STR, subject=STR, figures={"type": "array", "items": ref("Figure")}, source=STR, tags=STRS,
    approx=BOOL, status={"enum": ["active", "retired"]}, created_at=TIME, updated_at=TIME)
MATCH = _object(id=INT, label={"enum": list(LABELS)}, claim_id=_or_null(STR), confidence=NUM, score=NUM,
                sentence=STR, old_values=STRS, new_values=STRS, reasons=STRS, on_subject=BOOL, article_id=INT,
                version_id=INT, version=INT, sentence_index=INT, position=POSITION, source_id=_or_null(STR), url=STR,
                title=_or_null(STR), fetched_at=TIME, matched_at=TIME, claims_digest=STR)
SEARCH_HIT = _object(article_id=INT, version_id=INT, version=INT, title=STR, snippet=STR,
                     title_html={**STR, "description": "the title as escaped HTML, matches in <mark>"},
                     snippet_html={**STR, "description": "the snippet as escaped HTML, matches in <mark>"},
                     url=STR, source_id=_or_null(STR), language=_or_null(STR), published_at=_or_null(TIME),
                     fetched_at=TIME, rank=NUM)
SCHEMAS = {
    "Event": EVENT, "EventList": _list("Event"), "Article": _object(**ARTICLE_FIELDS),
    "ArticleDetail": _object(**ARTICLE_FIELDS, versions={"type": "array", "items": ref("Version")},
                             copy_of=_or_null(ref("CopyOf")), copies={"type": "array", "items": ref("Publication")}),
    "CopyOf": COPY_OF, "Publication": PUBLICATION,
    "ArticleList": _list("Article"), "Version": VERSION, "Diff": DIFF, "Figure": FIGURE,
    "Claim": _object(**CLAIM_FIELDS), "ClaimList": _list("Claim"), "Match": MATCH, "MatchList": _list("Match"),
    "ClaimDetail": _object(**CLAIM_FIELDS, match_counts=_object(corroborates=INT, updates=INT),
                           matches={"type": "array", "items": ref("Match")}),
    "Error": _object(error=STR, status=INT),
    "SearchHit": SEARCH_HIT,
    "SearchResults": _object(query=STR, total=INT, more=BOOL, page=INT, pages=INT, page_size=INT,
                             mode={"enum": ["fulltext", "substring"]}, also_searched=STRS,
                             items={"type": "array", "items": ref("SearchHit")},
                             next={"type": ["string", "null"], "format": "uri",
                                   "description": "the next page, or null"}),
}
