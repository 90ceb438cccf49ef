"""The review queue: ``/review`` lists new and low-confidence claim sentences nobody has decided on (or, with
``?state=done``, the decisions), a new claim several outlets reported once with its repeats;
``POST /review/{match}/{promote|link|dismiss}`` decides (for every repeat of a grouped claim too), behind the token
login and CSRF checks of :mod:`web.auth`. Login and logout routes come with it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from db import review as review_store
from web import auth, filters
from web.deps import options, read, render, write

STATES = ("open", "done")


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def review_page(request: Request) -> Response:
    """GET /review: the queue (or the decisions), paginated."""
    state = filters.known(request.query_params, "state", STATES, "state") or "open"
    page, size = filters.page_number(request.query_params), options(request).page_size
    session = auth.current_session(request)
    can_write = bool(options(request).token) and session is not None

    def load(db_session: Session) -> dict[str, Any]:
        queued = review_store.queue(db_session, page if state == "open" else 1, size)
        done = review_store.decisions(db_session, page if state == "done" else 1, size)
        decided = request.query_params.get("decided", "")
        notice = next((d for d in done.items if str(d.id) == decided), None) if decided.isdigit() else None
        repeats = request.query_params.get("repeats", "")
        if notice is not None and repeats.isdigit() and int(repeats) < 100_000:
            notice = replace(notice, repeats=int(repeats))  # the other sightings it was recorded for
        writing = can_write and state == "open"
        sentences = [item.sentence for item in queued.items] if writing else []
        return {"queue": queued, "done": done, "notice": notice,
                "claims": review_store.active_claims(db_session) if writing else [],
                "suggested": review_store.link_candidates(db_session, sentences),
                "next_claim_id": review_store.next_claim_id(db_session) if writing else ""}

    data = await read(request, load)
    figures = {item.match_id: review_store.suggested_figures(item.sentence) for item in data["queue"].items}
    return render(request, "review.html", {
        **data, "state": state, "session": session, "can_write": can_write, "read_only": not options(request).token,
        "csrf": auth.csrf_for(request, session), "figures": figures, "low_confidence": review_store.LOW_CONFIDENCE,
    })


def _decide(action: str, match_id: int, reviewer: str, form: FormData) -> Callable[[Session], review_store.Decision]:
    note = _text(form, "note")
    if action == "promote":
        return lambda s: review_store.promote(
            s, match_id, reviewer=reviewer, claim_id=_text(form, "claim_id", 64), text=_text(form, "text"),
            figures=_text(form, "figures") if "figures" in form else None, subject=_text(form, "subject", 300),
            note=note)
    if action == "link":
        return lambda s: review_store.link(s, match_id, reviewer=reviewer, claim_id=_text(form, "claim_id", 64),
                                           note=note)
    return lambda s: review_store.dismiss(s, match_id, reviewer=reviewer, note=note)


async def decide(request: Request) -> Response:
    """POST /review/{match_id}/{action}: promote, link or dismiss one queued sentence."""
    action, match_id = request.path_params["action"], request.path_params["match_id"]
    if action not in review_store.ACTIONS:
        raise HTTPException(404, f"Unknown review action {action!r}: use promote, link or dismiss.")
    session, form = await auth.require_writer(request)
    try:
        decision = await write(request, _decide(action, match_id, session.reviewer, form))
    except review_store.UnknownMatchError as exc:
        raise HTTPException(404, str(exc)) from exc
    except review_store.AlreadyDecidedError as exc:
        raise HTTPException(409, str(exc)) from exc
    except review_store.InvalidDecisionError as exc:
        raise HTTPException(400, str(exc)) from exc
    page = _text(form, "page", 8)
    suffix = f"&page={page}" if page.isdigit() and page != "1" else ""
    suffix += f"&repeats={decision.repeats}" if decision.repeats else ""
    return RedirectResponse(f"/review?decided={decision.id}{suffix}", status_code=303)


routes: list[BaseRoute] = [
    *auth.routes,
    Route("/review", review_page, methods=["GET"]),
    Route("/review/{match_id:int}/{action:str}", decide, methods=["POST"]),
]
