"""Every config value that is compiled or interpreted later is refused at load, with its path.

The table below names, for each such key, a bad value and the problem load must report. A meta-test walks
every key of the config schema (and every option of every source kind) and fails when a key is neither in
the table nor listed as used as it is: a new key has to be classified before it ships.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from crawler.kinds import SOURCE_KINDS
from labourwatch.config import ConfigModel, model_of, parse_config
from labourwatch.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

# A valid config with one source of each kind and one route of each mode: the bad values go into it.
BASE: dict[str, Any] = {
    "database": {"url": "sqlite:///labourwatch.db"},
    "topic": {"keywords": {"en": {"dprk": ["North Korea*"], "labour": ["worker*"], "exclude": ["Workers' Party"]}}},
    "claims": {"file": str(ROOT / "known_claims.yaml")},
    "crawl": {"revisit": ["15m", "1h", "1d"]},
    "sources": [
        {"id": "feed", "kind": "feed", "url": "https://example.org/rss", "every": "15m", "jitter": "1m"},
        {"id": "listing", "kind": "listing", "url": "https://example.org/news", "cron": "*/30 * * * *",
         "link_selector": "h2 a", "next_selector": "a.next", "max_pages": 2},
        {"id": "xpath", "kind": "listing", "url": "https://example.org/more", "link_xpath": "//h2/a"},
        {"id": "sitemap", "kind": "sitemap", "url": "https://example.org/sitemap.xml", "max_depth": 1,
         "max_sitemaps": 5},
    ],
    "alerts": {"routes": [
        {"name": "now", "urls": ["json://127.0.0.1:9/hook"], "events": ["new_claim"], "sources": ["feed"],
         "digest_cron": "0 * * * *"},
        {"name": "later", "urls": ["mailto://user:pass@example.org?to=desk@example.org"], "mode": "digest",
         "cron": "0 7 * * *"},
    ]},
    "daemon": {"cluster": {}},
    "web": {"login_limits": {}},
    "logging": {},
}

# key path -> (bad value, the start of the problem load reports).
COMPILED: dict[str, tuple[Any, str]] = {
    "database.url": ("mysql://user@host/db", "database.url: unsupported database driver 'mysql'"),
    "topic.min_score": (0, "topic.min_score:"),
    "topic.keywords.en.dprk[0]": ("North * Korea", "topic.keywords.en.dprk[0]: bad topic term"),
    "topic.keywords.en.labour[0]": ("wor*ker", "topic.keywords.en.labour[0]: bad topic term"),
    "topic.keywords.en.exclude[0]": ("*", "topic.keywords.en.exclude[0]: bad topic term"),
    "claims.file": ("no-such-claims.yaml", "claims.file: "),
    "crawl.user_agent": ("labourwatch\r\nX-Injected: 1", "crawl.user_agent: must be one line"),
    "crawl.delay": ("soon", "crawl.delay: not a duration"),
    "crawl.timeout": ("0s", "crawl.timeout: must be longer than 0s"),
    "crawl.workers_idle": ("0s", "crawl.workers_idle: must be longer than 0s"),
    "crawl.max_size": ("10 parsecs", "crawl.max_size: not a size"),
    "crawl.browser_memory": ("lots", "crawl.browser_memory: not a size"),
    "crawl.browser_timeout": ("soon", "crawl.browser_timeout: not a duration"),
    "sources[0].render": ("chrome", "sources[0].render: Input should be 'browser'"),
    "crawl.revisit[0]": ("-1m", "crawl.revisit[0]: not a duration"),
    "crawl.raw_retention": ("99999999d", "crawl.raw_retention: duration too long"),
    "crawl.max_feed_age": ("0s", "crawl.max_feed_age: must be longer than 0s"),
    "crawl.offtopic_retention": ("0s", "crawl.offtopic_retention: must be longer than 0s"),
    "crawl.offtopic_link_retention": ("soon", "crawl.offtopic_link_retention: not a duration"),
    "sources[0].url": ("file:///etc/passwd", "sources[0].url: only http(s) URLs"),
    "sources[0].every": ("0s", "sources[0].every: must be longer than 0s"),
    "sources[0].jitter": ("a bit", "sources[0].jitter: not a duration"),
    "sources[0].kind": ("rss", "sources[0].kind: unknown kind 'rss'"),
    "sources[1].cron": ("99 * * * *", "sources[1].cron: not a valid cron expression"),
    "sources[1].link_selector": ("h2 >", "sources[1].link_selector: not a valid CSS selector"),
    "sources[1].next_selector": ("a[", "sources[1].next_selector: not a valid CSS selector"),
    "sources[1].max_pages": (0, "sources[1].max_pages: must be a whole number of at least 1"),
    "sources[2].link_xpath": ("//h2/a[", "sources[2].link_xpath: not a valid XPath"),
    "sources[3].max_depth": ("two", "sources[3].max_depth: must be a whole number"),
    "sources[3].max_sitemaps": (-1, "sources[3].max_sitemaps: must be a whole number"),
    "alerts.routes[0].urls[0]": ("nosuchservice://token@host", "alerts.routes[0].urls[0]: apprise cannot use this URL"),
    "alerts.routes[0].apprise_config": ("no-such-apprise.yml", "alerts.routes[0].apprise_config: "),
    "alerts.routes[0].events[0]": ("new_clam", "alerts.routes[0].events: unknown event type"),
    "alerts.routes[0].sources[0]": ("nosuch", "alerts.routes[0].sources: no source with id 'nosuch'"),
    "alerts.routes[0].digest_cron": ("0 0 30 2 *", "alerts.routes[0].digest_cron: cron expression '0 0 30 2 *' never"),
    "alerts.routes[1].cron": ("every morning", "alerts.routes[1].cron: not a 5-field cron expression"),
    "alerts.backoff": ("0s", "alerts.backoff: must be longer than 0s"),
    "alerts.max_backoff": ("later", "alerts.max_backoff: not a duration"),
    "alerts.timeout": ("0s", "alerts.timeout: must be longer than 0s"),
    "alerts.lease": ("30s", "alerts.lease: 30s is too short"),
    "alerts.web_url": ("javascript:alert(1)", "alerts.web_url: must be an http(s) URL"),
    "daemon.poll_every": ("0s", "daemon.poll_every: must be longer than 0s"),
    "daemon.revisit_every": ("0s", "daemon.revisit_every: must be longer than 0s"),
    "daemon.dispatch_every": ("0s", "daemon.dispatch_every: must be longer than 0s"),
    "daemon.prune_cron": ("17 3 * * 8", "daemon.prune_cron: not a valid cron expression"),
    "daemon.misfire_grace": ("0s", "daemon.misfire_grace: must be longer than 0s"),
    "daemon.shutdown_timeout": ("0s", "daemon.shutdown_timeout: must be longer than 0s"),
    "daemon.max_backoff": ("0s", "daemon.max_backoff: must be longer than 0s"),
    "daemon.stall_after": ("0s", "daemon.stall_after: must be longer than 0s"),
    "daemon.listen": ("localhost", "daemon.listen: "),
    "daemon.keep_errors": ("0s", "daemon.keep_errors: must be longer than 0s"),
    "daemon.keep_sent": ("0s", "daemon.keep_sent: must be longer than 0s"),
    "daemon.cluster.plan_every": ("7s", "daemon.cluster.plan_every: must divide a minute or an hour"),
    "daemon.cluster.heartbeat": ("0s", "daemon.cluster.heartbeat: must be longer than 0s"),
    "daemon.cluster.stall_window": ("5s", "daemon.cluster.stall_window: must be longer than daemon.cluster.heartbeat"),
    "web.listen": ("127.0.0.1:99999", "web.listen: "),
    "web.login_limits.address_window": ("0s", "web.login_limits.address_window: must be longer than 0s"),
    "web.login_limits.overall_window": ("1e400s", "web.login_limits.overall_window: "),
}

# Keys used as they are (checked only for type and bounds by the schema), with why nothing is built from them.
PLAIN = {
    "topic.window", "topic.keywords",  # a number; the per-language groups are walked as their terms
    "topic.keywords.en.dprk", "topic.keywords.en.labour", "topic.keywords.en.exclude",
    "crawl.allow_private_networks", "crawl.autothrottle", "crawl.keep_raw", "claims.semantic",  # booleans
    "crawl.per_domain_concurrency", "crawl.concurrency", "crawl.retries", "crawl.max_articles_per_source",
    "crawl.workers", "crawl.document_max_pages", "crawl.browser_pages",  # bounded integers
    "crawl.revisit",  # the list; its items are durations (above)
    "sources[0].id", "sources[0].name", "sources[0].language", "sources[0].enabled",  # labels and a switch
    "sources[0].baseline", "alerts.baseline", "alerts.routes[0].copies",  # switches
    "alerts.routes[0].name", "alerts.routes[0].urls", "alerts.routes[0].tags", "alerts.routes[0].events",
    "alerts.routes[0].mode", "alerts.routes[0].sources", "alerts.routes[0].min_relevance",
    "alerts.routes[0].min_confidence", "alerts.routes[0].rate_limit", "alerts.routes[0].cron",
    "alerts.routes", "alerts.failing_after", "alerts.max_attempts",
    "web.token", "web.page_size", "logging.level", "logging.format",
    "web.login_limits", "web.login_limits.per_address", "web.login_limits.overall",  # bounded integers
    "daemon.mode", "daemon.cluster", "daemon.cluster.concurrency",  # one of two words; a bounded integer
    "sources",
}


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        steps.append(name)
        if rest:
            steps.append(int(rest.rstrip("]")))
    return steps


def config_with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    *parents, last = _steps(path)
    node: Any = data
    for step in parents:
        node = node[step]
    node[last] = value
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(data, allow_unicode=True), file=ROOT / "config.yaml", environ={})
    return caught.value.problems


def test_the_base_config_is_valid() -> None:
    config = parse_config(yaml.safe_dump(BASE, allow_unicode=True), file=ROOT / "config.yaml", environ={})
    assert config.known_claims and len(config.known_claims) >= 40
    assert [source.kind for source in config.sources] == ["feed", "listing", "listing", "sitemap"]


@pytest.mark.parametrize("path", sorted(COMPILED))
def test_a_bad_value_is_refused_at_load_with_its_path(path: str) -> None:
    value, expected = COMPILED[path]
    problems = problems_of(config_with(path, value))
    assert any(problem.startswith(expected) for problem in problems), problems


# Hostile values found by the issue-12 campaign, beyond the one bad value per key above.
HOSTILE: list[tuple[str, Any, str]] = [
    ("sources[0].url", "https://user:s3cret@example.org/rss",
     "sources[0].url: credentials in the URL (user:password@) are not supported"),
    ("sources[0].url", "https://token@example.org/rss", "sources[0].url: credentials in the URL"),
    ("sources[0].url", "https://exa mple.org/rss", "sources[0].url: not a valid host name: 'exa mple.org'"),
    ("sources[0].url", "https://a..b/rss", "sources[0].url: not a valid host name: 'a..b'"),
    ("sources[0].url", "https://example.org:99999/rss", "sources[0].url: not a valid port: '99999' (1-65535)"),
    ("sources[0].url", "https://example.org:0/rss", "sources[0].url: not a valid port: '0'"),
    ("sources[0].url", "https://example.org:http/rss", "sources[0].url: not a valid port: 'http'"),
    ("sources[0].url", "https://[::1/rss", "sources[0].url: not a valid URL: the host has an unclosed '['"),
    ("sources[0].url", "https://exa\tmple.org/rss", "sources[0].url: not a valid URL: it contains a control"),
    ("sources[0].every", "99999999999999d", "sources[0].every: duration too long"),
    ("crawl.delay", "99999999999999999999999999s", "crawl.delay: duration too long"),
    ("sources[1].max_pages", "abc", "sources[1].max_pages: must be a whole number of at least 1, not 'abc'"),
    ("sources[1].link_selector", "a[[[", "sources[1].link_selector: not a valid CSS selector"),
    ("sources[3].max_sitemaps", -5, "sources[3].max_sitemaps: must be a whole number of at least 1, not -5"),
]


@pytest.mark.parametrize(("path", "value", "expected"), HOSTILE)
def test_hostile_values_are_refused_with_their_path(path: str, value: Any, expected: str) -> None:
    problems = problems_of(config_with(path, value))
    assert any(problem.startswith(expected) for problem in problems), problems
    assert not any("s3cret" in problem for problem in problems)  # a URL with a password is not repeated


@pytest.mark.parametrize("url", ["https://example.org./rss", "https://[::1]:8080/rss", "http://127.0.0.1:8080/x",
                                 "https://例え.jp/rss", "HTTPS://Example.ORG:443/rss"])
def test_unusual_but_valid_source_urls_are_accepted(url: str) -> None:
    parse_config(yaml.safe_dump(config_with("sources[0].url", url), allow_unicode=True), file=ROOT / "config.yaml",
                 environ={})


def _schema_keys(model: type[BaseModel], prefix: str) -> set[str]:
    keys = set()
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        keys.add(path)
        nested = model_of(info.annotation)
        if nested is not None:
            index = "[0]" if "list" in str(info.annotation) else ""
            keys |= _schema_keys(nested, path + index)
    return keys


def _normalised(path: str) -> str:
    """A key path with list indexes and language names folded, so table entries cover their siblings."""
    for index in range(1, 5):
        path = path.replace(f"[{index}]", "[0]")
    return path.replace("keywords.en", "keywords")


def test_every_key_is_classified_as_compiled_or_plain() -> None:
    keys = _schema_keys(ConfigModel, "") - {"database", "topic", "claims", "crawl", "alerts", "daemon", "web",
                                             "logging"}
    keys = {key.replace(".keywords.", ".keywords.en.") if "keywords." in key else key for key in keys}
    keys |= {f"sources[0].{option}" for kind in SOURCE_KINDS.values() for option in kind.options}
    keys |= {f"topic.keywords.en.{group}[0]" for group in ("dprk", "labour", "exclude")}
    keys |= {"crawl.revisit[0]", "alerts.routes[0].urls[0]", "alerts.routes[0].events[0]",
             "alerts.routes[0].sources[0]"}
    covered = {_normalised(key) for key in (*COMPILED, *PLAIN)}
    unclassified = sorted(key for key in keys if _normalised(key) not in covered)
    assert unclassified == []


def test_every_problem_of_one_file_is_listed_at_once() -> None:
    data = copy.deepcopy(BASE)
    data["sources"][1]["link_selector"] = "h2 >"
    data["sources"][2]["cron"] = "99 * * * *"
    data["topic"]["keywords"]["en"]["dprk"][0] = "North * Korea"
    data["alerts"]["routes"][0]["urls"][0] = "nosuchservice://secret-token@host"
    data["database"]["url"] = "mysql://user@host/db"
    problems = problems_of(data)
    assert len(problems) == 5, problems
    assert not any("secret-token" in problem for problem in problems)


def test_check_config_refuses_a_bad_selector_with_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "config.yaml"
    data = config_with("sources[1].link_selector", "h2 >")
    data["claims"]["file"] = str(ROOT / "known_claims.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(path), "check-config"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "sources[1].link_selector: not a valid CSS selector" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
