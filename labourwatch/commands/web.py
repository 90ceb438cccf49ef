"""``labourwatch web``: the researcher UI, served by uvicorn."""

from __future__ import annotations

import click

from labourwatch.context import AppContext, pass_app


@click.command("web")
@click.option("--listen", default=None, metavar="HOST:PORT", help="Override web.listen.")
@click.option("--proxy-headers", is_flag=True,
              help="Behind a reverse proxy: take the client's address and scheme (https) from its X-Forwarded-For "
                   "and X-Forwarded-Proto headers.")
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True, metavar="IPS",
              help="With --proxy-headers: the proxies (comma-separated addresses, or *) whose headers are trusted.")
@pass_app
def web(app: AppContext, listen: str | None, proxy_headers: bool, forwarded_allow_ips: str) -> None:
    """Serve the web UI (events, article diffs, claims, review queue, search, exports, JSON API).

    Binds to web.listen (default 127.0.0.1:8080). Write actions need web.token; without it the UI is
    read-only."""
    import uvicorn

    from labourwatch.config import parse_listen
    from web.app import create_app

    options = app.config.web_options
    try:
        host, port = parse_listen(listen) if listen else (options.host, options.port)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from exc
    click.echo(f"labourwatch web UI on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    # Headers from anyone else are ignored: a client could otherwise claim https, or any address.
    uvicorn.run(create_app(app.database(), options), host=host, port=port, log_config=None,
                server_header=False, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips)
