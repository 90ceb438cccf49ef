"""Hostile article titles in alert titles: neutralised for every channel, and in ``alerts preview``.

Titles go to apprise as ``title=`` and reach receivers as they are (a mail Subject, the ``title`` field of a
json post) or, on channels without a title (mqtt), blended into the body after a markdown conversion that lets
raw HTML through. The messages here are sent to real receivers on loopback.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from alerts.render import Message, plain_title, render_event
from alerts.send import send
from tests.alerts.test_alerts_cli import add_event, lw
from tests.receivers import HttpReceiver, MqttReceiver, SmtpReceiver

HOSTILE = ("<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
           "Workers\r\nBcc: victim@example.org\n\x1b[31mred\x1b[0m \u202egpj.exe \u2066iso\u2069 zero\u200bwidth")
# What must not reach a receiver from a title: a tag, a markdown link, a control or bidi character.
FORBIDDEN = re.compile("[<>\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2069\ufeff]|\\]\\(")


def hostile_event() -> dict[str, object]:
    return {"id": 7, "type": "new_article", "title": HOSTILE, "summary": "New article", "source_id": "src",
            "url": "https://news.example/a", "details": {"version": 1}}


@pytest.mark.parametrize(("raw", "shown"), [
    ("<script>alert(1)</script>", "\u2039script\u203aalert(1)\u2039/script\u203a"),
    ("<img src=x onerror=alert(2)>", "\u2039img src=x onerror=alert(2)\u203a"),
    ("[x](javascript:alert(3))", "[x] (javascript:alert(3))"),
    ("![x](https://tracker.example/p.gif)", "![x] (https://tracker.example/p.gif)"),
    ("line one\r\nline two\n\tthree", "line one line two three"),
    ("\x1b[31mred\x1b[0m", "[31mred [0m"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),
    ("a\u2066b\u2069c\u200bd\ufeffe\u200ef\u200fg\u061ch", "abcdefgh"),
    ("\u0e01\u0e32\u0e23 \ud55c\uad6d\uc5b4 \u200d\U0001f469\u200d\U0001f4bb", "\u0e01\u0e32\u0e23 \ud55c\uad6d\uc5b4 \u200d\U0001f469\u200d\U0001f4bb"),
    ("Workers & \"pay\" 50% *bold* _it_", "Workers & \"pay\" 50% *bold* _it_"),  # plain text stays as it is
])
def test_plain_title_neutralises_markup_and_invisible_characters(raw: str, shown: str) -> None:
    assert plain_title(raw) == shown


def test_the_rendered_title_carries_nothing_hostile_and_the_body_no_controls() -> None:
    message = render_event(hostile_event())
    assert message.title.startswith("[labourwatch] new article: \u2039script\u203a")
    assert not FORBIDDEN.search(message.title), message.title
    assert message.title.endswith(" (src)")
    assert not re.search("[\x00-\x09\x0b-\x1f\u202a-\u202e\u2066-\u2069\u200b]", message.body), message.body


def deliver(url: str, message: Message) -> None:
    result = asyncio.run(send(url, message, "key-1", timeout=3.0))
    assert result.ok, result.status


def test_hostile_titles_reach_a_json_receiver_neutralised(http_receiver: HttpReceiver) -> None:
    deliver(http_receiver.url(), render_event(hostile_event()))
    deliver(http_receiver.url(format="html"), render_event(hostile_event()))
    plain, html = (record.body for record in http_receiver.wait_for(2))
    for posted in (plain, html):
        assert not FORBIDDEN.search(posted["title"]), posted["title"]
        assert "\u2039script\u203a" in posted["title"]
    assert "<script" not in html["message"] and "&lt;script&gt;" in html["message"]


def test_hostile_titles_make_one_safe_mail_subject(smtp_receiver: SmtpReceiver) -> None:
    deliver(smtp_receiver.url(), render_event(hostile_event()))
    [mail] = smtp_receiver.wait_for(1)
    subject = " ".join(mail.subject.split())  # folded header lines unfolded
    assert not FORBIDDEN.search(subject), subject
    assert subject.startswith("[labourwatch] new article: \u2039script\u203a")
    assert mail.header("Bcc") is None and mail.rcpt_tos == ["ops@labourwatch.test"]  # no header injection
    html = mail.message.get_body(preferencelist=("html",))
    assert html is not None and "<script" not in str(html.get_content())


def test_a_channel_without_titles_gets_no_html_from_one(mqtt_receiver: MqttReceiver) -> None:
    # mqtt has no title field: apprise converts the title from markdown with the body, so raw HTML in a
    # title would arrive as HTML.
    deliver(mqtt_receiver.url(format="html"), render_event(hostile_event()))
    [record] = mqtt_receiver.wait_for(1)
    assert "<script" not in record.text and "<img" not in record.text and 'href="javascript' not in record.text
    assert "\u2039script\u203a" in record.text


def test_alerts_preview_prints_the_neutralised_title(tmp_path: Path, http_receiver: HttpReceiver) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: 'sqlite:///lw.db'}}\nalerts: {{routes: [{{name: n, urls: ['{http_receiver.url()}']}}]}}\n")
    lw(config, "db", "upgrade")
    add_event(config, HOSTILE)
    table = lw(config, "alerts", "preview", "1").stdout
    title = table.splitlines()[0]
    assert title.startswith("[labourwatch] new article: \u2039script\u203a"), table
    assert not FORBIDDEN.search(title) and "\x1b" not in table and "\u202e" not in table
    data = json.loads(lw(config, "alerts", "preview", "1", "--format", "json").stdout)
    assert data["title"] == title
    assert "<script" not in data["body"] and "\x1b" not in data["body"]
