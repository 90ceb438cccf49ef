"""The check behind the figure-extractor tables: a text's quantities, kind and qualifier exactly, bounds approx."""

from __future__ import annotations

import pytest

from analysis.claims.quantities import extract_quantities

# (kind, low, high, qualifier) of each quantity, in text order.
Expected = list[tuple[str, float, float, str]]


def assert_quantities(text: str, expected: Expected) -> None:
    """``text`` has exactly the ``expected`` quantities."""
    found = [(q.kind, q.low, q.high, q.qualifier) for q in extract_quantities(text)]
    assert [(kind, qualifier) for kind, _, _, qualifier in found] == [(k, q) for k, _, _, q in expected], found
    for (_, low, high, _), (_, want_low, want_high, _) in zip(found, expected, strict=True):
        assert low == pytest.approx(want_low) and high == pytest.approx(want_high), found
