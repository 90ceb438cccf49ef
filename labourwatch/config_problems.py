"""What is wrong with a config, said with the path of each problem (``sources[3].kind: …``): pydantic's
validation errors described, with the keys a section knows when one is unknown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from labourwatch.schema import ConfigModel, Loc, NestedProblemsError


def format_path(loc: tuple[str | int, ...]) -> str:
    """``("sources", 3, "kind")`` → ``sources[3].kind``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def error_loc(error: ErrorDetails) -> Loc:
    """Where a pydantic error lies in the config data (without pydantic's validator-function steps)."""
    return tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))


def describe(errors: list[ErrorDetails]) -> Iterator[str]:
    for error in errors:
        loc = error_loc(error)
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, NestedProblemsError):
            for where, problem in cause.problems.items():
                yield f"{format_path((*loc, *where))}: {problem}"
            continue
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            known = _known_keys(loc[:-1])
            message = f"unknown key (known: {', '.join(known)})" if known else "unknown key"
        yield f"{format_path(loc)}: {message}"


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    model: Any = ConfigModel
    for part in loc:
        if isinstance(part, int):
            continue
        field_info = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field_info is None:
            return []
        model = model_of(field_info.annotation)
        if model is None:
            return []
    return sorted(model.model_fields) if hasattr(model, "model_fields") else []


def model_of(annotation: Any) -> Any:
    """The pydantic model inside a field's annotation (``list[SourceConfig] | None`` → SourceConfig), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_of(arg)
        if found is not None:
            return found
    return None
