"""Load, validate and resolve ``config.yaml`` into a ``Config``, the values the other packages take: with its
modules, the only code that reads the config file and the environment.

Every problem is collected and reported with its path (``sources[3].kind: unknown kind 'rss' …``,
``labourwatch.config_problems``). Secrets are written as ``${ENV_NAME}`` (or ``${ENV_NAME:-default}``) references,
resolved at load (``labourwatch.config_env``). The shape, the value checks and the checks across fields live in
``labourwatch.schema``; the files a config names (the known-claims file, apprise config files) are read and checked
at load too (``labourwatch.config_files``), so a loaded Config holds nothing that can fail later.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from alerts.types import NEWSROOM_EVENT_TYPES, AlertOptions, RouteSpec, file_destination
from analysis.claims.model import Claim
from analysis.relevance import DEFAULT_TOPIC
from analysis.types import Topic, TopicTerms
from crawler.types import CrawlOptions, SourceSpec
from db.events import OPS_EVENT_TYPES
from labourwatch.config_env import DEFERRED_USERS, resolve_env, written_urls
from labourwatch.config_files import apprise_config_urls, known_claims, read_claims
from labourwatch.config_problems import describe, error_loc, format_path, model_of
from labourwatch.errors import ConfigError
from labourwatch.schema import ConfigModel, DaemonConfig, Loc, cross_field_problems, parse_listen
from labourwatch.yamlsafe import YamlInputError, decode_utf8, load_yaml
from web.types import ThrottleRules, WebOptions

__all__ = ["CONFIG_ENV", "Config", "ConfigError", "ConfigModel", "DaemonConfig", "config_path", "format_path",
           "load_config", "model_of", "parse_config", "parse_listen", "read_claims"]

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "LABOURWATCH_CONFIG"


@dataclass(frozen=True)
class Config:
    """The validated configuration, with paths resolved and the values the other packages take."""

    model: ConfigModel
    path: Path | None
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    # URLs read from the routes' apprise config files, by route name.
    file_urls: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # Each route's ``urls`` as written, ${ENV} references unresolved, by route position: destinations are named
    # after these, so a rotated secret keeps its queue (alerts.routes).
    written_urls: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    # The known claims of ``claims.file``, read and checked at load (None when the config names none).
    known_claims: tuple[Claim, ...] | None = field(default=None, repr=False)
    # Unset ${ENV} references where they are deferred (the web section, alert URLs): (path, variable name).
    unresolved: tuple[tuple[str, str], ...] = ()

    def require(self, section: str, user: str) -> None:
        """Raise ConfigError naming each unset ${ENV} reference in ``section`` (``user``: what needs it)."""
        missing = [f"{where}: environment variable {name} is not set ({user} needs it)"
                   for where, name in self.unresolved if where.split(".")[0] == section]
        if missing:
            raise ConfigError(missing, str(self.path) if self.path else "config")

    @property
    def database_url(self) -> str:
        """The database URL; a relative SQLite path is taken relative to the config file's folder."""
        url = self.model.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            base = self.path.parent if self.path else Path.cwd()
            return prefix + str((base / url[len(prefix):]).resolve())
        return url

    @property
    def claims_file(self) -> Path | None:
        """The known-claims file, relative to the config file's folder; None when the config names none."""
        name = self.model.claims.file
        if not name:
            return None
        base = self.path.parent if self.path else Path.cwd()
        return (base / name).resolve()

    @property
    def routes(self) -> list[RouteSpec]:
        """The alert routes, URLs resolved (they may hold secrets: never log them), each with its URLs as written."""
        written = self.written_urls or tuple(tuple(r.urls) for r in self.model.alerts.routes)
        return [
            RouteSpec(name=r.name, urls=(*r.urls, *self.file_urls.get(r.name, ())),
                      events=tuple(r.events) or NEWSROOM_EVENT_TYPES, mode=r.mode,
                      cron=r.cron, sources=tuple(r.sources), min_relevance=r.min_relevance,
                      min_confidence=r.min_confidence, rate_limit=r.rate_limit, digest_cron=r.digest_cron,
                      copies=r.copies, written=(*as_written, *(file_destination(r.apprise_config or "", n)
                                              for n, _ in enumerate(self.file_urls.get(r.name, ())))))
            for r, as_written in zip(self.model.alerts.routes, written, strict=True)
        ]

    def routes_to_send(self, user: str) -> list[RouteSpec]:
        """The routes, for a command that sends alerts (``user``: what it is); ConfigError naming each alert URL
        whose ${ENV} reference is unset (other commands take ``routes``, whose URLs may then be empty)."""
        self.require("alerts", user)
        return self.routes

    @property
    def warnings(self) -> list[str]:
        """Settings that are valid but probably not what the user wants (shown by check-config, logged by run)."""
        found = [f"{where}: environment variable {name} is not set; {DEFERRED_USERS[where.split('.')[0]]} will "
                 "refuse to start until it is" for where, name in self.unresolved]
        routes = self.routes
        unrouted = [kind for kind in OPS_EVENT_TYPES if routes and not any(kind in r.events for r in routes)]
        if unrouted:
            # Routes without `events` take the newsroom types only: nobody would hear of a failing source
            # or an alert that could not be delivered.
            found.append(f"alerts.routes: no route takes {', '.join(unrouted)}; failing sources and dead alerts "
                         "would only show in `labourwatch status` (add an ops route with these events)")
        if self.model.claims.file is None:
            found.append("claims.file: none set; claim sentences are matched only against claims already imported "
                         "into the database (`labourwatch claims import FILE`), and with none every one is stored "
                         "as new")
        elif self.known_claims is not None and not any(c.status == "active" for c in self.known_claims):
            found.append(f"claims.file: {self.model.claims.file} holds no active claims; every claim sentence "
                         "will be stored as new")
        from crawler import browser  # no Playwright import: only the path of the browser it would start

        rendered = [s.id for s in self.model.sources if s.render == "browser"]
        if rendered and not Path(browser.CHROMIUM).exists():
            found.append(f"sources: render: browser ({', '.join(rendered)}) needs {browser.CHROMIUM}, which is "
                         "missing (apt-get install chromium); their pages fail until it is there")
        return found

    @property
    def alert_options(self) -> AlertOptions:
        """Delivery settings."""
        alerts = self.model.alerts
        return AlertOptions(failing_after=alerts.failing_after, max_attempts=alerts.max_attempts,
                            backoff=alerts.backoff.total_seconds(), max_backoff=alerts.max_backoff.total_seconds(),
                            timeout=alerts.timeout.total_seconds(), lease=alerts.lease.total_seconds(),
                            web_url=alerts.web_url)

    @property
    def crawl_options(self) -> CrawlOptions:
        """The crawler's settings."""
        crawl = self.model.crawl
        return CrawlOptions(
            user_agent=crawl.user_agent, allow_private_networks=crawl.allow_private_networks,
            autothrottle=crawl.autothrottle, per_domain_concurrency=crawl.per_domain_concurrency,
            concurrency=crawl.concurrency, delay=crawl.delay.total_seconds(),
            timeout=crawl.timeout.total_seconds(), max_size=crawl.max_size, retries=crawl.retries,
            document_max_pages=crawl.document_max_pages, revisit=tuple(crawl.revisit), keep_raw=crawl.keep_raw,
            raw_retention=crawl.raw_retention,
            offtopic_retention=crawl.offtopic_retention, offtopic_link_retention=crawl.offtopic_link_retention,
            max_articles_per_source=crawl.max_articles_per_source, max_feed_age=crawl.max_feed_age,
            workers=crawl.workers, workers_idle=crawl.workers_idle,
            browser_sources=frozenset(s.id for s in self.model.sources if s.render == "browser"),
            browser_pages=crawl.browser_pages, browser_timeout=crawl.browser_timeout.total_seconds(),
            browser_memory=crawl.browser_memory,
        )

    @property
    def sources(self) -> list[SourceSpec]:
        """Every configured source, enabled or not, in config order."""
        return [
            SourceSpec(id=s.id, kind=s.kind, url=s.url, name=s.name, language=s.language, options=s.options,
                       every=s.every if s.every or s.cron else timedelta(minutes=30), cron=s.cron,
                       jitter=s.jitter, enabled=s.enabled,
                       baseline=self.model.alerts.baseline if s.baseline is None else s.baseline)
            for s in self.model.sources
        ]

    @property
    def web_options(self) -> WebOptions:
        """The web UI's settings; ConfigError when a ${ENV} reference in ``web`` is unset."""
        self.require("web", "the web UI")
        web = self.model.web
        host, port = parse_listen(web.listen)
        limits = web.login_limits
        rules = ThrottleRules(per_address=limits.per_address, address_window=limits.address_window.total_seconds(),
                              overall=limits.overall, overall_window=limits.overall_window.total_seconds())
        from crawler.settings import default_request_headers  # imports Scrapy: only when the web UI starts

        return WebOptions(host=host, port=port, token=web.token or None, page_size=web.page_size,
                          login_limits=rules,
                          request_headers=tuple(default_request_headers(self.crawl_options).items()))

    @property
    def topic(self) -> Topic:
        """The topic filter; the built-in multilingual terms when the config gives none."""
        topic = self.model.topic
        if topic.keywords is None:
            languages = DEFAULT_TOPIC.languages
        else:
            languages = {
                lang: TopicTerms(dprk=tuple(terms.dprk), labour=tuple(terms.labour), exclude=tuple(terms.exclude))
                for lang, terms in topic.keywords.items()
            }
        return Topic(languages=languages, window=topic.window, min_score=topic.min_score)


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file to use: the explicit one, else ``$LABOURWATCH_CONFIG``, else ``./config.yaml``."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Config:
    """Read, resolve and validate a config file; raise ConfigError listing every problem."""
    file = config_path(path)
    try:
        text = decode_utf8(file.read_bytes(), str(file))
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read config file ({exc.strerror or exc})"], str(file)) from exc
    except YamlInputError as exc:
        raise ConfigError([str(exc)], str(file)) from exc
    return parse_config(text, file, environ)


