"""``labourwatch claims``: import the shared known-claims file, list, export round trip, add, bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.claims.model import claims_from_yaml_data

SHARED = Path(__file__).resolve().parents[1] / "tests" / "analysis" / "claims" / "data" / "known_claims.yaml"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("database: {url: 'sqlite:///lw.db'}\n")
    return path


def lw(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_import_list_export_round_trip(config_file: Path, tmp_path: Path) -> None:
    assert lw(config_file, "db", "upgrade").returncode == 0
    result = lw(config_file, "claims", "import", str(SHARED))
    assert result.returncode == 0, result.stderr
    assert "40 claims — 40 added, 0 updated, 0 unchanged" in result.stdout
    again = lw(config_file, "claims", "import", str(SHARED))
    assert "0 added, 0 updated, 40 unchanged" in again.stdout
    listed = json.loads(lw(config_file, "claims", "list", "--format", "json").stdout)
    assert [c["id"] for c in listed][:3] == ["K01", "K02", "K03"]
    assert listed[1]["figures"] == [{"value": 10000, "unit": "workers", "qualifier": "more_than"},
                                    {"value": 2024, "unit": "year"}]
    exported = lw(config_file, "claims", "export").stdout
    original = claims_from_yaml_data(yaml.safe_load(SHARED.read_text()))
    assert claims_from_yaml_data(yaml.safe_load(exported)) == original  # the import format, losslessly


def test_add_and_refuse_duplicates(config_file: Path) -> None:
    lw(config_file, "db", "upgrade")
    added = lw(config_file, "claims", "add", "--id", "K99", "--text", "About 2,000 workers arrived in Kuwait.",
               "--figure", "2000:workers:about", "--source", "Test, 2026")
    assert added.returncode == 0, added.stderr
    listed = json.loads(lw(config_file, "claims", "list", "--format", "json").stdout)
    assert listed == [{"id": "K99", "text": "About 2,000 workers arrived in Kuwait.", "subject": "",
                       "figures": [{"value": 2000, "unit": "workers", "qualifier": "about"}], "source": "Test, 2026",
                       "status": "active", "figures_text": "about 2000 workers"}]
    twice = lw(config_file, "claims", "add", "--id", "K99", "--text", "x")
    assert twice.returncode == 2 and "exists already" in twice.stderr
    bad = lw(config_file, "claims", "add", "--id", "K98", "--text", "x", "--figure", "5:Parsecs")
    assert bad.returncode == 2 and "not a unit name: 'Parsecs'" in bad.stderr


def test_a_malformed_claims_file_is_a_clean_error(config_file: Path, tmp_path: Path) -> None:
    lw(config_file, "db", "upgrade")
    broken = tmp_path / "claims.yaml"
    broken.write_text("claims:\n  - {id: K1, text: t, figures: [{value: 5}]}\n")
    result = lw(config_file, "claims", "import", str(broken))
    assert result.returncode == 2 and "needs `value` and `unit`" in result.stderr and "Traceback" not in result.stderr
