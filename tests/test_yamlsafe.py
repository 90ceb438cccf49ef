"""Hostile YAML in the config, claims and apprise config files: alias bombs, deep nesting, cycles, bad UTF-8.

The alias bomb is run in a subprocess, through the CLI, and its peak memory read from the kernel
(``os.wait4``); the subprocess also runs under an address-space limit, so a loader that expands the bomb dies
with a MemoryError there (and this test fails) instead of taking the machine's memory.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from labourwatch.config import parse_config, read_claims
from labourwatch.errors import ConfigError
from labourwatch.yamlsafe import MAX_ALIAS_NODES, YamlInputError, YamlLimitError, check_yaml_limits, load_yaml

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "known_claims.yaml"
# Peak RSS a refused bomb may cost: check-config itself (Python, pydantic, the schema's imports) takes about
# 100 MiB; the unbounded loader took 1.5-2 GB on these bombs.
MAX_PEAK_MIB = 300
ADDRESS_SPACE_LIMIT = 3 * 1024**3


def alias_bomb(levels: int = 9, width: int = 9, key: str = "lol") -> str:
    """A "billion laughs" YAML mapping: each level is a list of ``width`` aliases of the level before."""
    names = [f"l{level}" for level in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    lines += [f"{names[i]}: &{names[i]} [{', '.join([f'*{names[i - 1]}'] * width)}]" for i in range(1, levels + 1)]
    return f"{key}:\n" + "\n".join(f"  {line}" for line in lines) + "\n"


# Runs the command as its own child and writes that child's peak RSS (KiB) to the file named by LW_PEAK. A
# process keeps its parent's RSS high-water mark across fork and exec on Linux, so measuring the CLI as a direct
# child of a large pytest process would report pytest's size; this small wrapper is the parent instead.
_PEAK_WRAPPER = ("import os, subprocess, sys\n"
                 "child = subprocess.Popen(sys.argv[1:])\n"
                 "_, status, usage = os.wait4(child.pid, 0)\n"
                 "open(os.environ['LW_PEAK'], 'w').write(str(usage.ru_maxrss))\n"
                 "sys.exit(os.waitstatus_to_exitcode(status))\n")


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, float]:
    """Run ``labourwatch ARGS``: exit code, stderr and the CLI process's own peak RSS in MiB."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))

    peak_file = cwd / "peak-rss-kib"
    done = subprocess.run([sys.executable, "-c", _PEAK_WRAPPER, sys.executable, "-m", "labourwatch", *args],
                          cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
                          env={**os.environ, "LW_PEAK": str(peak_file)}, timeout=120)
    return done.returncode, done.stderr, int(peak_file.read_text()) / 1024  # ru_maxrss is in KiB on Linux


