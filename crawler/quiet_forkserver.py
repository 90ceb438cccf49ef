"""Imported first by the extraction workers' fork server (``crawler.workers``): it ignores Ctrl-C, as the workers do.

A terminal's Ctrl-C goes to the whole process group, the fork server included; arriving while the fork server
imports its preloaded modules (the semantic model takes seconds to load), it would stop that import with a
traceback. The crawl stops the workers itself."""

from __future__ import annotations

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
