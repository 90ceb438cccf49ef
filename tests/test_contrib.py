"""The systemd unit in contrib/: the properties operations rely on, and ``systemd-analyze verify`` where available."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from labourwatch.cli import load_all_commands
from labourwatch.config import CONFIG_ENV, DaemonConfig

CONTRIB = Path(__file__).resolve().parents[1] / "contrib"
UNIT = CONTRIB / "labourwatch.service"
BINARY = "/opt/labourwatch/.venv/bin/labourwatch"


def unit(path: Path = UNIT) -> configparser.ConfigParser:
    # systemd units are INI-like: keep key case, no %-interpolation ($MAINPID), tolerate repeated keys.
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",), comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def service() -> configparser.SectionProxy:
    return unit()["Service"]


def seconds(value: str) -> float:
    """A systemd time span such as ``45``, ``45s``, ``1min 30s`` or ``2m``, in seconds."""
    factors = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    return sum(float(number) * factors[unit] for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value))


def test_runs_as_an_unprivileged_user() -> None:
    section = service()
    assert section["User"] == "labourwatch" and section["Group"] == "labourwatch"
    assert section.get("User") not in ("root", "0") and "DynamicUser" not in section
    assert section["NoNewPrivileges"] == "yes" and section["CapabilityBoundingSet"] == ""


def test_runs_the_daemon_after_migrating() -> None:
    section = service()
    assert shlex.split(section["ExecStart"]) == [BINARY, "run"]
    pre = section["ExecStartPre"]
    # "-": RestartPreventExitStatus= does not apply to ExecStartPre=, so a failing pre-step must not fail the
    # start (an invalid config would restart for ever); `run` meets the same problem and exits 2.
    assert pre.startswith("-") and shlex.split(pre[1:]) == [BINARY, "db", "upgrade"]
    assert section["Environment"] == f"{CONFIG_ENV}=/etc/labourwatch/config.yaml"
    assert section["EnvironmentFile"] == "-/etc/labourwatch/env"
    assert section["WorkingDirectory"] == "/var/lib/labourwatch"


def test_restarts_on_failure_but_not_on_a_bad_config() -> None:
    section = service()
    assert section["Restart"] == "on-failure"
    assert seconds(section["RestartSec"]) == 10
    assert "2" in section["RestartPreventExitStatus"].split()


def test_stop_waits_longer_than_the_daemon_shutdown_bound() -> None:
    section = service()
    bound = DaemonConfig().shutdown_timeout.total_seconds()
    assert section["KillSignal"] == "SIGTERM"
    assert seconds(section["TimeoutStopSec"]) > bound
    assert seconds(section["TimeoutStopSec"]) == 45


def test_reload_sends_sighup_to_the_main_process() -> None:
    assert shlex.split(service()["ExecReload"]) == ["/bin/kill", "-HUP", "$MAINPID"]


def test_hardening_leaves_the_state_directory_and_the_network_usable() -> None:
    section = service()
    assert section["ProtectSystem"] == "strict"
    assert section["WorkingDirectory"] in section["ReadWritePaths"].split()
    assert set(section["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert section["ProtectHome"] == section["PrivateTmp"] == section["PrivateDevices"] == "yes"
    assert "MemoryDenyWriteExecute" not in section  # would break libffi closures (cffi, ctypes)
    ordering = unit()["Unit"]
    assert set(ordering["After"].split()) >= {"network-online.target", "postgresql.service"}
    assert ordering["Wants"] == "network-online.target"
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize(("name", "instance"), [("labourwatch.service", "labourwatch.service"),
                                                ("labourwatch@.service", "labourwatch@9464.service")])
def test_systemd_analyze_verify(tmp_path: Path, name: str, instance: str) -> None:
    # verify checks that executables exist: point them at one that does on any machine. The template is verified
    # as one of its instances (the node whose health port is 9464).
    copy = tmp_path / instance
    copy.write_text((CONTRIB / name).read_text(encoding="utf-8").replace(BINARY, shutil.which("true") or "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and name.split(".")[0] not in result.stderr, result.stderr  # "labourwatch@"…


def test_the_service_guide_uses_existing_commands() -> None:
    readme = (CONTRIB.parent / "README.md").read_text(encoding="utf-8")
    guide = readme[readme.index("## Running as a service"):readme.index("## Configuration reference")]
    # Commands as the guide runs them: through the wrapper, the venv's binary, or quoted as `labourwatch …`.
    used = re.findall(r"(?:labourwatch-admin|bin/labourwatch|`labourwatch) ([a-z][a-z-]*(?: [a-z][a-z-]*)?)", guide)
    assert used
    for words in used:
        cli = load_all_commands()
        command: click.Command | None = cli
        for word in words.split():
            if not isinstance(command, click.Group) or word not in command.commands:
                break
            command = command.commands[word]
        assert command is not cli, f"`labourwatch {words}` in README (Running as a service) is not a command"


# --- the cluster node's template unit ------------------------------------------------------------------------

TEMPLATE = CONTRIB / "labourwatch@.service"


def template() -> configparser.ConfigParser:
    return unit(TEMPLATE)


def test_the_template_unit_runs_a_cluster_node_on_its_instance_port() -> None:
    section = template()["Service"]
    assert shlex.split(section["ExecStart"]) == [BINARY, "run", "--cluster", "--listen", "127.0.0.1:%i"]
    assert "ExecStartPre" not in section  # nodes starting together must not migrate side by side


def test_the_template_unit_is_the_service_unit_in_everything_else() -> None:
    """User, environment, stop, restart and hardening: the same as labourwatch.service's."""
    node, single = template()["Service"], service()
    differ = {key for key in set(node) | set(single) if node.get(key) != single.get(key)}
    assert differ == {"ExecStart", "ExecStartPre", "TimeoutStartSec"}, differ
    assert template()["Install"]["WantedBy"] == unit()["Install"]["WantedBy"]
    assert template()["Unit"]["After"] == unit()["Unit"]["After"]