def test_an_alias_bomb_in_the_config_is_refused_with_its_line_in_little_memory(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: {url: 'sqlite:///lw.db'}\n" + alias_bomb(key="x_bomb"))
    code, stderr, peak = run_measured(["--config", str(config), "check-config"], tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert f"{config}:" in stderr and f"aliases stand for more than {MAX_ALIAS_NODES:,} nodes" in stderr
    line = int(stderr.split(f"{config}:")[-1].split(":")[0])
    assert 3 <= line <= 12  # the level whose aliases crossed the budget
    assert peak < MAX_PEAK_MIB, f"peak RSS {peak:.0f} MiB"


def test_an_alias_bomb_in_a_claims_file_is_refused_by_claims_import(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: {url: 'sqlite:///lw.db'}\n")
    bomb = tmp_path / "claims.yaml"
    bomb.write_text(alias_bomb(key="claims"))
    code, stderr, peak = run_measured(["--config", str(config), "claims", "import", str(bomb)], tmp_path)
    assert code == 2, stderr
    assert "Traceback" not in stderr and "aliases stand for more than" in stderr and str(bomb) in stderr
    assert peak < MAX_PEAK_MIB, f"peak RSS {peak:.0f} MiB"


def test_an_alias_bomb_as_the_configured_claims_file_refuses_the_config(tmp_path: Path) -> None:
    bomb = tmp_path / "claims.yaml"
    bomb.write_text(alias_bomb(key="claims"))
    with pytest.raises(ConfigError) as caught:
        parse_config("claims: {file: claims.yaml}\n", tmp_path / "config.yaml", environ={})
    [problem] = caught.value.problems
    assert problem.startswith(f"claims.file: {bomb}:") and "aliases stand for more than" in problem


def test_an_alias_bomb_in_an_apprise_config_file_is_refused_before_apprise_reads_it(tmp_path: Path) -> None:
    (tmp_path / "apprise.yml").write_text("urls:\n  - json://127.0.0.1:9/hook\n" + alias_bomb(key="extra"))
    text = "alerts: {routes: [{name: ops, apprise_config: apprise.yml}]}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, tmp_path / "config.yaml", environ={})
    [problem] = caught.value.problems
    assert problem.startswith("alerts.routes[0].apprise_config: ") and "aliases stand for more than" in problem


def test_a_harmless_anchor_and_alias_are_allowed(tmp_path: Path) -> None:
    text = """
alerts:
  routes:
    - {name: newsroom, urls: &desk ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"], events: [new_claim]}
    - {name: ops, urls: *desk, events: [source_failing, source_recovered, delivery_dead]}
sources:
  - &feed {id: one, kind: feed, url: "https://example.org/rss", every: 15m}
  - {<<: *feed, id: two, url: "https://example.org/other"}
"""
    config = parse_config(text, tmp_path / "config.yaml", environ={})
    assert [route.urls for route in config.routes] == [("json://127.0.0.1:9/a", "json://127.0.0.1:9/b")] * 2
    assert [(s.id, s.url, s.every.total_seconds()) for s in config.sources if s.every] == [
        ("one", "https://example.org/rss", 900), ("two", "https://example.org/other", 900)]


def test_the_alias_budget_counts_what_an_alias_stands_for() -> None:
    block = "base: &b [" + ", ".join(["x"] * 99) + "]\n"  # 100 nodes with the list itself
    fits = block + "".join(f"c{i}: *b\n" for i in range(MAX_ALIAS_NODES // 100))
    assert len(load_yaml(fits, "f.yaml")) == MAX_ALIAS_NODES // 100 + 1
    with pytest.raises(YamlLimitError, match=r"^f\.yaml:\d+:\d+: .*aliases stand for more than"):
        load_yaml(fits + "one_more: *b\n", "f.yaml")


@pytest.mark.parametrize(("text", "expected"), [
    ("a: &a [1, *a]\n", "f.yaml:1:11: not valid YAML (alias *a is inside its own anchor (a cycle))"),
    ("a: &a {b: *a}\n", "f.yaml:1:11: not valid YAML (alias *a is inside its own anchor (a cycle))"),
    ("[" * 100_000, "f.yaml:1:65: not valid YAML (nested more than 64 levels deep)"),
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)), "nested more than 64 levels deep"),
    ("x: *nope\n", "f.yaml:1:4: not valid YAML (found undefined alias 'nope')"),
    ("a: 1\nb: 'bell \x07'\n", "f.yaml:2:10: not valid YAML (character U+0007 is not allowed)"),
    ("a: 1\n---\nb: 2\n", "expected a single document in the stream, but found another document"),
])
def test_hostile_yaml_is_refused_with_its_place(text: str, expected: str) -> None:
    with pytest.raises(YamlInputError) as caught:
        load_yaml(text, "f.yaml")
    assert expected in str(caught.value)


def test_the_limited_loader_reads_what_the_safe_loader_reads() -> None:
    text = CLAIMS.read_text(encoding="utf-8")
    assert load_yaml(text, str(CLAIMS)) == yaml.safe_load(text)


def test_limits_are_checked_in_text_that_is_not_yaml_only_for_limits() -> None:
    check_yaml_limits("json://host/a\nmailto://u:p@host?to=x : bad: yaml: [\n", "apprise.txt")  # not YAML: passes
    with pytest.raises(YamlLimitError):
        check_yaml_limits("[" * 1000, "apprise.txt")


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, cwd=config.parent)


def test_check_config_refuses_100000_brackets_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sources: " + "[" * 100_000 + "\n")
    result = cli(config, "check-config")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}:1:73: not valid YAML (nested more than 64 levels deep)" in result.stderr


def test_check_config_refuses_invalid_utf8_with_its_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_bytes(b"database: {url: 'sqlite:///lw.db'}\nsources:\n  - {id: a, kind: feed, name: caf\xe9,"
                       b" url: 'https://e.org/'}\n")
    result = cli(config, "check-config")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{config}:3:34: not valid UTF-8 (byte 0xe9); save the file as UTF-8" in result.stderr


def test_a_claims_file_in_latin1_is_a_clear_error(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_bytes(b"claims:\n  - {id: K1, text: 'Workers in Kor\xe9a'}\n")
    with pytest.raises(ValueError, match=r"claims\.yaml:2:35: not valid UTF-8 \(byte 0xe9\)"):
        read_claims(claims)
    with pytest.raises(ConfigError) as caught:
        parse_config("claims: {file: claims.yaml}\n", tmp_path / "config.yaml", environ={})
    assert caught.value.problems[0].startswith(f"claims.file: {claims}:2:35: not valid UTF-8")


def test_claims_eval_refuses_deep_json_and_a_claims_bomb(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database: {url: 'sqlite:///lw.db'}\n")
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"id": "a", "sentence": "x", "claim_id": null, "label": "new"}\n' + "[" * 100_000 + "\n")
    result = cli(config, "claims", "eval", str(deep))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{deep}:2: not valid JSON (nested too deep)" in result.stderr
    bomb = tmp_path / "claims.yaml"
    bomb.write_text(alias_bomb(key="claims"))
    dev = ROOT / "tests" / "analysis" / "claims" / "data" / "eval_dev.jsonl"
    result = cli(config, "claims", "eval", str(dev), "--claims", str(bomb))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "aliases stand for more than" in result.stderr
