"""Load, validate and resolve ``config.yaml``: the only module that reads the config file and the environment.

Every problem is collected and reported with its path (``sources[3].kind: unknown kind 'rss' …``); secrets
are written as ``${ENV_NAME}`` (or ``${ENV_NAME:-default}``) references and resolved here, at load.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from alerts.types import NEWSROOM_EVENT_TYPES, AlertOptions, RouteSpec
from analysis.relevance import DEFAULT_TOPIC
from analysis.types import Topic, TopicTerms
from crawler.kinds import SOURCE_KINDS
from crawler.types import DEFAULT_REVISIT, CrawlOptions, SourceSpec
from db.events import EVENT_TYPES
from labourwatch.errors import ConfigError
from labourwatch.units import parse_duration, parse_size
from web.types import WebOptions

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "LABOURWATCH_CONFIG"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Model):
    """Where labourwatch keeps its state."""

    url: str = "sqlite:///data/labourwatch.db"

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError("unsupported database URL (use sqlite:///PATH or postgresql+psycopg://…)")
        return value


class TermsConfig(_Model):
    """Keyword groups of one language."""

    dprk: list[str] = Field(min_length=1)
    labour: list[str] = Field(min_length=1)
    exclude: list[str] = Field(default_factory=list)


class TopicConfig(_Model):
    """The topic filter: a DPRK term and a labour term within ``window`` characters."""

    window: int = Field(default=150, ge=10, le=5000)
    min_score: float = Field(default=0.2, ge=0.0, le=1.0)
    keywords: dict[Literal["en", "ko", "ru", "zh", "ja"], TermsConfig] | None = None


class ClaimsConfig(_Model):
    """The known-claims file: imported (insert or update by id) before every crawl, matched against new text."""

    file: str | None = None


class CrawlConfig(_Model):
    """Politeness, safety limits and the article re-check schedule."""

    user_agent: str = CrawlOptions.user_agent
    allow_private_networks: bool = False
    autothrottle: bool = True
    per_domain_concurrency: int = Field(default=2, ge=1, le=32)
    concurrency: int = Field(default=16, ge=1, le=256)
    delay: Duration = timedelta(seconds=1)
    timeout: Duration = timedelta(seconds=30)
    max_size: Size = 10 * 1024 * 1024
    retries: int = Field(default=2, ge=0, le=10)
    revisit: list[Duration] = Field(default_factory=lambda: list(DEFAULT_REVISIT))
    keep_raw: bool = True
    raw_retention: Duration | None = timedelta(days=365)
    max_articles_per_source: int = Field(default=200, ge=1)
    max_feed_age: Duration | None = timedelta(days=30)
    workers: int | None = Field(default=None, ge=0, le=32)

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("timeout must be positive")
        return value


class SourceConfig(_Model):
    """One source: a feed, a sitemap or a listing page."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    kind: str
    url: str
    name: str | None = None
    language: str | None = None
    every: Duration | None = None
    cron: str | None = None
    jitter: Duration = timedelta(0)
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SOURCE_ID.match(value):
            raise ValueError(f"invalid id {value!r} (lowercase letters, digits, '.', '_' and '-')")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in SOURCE_KINDS:
            raise ValueError(f"unknown kind {value!r} (known: {', '.join(sorted(SOURCE_KINDS))})")
        return value

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
            raise ValueError(f"only http(s) URLs can be sources, not {value!r}")
        return value

    @field_validator("cron")
    @classmethod
    def _cron_shape(cls, value: str | None) -> str | None:
        if value is not None and (len(value.split()) != 5 or not all(map(_CRON_FIELD.match, value.split()))):
            raise ValueError(f"not a 5-field cron expression: {value!r}")
        return value

    @model_validator(mode="after")
    def _kind_options(self) -> SourceConfig:
        if self.every is not None and self.cron is not None:
            raise ValueError("give either 'every' or 'cron', not both")
        kind = SOURCE_KINDS.get(self.kind)
        if kind is None:
            return self
        extra = dict(self.model_extra or {})
        unknown = sorted(set(extra) - set(kind.options))
        if unknown:
            known = ", ".join(sorted(kind.options)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} for kind {self.kind} (kind options: {known})")
        if self.kind == "listing" and not (extra.get("link_selector") or extra.get("link_xpath")):
            raise ValueError("a listing source needs link_selector (CSS) or link_xpath")
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The kind-specific options (``link_selector``, ``max_pages``, …)."""
        return dict(self.model_extra or {})


def _valid_cron(value: str | None) -> str | None:
    if value is None:
        return None
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as exc:
        raise ValueError(f"not a valid 5-field cron expression: {value!r} ({exc})") from exc
    return value


class RouteConfig(_Model):
    """An alert route: event types (default: every newsroom type) to apprise URLs, now or as a digest."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    urls: list[str] = Field(default_factory=list)
    apprise_config: str | None = None  # an apprise config file (YAML or text), relative to this file
    tags: list[str] = Field(default_factory=list)  # only its URLs with one of these tags (all when empty)
    events: list[str] = Field(default_factory=list)
    mode: Literal["immediate", "digest"] = "immediate"
    cron: str | None = None
    sources: list[str] = Field(default_factory=list)
    min_relevance: float | None = Field(default=None, ge=0, le=1)
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    rate_limit: int | None = Field(default=None, ge=1, description="immediate messages per hour")
    digest_cron: str | None = None

    _cron = field_validator("cron", "digest_cron")(_valid_cron)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(EVENT_TYPES)})")
        return value

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, value: list[str]) -> list[str]:
        # An empty value is an unset ${ENV} reference, reported as such already.
        bad = [index for index, url in enumerate(value) if url and "://" not in url]
        if bad:
            raise ValueError(f"urls[{bad[0]}] is not an apprise URL (scheme://…)")
        return value

    @model_validator(mode="after")
    def _some_destination(self) -> RouteConfig:
        if not self.urls and not self.apprise_config:
            raise ValueError("a route needs 'urls' or an 'apprise_config' file")
        return self

    @model_validator(mode="after")
    def _digest_needs_cron(self) -> RouteConfig:
        if self.mode == "digest" and not self.cron:
            raise ValueError("a digest route needs a 'cron' (when to send, e.g. '0 8 * * *')")
        return self


