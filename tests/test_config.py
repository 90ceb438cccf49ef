"""Config loading: validation with paths, env secrets, durations, and the check-config command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from alerts.routes import Router, route_destinations
from db.engine import Database
from db.events import EventDraft
from labourwatch.cli import cli
from labourwatch.config import load_config, parse_config
from labourwatch.errors import ConfigError
from labourwatch.units import format_duration, parse_duration, parse_size

ROOT = Path(__file__).resolve().parents[1]


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ=environ or {})
    return caught.value.problems


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    kinds = {source.kind for source in config.sources}
    languages = {source.language for source in config.sources}
    assert len(config.sources) >= 10
    assert {"feed", "sitemap", "listing"} <= kinds
    assert {"en", "ko", "ru"} <= languages
    assert set(config.topic.languages) == {"en", "ko", "ru", "zh", "ja"}
    assert config.crawl_options.delay == 1.0 and config.crawl_options.per_domain_concurrency == 2
    assert config.crawl_options.autothrottle is True
    assert config.crawl_options.revisit[0] == timedelta(minutes=15)
    assert config.database_url.startswith("sqlite:////")  # made absolute, next to the config file


def test_every_problem_is_listed_with_its_path() -> None:
    text = """
crawl: {delay: soon, per_domain_concurrency: 0, colour: blue}
sources:
  - {id: a, kind: feed, url: "https://example.org/rss"}
  - {id: b, kind: feed, url: "file:///etc/passwd"}
  - {id: c, kind: listing, url: "https://example.org/news"}
  - {id: d, kind: rss, url: "https://example.org/rss"}
  - {id: a, kind: feed, url: "https://example.org/other", every: 5x}
"""
    problems = problems_of(text)
    assert "sources[3].kind: unknown kind 'rss' (known: document, feed, listing, sitemap)" in problems
    assert any(p.startswith("crawl.delay: not a duration: 'soon'") for p in problems)
    assert any(p.startswith("crawl.per_domain_concurrency:") for p in problems)
    assert any(p.startswith("crawl.colour: unknown key (known: ") and "user_agent" in p for p in problems)
    assert any(p.startswith("sources[1].url: only http(s) URLs") for p in problems)
    assert any(p.startswith("sources[2].link_selector: a listing source needs") for p in problems)
    assert any(p.startswith("sources[4].every: not a duration") for p in problems)
    assert len(problems) >= 7


def test_duplicate_ids_and_kind_options_are_rejected() -> None:
    problems = problems_of("""
sources:
  - {id: a, kind: feed, url: "https://example.org/rss", link_selector: "h2 a"}
  - {id: a, kind: feed, url: "https://example.org/rss2"}
""")
    assert any("unknown option(s) link_selector for kind feed" in p for p in problems)


def test_duplicate_source_id() -> None:
    problems = problems_of("""
sources:
  - {id: a, kind: feed, url: "https://example.org/rss"}
  - {id: a, kind: feed, url: "https://example.org/rss2"}
""")
    assert problems == ["sources[1].id: duplicate source id 'a' (also sources[0].id)"]


def test_every_independent_problem_is_reported_in_one_pass() -> None:
    # Schema errors, a duplicate id and a digest route without cron used to come in three rounds of fixes.
    problems = problems_of("""
sources:
  - {id: a, kind: feed, url: "https://example.org/rss"}
  - {id: b, kind: rss, url: "https://example.org/b"}
  - {id: c, kind: feed, url: "ftp://example.org/c"}
  - {id: a, kind: feed, url: "https://example.org/rss2", every: soon}
alerts:
  routes:
    - {name: d, urls: ["json://x"], mode: digest, events: [nope]}
    - {name: e, urls: ["json://y"], sources: [a, zz]}
web: {page_size: 1}
""")
    assert len(problems) == 8, problems
    starts = ["sources[1].kind: unknown kind 'rss'", "sources[2].url: only http(s) URLs", "sources[3].every:",
              "alerts.routes[0].events: unknown event type(s) 'nope'", "web.page_size:",
              "sources[3].id: duplicate source id 'a' (also sources[0].id)",
              "alerts.routes[0]: a digest route needs a 'cron'", "alerts.routes[1].sources: no source with id 'zz'"]
    for start in starts:
        assert sum(p.startswith(start) for p in problems) == 1, (start, problems)


def test_cross_checks_skip_values_that_did_not_validate() -> None:
    # An invalid id is reported once, by its own check: not as a duplicate, nor as an unknown route source.
    problems = problems_of("""
sources:
  - {id: "A!", kind: feed, url: "https://example.org/rss"}
  - {id: "A!", kind: feed, url: "https://example.org/rss2"}
