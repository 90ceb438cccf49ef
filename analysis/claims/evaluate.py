"""Scoring the matcher on labelled sentences: per-class precision/recall/F1, macro-F1, accuracy, claim accuracy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from analysis.claims.matcher import ClaimMatch

LABELS = ("corroborates", "updates", "new")


class MatcherLike(Protocol):
    """Anything with ``match_many``, such as :class:`~analysis.claims.matcher.ClaimMatcher`."""

    def match_many(self, sentences: Sequence[str]) -> list[ClaimMatch]: ...


@dataclass(frozen=True)
class Example:
    """One labelled sentence of an eval file."""

    id: str
    sentence: str
    label: str
    claim_id: str | None = None
    note: str = ""
    lang: str = "en"


@dataclass(frozen=True)
class ClassScores:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalReport:
    """How the matcher did on a set of examples; ``errors`` lists (id, gold, predicted, claim ids)."""

    per_class: dict[str, ClassScores]
    macro_f1: float
    accuracy: float
    claim_accuracy: float
    confusion: dict[str, dict[str, int]]
    errors: tuple[tuple[str, str, str, str], ...] = field(default=())
    # Per language of the examples, when they are in more than one: its own report (without a breakdown).
    languages: dict[str, EvalReport] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form with keys macro_f1, accuracy, claim_accuracy, per_class, confusion, errors."""
        return {
            "macro_f1": self.macro_f1,
            "accuracy": self.accuracy,
            "claim_accuracy": self.claim_accuracy,
            "per_class": {label: vars(scores) for label, scores in self.per_class.items()},
            "confusion": self.confusion,
            "errors": [list(error) for error in self.errors],
            "languages": {
                lang: {"examples": sum(report.per_class[label].support for label in LABELS),
                       "macro_f1": report.macro_f1, "accuracy": report.accuracy,
                       "claim_accuracy": report.claim_accuracy,
                       "recall": {label: report.per_class[label].recall for label in LABELS}}
                for lang, report in self.languages.items()
            },
        }


def examples_from_records(records: Iterable[Mapping[str, Any]]) -> list[Example]:
    """Examples from already-parsed eval JSONL records; labels are checked against the known three."""
    examples = []
    for record in records:
        label = str(record["label"])
        if label not in LABELS:
            raise ValueError(f"example {record.get('id')}: unknown label {label!r}; known labels: {', '.join(LABELS)}")
        claim_id = record.get("claim_id")
        examples.append(
            Example(str(record["id"]), str(record["sentence"]), label, None if claim_id is None else str(claim_id),
                    str(record.get("note", "")), str(record.get("lang", "en")))
        )  # fmt: skip
    return examples


def _class_scores(confusion: dict[str, dict[str, int]], label: str) -> ClassScores:
    true_positive = confusion[label][label]
    predicted = sum(confusion[gold][label] for gold in LABELS)
    support = sum(confusion[label].values())
    precision = true_positive / predicted if predicted else 0.0
    recall = true_positive / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassScores(round(precision, 4), round(recall, 4), round(f1, 4), support)


def evaluate(examples: Sequence[Example], matcher: MatcherLike) -> EvalReport:
    """Run the matcher on every example and score it against the gold labels and claim ids; examples in more than
    one language are also scored per language (``EvalReport.languages``)."""
    matches = matcher.match_many([example.sentence for example in examples])
    report = _score(examples, matches)
    languages = sorted({example.lang for example in examples})
    if len(languages) < 2:
        return report
    by_language = {
        lang: _score(*zip(*[(e, m) for e, m in zip(examples, matches, strict=True) if e.lang == lang], strict=True))
        for lang in languages
    }
    return replace(report, languages=by_language)


def _score(examples: Sequence[Example], matches: Sequence[ClaimMatch]) -> EvalReport:
    confusion = {gold: dict.fromkeys(LABELS, 0) for gold in LABELS}
    errors = []
    right_claim = matched_gold = 0
    for example, match in zip(examples, matches, strict=True):
        confusion[example.label][match.label] += 1
        if example.label != "new":
            matched_gold += 1
            right_claim += int(match.claim_id == example.claim_id)
        if match.label != example.label or (example.label != "new" and match.claim_id != example.claim_id):
            errors.append((example.id, example.label, match.label, f"{example.claim_id}->{match.claim_id}"))
    per_class = {label: _class_scores(confusion, label) for label in LABELS}
    correct = sum(confusion[label][label] for label in LABELS)
    return EvalReport(
        per_class=per_class,
        macro_f1=round(sum(scores.f1 for scores in per_class.values()) / len(LABELS), 4),
        accuracy=round(correct / len(examples), 4) if examples else 0.0,
        claim_accuracy=round(right_claim / matched_gold, 4) if matched_gold else 0.0,
        confusion=confusion,
        errors=tuple(errors),
    )