class AlertsConfig(_Model):
    """Where alerts go, and how hard delivery tries."""

    routes: list[RouteConfig] = Field(default_factory=list)
    failing_after: int = Field(default=3, ge=1, description="consecutive failures that make source_failing")
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: Duration = timedelta(seconds=30)
    max_backoff: Duration = timedelta(hours=1)
    timeout: Duration = timedelta(seconds=30)
    lease: Duration = timedelta(minutes=5)
    web_url: str | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> AlertsConfig:
        names = [route.name for route in self.routes]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"route names must be unique: {', '.join(duplicates)}")
        return self


class DaemonConfig(_Model):
    """``labourwatch run``: how often its jobs run, how it stops, and where it reports its health."""

    poll_every: Duration = timedelta(seconds=30)  # how often the poll job looks for sources that are due
    revisit_every: Duration = timedelta(minutes=2)  # how often the revisit job re-checks articles that are due
    dispatch_every: Duration = timedelta(seconds=10)  # how often the outbox is sent
    prune_cron: str = "17 3 * * *"  # retention, daily
    misfire_grace: Duration = timedelta(minutes=2)  # a job this late still runs (once: coalesced)
    shutdown_timeout: Duration = timedelta(seconds=20)  # in-flight work is abandoned safely after this
    max_backoff: Duration = timedelta(hours=6)  # longest wait before re-polling a failing source
    stall_after: Duration = timedelta(minutes=10)  # /healthz says 503 when a job has not finished for this long
    listen: str | None = "127.0.0.1:9464"  # /healthz and /metrics; null turns the endpoint off
    keep_errors: Duration = timedelta(days=90)  # crawl errors and runs older than this are pruned
    keep_sent: Duration = timedelta(days=90)  # sent and dead deliveries older than this are pruned

    _prune_cron = field_validator("prune_cron")(_valid_cron)

    @field_validator("poll_every", "revisit_every", "dispatch_every", "shutdown_timeout", "max_backoff")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value.total_seconds() <= 0:
            raise ValueError("must be positive")
        return value

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen(value)
        return value


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (IPv6 hosts in brackets) as a pair; ValueError when it is not one."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"not host:port: {value!r}")
    return host.strip("[]"), int(port)


