"""``labourwatch sources|articles|diffs``: what is stored, as a table or JSON."""

from __future__ import annotations

import click
from rich.text import Text

from db import queries
from labourwatch.commands.discover import discover
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS, console, print_json, print_rows

_limit = click.option("--limit", type=click.IntRange(min=1), default=None,
                      help="At most this many rows [default: 50 for tables, all for JSON].")
_format = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)


def _table_limit(limit: int | None, fmt: str) -> int | None:
    return limit if limit is not None or fmt == "json" else 50


@click.group()
def sources() -> None:
    """Configured sources and their health; proposals for a new site (discover)."""


@sources.command("list")
@_format
@pass_app
def sources_list(app: AppContext, fmt: str) -> None:
    """Every source: kind, last success, last error, consecutive failures, items in the last run."""
    with app.database().read() as session:
        rows = queries.source_rows(session)
    print_rows(rows, [
        ("id", "id", None), ("kind", "kind", None), ("enabled", "on", None),
        ("last_success_at", "last success", 25), ("consecutive_failures", "fails", None),
        ("last_error_code", "last error", None), ("last_error_at", "error at", 25),
        ("items_last_run", "items", None), ("new_last_run", "new", None), ("not_modified_last_run", "304", None),
    ], fmt)


@sources.command("errors")
@click.option("--source", "source_id", default=None, help="Only this source.")
@_limit
@_format
@pass_app
def sources_errors(app: AppContext, source_id: str | None, limit: int | None, fmt: str) -> None:
    """The newest recorded problems with sources, feeds and pages."""
    with app.database().read() as session:
        rows = queries.recent_errors(session, source_id, _table_limit(limit, fmt))
    print_rows(rows, [("at", "at", 25), ("source_id", "source", None), ("severity", "level", None),
                      ("code", "code", None), ("message", "message", 70)], fmt)


sources.add_command(discover)


@click.group()
def articles() -> None:
    """Stored articles and their versions."""


@articles.command("list")
@click.option("--source", "source_id", default=None, help="Only this source.")
@click.option("--all", "include_all", is_flag=True, help="Include off-topic articles.")
@_limit
@_format
@pass_app
def articles_list(app: AppContext, source_id: str | None, include_all: bool, limit: int | None, fmt: str) -> None:
    """Articles, newest first (on-topic only unless --all)."""
    with app.database().read() as session:
        rows = queries.article_rows(session, source_id=source_id, relevant=None if include_all else True,
                                    limit=_table_limit(limit, fmt))
    print_rows(rows, [("id", "id", None), ("source_id", "source", None), ("versions", "v", None),
                      ("relevance_score", "score", None), ("first_seen_at", "first seen", 19),
                      ("title", "title", 60), ("url", "url", 60)], fmt)


@articles.command("show")
@click.argument("article_id", type=int)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def articles_show(app: AppContext, article_id: int, fmt: str) -> None:
    """One article: metadata, every version, and its diffs."""
    with app.database().read() as session:
        detail = queries.article_detail(session, article_id)
    if detail is None:
        raise click.ClickException(f"no article {article_id}")
    if fmt == "json":
        print_json(detail)
        return
    out = console()
    for key in ("id", "title", "url", "source_id", "language", "published_at", "relevant", "relevance_score",
                "matched_terms", "first_seen_at", "last_checked_at", "next_check_at", "gone_at", "diffs", "found_at"):
        out.print(Text(f"{key:>16}: {detail[key]}"))
    for reached in detail["urls"]:
        out.print(Text(f"{'reached at':>16}: {reached['url']} (source {reached['source_id']}, {reached['seen_at']})"))
    for version in detail["versions"]:
        out.rule(Text(f"version {version['number']} · fetched {version['fetched_at']}"))
        out.print(Text(version["title"], style="bold"))
        out.print(Text(version["text"]))


@click.group()
def diffs() -> None:
    """Differences between versions of the same article."""


@diffs.command("list")
@click.option("--article", "article_id", type=int, default=None, help="Only this article.")
@click.option("--source", "source_id", default=None, help="Only this source.")
@_limit
@_format
@pass_app
def diffs_list(app: AppContext, article_id: int | None, source_id: str | None, limit: int | None, fmt: str) -> None:
    """Stored diffs, newest first."""
    with app.database().read() as session:
        rows = queries.diff_rows(session, article_id=article_id, source_id=source_id,
                                 limit=_table_limit(limit, fmt))
    print_rows(rows, [("id", "id", None), ("article_id", "article", None), ("created_at", "at", 19),
                      ("changed", "changed", None), ("title", "title", 50),
                      ("removed", "removed", 50), ("added", "added", 50)], fmt)


@diffs.command("show")
@click.argument("diff_id", type=int)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def diffs_show(app: AppContext, diff_id: int, fmt: str) -> None:
    """One diff: what was removed and added, and the unified diff."""
    with app.database().read() as session:
        detail = queries.diff_detail(session, diff_id)
    if detail is None:
        raise click.ClickException(f"no diff {diff_id}")
    if fmt == "json":
        print_json(detail)
        return
    out = console()
    out.print(Text(f"diff {detail['id']} of article {detail['article_id']} ({detail['url']})", style="bold"))
    out.print(Text(f"changed: {', '.join(detail['changed'])}   at {detail['created_at']}"))
    if detail["title_before"] != detail["title"]:
        out.print(Text(f"title: {detail['title_before']!r} -> {detail['title']!r}"))
    for sentence in detail["removed"]:
        out.print(Text(f"- {sentence}", style="red"))
    for sentence in detail["added"]:
        out.print(Text(f"+ {sentence}", style="green"))
    if detail["figures_before"] or detail["figures_after"]:
        out.print(Text(f"figures: {detail['figures_before']} -> {detail['figures_after']}"))
    out.rule("unified")
    out.print(Text(detail["unified"]))
