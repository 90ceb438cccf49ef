"""Logging set-up: text or JSON lines on stderr, with every configured secret redacted."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

REDACTED = "[redacted]"


class RedactingFilter(logging.Filter):
    """Replaces secret values (resolved ``${ENV}`` references) in every log message and argument."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self.redact(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            elif record.exc_text:
                record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once for the process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Scrapy and Twisted are chatty at INFO; their warnings still come through.
    for noisy in ("scrapy", "twisted", "filelock", "trafilatura", "htmldate", "charset_normalizer", "alembic",
                  "apprise", "apscheduler"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # APScheduler warns of every run skipped while the previous one still runs; the daemon reports the
    # skips that matter (missed runs) itself.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    # Fetch failures (robots.txt included) are recorded on their source; Scrapy's tracebacks add only noise.
    for recorded in ("scrapy.downloadermiddlewares.robotstxt",
                     "scrapy.downloadermiddlewares.retry", "scrapy.core.downloader.handlers.http11",
                     "scrapy.downloadermiddlewares.httpcompression"):
        logging.getLogger(recorded).setLevel(logging.CRITICAL)
