"""``labourwatch claims match|eval|rematch|matches`` and the crawl's import of the configured claims file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from analysis.figures import number_value
from labourwatch.fixtureweb import FixtureWeb

DATA = Path(__file__).resolve().parent / "analysis" / "claims" / "data"
DEV_CLAIMS, DEV_SET = DATA / "known_claims.yaml", DATA / "eval_dev.jsonl"


def lw(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                            capture_output=True, text=True, timeout=180, env={**os.environ, "COLUMNS": "200"})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    shutil.copy(DEV_CLAIMS, tmp_path / "claims.yaml")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": {"url": "sqlite:///lw.db"}, "claims": {"file": "claims.yaml"}}))
    ok(lw(path, "db", "upgrade"))
    return path


def test_match_explains_an_update(config_file: Path) -> None:
    # The database has no claims yet: the configured file is used.
    result = ok(lw(config_file, "claims", "match", "--format", "json",
                   "Seoul's spy agency now says some 15,000 North Korean labourers may be sent to Russia."))
    data = json.loads(result.stdout)
    assert data["claims_from"].endswith("claims.yaml") and data["claims"] == 40
    assert data["match"]["label"] == "updates" and data["match"]["claim_id"] == "K01"
    assert data["match"]["old_values"] == ["50,000"] and data["match"]["new_values"] == ["15,000"]
    assert data["candidates"][0]["claim_id"] == "K01" and data["candidates"][0]["gate_passed"]
    assert "15000" in data["normalised"] and data["subject"]["mentions_dprk"]
    assert any(d["slot"] == "count" for d in data["differences"])
    table = ok(lw(config_file, "claims", "match", "Chinese workers rioted over unpaid wages in Jilin."))
    assert "verdict:" in table.stdout and "subject gate" in table.stdout


def test_claims_semantic_false_in_the_config_switches_the_signal_off(config_file: Path) -> None:
    sentence = "据估计，仍在中国务工的朝鲜人已不足1000人。"

    def cosines(*flags: str) -> list[float | None]:
        data = json.loads(ok(lw(config_file, "claims", "match", "--format", "json", *flags, sentence)).stdout)
        return [candidate["semantic"] for candidate in data["candidates"]]

    assert all(cosine is not None for cosine in cosines())
    settings = yaml.safe_load(config_file.read_text())
    settings["claims"]["semantic"] = False
    config_file.write_text(yaml.safe_dump(settings))
    assert cosines() and all(cosine is None for cosine in cosines())
    assert all(cosine is not None for cosine in cosines("--semantic"))


def test_match_reads_a_sentence_in_its_article_context_and_shows_glosses(config_file: Path) -> None:
    article = "More than 10,000 North Korean workers entered Russia in 2024, South Korean intelligence said."
    result = ok(lw(config_file, "claims", "match", "--format", "json", "--context", article,
                   "Their shifts last up to 20 hours a day."))
    data = json.loads(result.stdout)
    assert data["read_as"].startswith("the North Korean workers' shifts") and data["match"]["claim_id"] == "K03"
    assert (data["match"]["label"], data["match"]["new_values"]) == ("updates", ["20"])
    alone = json.loads(ok(lw(config_file, "claims", "match", "--format", "json",
                             "Their shifts last up to 20 hours a day.")).stdout)
    assert alone["read_as"] is None and alone["match"]["label"] == "new"
    korean = ok(lw(config_file, "claims", "match", "하루 최대 18시간 일하는 북한 노동자")).stdout
    assert "glossed:" in korean and "북한 → north korean" in korean


def test_eval_reports_the_dev_set_scores(config_file: Path) -> None:
    data = json.loads(ok(lw(config_file, "claims", "eval", str(DEV_SET), "--format", "json")).stdout)
    assert set(data) >= {"macro_f1", "accuracy", "claim_accuracy", "per_class", "confusion"}
    assert {label: data["per_class"][label]["support"] for label in data["per_class"]} == {
        "corroborates": 60, "updates": 45, "new": 45}
    assert sum(sum(row.values()) for row in data["confusion"].values()) == 150
    assert data["macro_f1"] >= 0.92 and data["per_class"]["updates"]["recall"] >= 0.90
    table = ok(lw(config_file, "claims", "eval", str(DEV_SET))).stdout
    assert "macro-F1" in table and "confusion" in table and "per language" not in table
    xling = json.loads(ok(lw(config_file, "claims", "eval", str(DATA / "eval_dev_xling.jsonl"), "--format",
                             "json")).stdout)
    assert set(xling["languages"]) == {"ko", "ru", "zh", "ja"}
    assert all(part["examples"] == 30 and part["claim_accuracy"] >= 0.85 for part in xling["languages"].values())


def test_eval_against_other_claims_changes_the_verdicts(config_file: Path, tmp_path: Path) -> None:
    few = tmp_path / "few.yaml"
    data = yaml.safe_load(DEV_CLAIMS.read_text())
    few.write_text(yaml.safe_dump({"claims": data["claims"][:3]}))
    report = json.loads(ok(lw(config_file, "claims", "eval", str(DEV_SET), "--claims", str(few),
                              "--format", "json")).stdout)
    assert report["claims"] == 3 and report["macro_f1"] < 0.92  # claims K04..K40 are missing


@pytest.mark.parametrize(("content", "message"), [
    ('{"id": "a", "sentence": "x", "label": "new"}\nnot json\n', ":2: not valid JSON"),
    ('{"id": "a", "sentence": "x", "label": "maybe"}\n', "maybe"),
    ("", "no labelled sentences"),
])
def test_eval_rejects_bad_files_clearly(config_file: Path, tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    result = lw(config_file, "claims", "eval", str(bad))
    assert result.returncode == 2 and message in result.stderr


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with FixtureWeb() as running:
        yield running


def crawl_config(tmp_path: Path, web: FixtureWeb) -> Path:
    shutil.copy(DEV_CLAIMS, tmp_path / "claims.yaml")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "database": {"url": "sqlite:///lw.db"}, "claims": {"file": "claims.yaml"},
        "crawl": {"allow_private_networks": True, "autothrottle": False, "delay": "0s", "per_domain_concurrency": 8,
                  "timeout": "5s", "retries": 0, "max_feed_age": None},
        "sources": web.sources(),
    }))
    ok(lw(path, "db", "upgrade"))
    return path


def k01_matches(config: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(lw(config, "claims", "matches", "--claim", "K01",
                                                  "--format", "json")).stdout)
    return rows


@pytest.mark.slow
def test_crawl_imports_the_claims_file_and_rematch_follows_its_edits(tmp_path: Path, web: FixtureWeb) -> None:
    config = crawl_config(tmp_path, web)
    ok(lw(config, "crawl"))
    assert len(json.loads(ok(lw(config, "claims", "list", "--format", "json")).stdout)) == 40
    # With the claims unchanged, rematch reads every article as the crawl did (its title included in the context).
    assert " 0 with a new verdict" in ok(lw(config, "claims", "rematch")).stdout
    before = k01_matches(config)
    updated = [row for row in before if row["label"] == "updates"]
    assert updated, "the fixture web reports other figures than K01's 50,000"
    # e.g. "15,000" or, from a Russian outlet, "45 000": make it the claim's own figure
    target = number_value(updated[0]["new_values"][0])
    assert target is not None
    claims_file = tmp_path / "claims.yaml"
    data = yaml.safe_load(claims_file.read_text())
    k01 = next(claim for claim in data["claims"] if claim["id"] == "K01")
    k01["text"] = k01["text"].replace("50,000", f"{int(target):,}")
    k01["figures"][0]["value"] = int(target)
    claims_file.write_text(yaml.safe_dump(data, allow_unicode=True))

    result = ok(lw(config, "claims", "rematch"))
    assert "with a new verdict" in result.stdout and " 0 with a new verdict" not in result.stdout
    after = {(row["version_id"], row["sentence_index"]): row for row in k01_matches(config)}
    flipped = after[(updated[0]["version_id"], updated[0]["sentence_index"])]
    assert flipped["label"] == "corroborates"
    assert {row["claims_digest"] for row in after.values()} != {row["claims_digest"] for row in before}
    # Nothing else changed, so a second rematch changes nothing.
    assert " 0 with a new verdict" in ok(lw(config, "claims", "rematch")).stdout
