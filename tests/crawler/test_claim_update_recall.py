"""Claim-update recall through the real crawl, on articles in varied newsroom phrasing (bench/claim_update_recall.py).

Three outlets x five articles from ``labourwatch.fixtureweb.varied``: each article's claim sentence has its figure
changed in a new version; the crawl must record a ``claim_updated`` event for the planned claim with the claim's
old and the sentence's new figure for at least 95 % of them.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from db.engine import Database
from db.migrate import upgrade
from labourwatch.fixtureweb.varied import KINDS, PlannedEdit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "claim_update_recall.py"
OUTLETS, ARTICLES = 3, 5


def load_bench() -> ModuleType:
    """bench/claim_update_recall.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("claim_update_recall", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


@pytest.fixture(scope="module")
def measured(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One measurement (two real crawls) shared by the tests of this module."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('recall') / 'recall.db'}")
    upgrade(db)
    try:
        yield bench.measure(db, OUTLETS, ARTICLES, seed=0)
    finally:
        db.dispose()


def test_every_planned_edit_is_measured_and_every_relevant_article_was_fetched_again(measured: Any) -> None:
    assert measured.edits == OUTLETS * ARTICLES
    assert {o.kind for o in measured.outcomes} == set(KINDS)
    assert measured.fetched_after_edit == measured.relevant > 0
    for outcome in measured.outcomes:
        assert outcome.hit == (outcome.miss is None), outcome


def _edit(**changes: Any) -> PlannedEdit:
    base: dict[str, Any] = dict(
        claim_id="K35", kind="share", slot="share", form="kept_fraction", reference="article", wording=0,
        before="They keep a tenth.", after="They keep a fifth.", old_written="a tenth", new_written="a fifth",
        old_numbers=(90,), new_numbers=(80,))
    return PlannedEdit(**(base | changes))


def test_reported_values_are_read_as_quantities_or_as_printed(bench: ModuleType) -> None:
    share = _edit()
    assert bench.old_values_right(share, ["90%"]) and not bench.old_values_right(share, ["80%"])
    assert bench.new_values_right(share, ["a fifth"]) and bench.new_values_right(share, ["80 per cent"])
    assert not bench.new_values_right(share, ["a tenth"])
    hours = _edit(slot="range", old_numbers=(12, 16), new_numbers=(10, 14), new_written="ten / fourteen")
    assert bench.old_values_right(hours, ["12", "16"]) and not bench.old_values_right(hours, ["12"])
    assert bench.new_values_right(hours, ["ten", "fourteen"]) and not bench.new_values_right(hours, ["10"])
    wage = _edit(slot="usd_year", old_numbers=(300000,), new_numbers=(240000,), new_alternatives=(20000,),
                 new_written="$20,000")
    assert bench.old_values_right(wage, ["$300,000"]) and bench.new_values_right(wage, ["$20,000"])
    assert bench.new_values_right(wage, ["$240k"]) and not bench.new_values_right(wage, ["$25,000"])
    assert bench.numbers_in(["US$1.2bn", "2,500", "11 490", "twelve hundred", "twenty-two"]) == {
        1_200_000_000, 2500, 11490, 1200, 22}


def test_at_least_95_percent_of_figure_edits_in_claim_sentences_make_a_claim_updated_event(
        measured: Any, bench: ModuleType) -> None:
    misses = "\n".join(f"{o.miss}: {o.sentence} ({o.label} {o.matched_claim}; {'; '.join(o.reasons)})"
                       for o in measured.misses())
    assert measured.recall >= 0.95, f"recall {measured.recall:.2f}, misses:\n{misses}"
