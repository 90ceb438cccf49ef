"""Claim-update recall: of the articles whose claim sentence had its figure changed, how many made a ``claim_updated``.

Run from the repository root (no network: everything is served on 127.0.0.1):

    .venv/bin/python bench/claim_update_recall.py                 # 6 outlets x 8 articles, seed 0
    .venv/bin/python bench/claim_update_recall.py --misses        # also list every miss with the matcher's reasons
    .venv/bin/python bench/claim_update_recall.py --outlets 10 --articles 12 --seed 3 --json

What it does:

* Serves ``--outlets`` x ``--articles`` articles from ``labourwatch.fixtureweb.varied.VariedWeb``: English stories
  about North Korean workers abroad in varied newsroom phrasing, each restating two or three known claims, most
  claim sentences naming the workers only through the article ("their wages", "these labourers", "he and his
  colleagues"). Each article has one planned figure edit in one claim sentence (workers, hours a day, the state's
  share of wages, an IT worker's pay, a year), to a value that differs from the known claim's under the claims
  policy.
* Imports the known claims (``--claims``, the test set by default) into a fresh migrated SQLite database and
  crawls every outlet's RSS feed and sitemap with the real crawl (``run_crawl``, options lowered for loopback,
  ``revisit=(0s,)`` so every article is due for a re-check at once).
* Moves the web to the edited versions (every planned edit at once) and crawls again.
* For each planned edit: a hit is a ``claim_updated`` event, written by the second crawl for that article's URL,
  about the edited sentence, with the planned claim id, old values that state the known claim's figure and new
  values that state the new figure (as printed, or the same quantity: "a fifth" kept is 80 % taken, "$20,000 a
  month" is $240,000 a year). Anything else is a miss, classed by what the stored claim match of the sentence says
  (no match row, ``new``, ``corroborates``, another claim, wrong values).

Prints recall overall, by kind of figure and by how the sentence names the workers; ``--misses`` lists every miss
(sentence, verdict, reasons); ``--json`` prints the whole result as JSON instead. The semantic signal follows the
matcher's default (on); ``--no-semantic`` switches it off for the crawl.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from analysis.claims.matcher import ClaimMatcher  # noqa: E402
from analysis.claims.model import claims_from_yaml_data  # noqa: E402
from crawler.types import CrawlOptions, SourceSpec  # noqa: E402
from db import claims as claim_store  # noqa: E402
from db.engine import Database  # noqa: E402
from db.models import Article, ArticleVersion, ClaimMatchRow, Event  # noqa: E402
from labourwatch.fixtureweb.varied import KINDS, PlannedEdit, VariedWeb  # noqa: E402

CLAIMS = ROOT / "tests" / "analysis" / "claims" / "data" / "known_claims.yaml"
OPTIONS = CrawlOptions(
    allow_private_networks=True, autothrottle=False, per_domain_concurrency=8, concurrency=16, delay=0.0,
    timeout=15.0, retries=1, revisit=(timedelta(0),), max_feed_age=None,
)

# -- reading values ------------------------------------------------------------------------------------------------

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORD_NUMBERS = {word: i for i, word in enumerate(_ONES)} | {word: 20 + 10 * i for i, word in enumerate(_TENS)}
_MULTIPLIERS = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mn": 1_000_000, "million": 1_000_000,
                "bn": 1_000_000_000, "billion": 1_000_000_000}
_NUMBER = re.compile(r"(\d{1,3}(?:[,\u00a0 ]\d{3})+|\d+(?:\.\d+)?)\s*(k|mn|m|bn|thousand|million|billion)?\b")
_SCALES = frozenset(("hundred", "thousand"))


def _word_runs(text: str) -> Iterator[list[str]]:
    """Runs of consecutive number words ("twelve hundred", "two thousand and five")."""
    run: list[str] = []
    for token in re.findall(r"[a-z]+", text):
        if token in _WORD_NUMBERS or token in _SCALES or (token == "and" and run):
            run.append(token)
            continue
        if run:
            yield run
        run = []
    if run:
        yield run


def _words_value(words: list[str]) -> int:
    """The number a run of number words states."""
    total = current = 0
    for word in words:
        if word == "hundred":
            current = (current or 1) * 100
        elif word == "thousand":
            total += (current or 1) * 1000
            current = 0
        elif word != "and":
            current += _WORD_NUMBERS[word]
    return total + current


def numbers_in(values: Iterable[str]) -> set[int]:
    """Every whole number a list of reported values states: "2,500" → 2500, "$1.2bn" → 1200000000, "twenty" → 20."""
    found: set[int] = set()
    for value in values:
        text = value.lower()
        for match in _NUMBER.finditer(text):
            digits = re.sub(r"[,\u00a0 ]", "", match[1])
            found.add(round(float(digits) * _MULTIPLIERS.get(match[2] or "", 1)))
        found |= {_words_value(run) for run in _word_runs(text)}
    return found


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def old_values_right(edit: PlannedEdit, old_values: Sequence[str]) -> bool:
    """Whether the reported old values state the known claim's figure (both ends of a range)."""
    return set(edit.old_numbers) <= numbers_in(old_values)