class WebConfig(_Model):
    """The researcher web UI."""

    listen: str = "127.0.0.1:8080"
    # Write actions (the review queue) need this token; write it as a ${ENV} reference. None: read-only UI.
    token: str | None = None
    page_size: int = Field(default=50, ge=5, le=500)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_listen(value)
        return value


class LoggingConfig(_Model):
    """Log level and format."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ConfigModel(_Model):
    """The whole ``config.yaml``."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    topic: TopicConfig = Field(default_factory=TopicConfig)
    claims: ClaimsConfig = Field(default_factory=ClaimsConfig)
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @model_validator(mode="after")
    def _unique_source_ids(self) -> ConfigModel:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"duplicate source id {source.id!r}")
            seen.add(source.id)
        return self


@dataclass(frozen=True)
class Config:
    """The validated configuration, with paths resolved and the values the other packages take."""

    model: ConfigModel
    path: Path | None
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    # URLs read from the routes' apprise config files, by route name.
    file_urls: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

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
        """The alert routes, URLs resolved (they may hold secrets: never log them)."""
        return [
            RouteSpec(name=r.name, urls=(*r.urls, *self.file_urls.get(r.name, ())),
                      events=tuple(r.events) or NEWSROOM_EVENT_TYPES, mode=r.mode,
                      cron=r.cron, sources=tuple(r.sources), min_relevance=r.min_relevance,
                      min_confidence=r.min_confidence, rate_limit=r.rate_limit, digest_cron=r.digest_cron)
            for r in self.model.alerts.routes
        ]

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
            revisit=tuple(crawl.revisit), keep_raw=crawl.keep_raw, raw_retention=crawl.raw_retention,
            max_articles_per_source=crawl.max_articles_per_source, max_feed_age=crawl.max_feed_age,
            workers=crawl.workers,
        )

    @property
    def sources(self) -> list[SourceSpec]:
        """Every configured source, enabled or not, in config order."""
        return [
            SourceSpec(id=s.id, kind=s.kind, url=s.url, name=s.name, language=s.language, options=s.options,
                       every=s.every if s.every or s.cron else timedelta(minutes=30), cron=s.cron,
                       jitter=s.jitter, enabled=s.enabled)
            for s in self.model.sources
        ]

    @property
    def web_options(self) -> WebOptions:
        """The web UI's settings."""
        web = self.model.web
        host, port = parse_listen(web.listen)
        return WebOptions(host=host, port=port, token=web.token or None, page_size=web.page_size)

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
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read config file ({exc.strerror or exc})"], str(file)) from exc
    return parse_config(text, file, environ)


def parse_config(text: str, file: Path | None = None, environ: dict[str, str] | None = None) -> Config:
    """Validate config text (YAML); ``file`` anchors relative paths and names the source in errors."""
    name = str(file) if file else "config"
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError([f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})"], name) from exc
    if not isinstance(raw, dict):
        raise ConfigError([f"{name}: the top level must be a mapping of sections"], name)
    secrets: set[str] = set()
    problems: list[str] = []
    resolved = _resolve_env(raw, (), os.environ if environ is None else environ, secrets, problems)
    try:
        model = ConfigModel.model_validate(resolved)
    except ValidationError as exc:
        problems.extend(_describe(exc))
    if problems:
        raise ConfigError(problems, name)
    base = file.resolve().parent if file else Path.cwd()
    file_urls = _apprise_config_urls(model, base, secrets, problems)
    if problems:
        raise ConfigError(problems, name)
    return Config(model=model, path=file.resolve() if file else None, secrets=frozenset(secrets), file_urls=file_urls)


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


def _resolve_env(value: Any, path: tuple[str | int, ...], environ: Any, secrets: set[str], problems: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_env(v, (*path, k), environ, secrets, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, (*path, i), environ, secrets, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            found = str(environ[name])
            if found:
                secrets.add(found)
            return found
        if default is not None:
            return default
        problems.append(f"{format_path(path)}: environment variable {name} is not set")
        return ""

    return _ENV_REF.sub(substitute, value)


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("sources", 3, "kind")`` → ``sources[3].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(exc: ValidationError) -> Iterator[str]:
    for error in exc.errors(include_url=False):
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
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
        model = _model_of(field_info.annotation)
        if model is None:
            return []
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
