"""Printing listings as a table (for people) or JSON (for scripts); article-derived text is never markup."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

FORMATS = click.Choice(["table", "json"])


def console() -> Console:
    """A console on stdout; plain text when stdout is not a terminal."""
    return Console(highlight=False, soft_wrap=False)


def _cell(value: Any, width: int | None) -> Text:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list | tuple):
        text = ", ".join(map(str, value))
    else:
        text = str(value)
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    # Text(), not markup: a title like "[bold]x" or "<script>" is shown as written.
    return Text(text)


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str, int | None]], fmt: str,
               title: str | None = None) -> None:
    """Print ``rows`` as JSON (every key) or as a table of ``columns`` (key, header, max width)."""
    if fmt == "json":
        json.dump(list(rows), sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return
    table = Table(title=title, show_lines=False, expand=False)
    for _, header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(key), width) for key, _, width in columns))
    out = console()
    out.print(table)
    if not rows:
        out.print("(nothing to show)")


def print_json(value: Any) -> None:
    """Print one JSON document."""
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")
