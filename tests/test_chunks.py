"""Long value lists cut for IN clauses."""

from db.chunks import in_chunks


def test_pieces_keep_order_and_size() -> None:
    values = list(range(1_201))
    pieces = list(in_chunks(values))
    assert [len(piece) for piece in pieces] == [500, 500, 201]
    assert [value for piece in pieces for value in piece] == values
    assert list(in_chunks([])) == []
    assert list(in_chunks("abcde", 2)) == ["ab", "cd", "e"]
