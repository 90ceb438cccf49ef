"""The Jinja2 environment every page and error page is rendered with: the templates of ``web/templates``, always
autoescaped (whatever the file name), undefined names an error rather than empty text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from starlette.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                                                   autoescape=True, undefined=jinja2.StrictUndefined))


@jinja2.pass_context
def static_url(context: Any, path: str) -> str:
    """The URL of a static file as a path from the site's root (under the app's ``root_path`` when it is mounted
    below one): never an absolute ``http://`` URL, which a browser refuses as mixed content on a page a TLS proxy
    serves over https."""
    request = context.get("request")
    root = request.scope.get("root_path", "") if request is not None else ""
    return f"{root.rstrip('/')}/static/{path}"


templates.env.globals["static_url"] = static_url