def parse_config(text: str, file: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Validate config text (YAML); ``file`` anchors relative paths and names the source in errors."""
    name = str(file) if file else "config"
    try:
        raw = load_yaml(text, name) or {}
    except YamlInputError as exc:  # syntax, nesting depth, alias expansion: with the line
        raise ConfigError([str(exc)], name) from exc
    if not isinstance(raw, dict):
        raise ConfigError([f"{name}: the top level must be a mapping of sections"], name)
    secrets: set[str] = set()
    problems: list[str] = []
    unresolved: list[tuple[str, str]] = []
    resolved = resolve_env(raw, (), os.environ if environ is None else environ, secrets, problems, unresolved)
    invalid: set[Loc] = set()
    try:
        model = ConfigModel.model_validate(resolved)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems.extend(describe(errors))
        invalid = {error_loc(error) for error in errors}
    # Run on what validated even when something did not, so that no problem waits for another to be fixed.
    problems.extend(f"{format_path(where)}: {problem}"
                    for where, problem in cross_field_problems(resolved, invalid).items())
    if problems:
        raise ConfigError(problems, name)
    base = file.resolve().parent if file else Path.cwd()
    file_urls = apprise_config_urls(model, base, secrets, problems)
    claims = known_claims(model, base, problems)
    if problems:
        raise ConfigError(problems, name)
    return Config(model=model, path=file.resolve() if file else None, secrets=frozenset(secrets), file_urls=file_urls,
                  written_urls=written_urls(raw),
                  known_claims=claims, unresolved=tuple(unresolved))