def new_values_right(edit: PlannedEdit, new_values: Sequence[str]) -> bool:
    """Whether the reported new values state the edited figure: as printed, or as the same quantity."""
    stated = numbers_in(new_values)
    if set(edit.new_numbers) <= stated or (edit.new_alternatives and set(edit.new_alternatives) <= stated):
        return True
    reported = _squash(" ".join(new_values))
    return all(_squash(part) in reported for part in edit.new_written.split(" / "))


# -- the run -------------------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What the monitor made of one planned edit."""

    url: str
    claim_id: str
    kind: str
    form: str
    reference: str
    wording: int
    sentence: str
    old_written: str
    new_written: str
    hit: bool
    miss: str | None = None
    label: str | None = None
    matched_claim: str | None = None
    old_values: list[str] = field(default_factory=list)
    new_values: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    stored_sentence: str | None = None
    updated: list[str] = field(default_factory=list)  # claims of the claim_updated events about the sentence


@dataclass
class Recall:
    """The result of one measurement."""

    outlets: int
    articles: int
    seed: int
    semantic: bool
    seconds: float
    outcomes: list[Outcome]
    fetched_after_edit: int  # relevant articles whose edited version was stored
    relevant: int

    @property
    def edits(self) -> int:
        """How many planned edits were measured."""
        return len(self.outcomes)

    @property
    def hits(self) -> int:
        """How many of them made the right ``claim_updated`` event."""
        return sum(o.hit for o in self.outcomes)

    @property
    def recall(self) -> float:
        """Hits over edits."""
        return self.hits / self.edits if self.edits else 0.0

    @property
    def right_claim(self) -> int:
        """Edits with a ``claim_updated`` event for the planned claim, whatever values it reports."""
        return sum(o.claim_id in o.updated for o in self.outcomes)

    @property
    def any_update(self) -> int:
        """Edits with a ``claim_updated`` event about the edited sentence, for any claim."""
        return sum(bool(o.updated) for o in self.outcomes)

    def by(self, attribute: str) -> dict[str, dict[str, float]]:
        """Edits, hits and recall grouped by one attribute of the outcomes (``kind``, ``reference``, ``form``)."""
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            groups[str(getattr(outcome, attribute))].append(outcome)
        return {key: {"edits": len(group), "hits": sum(o.hit for o in group),
                      "recall": round(sum(o.hit for o in group) / len(group), 3)}
                for key, group in sorted(groups.items())}

    def misses(self) -> list[Outcome]:
        """The outcomes that were not hits."""
        return [o for o in self.outcomes if not o.hit]

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready."""
        return {
            "outlets": self.outlets, "articles": self.articles, "seed": self.seed, "semantic": self.semantic,
            "seconds": round(self.seconds, 1), "edits": self.edits, "hits": self.hits,
            "recall": round(self.recall, 3), "right_claim_any_values": self.right_claim,
            "claim_updated_any_claim": self.any_update, "relevant_articles": self.relevant,
            "fetched_after_edit": self.fetched_after_edit,
            "by_kind": self.by("kind"), "by_reference": self.by("reference"), "by_claim": self.by("claim_id"),
            "by_form": self.by("form"),
            "misses": [asdict(o) for o in self.misses()],
        }


def import_claims(db: Database, path: Path = CLAIMS) -> None:
    """Load the known claims from ``path`` into the database, as ``labourwatch claims import`` does."""
    with db.write() as session:
        claim_store.import_claims(session, claims_from_yaml_data(yaml.safe_load(path.read_text("utf-8"))))


def sources_of(web: VariedWeb) -> list[SourceSpec]:
    """Every outlet's feed and sitemap as crawl sources."""
    return [SourceSpec(id=s["id"], kind=s["kind"], url=s["url"]) for s in web.sources()]