alerts: {routes: [{name: r, urls: ["json://x"], sources: ["A!"], mode: digest, cron: "61 * * * *"}]}
""")
    assert [p.split(":")[0] for p in problems] == ["sources[0].id", "sources[1].id", "alerts.routes[0].cron"], problems


def test_unset_web_variable_is_deferred_to_the_web_ui() -> None:
    config = parse_config("web: {token: '${LW_TEST_TOKEN}'}\nsources: []\n", environ={})
    assert config.model.web.token is None and config.unresolved == (("web.token", "LW_TEST_TOKEN"),)
    assert ("web.token: environment variable LW_TEST_TOKEN is not set; `labourwatch web` will refuse to start "
            "until it is") in config.warnings
    with pytest.raises(ConfigError) as caught:
        config.web_options  # noqa: B018 - the property is what refuses
    assert caught.value.problems == [
        "web.token: environment variable LW_TEST_TOKEN is not set (the web UI needs it)"]
    config.require("database", "crawl")  # other sections have nothing unresolved


def test_set_web_variable_is_resolved_and_redacted() -> None:
    config = parse_config("web: {token: '${LW_TEST_TOKEN}'}\n", environ={"LW_TEST_TOKEN": "tok-s3cret"})
    assert config.web_options.token == "tok-s3cret" and "tok-s3cret" in config.secrets and not config.unresolved


def test_env_references_are_resolved_and_remembered_as_secrets() -> None:
    config = parse_config(
        'alerts: {routes: [{name: n, urls: ["json://${HOOK_HOST}/x"]}]}\n'
        'database: {url: "${DB_URL:-sqlite:///x.db}"}\n',
        environ={"HOOK_HOST": "secret-host.example"},
    )
    assert config.model.alerts.routes[0].urls == ["json://secret-host.example/x"]
    assert config.model.database.url == "sqlite:///x.db"
    assert "secret-host.example" in config.secrets


def test_missing_env_reference_is_a_problem_with_its_path() -> None:
    problems = problems_of('sources: [{id: a, kind: feed, url: "https://example.org/rss", name: "${NOPE_NOT_SET}"}]')
    assert problems == ["sources[0].name: environment variable NOPE_NOT_SET is not set"]


def test_an_empty_alert_url_is_a_problem() -> None:
    problems = problems_of('alerts: {routes: [{name: n, urls: ["json://ok.example/a", " "]}]}')
    assert [p for p in problems if p.startswith("alerts.routes[0].urls[1]")] == [
        "alerts.routes[0].urls[1]: must be an apprise URL, not empty"], problems


def test_unset_alert_url_variable_is_deferred_to_the_commands_that_send() -> None:
    config = parse_config('alerts: {routes: [{name: n, urls: ["json://ok.example/a", "json://${NOPE_NOT_SET}/b"]},'
                          ' {name: m, urls: ["${NOPE_TOO}"]}]}\nsources: []\n', environ={})
    assert config.unresolved == (("alerts.routes[0].urls[1]", "NOPE_NOT_SET"), ("alerts.routes[1].urls[0]", "NOPE_TOO"))
    # Each URL stays as written, its destination named so: a crawl routes events to it all the same.
    [first, second] = config.routes
    assert first.urls == first.written == ("json://ok.example/a", "json://${NOPE_NOT_SET}/b")
    assert second.urls == second.written == ("${NOPE_TOO}",)
    assert [len(route_destinations(route)) for route in config.routes] == [2, 1]
    assert ("alerts.routes[0].urls[1]: environment variable NOPE_NOT_SET is not set; `labourwatch run`, "
            "`labourwatch alerts test` and `labourwatch alerts dispatch` will refuse to start until it is"
            ) in config.warnings
    with pytest.raises(ConfigError) as caught:
        config.routes_to_send("alerts test")
    assert caught.value.problems == [
        "alerts.routes[0].urls[1]: environment variable NOPE_NOT_SET is not set (alerts test needs it)",
        "alerts.routes[1].urls[0]: environment variable NOPE_TOO is not set (alerts test needs it)"]
    config.require("web", "the web UI")  # nothing of the web section is unresolved


def test_yaml_syntax_error_names_line() -> None:
    problems = problems_of("sources: [\n  {id: a,, }\n")
    assert len(problems) == 1 and ":2:" in problems[0] and "not valid YAML" in problems[0]


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30), ("15m", 900), ("1h", 3600), ("7d", 604800), ("250ms", 0.25), (5, 5), ("1.5h", 5400),
])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "5x", "-1s", "m", "1 hour"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips() -> None:
    for text in ("15m", "1h", "3h", "12h", "1d", "7d", "1s", "250ms"):
        assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(("text", "size"), [("10MiB", 10 * 1024 * 1024), ("500KB", 500_000), (1024, 1024)])
def test_sizes(text: str | int, size: int) -> None:
    assert parse_size(text) == size


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "labourwatch", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


def test_check_config_exits_2_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {id: x, kind: rss, url: 'https://e.org/'}\n  - {id: Y!, kind: feed, url: 'ftp://e'}\n")
    result = run_cli("--config", str(bad), "check-config")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "sources[0].kind: unknown kind 'rss' (known: document, feed, listing, sitemap)" in result.stderr
    assert "sources[1].id: invalid id 'Y!'" in result.stderr
    assert "sources[1].url: only http(s) URLs" in result.stderr


def test_check_config_accepts_env_variable_for_path(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sources:\n  - {id: x, kind: feed, url: 'https://e.org/rss'}\n")
    result = run_cli("check-config", cwd=tmp_path, env={**os.environ, "LABOURWATCH_CONFIG": str(good)})
    assert result.returncode == 0, result.stderr
    assert "1 sources" in result.stdout


def test_missing_config_file_is_a_clean_error(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.yaml"), "check-config")
    assert result.returncode == 2
    assert "cannot read config file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("routes", "expected"), [
    ('[{name: a, urls: ["json://x"], events: [new_articles]}]',
     "alerts.routes[0].events: unknown event type(s) 'new_articles'"),
    ('[{name: a, urls: ["json://x"], mode: digest}]', "alerts.routes[0]: a digest route needs a 'cron'"),
    ('[{name: a, urls: ["json://x"], mode: digest, cron: "61 8 * * *"}]', "alerts.routes[0].cron: not a"),
    ('[{name: a, urls: ["slack-webhook"]}]', "alerts.routes[0].urls[0]: apprise cannot use this URL"),
    ('[{name: a, urls: []}]', "alerts.routes[0]: a route needs 'urls' or an 'apprise_config'"),
    ('[{name: a, urls: ["json://x"]}, {name: a, urls: ["json://y"]}]',
     "alerts.routes[1].name: duplicate route name 'a' (also alerts.routes[0].name)"),
    ('[{name: a, urls: ["json://x"], rate_limit: 0}]', "alerts.routes[0].rate_limit:"),
])
def test_bad_alert_routes_are_reported_with_their_path(routes: str, expected: str) -> None:
    problems = problems_of(f"alerts: {{routes: {routes}}}")
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_routes_default_to_one_message_per_story() -> None:
    config = parse_config('alerts: {routes: [{name: desk, urls: ["json://h/${TOKEN}"]}], lease: 45s}',
                          environ={"TOKEN": "s3cret"})
    route = config.routes[0]
    assert route.urls == ("json://h/s3cret",) and "s3cret" in config.secrets
    assert set(route.events) == {"story", "baseline"} and not route.copies
    assert config.alert_options.lease == 45
    # Claim-level events are there for routes that ask for them by name.
    named = parse_config('alerts: {routes: [{name: desk, urls: ["json://h"], events: [claim_updated], copies: true}]}',
                         environ={}).routes[0]
    assert named.events == ("claim_updated",) and named.copies


def test_the_baseline_is_on_by_default_and_a_source_can_opt_out() -> None:
    text = ("alerts: {baseline: %s}\nsources:\n  - {id: a, kind: feed, url: 'http://a.example/f'}\n"
            "  - {id: b, kind: feed, url: 'http://b.example/f', baseline: %s}\n")
    on = {s.id: s.baseline for s in parse_config(text % ("true", "false"), environ={}).sources}
    off = {s.id: s.baseline for s in parse_config(text % ("false", "true"), environ={}).sources}
    assert on == {"a": True, "b": False} and off == {"a": False, "b": True}
    assert parse_config("sources: [{id: a, kind: feed, url: 'http://a.example/f'}]", environ={}).sources[0].baseline


def test_a_route_can_take_its_destinations_from_an_apprise_config_file(tmp_path: Path) -> None:
    (tmp_path / "apprise.yml").write_text(
        "urls:\n"
        "  - json://127.0.0.1:9/desk:\n      tag: newsroom\n"
        "  - json://127.0.0.1:9/ops:\n      tag: ops\n")
    (tmp_path / "config.yaml").write_text(
        "alerts: {routes: [{name: desk, apprise_config: apprise.yml, tags: [newsroom]},\n"
        "                  {name: all, apprise_config: apprise.yml}]}\n")
    routes = {route.name: route for route in load_config(tmp_path / "config.yaml", environ={}).routes}
    assert [url.split("?")[0] for url in routes["desk"].urls] == ["json://127.0.0.1:9/desk"]
    assert sorted(url.split("?")[0] for url in routes["all"].urls) == ["json://127.0.0.1:9/desk",
                                                                       "json://127.0.0.1:9/ops"]
    (tmp_path / "config.yaml").write_text(
        "alerts: {routes: [{name: a, apprise_config: missing.yml}, {name: b, apprise_config: apprise.yml, "
        "tags: [nobody]}]}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.yaml", environ={})
    assert [p.split(":")[0] for p in caught.value.problems] == ["alerts.routes[0].apprise_config",
                                                              "alerts.routes[1].apprise_config"]
    assert "does not exist" in caught.value.problems[0] and "no URLs with tag(s) nobody" in caught.value.problems[1]


def test_routes_that_no_one_hears_ops_events_on_are_a_warning(tmp_path: Path) -> None:
    newsroom_only = parse_config('alerts: {routes: [{name: desk, urls: ["json://127.0.0.1:9/x"]}]}', environ={})
    assert newsroom_only.warnings and "source_failing, source_recovered, delivery_dead" in newsroom_only.warnings[0]
    with_ops = parse_config('alerts: {routes: [{name: desk, urls: ["json://127.0.0.1:9/x"]}, {name: ops, '
                            'urls: ["json://127.0.0.1:9/y"], events: [source_failing, source_recovered, '
                            'delivery_dead]}]}', environ={})
    assert [w for w in with_ops.warnings if w.startswith("alerts.")] == []
    # no routes at all: nothing is alerted, by choice
    assert [w for w in parse_config("", environ={}).warnings if w.startswith("alerts.")] == []
    path = tmp_path / "config.yaml"
    path.write_text('alerts: {routes: [{name: desk, urls: ["json://127.0.0.1:9/x"]}]}\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(path), "check-config"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "warning: alerts.routes: no route takes source_failing" in done.stderr


def test_a_config_without_known_claims_is_a_warning(tmp_path: Path) -> None:
    (none_set,) = parse_config("", environ={}).warnings
    assert none_set.startswith("claims.file: none set") and "stored as new" in none_set
    empty = tmp_path / "claims.yaml"
    empty.write_text("claims: []\n", encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text("claims: {file: claims.yaml}\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "labourwatch", "--config", str(path), "check-config"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "warning: claims.file: claims.yaml holds no active claims" in done.stderr
    shipped = Path(__file__).resolve().parents[1] / "config.yaml"
    assert not [w for w in load_config(shipped).warnings if w.startswith("claims.")]


def test_unset_alert_url_stops_only_the_commands_that_send(tmp_path: Path, sqlite_database: Database,
                                                           in_process_cli: None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LW_UNSET_HOOK"}
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: '{sqlite_database.url}'}}\n"
                      "alerts: {routes: [{name: desk, urls: ['json://${LW_UNSET_HOOK}/hook']}]}\n")
    for command in (["claims", "list"], ["status"], ["check-config"]):
        done = CliRunner(env={"LW_UNSET_HOOK": None}).invoke(cli, ["--config", str(config), *command])
        assert done.exit_code == 0, (command, done.output, done.exception)
    checked = CliRunner(env={"LW_UNSET_HOOK": None}).invoke(cli, ["--config", str(config), "check-config"])
    assert "warning: alerts.routes[0].urls[0]: environment variable LW_UNSET_HOOK is not set" in checked.stderr
    # A crawl records the event's delivery to that destination: the daemon, given the secret, sends it.
    draft = EventDraft(type="story", key="k", title="t", summary="s")
    assert [(t.route, t.label) for t in Router(load_config(config, environ={}).routes)(draft)] == [
        ("desk", "json://${lw_unset_hook}")]  # the label, redacted as every destination's (host only)
    for command in (["alerts", "test"], ["alerts", "dispatch"], ["run"]):
        refused = run_cli("--config", str(config), *command, env=env)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, (command, refused.stderr)
        assert "alerts.routes[0].urls[0]: environment variable LW_UNSET_HOOK is not set" in refused.stderr, command


def test_unset_web_token_stops_only_the_web_ui(tmp_path: Path, sqlite_database: Database, in_process_cli: None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LW_UNSET_TOKEN", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: '{sqlite_database.url}'}}\nweb: {{token: '${{LW_UNSET_TOKEN}}'}}\n")
    listed = CliRunner().invoke(cli, ["--config", str(config), "claims", "list"])
    assert listed.exit_code == 0 and "(nothing to show)" in listed.output, (listed.output, listed.exception)
    checked = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert checked.exit_code == 0 and "warning: web.token: environment variable LW_UNSET_TOKEN" in checked.stderr
    # End to end: the exit code and message main() makes of the refusal, with no traceback.
    served = run_cli("--config", str(config), "web", "--listen", "127.0.0.1:0",
                     env={k: v for k, v in os.environ.items() if k != "LW_UNSET_TOKEN"})
    assert served.returncode == 2 and "Traceback" not in served.stderr
    assert "web.token: environment variable LW_UNSET_TOKEN is not set (the web UI needs it)" in served.stderr
