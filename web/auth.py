"""Token login and CSRF protection for the web UI's write actions.

Without ``web.token`` the UI is read-only. With it, ``/login`` takes the token (compared in constant time) and a
reviewer name, and sets a session cookie: the name, the login time and a nonce, signed with an HMAC key derived
from the token (the token itself never leaves the server; changing it ends every session). Every POST must come
from this origin (``Origin``, else ``Referer``) and carry a CSRF token: an HMAC of the session's signature and the
form's action path. The login form has no session yet, so its CSRF token is bound to a random pre-login cookie.
Any failure answers 403 and changes nothing. Wrong tokens are counted (``web.throttle``): past the limits, ``/login``
answers 429 with Retry-After without checking the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from web.deps import options, render
from web.throttle import LoginThrottle

SESSION_COOKIE = "lw_session"
LOGIN_COOKIE = "lw_login"
SESSION_MAX_AGE = 12 * 3600
LOGIN_MAX_AGE = 3600
CSRF_FIELD = "csrf"
DEFAULT_REVIEWER = "reviewer"
REVIEWER_RE = re.compile(r"^[\w .@'-]{1,60}$")
_NEXT_RE = re.compile(r"^/(?![/\\])[\w/.?=&%-]*$")
_NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
READ_ONLY = ("This labourwatch is read-only: no web.token is configured. Set web.token (as a ${ENV} reference) "
             "in the config and restart `labourwatch web` to enable review actions.")


@dataclass(frozen=True)
class WebSession:
    """A logged-in reviewer; ``binding`` (the cookie's signature) is what CSRF tokens are bound to."""

    reviewer: str
    binding: str


def _key(token: str) -> bytes:
    # A key derived from the token, so that nothing the browser holds is the token or a plain hash of it.
    return hmac.new(token.encode("utf-8"), b"labourwatch web session key v1", hashlib.sha256).digest()


def _sign(token: str, *parts: str) -> str:
    return hmac.new(_key(token), "\x1f".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def token_matches(configured: str, given: str) -> bool:
    """Whether the given token is the configured one, compared in constant time."""
    return hmac.compare_digest(configured.encode("utf-8"), given.encode("utf-8"))


def issue_session(token: str, reviewer: str, now: float | None = None) -> str:
    """A session cookie value for ``reviewer``."""
    data = {"r": reviewer, "t": int(time.time() if now is None else now), "n": secrets.token_hex(8)}
    payload = base64.urlsafe_b64encode(json.dumps(data).encode("utf-8")).decode("ascii").rstrip("=")
    return f"{payload}.{_sign(token, 'session', payload)}"


def read_session(token: str, cookie: str, now: float | None = None) -> WebSession | None:
    """The session a cookie value stands for, or None if it is forged, from another token, or expired."""
    payload, _, signature = cookie.rpartition(".")
    if not payload or not hmac.compare_digest(signature.encode(), _sign(token, "session", payload).encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        reviewer, issued = str(data["r"]), int(data["t"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    age = (time.time() if now is None else now) - issued
    return WebSession(reviewer, signature) if 0 <= age <= SESSION_MAX_AGE else None


def csrf_token(token: str, binding: str, purpose: str) -> str:
    """The CSRF token of a form whose action is ``purpose``, for the session (or pre-login nonce) ``binding``."""
    return _sign(token, "csrf", binding, purpose)


def same_origin(request: Request) -> bool:
    """Whether a request says it comes from a page of this site (``Origin``, or else ``Referer``)."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin is not None:
        return origin == own
    referer = request.headers.get("referer")
    return referer is not None and (referer == own or referer.startswith(own + "/"))


def current_session(request: Request) -> WebSession | None:
    """The logged-in reviewer of a request, if a token is configured and the cookie is good."""
    token, cookie = options(request).token, request.cookies.get(SESSION_COOKIE)
    return read_session(token, cookie) if token and cookie else None


def csrf_for(request: Request, session: WebSession | None) -> Callable[[str], str]:
    """What templates call as ``csrf(action_path)`` to fill a form's CSRF field ("" when there is no session)."""
    token = options(request).token
    if not token or session is None:
        return lambda purpose: ""
    return lambda purpose: csrf_token(token, session.binding, purpose)


def _refuse(reason: str) -> HTTPException:
    return HTTPException(403, reason)


async def _checked_form(request: Request, token: str, binding: str | None) -> FormData:
    if not same_origin(request):
        raise _refuse("Refused: the request did not come from a page of this site (Origin/Referer check).")
    if binding is None:
        raise _refuse("Refused: you are not logged in, or your session has expired. Log in at /login.")
    form = await request.form()
    given = form.get(CSRF_FIELD)
    expected = csrf_token(token, binding, request.url.path)
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise _refuse("Refused: the form's CSRF token is missing or wrong. Reload the page and try again.")
    return form


async def require_writer(request: Request) -> tuple[WebSession, FormData]:
    """The session and form of a write request that passed every check; else a 403 HTTPException."""
    token = options(request).token
    if not token:
        raise _refuse(READ_ONLY)
    session = current_session(request)
    form = await _checked_form(request, token, session.binding if session else None)
    assert session is not None
    return session, form


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def _safe_next(value: object) -> str:
    return value if isinstance(value, str) and _NEXT_RE.match(value) else "/review"


# --- routes --------------------------------------------------------------------------------------------------

def _login_page(request: Request, nonce: str | None, *, error: str = "", status: int = 200,
                reviewer: str = "", next_path: object = None) -> Response:
    token = options(request).token
    session = current_session(request)
    context = {
        "read_only": not token, "session": session, "error": error, "reviewer": reviewer or DEFAULT_REVIEWER,
        "next": _safe_next(next_path or request.query_params.get("next")),
        "login_csrf": csrf_token(token, f"login:{nonce}", "/login") if token and nonce else "",
        "csrf": csrf_for(request, session),
    }
    response = render(request, "login.html", context, status_code=status)
    if token and nonce and request.cookies.get(LOGIN_COOKIE) != nonce:
        _cookie(response, request, LOGIN_COOKIE, nonce, LOGIN_MAX_AGE)
    return response


def _login_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    return nonce if _NONCE_RE.match(nonce) else None


async def login_page(request: Request) -> Response:
    """GET /login: the token form (or, without a token configured, why there is none)."""
    return _login_page(request, _login_nonce(request) or secrets.token_hex(16))


def _throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


def _client_address(request: Request) -> str:
    # The connecting address: a forwarded-for header could be forged to dodge the count.
    return request.client.host if request.client else "unknown"


def _too_many(request: Request, nonce: str | None, wait: int) -> Response:
    minutes = max(1, math.ceil(wait / 60))
    response = _login_page(request, nonce, status=429, error=f"Too many failed logins. Try again in {minutes} "
                           f"minute{'s' if minutes > 1 else ''}.")
    response.headers["Retry-After"] = str(wait)
    return response


async def login(request: Request) -> Response:
    """POST /login: check the throttle, origin, CSRF and token; set the session cookie."""
    token = options(request).token
    if not token:
        raise _refuse(READ_ONLY)
    nonce = _login_nonce(request)
    address = _client_address(request)
    wait = _throttle(request).retry_after(address)
    if wait is not None:  # refused unchecked: a throttled guess learns nothing
        return _too_many(request, nonce, wait)
    form = await _checked_form(request, token, f"login:{nonce}" if nonce else None)
    reviewer = " ".join(str(form.get("name") or DEFAULT_REVIEWER).split())
    if not REVIEWER_RE.match(reviewer):
        return _login_page(request, nonce, status=400, reviewer=DEFAULT_REVIEWER, next_path=form.get("next"),
                           error="Names are 1 to 60 letters, digits, spaces and . @ ' - _")
    if not token_matches(token, str(form.get("token") or "")):
        _throttle(request).failed(address)
        return _login_page(request, nonce, status=403, reviewer=reviewer, next_path=form.get("next"),
                           error="Wrong token.")
    _throttle(request).succeeded(address)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    _cookie(response, request, SESSION_COOKIE, issue_session(token, reviewer), SESSION_MAX_AGE)
    response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def logout_page(request: Request) -> Response:
    """GET /logout: a button that logs out (a GET never changes anything)."""
    return _login_page(request, _login_nonce(request) or secrets.token_hex(16))


async def logout(request: Request) -> Response:
    """POST /logout: end the session (after the same checks as every write)."""
    await require_writer(request)
    response = RedirectResponse("/review", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


routes: list[BaseRoute] = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout_page, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
]
