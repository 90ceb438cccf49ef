"""The shape of ``config.yaml``: pydantic models whose validators check every value when the file is loaded.

Whatever the crawl, the scheduler, the dispatcher or the web UI later builds from a value (topic patterns,
selectors, cron triggers, apprise destinations, the database driver, durations) is built here once, by the
same code, so that a bad value is refused at load with its path, never at crawl or send time.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alerts.targets import apprise_target
from analysis.cron import cron_trigger, every_cron
from analysis.relevance import compile_term
from analysis.urls import is_http_url
from crawler.kinds import SOURCE_KINDS
from crawler.types import DEFAULT_REVISIT, CrawlOptions
from db.engine import check_database_url
from db.events import EVENT_TYPES
from labourwatch.units import format_duration, parse_duration, parse_size

_SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class NestedProblemsError(ValueError):
    """Problems found by a validator of a whole section, by their path inside it (``("link_selector",)`` in a
    source is reported as ``sources[3].link_selector: …``)."""

    def __init__(self, problems: dict[tuple[str | int, ...], str]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, where))}: {problem}" for where, problem in problems.items()))


def _positive(value: timedelta) -> timedelta:
    if value.total_seconds() <= 0:
        raise ValueError("must be longer than 0s")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
# A wait, interval or age that is added to a time later: 0 would mean "at once, for ever".
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
Size = Annotated[int, BeforeValidator(parse_size)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _database_url(value: str) -> str:
    # The URL may hold a password: check_database_url's messages never repeat it.
    check_database_url(value)
    return value


def _topic_term(value: str) -> str:
    compile_term(value)  # the topic filter's own compiler: what passes here matches at crawl time
    return value


def _apprise_url(value: str) -> str:
    if not value.strip():
        raise ValueError("must be an apprise URL, not empty")
    if "${" not in value:  # else an unset ${ENV} reference, which the loader reports or defers (config_env)
        apprise_target(value)  # parsed by apprise as the dispatcher will, never sent
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        raise ValueError(f"must be an http(s) URL, not {value!r}")
    return value


def _header_value(value: str) -> str:
    # Sent as the User-Agent header of every request: a control character would fail every request.
    if not value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must be one line of printable text")
    return value


Term = Annotated[str, AfterValidator(_topic_term)]
# What a host name may not contain (the URL parser leaves these in, and the fetch would fail or go elsewhere).
_BAD_HOST_CHARS = re.compile(r"[\s\x00-\x1f\x7f<>\"'`{}|\\^%\[\]]")


def source_url_problem(value: str) -> str | None:
    """Why ``value`` cannot be a source URL (an absolute http(s) URL with a valid host and port), or None."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # the parser's only complaint: a '[' without its ']'
        return "not a valid URL: the host has an unclosed '[' (an IPv6 address is written [::1])"
    if not is_http_url(value):
        return f"only http(s) URLs can be sources, not {value!r}"
    if re.search(r"[\x00-\x1f\x7f]", value.strip()):  # the parser drops tabs and line breaks silently
        return "not a valid URL: it contains a control character (a tab or a line break?)"
    if "@" in parts.netloc:  # the URL is not repeated: it holds a password
        return ("credentials in the URL (user:password@) are not supported: sources are fetched without "
                "authentication, and the URL would be stored and shown")
    host = parts.hostname or ""
    if ":" not in host and (_BAD_HOST_CHARS.search(host) or "" in host.rstrip(".").split(".")):
        return f"not a valid host name: {host!r}"
    try:
        port = parts.port
    except ValueError:
        return f"not a valid port: {parts.netloc.rpartition(':')[2]!r} (1-65535)"
    if port == 0:
        return "not a valid port: '0' (1-65535)"
    return None


class DatabaseConfig(_Model):
    """Where labourwatch keeps its state."""

    url: Annotated[str, AfterValidator(_database_url)] = "sqlite:///data/labourwatch.db"


class TermsConfig(_Model):
    """Keyword groups of one language."""

    dprk: list[Term] = Field(min_length=1)
    labour: list[Term] = Field(min_length=1)
    exclude: list[Term] = Field(default_factory=list)


