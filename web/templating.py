"""The Jinja2 environment every page and error page is rendered with: the templates of ``web/templates``, always
autoescaped (whatever the file name), undefined names an error rather than empty text."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

TEMPLATES_DIR = Path(__file__).parent / "templates"
templates = Jinja2Templates(env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                                                   autoescape=True, undefined=jinja2.StrictUndefined))
