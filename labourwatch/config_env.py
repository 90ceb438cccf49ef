"""``${ENV_NAME}`` (or ``${ENV_NAME:-default}``) references in config data, resolved from the environment at
load (``labourwatch.config``): the values are secrets, kept out of logs; an unset one is a problem, or, in a section
only some commands use, left for those commands to refuse (``Config.require``)."""

from __future__ import annotations

import re
from typing import Any

from labourwatch.config_problems import format_path

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# Sections only some commands use: an unset ${ENV} reference in them does not fail loading; the setting is left
# out (its default applies) and the commands that use the section refuse to start (Config.require).
DEFERRED_SECTIONS = ("web",)
# The commands that need each deferred part (for the warning that check-config and run show).
DEFERRED_USERS = {"web": "`labourwatch web`",
                  "alerts": "`labourwatch run`, `labourwatch alerts test` and `labourwatch alerts dispatch`"}
UNSET = object()


def _deferred(path: tuple[str | int, ...]) -> bool:
    """Whether an unset ${ENV} reference at ``path`` waits for a command that uses it."""
    if path and path[0] in DEFERRED_SECTIONS and all(isinstance(part, str) for part in path):
        return True
    # An alert destination's URL (its secret): only sending needs it. A crawl routes events to destinations named
    # by their URLs as written, and every other command reads no destination at all.
    return len(path) == 5 and path[:2] == ("alerts", "routes") and path[3] == "urls"


def written_urls(raw: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """Each route's ``urls`` as the file writes them (before ${ENV} resolution), by route position."""
    routes = (raw.get("alerts") or {}).get("routes") or []
    return tuple(tuple(str(url) for url in route.get("urls") or ()) for route in routes)


def resolve_env(value: Any, path: tuple[str | int, ...], environ: Any, secrets: set[str], problems: list[str],
                unresolved: list[tuple[str, str]]) -> Any:
    """``value`` with its ${ENV} references resolved; an unset one is a problem, or where it is deferred
    (``_deferred``) is recorded in ``unresolved``: a setting's key is left out (``UNSET``), an alert URL kept as written
    (the commands that send refuse to start, ``Config.require("alerts")``)."""
    if isinstance(value, dict):
        resolved = {k: resolve_env(v, (*path, k), environ, secrets, problems, unresolved) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not UNSET}
    if isinstance(value, list):
        return [resolve_env(v, (*path, i), environ, secrets, problems, unresolved) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value
    deferred = _deferred(path)
    unset: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            found = str(environ[name])
            if found:
                secrets.add(found)
            return found
        if default is not None:
            return default
        unset.append(name)
        return ""

    found = _ENV_REF.sub(substitute, value)
    if unset and deferred:
        unresolved.extend((format_path(path), name) for name in unset)
        # A URL stays as written: its destination is the same one (named by the URL as written), never sent to.
        return UNSET if path[0] in DEFERRED_SECTIONS else value
    problems.extend(f"{format_path(path)}: environment variable {name} is not set" for name in unset)
    return found