class TopicConfig(_Model):
    """The topic filter: a DPRK term and a labour term within ``window`` characters."""

    window: int = Field(default=150, ge=10, le=5000)
    min_score: float = Field(default=0.2, gt=0.0, le=1.0)
    keywords: dict[Literal["en", "ko", "ru", "zh", "ja"], TermsConfig] | None = None


class ClaimsConfig(_Model):
    """The known-claims file: imported (insert or update by id) before every crawl, matched against new text;
    ``semantic``: use the multilingual sentence-embedding signal (cross-language matching needs it; off saves
    about 130 MiB and 1 ms of CPU a sentence)."""

    file: str | None = None
    semantic: bool = True


class CrawlConfig(_Model):
    """Politeness, safety limits and the article re-check schedule."""

    user_agent: Annotated[str, AfterValidator(_header_value)] = CrawlOptions.user_agent
    allow_private_networks: bool = False
    autothrottle: bool = True
    per_domain_concurrency: int = Field(default=2, ge=1, le=32)
    concurrency: int = Field(default=16, ge=1, le=256)
    delay: Duration = timedelta(seconds=1)
    timeout: PositiveDuration = timedelta(seconds=30)
    max_size: Size = 10 * 1024 * 1024
    # A PDF of more pages is refused with document_too_many_pages (crawler.documents); reading one costs ~5 ms a page.
    document_max_pages: int = Field(default=300, ge=1, le=100_000)
    retries: int = Field(default=2, ge=0, le=10)
    revisit: list[Duration] = Field(default_factory=lambda: list(DEFAULT_REVISIT))  # 0s: the next revisit pass
    keep_raw: bool = True
    raw_retention: PositiveDuration | None = timedelta(days=365)
    # An off-topic page is stored as an article row (title, terms, score) so its link is not fetched again; the
    # prune job compacts rows older than this to an 8-byte key of each URL (null: keep the rows for ever) and
    # forgets the keys older than ``offtopic_link_retention`` (null: keep them for ever). See ``db.offtopic``.
    offtopic_retention: PositiveDuration | None = timedelta(days=30)
    offtopic_link_retention: PositiveDuration | None = timedelta(days=365)
    max_articles_per_source: int = Field(default=200, ge=1)
    max_feed_age: PositiveDuration | None = timedelta(days=30)
    workers: int | None = Field(default=None, ge=0, le=32)
    # The daemon stops the extraction workers (and their fork server, which holds the semantic model) when no page
    # has needed them for this long, and starts them on the next page (about 1 CPU s and 2-3 s); null keeps them
    # for the daemon's life. See ``crawler.workers``.
    workers_idle: PositiveDuration | None = timedelta(minutes=5)
    # Sources with ``render: browser`` are rendered in headless Chromium (crawler/browser.py): this many pages at
    # once, each given ``browser_timeout`` to load; the browser is restarted when its processes hold more than
    # ``browser_memory`` (and each renderer's JavaScript heap is capped at a quarter of it, at most 512 MiB). Chromium
    # holds about 500 MiB with a page open here, hence the floor.
    browser_pages: int = Field(default=2, ge=1, le=16)
    browser_timeout: PositiveDuration = timedelta(seconds=30)
    browser_memory: Size = Field(default=1024 * 1024 * 1024, ge=768 * 1024 * 1024)

    @field_validator("browser_timeout")
    @classmethod
    def _page_timeout_bound(cls, value: timedelta) -> timedelta:
        # A page holds one of the few browser pages while it loads: minutes would stall every rendered source.
        if value > timedelta(minutes=10):
            raise ValueError(f"{format_duration(value)} is too long: at most 10m")
        return value

    @model_validator(mode="after")
    def _keys_outlive_rows(self) -> CrawlConfig:
        # A key forgotten before its row is compacted would never be kept at all.
        rows, links = self.offtopic_retention, self.offtopic_link_retention
        if rows is not None and links is not None and links < rows:
            raise NestedProblemsError({("offtopic_link_retention",): (
                f"{format_duration(links)} is shorter than offtopic_retention ({format_duration(rows)}): the keys "
                "of off-topic links must be kept at least as long as their articles")})
        return self



def valid_cron(value: str | None) -> str | None:
    """A cron expression as the scheduler will run it (``analysis.cron``), or None."""
    if value is not None:
        cron_trigger(value)
    return value


