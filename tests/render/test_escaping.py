"""SPEC v2 §7 escaping: every mrkdwn string syncbot sends, block text and the top-level `text`
fallback alike, is escaped before syncbot adds its own links and mentions; cuts for length
never split an escape or a link; links are made only from the keys syncbot writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.cli import ok
from support.configs import client, milestone, source, write_config

from syncbot.render.blocks import MAX_SECTION_TEXT, document_messages, line_mrkdwn
from syncbot.render.doc import Document, Line, Mention, Ref, Section, Span

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo" / "syncbot.toml"
HOSTILE = "Acme & Sons <!channel> <https://evil.test|click>"


def mrkdwn_strings(payload: Any) -> list[str]:
    """Every string Slack reads as mrkdwn in a message: `text` fields outside plain_text."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "plain_text":
                return
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    return found


def unescaped(text: str) -> list[str]:
    """`<...>` sequences and bare `&` that are not syncbot's own links or escapes."""
    own = re.compile(r"<https?://[^|<>\s]+\|[^<>]+>|<@[UW][A-Z0-9]+>")
    stripped = own.sub("", text)
    return re.findall(r"[<>]|&(?!amp;|lt;|gt;)", stripped)


def demo_blocks(tmp_path: Path, client_id: str, audience: str) -> dict[str, Any]:
    env = f"sqlite:///{tmp_path / 'demo.db'}"
    args = ["--config", str(DEMO)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCBOT_DATABASE_URL", env)
        ok(["sync", *args, "--as-of", "2026-03-10"])
        out = ok(
            [
                "digest",
                *args,
                "--client",
                client_id,
                "--audience",
                audience,
                "--format",
                "blocks",
                "--as-of",
                "2026-03-10",
            ]
        )
    doc: dict[str, Any] = json.loads(out)
    return doc


@pytest.mark.parametrize("client_id", ["acme", "globex"])
def test_no_link_is_made_inside_a_url_in_the_demo_digests(tmp_path: Path, client_id: str) -> None:
    doc = demo_blocks(tmp_path, client_id, "internal")
    text = json.dumps(doc)
    assert "/<http" not in text and "|ACME-42>/" not in text and "|GLX-30>/" not in text
    for message in doc["messages"]:
        for string in mrkdwn_strings(message):
            assert unescaped(string) == [], string
    assert "|GLX-30>" in text or "|ACME-42>" in text  # keys are linked where syncbot writes them


def test_client_name_and_tracker_text_are_escaped_in_blocks_and_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = tmp_path / "jira"
    pages.mkdir()
    (pages / "page-1.json").write_text(
        json.dumps(
            {
                "issues": [
                    {
                        "key": "ACME-1",
                        "self": "https://acme.atlassian.net/rest/api/3/issue/1",
                        "fields": {
                            "summary": "<!here> & <@U0BOSS> ping",
                            "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                            "created": "2026-01-05T10:00:00.000-0600",
                            "updated": "2026-03-01T10:00:00.000-0600",
                            "duedate": "2026-03-01",
                            "labels": ["client-dependency"],
                            "parent": {"key": "ACME-10"},
                        },
                    }
                ],
                "isLast": True,
            }
        )
    )
    config = write_config(
        tmp_path / "syncbot.toml",
        client(
            "acme",
            name=HOSTILE,
            sources=[source(path="jira/page-*.json")],
            milestones=[milestone("1.1", name="<!channel> milestone", epic="ACME-10")],
        ),
    )
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    ok(["sync", "--config", str(config)])
    for audience in ("internal", "client"):
        out = ok(
            [
                "digest",
                "--config",
                str(config),
                "--client",
                "acme",
                "--audience",
                audience,
                "--format",
                "blocks",
                "--as-of",
                "2026-03-10",
            ]
        )
        for message in json.loads(out)["messages"]:
            assert "&lt;!channel&gt;" in message["text"]  # the fallback, escaped too
            for string in [message["text"], *mrkdwn_strings(message["blocks"])]:
                assert unescaped(string) == [], string
            assert all(
                block["text"].get("verbatim") is True
                for block in message["blocks"]
                if block["type"] == "section"
            )


def test_a_cut_never_splits_an_escape_or_a_link() -> None:
    spans: list[Span] = [
        "&" * 1400,
        Ref("ACME-42", "https://acme.atlassian.net/browse/ACME-42"),
        " <tail> " * 200,
    ]
    for limit in range(2990, 3001):
        text = line_mrkdwn(Line.of(*spans), limit)
        assert len(text) <= limit
        assert unescaped(text) == []
        assert text.endswith("…")
        assert not re.search(r"&(a|am|l|g|lt|gt)?…$", text)  # no half escape before the cut
    long = line_mrkdwn(Line.of("x" * 2000, *spans[1:]), MAX_SECTION_TEXT)
    assert "<https://acme.atlassian.net/browse/ACME-42|ACME-42>" in long


def test_mentions_come_only_from_syncbot_and_only_for_user_ids() -> None:
    line = Line.of("signed off by ", Mention("U0SPONSOR"), " and ", Mention("<!channel>"))
    [message] = document_messages(Document("T", "S", (Section("H", (line,)),)))
    text = message.as_json()["blocks"][-1]["text"]["text"]
    assert "<@U0SPONSOR>" in text and "channel" not in text


def test_a_line_that_fills_its_limit_exactly_still_fits_with_the_ellipsis() -> None:
    """The 40k-ticket digest's case: the text so far ends one character short of the limit,
    and the next span does not fit: the ellipsis must not push it over."""
    for first in range(2985, 3001):
        for nxt in ("abc", Ref("P0-10060", "https://acme.atlassian.net/browse/P0-10060")):
            spans: list[Span] = ["x" * (first - 2), ", ", nxt]
            text = line_mrkdwn(Line.of(*spans), 3000, bullet="")
            assert len(text) <= 3000, (first, nxt)
            assert unescaped(text) == []
    # A Slack section takes it: the whole digest line renders to Block Kit.
    line = Line.of("x" * 2990, ", ", Ref("P0-1", "https://acme.atlassian.net/browse/P0-1"))
    [message] = document_messages(Document("T", "S", (Section("H", (line,)),)))
    assert all(len(t) <= MAX_SECTION_TEXT for t in mrkdwn_strings(message.as_json()["blocks"]))
