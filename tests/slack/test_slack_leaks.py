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
