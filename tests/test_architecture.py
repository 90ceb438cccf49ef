"""The import direction of ARCHITECTURE.md, and documentation that keeps up with the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from labourwatch.cli import load_all_commands
from labourwatch.config import ConfigModel

ROOT = Path(__file__).resolve().parents[1]
OURS = {"analysis", "db", "crawler", "alerts", "scheduler", "web", "labourwatch"}
# Which of our packages each package may import (besides itself).
ALLOWED = {
    "analysis": set(),
    "db": {"analysis"},
    "crawler": {"analysis", "db"},
    "alerts": {"db", "analysis"},
    "scheduler": {"crawler", "alerts", "db", "analysis"},
    "web": {"db", "analysis"},
    "labourwatch": OURS,
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_follow_the_architecture(package: str) -> None:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path) - ALLOWED[package] - {package}
        if bad:
            violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert violations == []


def readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            names.extend(leaf_commands(command, full + " "))
        else:
            names.append(full)
    return names


@pytest.mark.parametrize("command", leaf_commands(load_all_commands()))
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in readme() or re.search(rf"`{re.escape(command)}[ `]", readme()), command


def config_keys(model: type, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        nested = getattr(annotation, "model_fields", None)
        if nested is not None and name not in ("sources",):
            keys.extend(config_keys(annotation, f"{prefix}{name}."))
        else:
            keys.append(f"{prefix}{name}")
    return keys


@pytest.mark.parametrize("key", [k for k in config_keys(ConfigModel) if not k.startswith(("alerts", "web"))])
def test_every_config_key_is_in_the_readme(key: str) -> None:
    assert f"`{key}" in readme(), key
