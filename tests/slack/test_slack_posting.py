"""Posting with the real slack_sdk WebClient against the fake Slack: limits, 429, pacing, errors."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import SecretStr
from servers.base import Response
from servers.slack import TOKEN, FakeSlack

from syncbot.render.blocks import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_TEXT,
    digest_messages,
    document_messages,
)
from syncbot.render.doc import DigestDoc, Document, Line, Ref, Section, lines
from syncbot.slack.errors import SlackRateLimited, SlackRefused, SlackUnavailable
from syncbot.slack.posting import DIGEST_EVENT, SlackAccess, SlackPoster


class FakeTime:
    """An injected clock and sleep: sleeping advances the clock, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def poster(slack: FakeSlack, fake: FakeTime, token: str = TOKEN) -> SlackPoster:
    access = SlackAccess(api_url=slack.api_url.rstrip("/"), bot_token=SecretStr(token))
    return SlackPoster.connect(access, sleep=fake.sleep, clock=fake.clock)


def meta(part: int = 0) -> dict[str, object]:
    return {"event_type": DIGEST_EVENT, "event_payload": {"key": "k", "part": part}}


def long_doc(sections: int, count: int, width: int) -> DigestDoc:
    return DigestDoc(
        "acme",
        "internal",
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 3),
        "Acme — internal digest, 2026-03-10",
        "summary",
        tuple(
            Section(f"Section {s}", lines(f"line {s}.{n} " + "x" * width for n in range(count)))
            for s in range(sections)
        ),
    )


