"""The distinct claim verdicts a database holds (for example one left by ``labourwatch demo``), as a table.

    .venv/bin/python bench/demo_verdicts.py /tmp/labourwatch-demo-xyz/labourwatch.db            # markdown
    .venv/bin/python bench/demo_verdicts.py sqlite:///path/labourwatch.db --format jsonl
    .venv/bin/python bench/demo_verdicts.py DB --on-subject        # without new-claim sentences off the subject

Every stored claim match (one per claim sentence of each article version) is read with its version's language;
rows with the same (sentence, label, claim id) — the same verdict on an unchanged sentence in a later version —
are one row, with how many versions and articles carried it. Old and new values and reasons are those of the
first such match. The table holds no judgement of whether a verdict is right: it is the input for a reader who
judges them, and it is ordered by language, then label, then claim id, so that two databases' tables line up.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from db.engine import Database  # noqa: E402
from db.models import ArticleVersion, ClaimMatchRow  # noqa: E402


@dataclass
class Verdict:
    """One distinct (sentence, label, claim) verdict and where it was seen."""

    sentence: str
    language: str
    label: str
    claim_id: str | None
    old_values: list[Any]
    new_values: list[Any]
    reasons: list[Any]
    on_subject: bool
    versions: int = 0
    articles: set[int] = field(default_factory=set)

    def row(self) -> dict[str, Any]:
        """The verdict as plain JSON-able data (articles as a count)."""
        data = asdict(self)
        data["articles"] = len(self.articles)
        return data


def database_url(target: str) -> str:
    """A SQLAlchemy URL for ``target``: a URL as given, a file path as SQLite."""
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def distinct_verdicts(db: Database) -> list[Verdict]:
    """Every claim match of ``db``, one per (sentence, label, claim id), in a stable order."""
    query = (select(ClaimMatchRow, ArticleVersion.language)
             .join(ArticleVersion, ArticleVersion.id == ClaimMatchRow.version_id)
             .order_by(ClaimMatchRow.article_id, ArticleVersion.number, ClaimMatchRow.sentence_index))
    verdicts: dict[tuple[str, str, str | None], Verdict] = {}
    with db.read() as session:
        for match, language in session.execute(query):
            key = (match.sentence, match.label, match.claim_id)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = Verdict(match.sentence, language or "?", match.label, match.claim_id,
                                                  list(match.old_values), list(match.new_values),
                                                  list(match.reasons), match.on_subject)
            verdict.versions += 1
            verdict.articles.add(match.article_id)
    return sorted(verdicts.values(), key=lambda v: (v.language, v.label, v.claim_id or "", v.sentence))


def _cell(value: Any) -> str:
    """A markdown table cell: lists joined, pipes and newlines escaped."""
    if isinstance(value, list):
        value = "; ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(verdicts: Iterable[Verdict]) -> str:
    """The verdicts as a numbered markdown table."""
    columns = ("language", "label", "claim_id", "old_values", "new_values", "sentence", "reasons", "on_subject",
               "versions", "articles")
    lines = ["| # | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for number, verdict in enumerate(verdicts, 1):
        row = verdict.row()
        lines.append(f"| {number} | " + " | ".join(_cell(row[column]) for column in columns) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the distinct verdicts of the database given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("database", help="an SQLite file or a database URL")
    parser.add_argument("--format", choices=("markdown", "jsonl"), default="markdown")
    parser.add_argument("--on-subject", action="store_true",
                        help="leave out new-claim sentences the matcher found off the subject")
    args = parser.parse_args(argv)
    verdicts = distinct_verdicts(Database(database_url(args.database)))
    if args.on_subject:
        verdicts = [v for v in verdicts if v.on_subject or v.label != "new"]
    if args.format == "jsonl":
        for verdict in verdicts:
            print(json.dumps(verdict.row(), ensure_ascii=False))
    else:
        print(markdown(verdicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
