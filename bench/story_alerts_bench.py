"""Messages per story change: what a newsroom route receives over a first crawl and three state changes.

Run from the repository root (no network: everything is served on 127.0.0.1):

    .venv/bin/python bench/story_alerts_bench.py                  # 6 outlets x 8 articles, 24 pairs, seed 0
    .venv/bin/python bench/story_alerts_bench.py --outlets 12 --articles 6 --pairs 36 --json

What it does:

* Serves ``labourwatch.fixtureweb.copies.CopiesWeb``: outlets of varied English reporting on North Korean workers
  abroad, in which, after the first crawl, other outlets publish copies of earlier articles (wire copies,
  syndicated copies, light rewrites) and sibling stories that repeat an earlier article's background paragraph
  and figures; the next two state changes edit claim figures in articles, copies included.
* Crawls with the real crawl into a fresh SQLite database with one route that names no event types (what a
  newsroom gets by default), the sources' baseline on, as the shipped config has it: after the first crawl,
  after the copies appear, and after each round of edits.
* Counts, per phase, the messages the route received (its delivery rows) against the real story changes
  (new articles on the topic that copy no other outlet's article, and edited ones), the messages about copies,
  and whether every figure edit of an article that is no copy reached the route (its story, stating the change).
* Beside it, today's behaviour: before stories, a route that named no event types received every
  ``new_article``, ``article_edited``, ``claim_*`` and ``new_claim`` event, and a source's first poll was no
  baseline; those events are all still stored, so the same run counts them.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from alerts.routes import Router  # noqa: E402
from alerts.types import RouteSpec  # noqa: E402
from bench.claim_update_recall import OPTIONS, import_claims  # noqa: E402
from crawler.types import SourceSpec  # noqa: E402
from db.engine import Database  # noqa: E402
from db.models import Article, Delivery, Event  # noqa: E402
from labourwatch.fixtureweb.copies import COPY_KINDS, CopiesWeb  # noqa: E402

# What a route that named no event types received before stories.
PER_EVENT_TYPES = ("new_article", "article_edited", "claim_corroborated", "claim_updated", "new_claim")
ROUTE = RouteSpec(name="desk", urls=("json://127.0.0.1:9/desk",))
# Every article is re-checked on every crawl, so each state change is seen by the crawl after it.
CRAWL = replace(OPTIONS, revisit=(timedelta(0),) * 8)


@dataclass
class Phase:
    """One crawl's figures."""

    name: str
    story_changes: int = 0  # new articles on the topic that copy nothing, and edited ones
    messages: int = 0  # what the route received
    baseline_summaries: int = 0
    from_copies: int = 0
    figure_edits: int = 0  # figure edits of articles that copy nothing
    figure_edits_alerted: int = 0
    per_event_messages: int = 0  # what the route would have received before stories
    missed: list[str] = field(default_factory=list)  # figure edits not told: the URL and what its story said


def crawl(db: Database, sources: Sequence[SourceSpec], router: Router) -> None:
    """One real crawl pass on the process's reactor, routing events through ``router``."""
    from analysis.relevance import DEFAULT_TOPIC
    from crawler import reactor
    from crawler.runner import run_crawl

    report = reactor.run(run_crawl(db, sources, CRAWL, DEFAULT_TOPIC, trigger="bench", router=router))
    if report.status != "ok":
        raise RuntimeError(f"crawl ended {report.status}: {report.ledger.errors[:3]}")


def _since(db: Database, event_id: int) -> tuple[list[Event], list[tuple[Delivery, Event]], dict[str, bool]]:
    with db.read() as session:
        found = list(session.scalars(select(Event).where(Event.id > event_id).order_by(Event.id)))
        sent = list(session.execute(select(Delivery, Event).join(Event, Event.id == Delivery.event_id)
                                    .where(Event.id > event_id)))
        relevant = {url: bool(on) for url, on in session.execute(select(Article.canonical_url, Article.relevant))}
        session.expunge_all()
    return found, sent, relevant


def _last_event(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.max(Event.id))) or 0)


def _states_change(story: Event) -> bool:
    """Whether a story tells its figure edit: an updated claim, or an edit whose figures changed."""
    claims = story.details.get("claims") or []
    edit = story.details.get("edit") or {}
    return any(c["verdict"] == "updates" for c in claims) or "figures" in (edit.get("changed") or [])


