"""``labourwatch crawl``: one pass over the chosen sources and the article re-checks that are due."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from alerts.routes import Router
from db import claims as claim_queries
from db import repository as repo
from labourwatch.commands.claims import sync_configured_claims
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS, print_json, print_rows

if TYPE_CHECKING:
    from crawler.runner import CrawlReport


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[str], None] | None]:
    if not enabled:
        yield None
        return
    columns = (TextColumn("[bold]crawl"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda label: progress.update(task, advance=1, description=label)


def _summary(report: CrawlReport, fmt: str, dry_run: bool) -> None:
    ledger = report.ledger
    if fmt == "json":
        print_json({
            "run_id": report.run_id, "status": report.status, "seconds": round(report.seconds, 3),
            "dry_run": dry_run, "stats": report.stats,
            "sources": [vars(result) for result in ledger.sources.values()],
            "articles": [vars(found) for found in ledger.found],
            "errors": [vars(error) for error in ledger.errors],
        })
        return
    print_rows([vars(r) | {"status": "ok" if r.ok else "FAILED"} for r in ledger.sources.values()], [
        ("source_id", "source", None), ("status", "status", None), ("not_modified", "304", None),
        ("items", "items", None), ("new", "new", None), ("error_code", "error", None), ("error", "detail", 48),
    ], "table", title="sources")
    if dry_run:
        print_rows([vars(found) for found in ledger.found], [
            ("action", "would be", None), ("relevant", "on topic", None), ("source_id", "source", None),
            ("title", "title", 60), ("url", "url", 70)], "table", title="articles found (nothing stored)")
    stats = ", ".join(f"{key}={value}" for key, value in report.stats.items())
    click.echo(f"crawl {report.run_id or '(dry run)'}: {report.status} in {report.seconds:.1f}s; {stats}")


@click.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Only this source (repeatable).")
@click.option("--dry-run", is_flag=True, help="Fetch and analyse, store nothing, print what was found.")
@click.option("--no-rechecks", is_flag=True, help="Do not re-check articles that are due.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def crawl(app: AppContext, source_ids: tuple[str, ...], dry_run: bool, no_rechecks: bool, fmt: str) -> None:
    """Poll the sources once (all enabled ones, or those given) and re-check the articles that are due."""
    # Scrapy and trafilatura take half a second to import: only the commands that crawl pay for it.
    from crawler import reactor
    from crawler.runner import preload, run_crawl

    config = app.config
    known = {spec.id: spec for spec in config.sources}
    unknown = [sid for sid in source_ids if sid not in known]
    if unknown:
        raise click.BadParameter(f"unknown source(s): {', '.join(unknown)} (see 'labourwatch sources list')",
                                 param_hint="--source")
    chosen = [known[sid] for sid in source_ids] if source_ids else [s for s in config.sources if s.enabled]
    database = app.database()
    if not dry_run:
        with database.write() as session:
            repo.sync_sources(session, config.sources)
        synced = sync_configured_claims(app)
        if synced is not None and (synced.added or synced.updated):
            # Stored verdicts were made against the old claims; new versions use the new ones from now on.
            click.echo(f"claims file: {synced.added} added, {synced.updated} updated; run 'labourwatch claims "
                       "rematch' to match stored articles against them", err=True)
        with database.read() as session:
            if not claim_queries.active_claim_count(session):
                click.echo(f"warning: {claim_queries.NO_CLAIMS_WARNING}", err=True)
    interactive = sys.stderr.isatty() and fmt == "table"
    # Scrapy's components imported here, not deep in the running crawl, where one of them costs ~0.7 s of CPU
    # (its deprecation shim walks the whole call stack's source).
    preload()
    try:
        with _progress(len(chosen), interactive) as on_progress:
            report = reactor.run(run_crawl(
                database, chosen, config.crawl_options, config.topic, rechecks=not no_rechecks,
                restrict_rechecks=bool(source_ids), dry_run=dry_run, on_progress=on_progress,
                router=Router(config.routes), failing_after=config.alert_options.failing_after))
    finally:
        reactor.shutdown()
    retention = config.crawl_options.raw_retention
    if not dry_run and retention is not None:
        # The daemon's daily prune job does this for crawls it runs; a crawl run from cron has no daemon.
        with database.write() as session:
            repo.prune_raw(session, datetime.now(UTC) - retention)
    # Failing sources are recorded on the sources (see 'sources list'), not an error of the command:
    # a monitor run on a bad network day has still done its job.
    _summary(report, fmt, dry_run)