def crawl(db: Database, sources: Sequence[SourceSpec], options: CrawlOptions = OPTIONS) -> None:
    """One real crawl pass (feeds, sitemaps and due re-checks) on the process's reactor."""
    from analysis.relevance import DEFAULT_TOPIC
    from crawler import reactor
    from crawler.runner import run_crawl

    report = reactor.run(run_crawl(db, sources, options, DEFAULT_TOPIC, trigger="bench"))
    if report.status != "ok":
        raise RuntimeError(f"crawl ended {report.status}: {report.ledger.errors[:3]}")


def measure(db: Database, outlets: int = 6, articles: int = 8, seed: int = 0, *,
            claims: Path = CLAIMS, options: CrawlOptions = OPTIONS) -> Recall:
    """Serve, crawl, edit, crawl again and judge every planned edit; ``db`` must be migrated and empty."""
    from analysis.claims import semantic

    started = time.perf_counter()
    import_claims(db, claims)
    with VariedWeb(outlets, articles, seed) as web:
        sources = sources_of(web)
        crawl(db, sources, options)
        last_event = _last_event_id(db)
        web.advance()
        crawl(db, sources, options)
        planned = web.varied_articles()
    matcher = ClaimMatcher(claims_from_yaml_data(yaml.safe_load(claims.read_text("utf-8"))))
    outcomes = [_judge(db, url, article.edit, last_event, matcher) for url, article in planned if article.edit]
    with db.read() as session:
        relevant = session.scalar(select(func.count()).select_from(Article).where(Article.relevant)) or 0
        refetched = session.scalar(select(func.count(func.distinct(ArticleVersion.article_id)))
                                   .join(Article, Article.id == ArticleVersion.article_id)
                                   .where(Article.relevant, ArticleVersion.number > 1)) or 0
    return Recall(outlets, articles, seed, semantic.enabled(), time.perf_counter() - started, outcomes,
                  refetched, relevant)


def _last_event_id(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.max(Event.id))) or 0


def _same_sentence(stored: str, planned: str) -> float:
    a, b = _squash(stored), _squash(planned)
    return 1.0 if a == b else SequenceMatcher(None, a, b).ratio()


def _explain(sentence: str, text: str, matcher: ClaimMatcher) -> tuple[str, str | None, list[str]]:
    """The verdict ``labourwatch claims match --context TEXT SENTENCE`` gives: label, claim and reasons."""
    from analysis.claims.context import article_context, read_in_context
    from analysis.text import split_sentences

    read_as = read_in_context(sentence, article_context(split_sentences(text)))
    match = matcher.explain(read_as or sentence).match
    return match.label, match.claim_id, [*match.reasons, f"read as: {read_as}" if read_as else "not read in context"]


def _judge(db: Database, url: str, edit: PlannedEdit, after_event: int, matcher: ClaimMatcher) -> Outcome:
    """Compare what the second crawl recorded for ``url`` with the planned edit."""
    outcome = Outcome(url=url, claim_id=edit.claim_id, kind=edit.kind, form=edit.form, reference=edit.reference,
                      wording=edit.wording, sentence=edit.after, old_written=edit.old_written,
                      new_written=edit.new_written, hit=False)
    with db.read() as session:
        events = list(session.scalars(select(Event).where(Event.id > after_event, Event.url == url,
                                                          Event.type == "claim_updated")))
        version = session.scalars(select(ArticleVersion).where(ArticleVersion.url == url, ArticleVersion.number > 1)
                                  .order_by(ArticleVersion.number.desc())).first()
        rows = list(session.scalars(select(ClaimMatchRow).where(ClaimMatchRow.version_id == version.id))) \
            if version else []
    about = [e for e in events if _same_sentence((e.details or {}).get("sentence", ""), edit.after) > 0.9]
    outcome.updated = sorted(e.claim_id or "" for e in about)
    for event in about:
        details = event.details or {}
        if (event.claim_id == edit.claim_id and old_values_right(edit, details.get("old_values", []))
                and new_values_right(edit, details.get("new_values", []))):
            outcome.hit = True
            return outcome
    if version is None:
        with db.read() as session:
            article = session.scalars(select(Article).where(Article.url == url)).first()
        outcome.miss = ("article not stored" if article is None else
                        f"article judged not relevant (score {article.relevance_score:.2f}): edits are not matched"
                        if not article.relevant else "edited version not stored")
        return outcome
    row = max(rows, key=lambda r: _same_sentence(r.sentence, edit.after), default=None)
    if row is None or _same_sentence(row.sentence, edit.after) < 0.8:
        outcome.miss = "not a claim sentence (no topic term, and not read through the article)"
        outcome.label, outcome.matched_claim, outcome.reasons = _explain(edit.after, version.text, matcher)
        outcome.reasons[0] = f"claims match --context says: {outcome.reasons[0]}"
        return outcome
    outcome.label, outcome.matched_claim, outcome.stored_sentence = row.label, row.claim_id, row.sentence
    outcome.old_values, outcome.new_values = list(row.old_values), list(row.new_values)
    outcome.reasons = list(row.reasons)
    if row.label != "updates":
        outcome.miss = f"labelled {row.label}"
    elif row.claim_id != edit.claim_id:
        outcome.miss = "updates another claim"
    elif not old_values_right(edit, row.old_values):
        outcome.miss = "wrong old values"
    elif not new_values_right(edit, row.new_values):
        outcome.miss = "wrong new values"
    else:
        outcome.miss = "updates, but no claim_updated event"
    return outcome


