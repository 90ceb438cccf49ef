"""``labourwatch claims match|eval|rematch|matches``: explain, score, re-run and review claim matching."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from analysis.claims.context import article_context, read_in_context
from analysis.claims.evaluate import LABELS, EvalReport, evaluate, examples_from_records
from analysis.claims.matcher import ClaimMatcher, Explanation
from analysis.claims.model import Claim
from analysis.claims.sentences import CONTEXT_REASON, KnownClaims, match_article
from analysis.relevance import matcher_for
from analysis.text import split_sentences
from db import candidates as candidate_store
from db import claims as claim_store
from labourwatch.commands.claims import read_claims_file, sync_configured_claims
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS, console, print_json, print_rows


def _claims_to_use(app: AppContext, file: Path | None) -> tuple[list[Claim], str]:
    """The active claims of ``file``; else those of the database; else those of the configured file."""
    if file is not None:
        return [c for c in read_claims_file(file) if c.status == "active"], str(file)
    with app.database().read() as session:
        stored = claim_store.matching_claims(session)
    if stored:
        return stored, "the database"
    configured = app.config.claims_file
    if configured is None or not configured.exists():
        raise click.UsageError("no claims: import some ('labourwatch claims import FILE') or give --claims FILE")
    return [c for c in read_claims_file(configured) if c.status == "active"], str(configured)


_SEMANTIC_OPTION = click.option("--semantic/--no-semantic", default=None,
                                help="Use the semantic signal [default: as the config's claims.semantic "
                                     "says; on with --claims and no config].")

_CLAIMS_OPTION = click.option("--claims", "claims_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                              default=None, help="Match against this claims file [default: the database's claims, "
                                                 "or the configured claims file when the database has none].")


def _print_explanation(explanation: Explanation, origin: str, count: int) -> None:
    out = console()
    match = explanation.match
    out.print(f"matched against {count} claims from {origin}", markup=False)
    out.print(f"sentence:   {explanation.sentence}", markup=False)
    if explanation.glosses:
        out.print("glossed:    " + ", ".join(f"{word} → {gloss}" for word, gloss in explanation.glosses), markup=False)
    out.print(f"normalised: {explanation.normalised}", markup=False)
    subject = explanation.as_dict()["subject"] or {}
    shown = ", ".join(f"{key}={value}" for key, value in subject.items() if value not in (False, [], None))
    out.print(f"subject:    {shown or '(nothing the gate recognises)'}", markup=False)
    out.print(f"figures:    {', '.join(explanation.figures) or '(none)'}", markup=False)
    print_rows([{"claim_id": c.claim_id, "fuzzy": f"{c.fuzzy:.3f}", "coverage": f"{c.coverage:.3f}",
                 "similarity": f"{c.similarity:.3f}",
                 "gate": ("pass" if c.gate_passed else "FAIL") + (f": {c.gate_reason}" if c.gate_reason else "")}
                for c in explanation.candidates],
               [("claim_id", "claim", None), ("fuzzy", "fuzzy", None), ("coverage", "coverage", None),
                ("similarity", "similarity", None), ("gate", "subject gate", 60)], "table",
               title="top candidates")
    for difference in explanation.differences:
        out.print(f"differs:    {difference.slot}: claim says {difference.old!r}, sentence says {difference.new!r}",
                  markup=False)
    verdict = f"{match.label}" + (f" {match.claim_id}" if match.claim_id else "")
    out.print(f"verdict:    {verdict} (confidence {match.confidence:.2f}, score {match.score:.3f})", markup=False)
    if match.old_values or match.new_values:
        out.print(f"            was {', '.join(match.old_values)}; now {', '.join(match.new_values)}", markup=False)
    for reason in match.reasons:
        out.print(f"because:    {reason}", markup=False)


@click.command("match")
@click.argument("sentence")
@_CLAIMS_OPTION
@_SEMANTIC_OPTION
@click.option("--context", "context_text", default=None, metavar="TEXT",
              help="The article around SENTENCE (or the sentences before it): a sentence that names North Korean "
                   "workers only through it (\"their wages\") is read as the article's reader reads it.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def claims_match(app: AppContext, sentence: str, claims_file: Path | None, semantic: bool | None,
                 context_text: str | None, fmt: str) -> None:
    """Explain the verdict on one SENTENCE: normalised text, top candidates, figures, gate, label and why."""
    known, origin = _claims_to_use(app, claims_file)
    read_as = None
    if context_text is not None:
        read_as = read_in_context(sentence, article_context(split_sentences(context_text)))
    explanation = ClaimMatcher(known, semantic=semantic).explain(read_as or sentence)
    if fmt == "json":
        print_json({"claims_from": origin, "claims": len(known), "read_as": read_as, **explanation.as_dict()})
        return
    _print_explanation(explanation, origin, len(known))
    if read_as is not None:
        console().print(f"context:    {CONTEXT_REASON}: {read_as}", markup=False)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path}: cannot read ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise click.UsageError(f"{path}:{number}: not valid JSON ({exc})") from exc
        except RecursionError as exc:  # json's parser recurses once per bracket
            raise click.UsageError(f"{path}:{number}: not valid JSON (nested too deep)") from exc
        if not isinstance(record, dict):
            raise click.UsageError(f"{path}:{number}: expected a JSON object")
        records.append(record)
    return records


def _print_report(report: EvalReport, path: Path, origin: str, count: int) -> None:
    rows = [{"label": label, **vars(report.per_class[label])} for label in LABELS]
    for row in rows:
        for key in ("precision", "recall", "f1"):
            row[key] = f"{row[key]:.3f}"
    print_rows(rows, [("label", "label", None), ("precision", "precision", None), ("recall", "recall", None),
                      ("f1", "F1", None), ("support", "support", None)], "table",
               title=f"{path.name} against {count} claims from {origin}")
    print_rows([{"gold": gold, **{label: report.confusion[gold][label] for label in LABELS}} for gold in LABELS],
               [("gold", "gold \\ predicted", None), *((label, label, None) for label in LABELS)], "table",
               title="confusion")
    click.echo(f"macro-F1 {report.macro_f1:.3f}  accuracy {report.accuracy:.3f}  "
               f"right claim (non-new) {report.claim_accuracy:.3f}")
    if report.languages:
        print_rows([{"lang": lang, "examples": sum(scores.support for scores in part.per_class.values()),
                     "macro_f1": f"{part.macro_f1:.3f}", "claim": f"{part.claim_accuracy:.3f}",
                     **{label: f"{part.per_class[label].recall:.3f}" for label in LABELS}}
                    for lang, part in report.languages.items()],
                   [("lang", "language", None), ("examples", "examples", None), ("macro_f1", "macro-F1", None),
                    ("claim", "right claim", None), *((label, f"{label} recall", None) for label in LABELS)],
                   "table", title="per language")
    for example_id, gold, predicted, claim_ids in report.errors:
        click.echo(f"  miss {example_id}: gold {gold}, got {predicted} ({claim_ids})")


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_CLAIMS_OPTION
@_SEMANTIC_OPTION
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def claims_eval(app: AppContext, file: Path, claims_file: Path | None, semantic: bool | None, fmt: str) -> None:
    """Score the matcher on a labelled FILE.jsonl ({"id", "sentence", "claim_id", "label"} per line)."""
    records = _read_jsonl(file)
    try:
        examples = examples_from_records(records)
    except (KeyError, TypeError, ValueError) as exc:
        raise click.UsageError(f"{file}: {exc}") from exc
    if not examples:
        raise click.UsageError(f"{file}: no labelled sentences")
    known, origin = _claims_to_use(app, claims_file)
    report = evaluate(examples, ClaimMatcher(known, semantic=semantic))
    if fmt == "json":
        print_json(report.as_dict() | {"examples": len(examples), "claims": len(known), "claims_from": origin})
        return
    _print_report(report, file, origin, len(known))


@click.command("rematch")
@click.option("--article", "article_ids", type=int, multiple=True, metavar="ID", help="Only this article (repeatable).")
@click.option("--no-sync", is_flag=True, help="Do not import the configured claims file first.")
@pass_app
def claims_rematch(app: AppContext, article_ids: tuple[int, ...], no_sync: bool) -> None:
    """Match every stored version of the relevant articles again, after the known claims changed."""
    database = app.database()
    if not no_sync:
        sync_configured_claims(app)
    with database.read() as session:
        active = claim_store.matching_claims(session)
        total = claim_store.count_versions(session, article_ids)
    if not active:
        raise click.UsageError("no active claims in the database: import some first ('labourwatch claims import')")
    known = KnownClaims.of(active)
    topic = matcher_for(app.config.topic)
    sentences = changed = removed = versions = 0
    interactive = sys.stderr.isatty()
    columns = (TextColumn("[bold]rematch"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, disable=not interactive) as progress:
        task = progress.add_task("", total=total)
        with database.read() as reader:
            for batch in claim_store.iter_versions(reader, article_ids):
                # As the crawl matches (the title is part of the article's context).
                verdicts = [match_article(version.text, topic, known.matcher, version.title or "") for version in batch]
                now = datetime.now(UTC)
                with database.write() as session:
                    for version, matches in zip(batch, verdicts, strict=True):
                        replaced = claim_store.replace_matches(session, version, matches, known.digest, now)
                        sentences += replaced.sentences
                        changed += replaced.changed
                        removed += replaced.removed
                versions += len(batch)
                progress.update(task, advance=len(batch))
    click.echo(f"rematched {versions} versions against {known.count} claims: {sentences} claim sentences, "
               f"{changed} with a new verdict, {removed} no longer claim sentences")


@click.command("matches")
@click.option("--claim", "claim_id", default=None, help="Only matches of this claim (its history in the news).")
@click.option("--label", type=click.Choice(LABELS), default=None)
@click.option("--article", "article_id", type=int, default=None)
@click.option("--all", "show_all", is_flag=True, help="Also new-claim sentences that are not about North Korean "
                                                       "workers (asides, other nationalities).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many [table: 50].")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def claims_matches(app: AppContext, claim_id: str | None, label: str | None, article_id: int | None, show_all: bool,
                   limit: int | None, fmt: str) -> None:
    """Stored verdicts on article sentences with their provenance, newest first."""
    with app.database().read() as session:
        rows = claim_store.match_rows(session, claim_id=claim_id, label=label, article_id=article_id,
                                      off_subject=show_all, limit=limit or (50 if fmt == "table" else None))
        # A new claim other outlets reported too: its candidate claim and how often it was reported.
        grouped = candidate_store.sightings_of(session, [(row["article_id"], row["sentence"]) for row in rows
                                                         if row["label"] == "new"])
    for row in rows:
        row["change"] = (f"{', '.join(row['old_values'])} → {', '.join(row['new_values'])}"
                         if row["old_values"] or row["new_values"] else "")
        found = grouped.get((row["article_id"], row["sentence"]))
        row["candidate"] = None if found is None else {"id": found.candidate_id, "sightings": found.sightings,
                                                       "outlets": found.outlets}
        if fmt == "table":
            row["seen"] = f"{found.sightings}× by {found.outlets}" if found else ""
    print_rows(rows, [("id", "id", None), ("label", "label", None), ("claim_id", "claim", None),
                      ("change", "change", 24), ("seen", "seen", None), ("sentence", "sentence", 70),
                      ("source_id", "source", None), ("fetched_at", "fetched", 10)], fmt)


COMMANDS = (claims_match, claims_eval, claims_rematch, claims_matches)