class SourceConfig(_Model):
    """One source: a feed, a sitemap or a listing page."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    kind: str
    url: str
    name: str | None = None
    language: str | None = None
    every: PositiveDuration | None = None
    cron: str | None = None
    jitter: Duration = timedelta(0)
    enabled: bool = True
    # Its first successful poll is stored as a baseline without story alerts (default: ``alerts.baseline``).
    baseline: bool | None = None
    # ``browser``: its documents and article pages are rendered in headless Chromium before they are read.
    render: Literal["browser"] | None = None

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
        problem = source_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    _cron = field_validator("cron")(valid_cron)

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
        problems = kind.check_options(extra)  # selectors compiled, counts read: as the kind's parse will
        if problems:
            raise NestedProblemsError({(name,): problem for name, problem in problems.items()})
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The kind-specific options (``link_selector``, ``max_pages``, …)."""
        return dict(self.model_extra or {})


class RouteConfig(_Model):
    """An alert route: event types (default: every newsroom type) to apprise URLs, now or as a digest."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    urls: list[Annotated[str, AfterValidator(_apprise_url)]] = Field(default_factory=list)
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
    copies: bool = False  # also the stories of articles that copy another outlet's article

    _cron = field_validator("cron", "digest_cron")(valid_cron)

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event type(s) {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(EVENT_TYPES)})")
        return value

    @model_validator(mode="after")
    def _some_destination(self) -> RouteConfig:
        if not self.urls and not self.apprise_config:
            raise ValueError("a route needs 'urls' or an 'apprise_config' file")
        return self


class AlertsConfig(_Model):
    """Where alerts go, and how hard delivery tries."""

    routes: list[RouteConfig] = Field(default_factory=list)
    failing_after: int = Field(default=3, ge=1, description="consecutive failures that make source_failing")
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: PositiveDuration = timedelta(seconds=30)
    max_backoff: PositiveDuration = timedelta(hours=1)
    timeout: PositiveDuration = timedelta(seconds=30)
    lease: PositiveDuration = timedelta(minutes=5)
    web_url: Annotated[str | None, AfterValidator(_http_url)] = None
    # A new source's first successful poll is stored as a baseline: no story alerts, one summary per route.
    baseline: bool = True

    @model_validator(mode="after")
    def _lease_outlasts_a_send(self) -> AlertsConfig:
        # A delivery stays leased while it is sent: a lease shorter than a send lets another pass claim it.
        if self.lease <= self.timeout:
            raise NestedProblemsError({("lease",): f"{format_duration(self.lease)} is too short: it must be longer "
                                                   f"than the send timeout ({format_duration(self.timeout)})"})
        return self


def _cron_period(value: timedelta) -> timedelta:
    every_cron(value)
    return value


class ClusterConfig(_Model):
    """``daemon.mode: cluster``: what each node's worker of the job engine (Procrastinate) does, and when a dead
    node's work is taken over."""

    concurrency: int = Field(default=12, ge=1, le=64)  # jobs (crawls of one host each) one node runs at a time
    plan_every: Annotated[PositiveDuration, AfterValidator(_cron_period)] = timedelta(seconds=5)  # planning, dispatch
    heartbeat: PositiveDuration = timedelta(seconds=10)  # how often a node's worker says it is alive
    stall_window: PositiveDuration = timedelta(seconds=30)  # a worker silent this long is dead: its jobs run again

    @field_validator("stall_window")
    @classmethod
    def _longer_than_heartbeat(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        heartbeat = info.data.get("heartbeat")
        if heartbeat is not None and value <= heartbeat:
            raise ValueError(f"must be longer than daemon.cluster.heartbeat ({format_duration(heartbeat)})")
        return value


class DaemonConfig(_Model):
    """``labourwatch run``: how often its jobs run, how it stops, and where it reports its health."""

    # single: one process does everything (SQLite or PostgreSQL); cluster: every node shares the work through the
    # job engine on PostgreSQL (issue 18; labourwatch run --cluster)
    mode: Literal["single", "cluster"] = "single"
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)

    poll_every: PositiveDuration = timedelta(seconds=30)  # how often the poll job looks for sources that are due
    revisit_every: PositiveDuration = timedelta(minutes=2)  # how often the revisit job re-checks articles that are due
    dispatch_every: PositiveDuration = timedelta(seconds=10)  # how often the outbox is sent
    prune_cron: str = "17 3 * * *"  # retention, daily
    misfire_grace: PositiveDuration = timedelta(minutes=2)  # a job this late still runs (once: coalesced)
    shutdown_timeout: PositiveDuration = timedelta(seconds=20)  # in-flight work is abandoned safely after this
    max_backoff: PositiveDuration = timedelta(hours=6)  # longest wait before re-polling a failing source
    stall_after: PositiveDuration = timedelta(minutes=10)  # /healthz says 503 when a job has not finished for this long
    listen: str | None = "127.0.0.1:9464"  # /healthz and /metrics; null turns the endpoint off
    keep_errors: PositiveDuration = timedelta(days=90)  # crawl errors and runs older than this are pruned
    keep_sent: PositiveDuration = timedelta(days=90)  # sent and dead deliveries older than this are pruned

    _prune_cron = field_validator("prune_cron")(valid_cron)

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


