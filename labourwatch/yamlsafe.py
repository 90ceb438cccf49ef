"""Reading YAML that users write (the config, known-claims files): PyYAML's safe loader with limits.

The safe loader builds only plain data, but it still follows anchors and aliases: a "billion laughs" file of a
few hundred bytes whose aliases nest nine deep stands for a billion nodes, and everything that walks the loaded
data (``${ENV}`` resolution, pydantic, the claims reader) copies it out to gigabytes. Deep nesting (100,000
``[``) overflows the composer's recursion. So the composer here counts as it builds: each alias costs the size
of the tree it stands for, and all aliases of a document together may stand for at most ``MAX_ALIAS_NODES``
nodes; nesting deeper than ``MAX_DEPTH`` and an alias inside its own anchor (a cycle) are refused. A small
anchor reused a few times (a shared list of URLs) is fine. Every refusal is a ``YamlInputError`` naming the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import yaml
from yaml.composer import ComposerError
from yaml.error import Mark
from yaml.events import AliasEvent, Event
from yaml.nodes import Node

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "YamlInputError", "YamlLimitError", "check_yaml_limits", "decode_utf8",
           "load_yaml", "load_yaml_file"]

# Far more than any config or claims file needs (the deepest config key is 5 levels down), far less than
# Python's recursion limit.
MAX_DEPTH = 64
# Nodes that all aliases of one document may stand for, in total: a reused block of URLs or terms is a few
# dozen; a billion-laughs file reaches this after a handful of levels.
MAX_ALIAS_NODES = 10_000


class YamlInputError(ValueError):
    """Text that cannot be read as YAML, or exceeds a limit; the message starts with ``name:line:column``."""


class YamlLimitError(YamlInputError):
    """YAML that is too deep, or whose aliases stand for too much (or for themselves)."""


class _LimitExceeded(ComposerError):
    def __init__(self, problem: str, event: Event) -> None:
        super().__init__(None, None, problem, cast(Mark, event.start_mark))


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader, with the composer counting depth and the nodes aliases stand for."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0  # nodes composed so far, an alias counted as the size of the tree it stands for
        self._alias_nodes = 0
        self._sizes: dict[str, int] = {}  # anchor -> size of its tree, aliases inside it expanded
        self._open: set[str] = set()  # anchors whose node is being composed

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            return self._alias(parent, index, event)
        if self._depth >= MAX_DEPTH:
            raise _LimitExceeded(f"nested more than {MAX_DEPTH} levels deep", event)
        anchor, before = event.anchor, self._nodes
        self._depth += 1
        self._nodes += 1
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")
        if anchor is not None:
            self._sizes[anchor] = self._nodes - before
        return node

    def _alias(self, parent: Node | None, index: Any, event: AliasEvent) -> Node | None:
        anchor = event.anchor or ""
        if anchor in self._open:
            raise _LimitExceeded(f"alias *{anchor} is inside its own anchor (a cycle)", event)
        size = self._sizes.get(anchor, 1)
        self._alias_nodes += size
        self._nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise _LimitExceeded(f"aliases stand for more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?); "
                                 "write the values out", event)
        return super().compose_node(parent, index)  # the anchored node, or "found undefined alias"


def load_yaml(text: str, name: str) -> Any:
    """The data of one YAML document; YamlInputError (``name:line:column: …``) when it is not valid or too big."""
    try:
        loader = _LimitedLoader(text)  # the reader refuses control characters here already
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        error = YamlLimitError if isinstance(exc, _LimitExceeded) else YamlInputError
        raise error(_describe(exc, name, text)) from exc


def load_yaml_file(path: Path) -> Any:
    """The data of a YAML file; YamlInputError when it cannot be read, is not UTF-8, or is not valid YAML."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise YamlInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return load_yaml(decode_utf8(data, str(path)), str(path))


def check_yaml_limits(text: str, name: str) -> None:
    """YamlLimitError when ``text`` is YAML past the limits; anything else (even text that is not YAML) passes.

    For files another library parses (apprise config files, which may be YAML or apprise's text format)."""
    try:
        load_yaml(text, name)
    except YamlLimitError:
        raise
    except YamlInputError:
        pass


def decode_utf8(data: bytes, name: str) -> str:
    """``data`` as text; YamlInputError naming the line and column of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlInputError(f"{name}:{line}:{column}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
                             "save the file as UTF-8") from exc


def _describe(exc: yaml.YAMLError, name: str, text: str) -> str:
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return f"{name}:{line}:{column}: not valid YAML (character U+{int(exc.character):04X} is not allowed)"
    where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
    problem = str(getattr(exc, "problem", None) or exc)
    context = getattr(exc, "context", None)
    if context and problem.startswith("but "):  # "expected a single document …, but found another document"
        problem = f"{context}, {problem}"
    return f"{where}: not valid YAML ({problem})"
