"""``labourwatch sources discover URL``: propose feed, sitemap and listing sources for a site."""

from __future__ import annotations

import click

from analysis.urls import is_http_url
from crawler.types import CrawlOptions
from labourwatch.context import AppContext, pass_app
from labourwatch.errors import DiscoveryError
from labourwatch.output import print_json

FORMATS = click.Choice(["yaml", "json"])


def _options(app: AppContext) -> tuple[CrawlOptions, set[str]]:
    """The config's crawl options and source ids; the crawler's defaults when there is no config file."""
    if not app.config_file.exists():
        click.echo(f"note: no config file at {app.config_file}: the crawler's default settings are used "
                   "(private and loopback addresses refused)", err=True)
        return CrawlOptions(), set()
    config = app.config
    return config.crawl_options, {spec.id for spec in config.sources}


@click.command("discover")
@click.argument("url")
@click.option("--format", "fmt", type=FORMATS, default="yaml", show_default=True,
              help="yaml: a `sources:` block to paste into the config; json: every proposal and request.")
@pass_app
def discover(app: AppContext, url: str, fmt: str) -> None:
    """Propose sources for the site at URL: its feeds, sitemaps (news sitemaps flagged) and a listing
    selector for its article links, fetched as a crawl fetches (robots.txt, address guard, size cap)."""
    if not is_http_url(url):
        raise click.BadParameter(f"not an http(s) URL: {url!r}", param_hint="URL")
    options, taken = _options(app)
    # Scrapy is imported by the commands that fetch, only.
    from crawler import reactor
    from crawler.discovery import discover as run_discovery
    from crawler.runner import preload
    from labourwatch.proposals import discovery_json, source_entries, sources_yaml

    preload()
    try:
        found = reactor.run(run_discovery(url, options))
    finally:
        reactor.shutdown()
    if found.error is not None:
        code, message = found.error
        raise DiscoveryError(f"cannot read {url}: {code}: {message}")
    entries = source_entries(found, taken)
    text = sources_yaml(found, entries)  # validated by the config loader, for JSON output too
    if fmt == "json":
        print_json(discovery_json(found, entries))
    elif entries:
        click.echo(text, nl=False)
    if not entries:
        raise DiscoveryError(f"no feed, sitemap or listing of article links found at {url} "
                             f"({len(found.checks)} requests: " + ", ".join(
                                 f"{c.url} {c.outcome}" for c in found.checks) + ")")
    on = sum(1 for entry in entries if entry.get("enabled", True))
    click.echo(f"{len(entries)} source(s) proposed for {found.final_url or url}, {on} switched on; "
               f"{len(found.checks)} requests", err=True)
