"""Nothing internal reaches a client channel by any path: digest posts (split or not),
corrections (chat.update), and slash commands answered inline or through response_url."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from scenario import CLIENT_SAFE, MARK
from slack_env import APPROVER, NOW, Env
from test_slack_http import send, signed, slash, start

from syncbot import messages
from syncbot.cli import main
from syncbot.slack.bolt import EVENTS_PATH
from syncbot.slack.commands import Commands, SlashRequest

INTERNAL_KEYS = ("MRK-1", "MRK-2", "MRK-3", "MRK-9", "MRK-100", "GLX-1", "GLX-2")
CLIENT_CHANNELS = {"mrk": "CMRK", "glx": "CGLX"}
SLASH = [
    "",
    "help",
    "status",
    "milestones",
    "blockers",
    "digest",
    "status glx",
    "digest mrk",
    "signoff Deployment",
    "signoff Nope",
    "frobnicate",
]


def run(at: dt.datetime, *args: str) -> None:
    with time_machine.travel(at, tick=False):
        assert main(list(args)) in (0, 1)


def assert_client_safe(text: str, client: str) -> None:
    assert MARK not in text
    for key in INTERNAL_KEYS:
        assert key not in text, key
    other = "Globex" if client == "mrk" else "Marker Corp"
    assert other not in text


@pytest.mark.parametrize("inline_seconds", [2.0, 0.0], ids=["in-the-ack", "via-response-url"])
def test_client_channels_never_see_internal_detail(env: Env, inline_seconds: float) -> None:
    env.add_milestones(40)  # long enough that the client digest is split too
    env.sync()
    for client in CLIENT_CHANNELS:
        run(NOW, "digest", "--client", client, "--post")
    # A correction after the data changed goes out as chat.update.
    env.edit_issue("MRK-9", duedate="2026-03-12")
    env.sync(NOW + dt.timedelta(hours=1))
    run(NOW + dt.timedelta(hours=2), "digest", "--client", "mrk", "--post", "--correct")
    assert env.slack.api_calls("chat.update")
    acks: dict[str, list[str]] = {channel: [] for channel in CLIENT_CHANNELS.values()}
    follow_ups = 0  # messages that go through response_url rather than the ack
    for served in start(env, inline_seconds=inline_seconds):
        for channel in CLIENT_CHANNELS.values():
            for user in (APPROVER, "U0SOMEONE"):
                for text in SLASH:
                    body = slash(env, text, channel, user=user)
                    status, answer = send(served.url + EVENTS_PATH, body, signed(body))
                    assert status == 200
                    acks[channel].append(answer)
                    reply = Commands(env.app()).handle(
                        SlashRequest("/syncbot", text, channel, user)
                    )
                    answered_in_ack = json.loads(answer)["text"] != messages.SLASH_WORKING
                    follow_ups += len(reply.messages) - (1 if answered_in_ack else 0)
        got = env.slack.wait_for_responses(follow_ups, timeout=3)
        assert len(got) == follow_ups, [r.payload.get("text") for r in got]
    for client, channel in CLIENT_CHANNELS.items():
        everything = env.slack.sent_to(channel) + "\n".join(
            json.dumps(json.loads(a), ensure_ascii=False) for a in acks[channel]
        )
        assert len(env.slack.posts(channel)) >= 1
        assert_client_safe(everything, client)
        # The check has teeth: what the client may see did reach it.
        assert CLIENT_SAFE[0] in everything and CLIENT_SAFE[1] in everything
    if inline_seconds:  # the digest was split, and every part went to the client channel
        assert len(env.slack.posts("CMRK")) >= 2
    # ...and the same data, internally, carries the planted details.
    assert MARK in env.slack.sent_to("CINT")


def test_drafts_heads_ups_alerts_and_button_replies_never_leak(env: Env) -> None:
    """With review required: the alert's heads-up, its draft, the digest draft and every
    button reply; what the client channel then gets holds nothing internal, and neither
    does the client part of any draft."""
    from test_slack_review import REVIEWER, Draft, client_view, drafts, press

    from syncbot.render.alerts import HEADSUP

    env.require_review("mrk", [REVIEWER])
    run(NOW, "alerts", "--client", "mrk", "--post")  # the first evaluation records
    env.edit_issue("MRK-2", duedate="2026-03-25")
    env.sync(NOW + dt.timedelta(hours=1))
    later = NOW + dt.timedelta(hours=2)
    run(later, "alerts", "--client", "mrk", "--post")
    run(later, "digest", "--client", "mrk", "--audience", "client", "--post")
    alerts = [m for m in env.slack.posts("CINT") if m.text.startswith(":rotating_light:")]
    headsups = [
        Draft(m.ts, e["value"])
        for m in alerts
        for b in m.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert headsups, "the slip raised an alert with a heads-up button"
    replies = 0
    for served in start(env):
        url = served.url + EVENTS_PATH
        for alert in headsups:
            body = press(env, alert, HEADSUP, n=replies + 1)
            assert send(url, body, signed(body))[0] == 200
            replies += 1
            reply = env.slack.wait_for_responses(replies)[-1]
            assert reply.payload["text"] == messages.HEADSUP_DRAFTED
        pending = drafts(env)
        assert len(pending) == 1 + len(headsups)  # the digest draft and each heads-up's
        client_parts = [json.dumps(client_view(d.message(env).blocks)) for d in pending]
        for part in client_parts:
            assert_client_safe(part, "mrk")
        for d in pending:
            for user in ("U0SOMEONE", REVIEWER):  # a refusal, then the send
                body = press(env, d, user=user, n=replies + 1)
                assert send(url, body, signed(body))[0] == 200
                replies += 1
                env.slack.wait_for_responses(replies)
    everything = env.slack.sent_to("CMRK")
    assert_client_safe(everything, "mrk")
    assert len([m for m in env.slack.posts("CMRK") if not m.files]) == len(pending)
    assert CLIENT_SAFE[0] in everything  # the check has teeth: the digest reached the client
    for reply in env.slack.responses:  # every button reply, whoever pressed
        assert_client_safe(json.dumps(reply.payload, ensure_ascii=False), "mrk")
    # The internal channel's alerts escape tracker text: no mention or link from a ticket.
    for m in alerts:
        assert "<!" not in m.text and "<@" + "U0EVIL" not in m.text
