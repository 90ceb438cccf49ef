"""How a raw response body is kept in ``raw_responses.body``: compressed with zlib, named by ``compression``.

One implementation for both directions, so the crawl's writer and every reader (the CLI, the web UI, the WARC
export) agree on the stored form.
"""

from __future__ import annotations

import zlib

COMPRESSION = "zlib"
# Level 6: zlib's default trade of speed for size; bodies are written once per version, read rarely.
_LEVEL = 6


class UnknownCompressionError(ValueError):
    """A stored body names a compression this version cannot undo."""


def pack(body: bytes) -> tuple[bytes, str]:
    """The stored form of ``body`` and the name of its compression (the ``compression`` column)."""
    return zlib.compress(body, _LEVEL), COMPRESSION


def unpack(stored: bytes, compression: str) -> bytes:
    """The body as fetched, from its stored form."""
    if compression != COMPRESSION:
        raise UnknownCompressionError(f"raw body stored with unknown compression {compression!r}")
    return zlib.decompress(stored)