def _phase(db: Database, name: str, after: int, new: Sequence[str], edited: Sequence[str],
           figure_edits: Sequence[str], copies: set[str]) -> Phase:
    found, sent, relevant = _since(db, after)
    phase = Phase(name)
    real = {url for url in (*new, *edited) if relevant.get(url) and url not in copies}
    phase.story_changes = len(real)
    phase.messages = len(sent)
    phase.baseline_summaries = sum(1 for _, event in sent if event.type == "baseline")
    phase.from_copies = sum(1 for _, event in sent if event.url in copies)
    delivered = {event.url: event for _, event in sent if event.type == "story"}
    for url in figure_edits:
        if url in copies or not relevant.get(url):
            continue
        phase.figure_edits += 1
        story = delivered.get(url)
        told = story is not None and _states_change(story)
        phase.figure_edits_alerted += int(told)
        if not told:
            phase.missed.append(f"{url}: {story.summary if story is not None else 'no story sent'}")
    phase.per_event_messages = sum(1 for event in found if event.type in PER_EVENT_TYPES)
    return phase


def measure(db: Database, outlets: int = 6, articles: int = 8, pairs: int = 24, seed: int = 0) -> list[Phase]:
    """Serve, crawl, publish copies, edit twice, crawling after each; ``db`` must be migrated and empty."""
    import_claims(db)
    router = Router([ROUTE])
    phases = []
    with CopiesWeb(outlets, articles, seed, pairs=pairs) as web:
        sources = [SourceSpec(id=s["id"], kind=s["kind"], url=s["url"], baseline=True) for s in web.sources()]
        after = _last_event(db)
        crawl(db, sources, router)
        phases.append(_phase(db, "first crawl", after, [], [], [], set()))
        for name in ("copies and siblings published", "figure edits", "nothing changed"):
            change = web.advance()
            after = _last_event(db)
            crawl(db, sources, router)
            copies = {second for kind, _, second in web.pairs() if kind in COPY_KINDS}
            phases.append(_phase(db, name, after, change.new, change.edited, list(change.figure_edits), copies))
    return phases


def totals(phases: Sequence[Phase]) -> dict[str, Any]:
    """The figures over every phase; ``recall`` is of figure edits of articles that copy nothing."""
    edits = sum(p.figure_edits for p in phases)
    return {"story_changes": sum(p.story_changes for p in phases), "messages": sum(p.messages for p in phases),
            "baseline_summaries": sum(p.baseline_summaries for p in phases),
            "from_copies": sum(p.from_copies for p in phases),
            "per_event_messages": sum(p.per_event_messages for p in phases),
            "figure_edits": edits, "recall": sum(p.figure_edits_alerted for p in phases) / edits if edits else 1.0}


def report_text(phases: Sequence[Phase], seconds: float, cpu: float, rss_mib: float) -> str:
    """The phases as a table, then the totals."""
    lines = [f"{'phase':32} {'story changes':>13} {'messages':>8} {'baseline':>8} {'copies':>6} "
             f"{'figure edits alerted':>20} {'before stories':>14}"]
    for p in phases:
        lines.append(f"{p.name:32} {p.story_changes:>13} {p.messages:>8} {p.baseline_summaries:>8} "
                     f"{p.from_copies:>6} {f'{p.figure_edits_alerted}/{p.figure_edits}':>20} "
                     f"{p.per_event_messages:>14}")
    total = totals(phases)
    lines.append(f"total: {total['messages']} messages for {total['story_changes']} story changes "
                 f"+ {total['baseline_summaries']} baseline summary; {total['from_copies']} from copies; "
                 f"figure-edit recall {total['recall']:.3f}; before stories: {total['per_event_messages']} messages")
    lines += [f"  missed: {miss}" for p in phases for miss in p.missed]
    lines.append(f"wall {seconds:.1f} s, CPU {cpu:.1f} s, peak RSS {rss_mib:.0f} MiB")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outlets", type=int, default=6)
    parser.add_argument("--articles", type=int, default=8, help="articles per outlet")
    parser.add_argument("--pairs", type=int, default=24, help="copies and siblings published after the first crawl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)

    from crawler import reactor
    from db.migrate import upgrade

    started, cpu_started = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="lw-stories-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'stories.db'}")
        upgrade(db)
        try:
            phases = measure(db, args.outlets, args.articles, args.pairs, args.seed)
        finally:
            db.dispose()
            reactor.shutdown()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += children.ru_utime + children.ru_stime
    rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, children.ru_maxrss) / 1024
    if args.json:
        print(json.dumps({"phases": [asdict(p) for p in phases], "totals": totals(phases), "wall_s": seconds,
                          "cpu_s": cpu, "peak_rss_mib": rss}, indent=2))
    else:
        print(report_text(phases, seconds, cpu, rss))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