# -- output --------------------------------------------------------------------------------------------------------

def _table(title: str, groups: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"| {title} | edits | hits | recall |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {key} | {g['edits']} | {g['hits']} | {g['recall']:.2f} |" for key, g in groups.items()]
    return lines


def report_text(result: Recall, *, misses: bool) -> str:
    """The result as markdown: recall overall and by group, then (with ``misses``) every miss."""
    lines = [f"claim-update recall: {result.hits}/{result.edits} = {result.recall:.3f} "
             f"({result.outlets} outlets x {result.articles} articles, seed {result.seed}, "
             f"semantic {'on' if result.semantic else 'off'}, {result.seconds:.1f} s; "
             f"{result.relevant} articles relevant, {result.fetched_after_edit} of them stored again edited)",
             f"claim_updated for the planned claim, values aside: {result.right_claim}/{result.edits}; "
             f"claim_updated about the edited sentence, any claim: {result.any_update}/{result.edits}", ""]
    by_kind = result.by("kind")
    groups = [("kind", {k: by_kind[k] for k in KINDS if k in by_kind}), ("names the workers", result.by("reference")),
              ("claim", result.by("claim_id")), ("figure written as", result.by("form"))]
    for title, group in groups:
        lines += [*_table(title, group), ""]
    if misses:
        lines += [f"misses ({len(result.misses())}):"]
        for o in result.misses():
            lines += [f"- [{o.kind}/{o.claim_id}, {o.reference}, {o.form}] {o.miss}",
                      f"  sentence: {o.sentence}",
                      f"  verdict:  {o.label} {o.matched_claim or ''} old={o.old_values} new={o.new_values}"
                      f"{'; claim_updated for ' + ', '.join(o.updated) if o.updated else ''}"
                      f" (edit {o.old_written} -> {o.new_written})",
                      f"  reasons:  {'; '.join(o.reasons) or '-'}",
                      f"  url:      {o.url}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--outlets", type=int, default=6)
    parser.add_argument("--articles", type=int, default=8, help="articles per outlet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claims", type=Path, default=CLAIMS, help="known claims YAML [%(default)s]")
    parser.add_argument("--misses", action="store_true", help="list every miss with the matcher's reasons")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--no-semantic", action="store_true", help="switch the semantic signal off")
    parser.add_argument("--db", type=Path, help="SQLite file to use (default: a temporary one)")
    args = parser.parse_args(argv)

    from analysis.claims import semantic
    from crawler import reactor
    from db.migrate import upgrade

    if args.no_semantic:
        semantic.configure(False)
    with tempfile.TemporaryDirectory(prefix="lw-recall-") as tmp:
        path = args.db or Path(tmp) / "recall.db"
        if path.exists():
            parser.error(f"{path} exists: give a new file")
        db = Database(f"sqlite:///{path}")
        upgrade(db)
        try:
            result = measure(db, args.outlets, args.articles, args.seed, claims=args.claims)
        finally:
            db.dispose()
            reactor.shutdown()
    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) if args.json
          else report_text(result, misses=args.misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
