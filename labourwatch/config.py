"""Load, validate and resolve ``config.yaml``: the only module that reads the config file and the environment.

Every problem is collected and reported with its path (``sources[3].kind: unknown kind 'rss' …``); secrets
are written as ``${ENV_NAME}`` (or ``${ENV_NAME:-default}``) references and resolved here, at load. The shape
and the value checks live in ``labourwatch.schema``; the files a config names (the known-claims file, apprise
config files) are read and checked here too, so a loaded Config holds nothing that can fail later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from alerts.types import NEWSROOM_EVENT_TYPES, AlertOptions, RouteSpec, file_destination
from analysis.claims.model import Claim, ClaimDataError, claims_from_yaml_data
from analysis.relevance import DEFAULT_TOPIC
from analysis.types import Topic, TopicTerms
from crawler.types import CrawlOptions, SourceSpec
from db.events import OPS_EVENT_TYPES
from labourwatch.errors import ConfigError
from labourwatch.schema import (
    ConfigModel,
    DaemonConfig,
    Loc,
    NestedProblemsError,
    cross_field_problems,
    parse_listen,
)
from labourwatch.yamlsafe import YamlInputError, check_yaml_limits, decode_utf8, load_yaml, load_yaml_file
from web.types import ThrottleRules, WebOptions

__all__ = ["CONFIG_ENV", "Config", "ConfigModel", "DaemonConfig", "load_config", "parse_config", "parse_listen"]

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "LABOURWATCH_CONFIG"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Sections only some commands use: an unset ${ENV} reference in them does not fail loading; the setting is left
# out (its default applies) and the commands that use the section refuse to start (Config.require).
DEFERRED_SECTIONS = ("web",)
_UNSET = object()


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
    # Unset ${ENV} references in DEFERRED_SECTIONS: (path, variable name).
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

    @property
    def warnings(self) -> list[str]:
        """Settings that are valid but probably not what the user wants (shown by check-config, logged by run)."""
        found = [f"{where}: environment variable {name} is not set; `labourwatch {where.split('.')[0]}` will refuse "
                 "to start until it is" for where, name in self.unresolved]
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
    resolved = _resolve_env(raw, (), os.environ if environ is None else environ, secrets, problems, unresolved)
    invalid: set[Loc] = set()
    try:
        model = ConfigModel.model_validate(resolved)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        problems.extend(_describe(errors))
        invalid = {_error_loc(error) for error in errors}
    # Run on what validated even when something did not, so that no problem waits for another to be fixed.
    problems.extend(f"{format_path(where)}: {problem}"
                    for where, problem in cross_field_problems(resolved, invalid).items())
    if problems:
        raise ConfigError(problems, name)
    base = file.resolve().parent if file else Path.cwd()
    file_urls = _apprise_config_urls(model, base, secrets, problems)
    known_claims = _known_claims(model, base, problems)
    if problems:
        raise ConfigError(problems, name)
    return Config(model=model, path=file.resolve() if file else None, secrets=frozenset(secrets), file_urls=file_urls,
                  written_urls=_written_urls(raw),
                  known_claims=known_claims, unresolved=tuple(unresolved))


def read_claims(path: Path) -> list[Claim]:
    """The claims of a known_claims.yaml file; ValueError saying what is wrong (cannot read, not UTF-8, not
    YAML, aliases or nesting past the limits of ``labourwatch.yamlsafe``, not claims data)."""
    data = load_yaml_file(path)  # YamlInputError, a ValueError: cannot read, not UTF-8, not valid or too big
    try:
        return claims_from_yaml_data(data)
    except ClaimDataError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def _known_claims(model: ConfigModel, base: Path, problems: list[str]) -> tuple[Claim, ...] | None:
    """The configured claims file, read and checked now: matching against a stale or broken set is worse
    than refusing to start."""
    if not model.claims.file:
        return None
    try:
        return tuple(read_claims((base / model.claims.file).resolve()))
    except ValueError as exc:
        problems.append(f"claims.file: {exc}")
        return None


def _apprise_config_urls(model: ConfigModel, base: Path, secrets: set[str],
                         problems: list[str]) -> dict[str, tuple[str, ...]]:
    """The destination URLs of routes that name an apprise config file (filtered by the route's tags)."""
    found: dict[str, tuple[str, ...]] = {}
    for index, route in enumerate(model.alerts.routes):
        if not route.apprise_config:
            continue
        where = f"alerts.routes[{index}].apprise_config"
        path = (base / route.apprise_config).resolve()
        if not path.is_file():
            problems.append(f"{where}: {path} does not exist")
            continue
        try:  # apprise parses the file with PyYAML's own loader: refuse alias bombs and deep nesting first
            check_yaml_limits(decode_utf8(path.read_bytes(), str(path)), str(path))
        except (OSError, YamlInputError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        import apprise  # only configs that use this pay for importing apprise

        loaded = apprise.AppriseConfig()
        targets = apprise.Apprise()
        if not loaded.add(str(path)) or not targets.add(loaded):
            problems.append(f"{where}: apprise cannot read {path}")
            continue
        urls = tuple(dict.fromkeys(server.url(privacy=False) for server in targets.find(tag=route.tags or "all")))
        if not urls:
            tags = f" with tag(s) {', '.join(route.tags)}" if route.tags else ""
            problems.append(f"{where}: no URLs{tags} in {path}")
            continue
        secrets.update(urls)  # they may hold tokens and passwords; keep them out of logs
        found[route.name] = urls
    return found


def _written_urls(raw: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """Each route's ``urls`` as the file writes them (before ${ENV} resolution), by route position."""
    routes = (raw.get("alerts") or {}).get("routes") or []
    return tuple(tuple(str(url) for url in route.get("urls") or ()) for route in routes)


def _resolve_env(value: Any, path: tuple[str | int, ...], environ: Any, secrets: set[str], problems: list[str],
                 unresolved: list[tuple[str, str]]) -> Any:
    """``value`` with its ${ENV} references resolved; an unset one is a problem, or in DEFERRED_SECTIONS is
    recorded in ``unresolved`` and its key left out (``_UNSET``)."""
    if isinstance(value, dict):
        resolved = {k: _resolve_env(v, (*path, k), environ, secrets, problems, unresolved) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _UNSET}
    if isinstance(value, list):
        return [_resolve_env(v, (*path, i), environ, secrets, problems, unresolved) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    deferred = bool(path) and path[0] in DEFERRED_SECTIONS and all(isinstance(p, str) for p in path)
    unset: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            found = str(environ[name])
            if found:
                secrets.add(found)
            return found
        if default is not None:
            return default
        unset.append(name)
        return ""

    found = _ENV_REF.sub(substitute, value)
    if unset and deferred:
        unresolved.extend((format_path(path), name) for name in unset)
        return _UNSET
    problems.extend(f"{format_path(path)}: environment variable {name} is not set" for name in unset)
    return found


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("sources", 3, "kind")`` → ``sources[3].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _error_loc(error: ErrorDetails) -> Loc:
    """Where a pydantic error lies in the config data (without pydantic's validator-function steps)."""
    return tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))


def _describe(errors: list[ErrorDetails]) -> Iterator[str]:
    for error in errors:
        loc = _error_loc(error)
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, NestedProblemsError):
            for where, problem in cause.problems.items():
                yield f"{format_path((*loc, *where))}: {problem}"
            continue
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            message = f"unknown key (known: {', '.join(known)})" if known else "unknown key"
        yield f"{format_path(loc)}: {message}"


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    model: Any = ConfigModel
    for part in loc:
        if isinstance(part, int):
            continue
        field_info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field_info is None:
            return []
        model = model_of(field_info.annotation)
        if model is None:
            return []
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def model_of(annotation: Any) -> Any:
    """The pydantic model inside a field's annotation (``list[SourceConfig] | None`` → SourceConfig), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_of(arg)
        if found is not None:
            return found
    return None
