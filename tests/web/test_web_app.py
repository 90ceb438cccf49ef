"""The web app's frame: security headers on every response, plain error pages (never a traceback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from db.engine import Database
from web.app import CSP, create_app


@pytest.fixture
def client(sqlite_database: Database) -> Iterator[TestClient]:
    app = create_app(sqlite_database)

    async def boom(request: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app.router.routes.append(Route("/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_unknown_page_is_a_plain_404_page_with_security_headers(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Error 404" in response.text
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_a_server_error_shows_no_traceback(client: TestClient) -> None:
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Traceback" not in response.text and "secret internals" not in response.text
    assert "Something went wrong" in response.text
    api = client.get("/api/nothing-here")
    assert api.status_code == 404 and api.json() == {"error": "Not Found", "status": 404}


def test_static_css_is_served_with_the_same_headers(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
    assert response.headers["content-security-policy"] == CSP


def test_pages_link_their_stylesheets_from_the_site_root_never_by_absolute_url(sqlite_database: Database) -> None:
    # An absolute http:// URL is mixed content on a page a TLS proxy serves over https: the browser drops the CSS.
    with TestClient(create_app(sqlite_database), base_url="http://labourwatch.internal:8080") as client:
        page = client.get("/").text
    assert 'href="/static/style.css"' in page and "http://labourwatch.internal" not in page
    # Mounted below a path by the proxy (ASGI root_path): the links follow it.
    with TestClient(create_app(sqlite_database), root_path="/lw") as client:
        assert 'href="/lw/static/style.css"' in client.get("/").text
