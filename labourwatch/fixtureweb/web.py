"""``FixtureWeb``: a set of fake news sites and a fault site on 127.0.0.1, moved through states by ``advance()``."""

from __future__ import annotations

import threading
from types import TracebackType

from labourwatch.fixtureweb.content import Article
from labourwatch.fixtureweb.faults import FAULT_SITE_ID, FAULT_SOURCES, FaultResponder, robots_fault_specs
from labourwatch.fixtureweb.feeds import article_url
from labourwatch.fixtureweb.render import SiteResponder
from labourwatch.fixtureweb.server import RequestLog, Responder, SiteServer
from labourwatch.fixtureweb.sites import ArticleInfo, SiteModel, SiteSpec, StateChange, default_sites
from labourwatch.fixtureweb.states import Step, apply_step

LISTING_SELECTOR = "h2.headline a"


class FixtureWebError(RuntimeError):
    """The fixture web was used in a way it does not support (e.g. asked for a URL before ``start()``)."""


class FixtureWeb:
    """Fake news sites for integration tests, benchmarks and the offline demo; deterministic per spec list."""

    def __init__(self, sites: list[SiteSpec] | None = None, *, fault_delay: float = 5.0,
                 poll_interval: float = 0.05, own_hosts: bool = False) -> None:
        """``poll_interval``: how often each site's serving thread wakes to look for ``stop()``; hundreds of
        sites want it longer (every wake-up takes the bench's CPU), at the cost of a slower ``stop()``.
        ``own_hosts``: each site on a loopback address of its own (127.1.x.y; the fault sites stay on 127.0.0.1),
        as sites on the web have host names of their own: a crawler that is polite per host (Scrapy's download
        slots are per host name, whatever the port) otherwise takes every site for one host."""
        self.poll_interval = poll_interval
        self.own_hosts = own_hosts
        specs = list(sites) if sites is not None else default_sites()
        fault_specs = robots_fault_specs()
        ids = [s.id for s in specs]
        reserved = {FAULT_SITE_ID} | {s.id for s in fault_specs}
        if len(set(ids)) != len(ids) or reserved & set(ids):
            raise ValueError(f"site ids must be unique and not one of {sorted(reserved)}: {ids}")
        wrong = [s.id for s in specs if s.feed_of is not None and (s.feed_of not in ids or s.feed_of == s.id)]
        if wrong:
            raise ValueError(f"sites {wrong}: feed_of must name another site of the web")
        self.fault_delay = fault_delay
        self.requests = RequestLog()
        self._models = [SiteModel(spec) for spec in specs]
        self._responders = {m.spec.id: SiteResponder(m) for m in self._models}
        for responder in self._responders.values():
            if responder.model.spec.feed_of is not None:
                responder.feed_of = self._responders[responder.model.spec.feed_of]
        self._fault_responders = {s.id: SiteResponder(SiteModel(s)) for s in fault_specs}
        for responder in (*self._responders.values(), *self._fault_responders.values()):
            responder.update(0)
        self._state = 0
        self._cursor = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._servers: dict[str, SiteServer] = {}
        self._stopped = False

    # -- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> FixtureWeb:
        """Bind every site (and the fault sites) on 127.0.0.1 (or ``own_hosts``) with OS-chosen ports and start
        serving."""
        with self._lock:
            if self._servers or self._stopped:
                raise FixtureWebError("a FixtureWeb can be started once")
            responders: dict[str, Responder] = {**self._responders, **self._fault_responders}
            responders[FAULT_SITE_ID] = FaultResponder(self.fault_delay)
            try:
                for n, (site_id, responder) in enumerate(responders.items()):
                    host = self.host_of(n) if self.own_hosts and site_id in self._responders else "127.0.0.1"
                    server = SiteServer(site_id, responder, self.requests, self._stopping, self.poll_interval, host)
                    self._servers[site_id] = server
                    if isinstance(responder, SiteResponder | FaultResponder):
                        responder.origin = f"http://{host}:{server.port}"
                for server in self._servers.values():
                    server.start()
            except BaseException:
                self.stop()
                raise
            return self

    def stop(self) -> None:
        """Close every socket and join every thread; slow responses in progress are cut short. Idempotent."""
        with self._lock:
            self._stopped = True
            self._stopping.set()
            servers, self._servers = list(self._servers.values()), {}
        # In parallel: each server's shutdown waits up to one poll interval, which adds up over 50 sites.
        stoppers = [threading.Thread(target=server.stop, name="fixtureweb-stop") for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------------------------

    @staticmethod
    def host_of(n: int) -> str:
        """The loopback address of site number ``n`` with ``own_hosts`` (Linux routes all of 127/8 to lo)."""
        return f"127.1.{n // 250}.{n % 250 + 1}"

    def site_url(self, site_id: str) -> str:
        """``http://127.0.0.1:PORT`` (or the site's own loopback address) of a site (or of "fault",
        "fault-robots-disallow", "fault-robots-500")."""
        with self._lock:
            server = self._servers.get(site_id)
            if server is None:
                known = [m.spec.id for m in self._models] + [FAULT_SITE_ID, *self._fault_responders]
                if site_id not in known:
                    raise KeyError(f"unknown site {site_id!r} (known: {', '.join(known)})")
                raise FixtureWebError("the fixture web is not running: call start() first")
            return f"http://{server.host}:{server.port}"

    def sources(self, kinds: set[str] | None = None) -> list[dict[str, str]]:
        """Config-ready source entries (feed, sitemap, listing) for every site, optionally only some kinds."""
        out = []
        for model in self._models:
            spec, base = model.spec, self.site_url(model.spec.id)
            if spec.rss:
                out.append({"id": f"{spec.id}-rss", "kind": "feed", "url": f"{base}/rss.xml"})
            if spec.atom:
                out.append({"id": f"{spec.id}-atom", "kind": "feed", "url": f"{base}/atom.xml"})
            out += [{"id": f"{spec.id}-section{k}", "kind": "feed", "url": base + spec.section_path(k)}
                    for k in range(spec.sections)]
            if spec.sitemap:
                out.append({"id": f"{spec.id}-sitemap", "kind": "sitemap", "url": f"{base}/sitemap-index.xml"})
            if spec.listing:
                out.append({"id": f"{spec.id}-news", "kind": "listing", "url": f"{base}/news/",
                            "link_selector": LISTING_SELECTOR})
        return [s for s in out if kinds is None or s["kind"] in kinds]

    def fault_sources(self) -> list[dict[str, str]]:
        """Config entries for every fault endpoint, ids ``fault-<name>``."""
        base = self.site_url(FAULT_SITE_ID)
        out = []
        for name, kind, path in FAULT_SOURCES:
            entry = {"id": f"fault-{name}", "kind": kind, "url": base + path}
            if kind == "listing":
                entry["link_selector"] = LISTING_SELECTOR
            out.append(entry)
        for site_id in self._fault_responders:
            out.append({"id": site_id, "kind": "feed", "url": f"{self.site_url(site_id)}/rss.xml"})
        return out

    # -- states ------------------------------------------------------------------------------------------------

    @property
    def state(self) -> int:
        """The current state (0 until the first ``advance()``)."""
        return self._state

    def advance(self) -> StateChange:
        """Publish new articles, make one figure edit, one correction and one headline change; churn the rest.

        The three edits go to three different on-topic articles (there must be at least three across all sites,
        otherwise no edits are made); they cycle through all on-topic articles as states go by.
        """
        with self._lock:
            urls = self._urls()
            before = {id(a) for m in self._models for a in m.articles}
            step = apply_step(self._models, self._state + 1, self._cursor)
            self._state, self._cursor = step.state, step.cursor
            for responder in self._responders.values():
                responder.update(self._state)
            return self._describe(step, urls, before)

    def _urls(self) -> dict[str, str]:
        return {m.spec.id: self.site_url(m.spec.id) for m in self._models}

    def _describe(self, step: Step, urls: dict[str, str], before: set[int]) -> StateChange:
        def url(article: Article) -> str:
            return article_url(urls[article.site_id], article)

        edited = step.edited()
        untouched = [a for m in self._models for a in m.articles if id(a) in before and a not in edited]
        return StateChange(
            state=step.state,
            new=tuple(url(a) for a in step.new),
            edited=tuple(url(a) for a in edited),
            figure_edits={url(a): (old, new) for a, old, new in step.figure_edits},
            headline_changes={url(a): (old, new) for a, old, new in step.headline_changes},
            corrections=tuple(url(a) for a in step.corrections),
            sidebar_only=tuple(url(a) for a in untouched),
        )

    def articles(self, site_id: str | None = None) -> list[ArticleInfo]:
        """The articles currently published, site by site, newest first."""
        with self._lock:
            out = []
            for model in self._models:
                if site_id is not None and model.spec.id != site_id:
                    continue
                base = self.site_url(model.spec.id)
                out += [ArticleInfo(a.site_id, a.slug, article_url(base, a), a.title, a.language, a.on_topic,
                                    a.published, a.version) for a in model.newest_first()]
            if site_id is not None and not out and site_id not in self._responders:
                raise KeyError(f"unknown site {site_id!r}")
            return out

    @property
    def specs(self) -> list[SiteSpec]:
        """The specs of the (non-fault) sites, in order."""
        return [m.spec for m in self._models]

    def reset_log(self) -> None:
        """Forget every logged request."""
        self.requests.clear()
