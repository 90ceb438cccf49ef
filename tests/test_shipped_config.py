"""The shipped config.yaml, and the config snippets the README tells users to copy, run as users run them.

The file is used unchanged except for what a loopback test web forces: its sources point at the fixture
news web, which lives on 127.0.0.1 (so private networks are allowed and the per-host politeness delay is
dropped: every fixture outlet shares one host). The database comes from ``LABOURWATCH_DATABASE_URL``, the
variable the shipped file itself reads. The crawl runs through the real CLI (``db upgrade``, ``crawl``,
``alerts dispatch``), and the test checks that on-topic articles in every language of the web are stored,
matched against the shipped known claims, and alerted through the README's routes to real receivers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from db.engine import Database
from db.models import Article, ClaimMatchRow, Delivery
from labourwatch.fixtureweb import FixtureWeb, SiteSpec
from tests.receivers import HttpReceiver

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "config.yaml"
# One outlet per language the fixture web writes, each with a feed, a sitemap and a listing page.
LANGUAGES = ("en", "ko", "ru", "zh", "ja")


def readme_config_snippets() -> list[dict[str, Any]]:
    """The ```yaml blocks of the README that are labourwatch config (top-level keys of config.yaml)."""
    sections = set(yaml.safe_load(SHIPPED.read_text(encoding="utf-8")))
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippets = []
    for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and set(data) <= sections:
            snippets.append(data)
    return snippets


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    sites = [SiteSpec(id=f"shipped-{language}", name=f"Shipped {language}", language=language, articles=6)
             for language in LANGUAGES]
    with FixtureWeb(sites) as running:
        yield running


def shipped_on(web: FixtureWeb, folder: Path, *snippets: dict[str, Any]) -> Path:
    """config.yaml with the README snippets merged in and its sources on the fixture web, next to a copy of
    the shipped claims file (the config names it relative to itself)."""
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for snippet in snippets:
        data = merge(data, snippet)
    data["sources"] = [dict(source, every="15m", language=source["id"].split("-")[1])
                       for source in web.sources()]
    data["crawl"].update(allow_private_networks=True, delay="0s", autothrottle=False, per_domain_concurrency=8)
    data["daemon"]["listen"] = None
    (folder / "known_claims.yaml").write_bytes((ROOT / "known_claims.yaml").read_bytes())
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def lw(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=240, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def test_the_readme_has_config_snippets_to_copy() -> None:
    snippets = readme_config_snippets()
    assert any("alerts" in snippet for snippet in snippets)
    assert any("database" in snippet for snippet in snippets)


def test_the_shipped_config_crawls_matches_and_alerts_in_every_language(web: FixtureWeb, db_url: str,
                                                                         tmp_path: Path) -> None:
    with HttpReceiver() as newsroom, HttpReceiver() as ops, HttpReceiver() as figures:
        env = {"LABOURWATCH_DATABASE_URL": db_url, "SLACK_WEBHOOK": newsroom.url(), "FIGURES_WEBHOOK": figures.url(),
               "OPS_WEBHOOK": ops.url(), "SMTP_USER": "desk", "SMTP_PASSWORD": "not-used-here"}
        config = shipped_on(web, tmp_path, *readme_config_snippets())
        lw(config, env, "check-config")
        lw(config, env, "db", "upgrade")
        crawled = lw(config, env, "crawl")
        lw(config, env, "alerts", "dispatch")

        database = Database(db_url)
        try:
            with database.read() as session:
                by_language = dict(session.execute(
                    select(Article.language, func.count()).where(Article.relevant).group_by(Article.language)).all())
                matched = dict(session.execute(
                    select(Article.language, func.count(ClaimMatchRow.id.distinct()))
                    .join(ClaimMatchRow, ClaimMatchRow.article_id == Article.id).group_by(Article.language)).all())
                labels = set(session.scalars(select(ClaimMatchRow.label)))
                statuses = dict(session.execute(select(Delivery.route, func.count()).where(
                    Delivery.status.in_(("failed", "dead"))).group_by(Delivery.route)).all())
        finally:
            database.dispose()
        # Every language of the web: on-topic articles stored (the topic filter of the shipped file) and
        # their claim sentences matched against the shipped claims.
        assert set(LANGUAGES) <= set(by_language), (by_language, crawled.stdout)
        assert set(LANGUAGES) <= set(matched), matched
        assert "corroborates" in labels
        # The first crawl of the sources is their baseline: the README's newsroom route got its one summary, the
        # route of claim updates nothing; nothing failed, so ops heard nothing.
        messages = [record.body for record in newsroom.records]
        assert len(messages) == 1 and messages[0]["title"].startswith("[labourwatch] Baseline of ")
        assert figures.records == [] and ops.records == []
        assert statuses == {}  # the morning digest waits for its cron; nothing failed