class LoginLimitsConfig(_Model):
    """Failed logins allowed before ``/login`` answers 429: from one client address, and from all together."""

    per_address: int = Field(default=5, ge=1, le=10_000)
    address_window: PositiveDuration = timedelta(minutes=15)
    overall: int = Field(default=30, ge=1, le=1_000_000)
    overall_window: PositiveDuration = timedelta(minutes=1)


class WebConfig(_Model):
    """The researcher web UI."""

    listen: str = "127.0.0.1:8080"
    # Write actions (the review queue) need this token; write it as a ${ENV} reference. None: read-only UI.
    token: str | None = None
    page_size: int = Field(default=50, ge=5, le=500)
    login_limits: LoginLimitsConfig = Field(default_factory=LoginLimitsConfig)

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


Loc = tuple[str | int, ...]


def cross_field_problems(data: dict[str, Any], invalid: set[Loc]) -> dict[Loc, str]:
    """Checks that relate several entries (unique source ids and route names, a digest route's cron, the source
    ids a route names), run on the resolved config data whether the rest validated or not: a value is used when
    no schema error lies at or under its path (``invalid``: the locations of those errors), so every problem is
    reported in one pass. Pydantic runs a model's "after" validators only when all of its fields validated,
    which is why these are not validators."""
    def validated(loc: Loc) -> bool:
        return not any(bad[:len(loc)] == loc for bad in invalid)

    problems: dict[Loc, str] = {}
    sources = data.get("sources", [])
    ids: dict[str, int] = {}
    every_id_usable = isinstance(sources, list)
    for index, source in enumerate(sources if isinstance(sources, list) else ()):
        value = source.get("id") if isinstance(source, dict) else None
        if not (isinstance(value, str) and validated(("sources", index, "id"))):
            every_id_usable = False
        elif value in ids:
            problems[("sources", index, "id")] = f"duplicate source id {value!r} (also sources[{ids[value]}].id)"
        else:
            ids[value] = index
    alerts = data.get("alerts")
    routes = alerts.get("routes") if isinstance(alerts, dict) else None
    names: dict[str, int] = {}
    for index, route in enumerate(routes if isinstance(routes, list) else ()):
        if not isinstance(route, dict):
            continue
        where: Loc = ("alerts", "routes", index)
        name = route.get("name")
        if isinstance(name, str) and validated((*where, "name")):
            if name in names:
                problems[(*where, "name")] = f"duplicate route name {name!r} (also alerts.routes[{names[name]}].name)"
            else:
                names[name] = index
        mode, cron = route.get("mode", "immediate"), route.get("cron")
        if mode == "digest" and validated((*where, "mode")) and not cron:  # a bad cron has its own error
            problems[where] = "a digest route needs a 'cron' (when to send, e.g. '0 8 * * *')"
        wanted = route.get("sources")
        # A route filtered on a source id that no source has would never send anything, silently; unknown only
        # when every source's id could be read.
        if every_id_usable and isinstance(wanted, list) and validated((*where, "sources")):
            missing = [source_id for source_id in wanted if source_id not in ids]
            if missing:
                problems[(*where, "sources")] = f"no source with id {', '.join(map(repr, missing))}"
    return problems
