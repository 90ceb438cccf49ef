"""Message bodies in the channel's own format, sent to real receivers on loopback: plain text (no escapes, no
markdown) to json://, HTML (escaped, links only to http(s)) to mailto://, escaped markdown where the channel
shows markdown; the format read from apprise's plugin; ``alerts test`` with a fresh key per run."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.render import Message, render_digest, render_event
from alerts.send import KEY_HEADER, channel_format, send
from alerts.targets import apprise_target
from tests.alerts.test_alerts_cli import add_event, lw
from tests.receivers import HttpReceiver, SmtpReceiver

SCRIPT = "<script>alert(1)</script>"
BIDI = "\u202e"
SENTENCE = f"More than 12,000 so-called *workers* sentence(s) {SCRIPT} [x](javascript:alert(2)) were{BIDI} sent."
TITLE = f"Workers <b>sent</b> to Russia {BIDI}# _now_"
ARTICLE = "https://news.example/a?x=1&y=(2)"
MD_ESCAPE = re.compile(r"\\[\\`*_{}\[\]()#+\-!|~>]")


def claim_event(url: str = ARTICLE) -> dict[str, Any]:
    return {"id": 41, "type": "claim_updated", "title": TITLE, "summary": "K01 updated: 10,000 → 12,000",
            "source_id": "gazette", "url": url, "claim_id": "K01", "created_at": "2026-03-02T07:00:00+00:00",
            "details": {"claim_text": "About 10,000 workers (estimate)", "claim_source": "UN <i>2024</i>",
                        "old_values": ["10,000"], "new_values": ["12,000"], "sentence": SENTENCE,
                        "figures": ["12,000"]}}


def story_event(url: str = ARTICLE) -> dict[str, Any]:
    claim = {"claim_text": "About 10,000 workers", "claim_source": "UN", "figures": ["12,000"],
             "confidence": 0.9, "sentence_index": 1}
    return {"id": 42, "type": "story", "title": TITLE, "source_id": "gazette", "url": url,
            "summary": "K01 updated: 10,000 → 12,000; 1 new claim; 2 corroborated",
            "created_at": "2026-03-02T07:00:00+00:00", "details": {
                "action": "changed", "version": 3, "omitted": {"background": 2, "repeats": 0}, "copy_of": None,
                "claims": [
                    {**claim, "verdict": "corroborates", "claim_id": "K07", "old_values": [], "new_values": [],
                     "sentence": "Old background."},
                    {**claim, "verdict": "updates", "claim_id": "K01", "old_values": ["10,000"],
                     "new_values": ["12,000"], "sentence": SENTENCE},
                    {**claim, "verdict": "new", "claim_id": None, "old_values": [], "new_values": [],
                     "sentence": f"3,000 {SCRIPT} at shipyards."},
                    {**claim, "verdict": "corroborates", "claim_id": "K03", "old_values": [], "new_values": [],
                     "sentence": "Again."}],
                "edit": {"summary": "headline changed; 1 sentence(s) added", "changed": ["title"],
                         "added": [SENTENCE], "removed": ["Over 10,000 (then)."], "figures_before": [],
                         "figures_after": [], "title_before": f"Old <u>headline</u>{BIDI}"}}}


def deliver(url: str, message: Message) -> None:
    result = asyncio.run(send(url, message, "key-1", timeout=3.0))
    assert result.ok, result.status


def assert_plain_text(text: str) -> None:
    """No markdown escape, no markup of ours, no bidi; the hostile text there literally."""
    assert not MD_ESCAPE.search(text), text
    assert "**" not in text and not re.search(r"^\s*>", text, re.M) and "](" not in text.replace("[x](java", "")
    assert BIDI not in text
    assert "so-called *workers* sentence(s) <script>alert(1)</script>" in text  # as the article wrote it


@pytest.mark.parametrize("make", [claim_event, story_event])
def test_a_json_receiver_gets_plain_text(http_receiver: HttpReceiver, make: Any) -> None:
    deliver(http_receiver.url(), render_event(make(), "http://lw.example"))
    [posted] = http_receiver.wait_for(1)
    text = posted.body["message"]
    assert_plain_text(text)
    assert f"<{ARTICLE.replace('(', '%28').replace(')', '%29')}>" in text  # the link as "title <url>"
    assert "Open in labourwatch <http://lw.example/events/" in text
    deliver(http_receiver.url(), render_event(make(url="javascript:alert(1)")))
    unlinked = http_receiver.wait_for(2)[1].body["message"]
    assert_plain_text(unlinked)
    assert "javascript:alert(1)" not in unlinked and "Workers <b>sent</b> to Russia # _now_" in unlinked


def test_a_story_reads_updates_first_then_new_claims_then_one_line_of_corroborations(
        http_receiver: HttpReceiver) -> None:
    message = render_event(story_event(), "http://lw.example")
    assert message.title == ("[labourwatch] K01 updated: 10,000 → 12,000; 1 new claim; 2 corroborated — "
                             "Workers \u2039b\u203asent\u2039/b\u203a to Russia # _now_ (gazette)")
    deliver(http_receiver.url(), message)
    text = http_receiver.wait_for(1)[0].body["message"]
    order = [text.index(part) for part in ("Story updated", "K01 updated", "Was 10,000, now 12,000", "New claim",
                                           "Corroborates K07, K03", "Edit: headline changed",
                                           "Headline was: Old <u>headline</u>", "− Over 10,000 (then).",
                                           "2 background sentences left out", "Open in labourwatch")]
    assert order == sorted(order), text
    assert text.count("Corroborates") == 1 and "Old background." not in text


def test_the_title_keeps_the_headline_when_the_summary_is_long() -> None:
    event = story_event() | {"summary": "K01 updated: " + "10,000 → 12,000; " * 30}
    title = render_event(event).title
    assert len(title) <= 200 and title.endswith(" (gazette)") and "— Workers" in title and "…" in title


def test_a_mail_gets_escaped_html_with_links_only_to_web_urls(smtp_receiver: SmtpReceiver) -> None:
    deliver(smtp_receiver.url(), render_event(claim_event(), "http://lw.example"))
    deliver(smtp_receiver.url(), render_event(claim_event(url="javascript:alert(3)"), "http://lw.example"))
    first, second = smtp_receiver.wait_for(2)
    for mail in (first, second):
        part = mail.message.get_body(preferencelist=("html",))
        assert part is not None and part.get_content_type() == "text/html"
        html = str(part.get_content())  # type: ignore[attr-defined]
        assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;b&gt;sent&lt;/b&gt;" in html and "<i>" not in html and BIDI not in html
        assert "<b>Claim updated</b>" in html and "<blockquote>" in html and not MD_ESCAPE.search(html)
        assert 'href="javascript' not in html.lower()
        assert '<a href="http://lw.example/events/41"' in html
    first_html = str(first.message.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    assert '<a href="https://news.example/a?x=1&amp;y=%282%29"' in first_html


def test_a_markdown_channel_still_gets_escaped_markdown(http_receiver: HttpReceiver) -> None:
    deliver(http_receiver.url(format="markdown"), render_event(claim_event()))
    text = http_receiver.wait_for(1)[0].body["message"]
    assert "**Claim updated**" in text and "so\\-called \\*workers\\* sentence\\(s\\)" in text
    assert "&lt;script&gt;" in text and "<script" not in text and "](javascript" not in text
    assert "[Workers &lt;b&gt;sent&lt;/b&gt; to Russia \\# \\_now\\_](https://news.example/a?x=1&y=%282%29)" in text


def test_a_digest_follows_the_channel_format(http_receiver: HttpReceiver, smtp_receiver: SmtpReceiver) -> None:
    digest = render_digest("newsroom", [claim_event(), story_event()], "2026-03-02T07:00:00+00:00")
    deliver(http_receiver.url(), digest)
    deliver(smtp_receiver.url(), digest)
    text = http_receiver.wait_for(1)[0].body["message"]
    assert_plain_text(text)
    assert text.startswith("2 event(s) for route newsroom") and "Story updated" in text and "\n---\n" not in text
    html = str(smtp_receiver.wait_for(1)[0].message.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    assert html.count("<hr>") == 2 and "<script" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(("url", "expected"), [
    ("json://127.0.0.1:9/hook", "text"),
    ("json://127.0.0.1:9/hook?format=html", "html"),
    ("form://127.0.0.1:9/hook", "text"),
    ("xml://127.0.0.1:9/hook", "text"),
    ("mailto://127.0.0.1:9?mode=insecure&from=a%40lw.test&to=b%40lw.test", "html"),
    ("mailto://127.0.0.1:9?mode=insecure&from=a%40lw.test&to=b%40lw.test&format=text", "text"),
    ("mqtt://127.0.0.1:9/topic", "text"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "markdown"),
    ("tgram://123456789:abcdefg_hijklmnop/12315544", "html"),
])
def test_the_channel_format_is_what_the_apprise_plugin_declares(url: str, expected: str) -> None:
    assert channel_format(apprise_target(url)) == expected


def test_alerts_test_uses_a_fresh_key_each_run(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": "sqlite:///lw.db"},
                                      "alerts": {"routes": [{"name": "newsroom", "urls": [http_receiver.url()]}]}}))
    lw(config, "db", "upgrade")
    lw(config, "alerts", "test")
    lw(config, "alerts", "test")
    first, second = http_receiver.wait_for(2)
    keys = [first.header(KEY_HEADER), second.header(KEY_HEADER)]
    assert all(keys) and keys[0] != keys[1], keys
    assert all("\\" not in record.body["message"] for record in (first, second))  # plain text, no escapes


def test_alerts_preview_shows_the_body_a_channel_of_each_format_gets(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"database": {"url": "sqlite:///lw.db"}}))
    lw(config, "db", "upgrade")
    add_event(config, "<b>Workers</b> so-called [sent](javascript:x)")
    bodies = {fmt: json.loads(lw(config, "alerts", "preview", "1", "--format", "json", "--body-format", fmt).stdout)
              ["body"] for fmt in ("markdown", "text", "html")}
    assert bodies["markdown"].startswith("**New article** — [&lt;b&gt;Workers&lt;/b&gt; so\\-called")
    assert bodies["text"].startswith("New article — <b>Workers</b> so-called [sent](javascript:x) <https://")
    assert bodies["html"].startswith('<p><b>New article</b> — <a href="https://news.example/a?x=1"')
    assert "&lt;b&gt;Workers&lt;/b&gt;" in bodies["html"]
