"""The words of a search query: Russian stems as prefixes, and the lexicon's words in the other languages."""

from __future__ import annotations

import pytest

from analysis.search_terms import related_terms, russian_prefix


@pytest.mark.parametrize(("word", "prefix"), [
    # Every form of a name gets one prefix, though Snowball stems them apart (Пхеньяне → пхеньян).
    ("Пхеньян", "пхен"), ("Пхеньяна", "пхен"), ("пхеньяне", "пхен"), ("рабочих", "рабоч"), ("РАБОЧИЕ", "рабоч"),
    ("Северной", "северн"),
    # Nothing to take off, too short a stem, or not all Cyrillic: the word is looked up as it is.
    ("из", None), ("кндр", None), ("workers", None), ("Пхеньян2", None), ("노동자", None),
])
def test_russian_words_become_the_prefix_all_their_forms_share(word: str, prefix: str | None) -> None:
    assert russian_prefix(word) == prefix


def test_related_terms_come_from_the_lexicon_in_both_directions() -> None:
    workers = related_terms("workers")
    assert {"노동자*", "рабоч*", "劳工", "労働者"} <= set(workers) and "workers" not in workers
    # Another form of the English gloss, a Korean word, a Russian form: the same entry.
    assert set(related_terms("worker")) == set(workers) | {"workers"}
    assert "workers" in related_terms("노동자") and "рабоч*" in related_terms("노동자")
    assert "workers" in related_terms("рабочих") and "労働者" in related_terms("рабочих")
    assert related_terms("Pyongyang") == ["평양*", "пхеньян*", "平壤", "平壌"]
    # A phrase names a gloss of several words; its words apart do not.
    assert "북한*" in related_terms('north korean') and not related_terms("north")
    assert related_terms("banana") == []