@pytest.mark.parametrize(
    ("sections", "lines", "width"),
    [(1, 400, 100), (80, 1, 10), (3, 5, 4000), (30, 30, 60)],
    ids=["one-huge-section", "many-sections", "over-long-lines", "mixed"],
)
def test_long_digests_are_split_within_limits_and_slack_accepts_every_part(
    slack: FakeSlack, sections: int, lines: int, width: int
) -> None:
    doc = long_doc(sections, lines, width)
    parts = digest_messages(doc)
    assert len(parts) > 1
    for index, part in enumerate(parts, start=1):
        payload = part.as_json()
        assert len(payload["blocks"]) <= MAX_BLOCKS
        for block in payload["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION_TEXT
        assert f"(part {index} of {len(parts)})" in payload["text"]
    # Nothing is dropped: every line (or its cut start) is in some part, in order.
    text = "".join(str(p.as_json()) for p in parts)
    for section in doc.sections:
        for line in section.lines:
            assert line.text[:50] in text
    fake = FakeTime()
    sender = poster(slack, fake)
    for index, part in enumerate(parts):
        sender.post("CINT", part.as_json(), metadata=meta(index))
    assert len(slack.posts("CINT")) == len(parts)  # the fake enforces Slack's limits
    assert all(
        sum(len(b.get("text", {}).get("text", "")) for b in m.blocks) <= MAX_MESSAGE_CHARS
        for m in slack.posts("CINT")
    )


def test_internal_links_are_slack_links_and_client_docs_have_none() -> None:
    line = Line.of(
        "blocked by ",
        Ref("ACME-4", "https://x.test/browse/ACME-4"),
        "; see ",
        Ref("ACME-40", "https://x.test/a?b=1&c=2"),
        " and https://x.test/browse/ACME-4 (a URL written in a ticket: not a key to link)",
    )
    [message] = document_messages(Document("T", "S", (Section("H", (line,)),)))
    text = message.as_json()["blocks"][-1]["text"]["text"]
    assert "<https://x.test/browse/ACME-4|ACME-4>" in text
    assert "<https://x.test/a?b=1&amp;c=2|ACME-40>" in text
    assert "and https://x.test/browse/ACME-4 (a URL" in text  # left alone
    assert text.count("<") == 2
    [plain] = document_messages(Document("T", "S", (Section("H", lines(["a <b> & c"])),)))
    assert "a &lt;b&gt; &amp; c" in plain.as_json()["blocks"][-1]["text"]["text"]


def test_429_waits_retry_after_through_the_injected_sleep(slack: FakeSlack) -> None:
    fake = FakeTime()
    slack.rate_limit(retry_after=7, times=2)
    ts = poster(slack, fake).post("CINT", {"text": "hi", "blocks": []}, metadata=meta())
    assert [m.ts for m in slack.posts("CINT")] == [ts]
    assert len(slack.log("/api/chat.postMessage")) == 3  # two 429s, then the post
    waits = [s for s in fake.sleeps if s >= 7]
    assert len(waits) == 2 and all(7 <= s < 7.5 for s in waits)


def test_429_with_a_long_retry_after_is_not_waited_for(slack: FakeSlack) -> None:
    fake = FakeTime()
    slack.rate_limit(retry_after=3600)
    with pytest.raises(SlackRateLimited):
        poster(slack, fake).post("CINT", {"text": "hi"}, metadata=meta())
    assert not any(s >= 60 for s in fake.sleeps)
    assert slack.posts() == []


def test_about_one_message_per_second_per_channel(slack: FakeSlack) -> None:
    fake = FakeTime()
    sender = poster(slack, fake)
    for channel in ("CINT", "CINT", "CMRK", "CINT"):
        sender.post(channel, {"text": "x"}, metadata=meta())
    # The second and third post to CINT waited; the first post to CMRK did not.
    assert fake.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


@pytest.mark.parametrize(
    ("setup", "error", "code"),
    [
        (
            lambda s: s.refuse("chat.postMessage", "channel_not_found"),
            SlackRefused,
            "channel_not_found",
        ),
        (lambda s: s.not_in_channel.add("CINT"), SlackRefused, "not_in_channel"),
        (lambda s: s.server_error(500, path="/api/chat.postMessage"), SlackUnavailable, "HTTP 500"),
        (lambda s: s.server_error(503, path="/api/chat.postMessage"), SlackUnavailable, "HTTP 503"),
        (lambda s: s.refuse("chat.postMessage", "fatal_error"), SlackUnavailable, "fatal_error"),
    ],
    ids=["refused", "not-in-channel", "500", "503", "fatal_error"],
)
def test_errors_are_classified_by_whether_the_post_may_have_happened(
    slack: FakeSlack, setup: object, error: type[Exception], code: str
) -> None:
    setup(slack)  # type: ignore[operator]
    with pytest.raises(error) as exc:
        poster(slack, FakeTime()).post("CINT", {"text": "x"}, metadata=meta())
    assert code in str(exc.value)


def test_a_bad_token_is_refused_with_the_fix_and_never_echoed(slack: FakeSlack) -> None:
    with pytest.raises(SlackRefused) as exc:
        poster(slack, FakeTime(), token="xoxb-wrong-secret").post(
            "CINT", {"text": "x"}, metadata=meta()
        )
    assert "invalid_auth" in str(exc.value) and "SYNCBOT_SLACK_BOT_TOKEN" in str(exc.value)
    assert "xoxb-wrong-secret" not in str(exc.value)


def test_find_posted_reads_metadata_across_history_pages(slack: FakeSlack) -> None:
    sender = poster(slack, FakeTime())
    for n in range(250):  # more than one history page (200)
        sender.pacer.interval = 0
        key = "mine" if n in (3, 7) else f"other-{n}"
        sender.post(
            "CINT",
            {"text": f"m{n}"},
            metadata={"event_type": DIGEST_EVENT, "event_payload": {"key": key, "part": n % 5}},
        )
    found = sender.find_posted("CINT", "mine", oldest=0)
    posted = {
        m.metadata["event_payload"]["part"]: m.ts
        for m in slack.posts("CINT")  # type: ignore[index]
        if m.metadata and m.metadata["event_payload"]["key"] == "mine"
    }
    assert found == posted
    assert len(slack.api_calls("conversations.history")) == 2


def test_a_history_cursor_that_repeats_ends_the_walk(slack: FakeSlack) -> None:
    """conversations.history answering the same next_cursor again would loop for ever."""
    page = {"ok": True, "messages": [], "has_more": True}
    page["response_metadata"] = {"next_cursor": "same"}
    slack.fault(Response.json(200, page), path="/api/conversations.history", times=None)
    assert poster(slack, FakeTime()).find_posted("CINT", "k", oldest=0) == {}
    assert len(slack.log("/api/conversations.history")) == 2
