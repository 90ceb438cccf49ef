"""What the web UI is configured with; the shell builds it from the validated config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WebOptions:
    """Where to listen, the write token (None: the UI is read-only) and the page size of lists."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = field(default=None, repr=False)
    page_size: int = 50
