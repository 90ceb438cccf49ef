"""The import direction of docs/architecture.md, no import cycles, and documentation that keeps up with the code."""

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


def _modules() -> dict[str, Path]:
    found = {}
    for package in sorted(OURS):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imported_modules(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, wherever in the file (imports for type checking only aside): ``from
    package import module`` is an import of the module, not of the package's other modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            found.update(submodules or {node.module})
    return found & modules.keys()


def import_cycles() -> list[list[str]]:
    """The groups of project modules that import each other, directly or through others (Tarjan's algorithm)."""
    modules = _modules()
    graph = {name: _imported_modules(path, modules) - {name} for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for other in graph[name]:
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            group = []
            while not group or group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    # A cycle makes the import order matter (half-initialised modules) and the modules one unit to change.
    assert import_cycles() == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    modules = {"web.a": tmp_path / "a.py", "web.b": tmp_path / "b.py"}
    modules["web.a"].write_text("from web import b\n")
    modules["web.b"].write_text("def f():\n    from web.a import g\n")
    assert _imported_modules(modules["web.a"], modules) == {"web.b"}
    assert _imported_modules(modules["web.b"], modules) == {"web.a"}


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


def test_the_daemon_process_does_not_import_what_only_workers_use() -> None:
    # Extraction runs in the worker processes (their fork server imports these); in the daemon's own process they
    # would only hold memory: pypdf and python-docx 12 MiB, trafilatura 5 MiB.
    import subprocess
    import sys

    code = ("import sys, labourwatch.commands.run, crawler.runner, crawler.store, scheduler.daemon, web.app; "
            "print(sorted(m for m in ('pypdf', 'docx', 'trafilatura') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
