"""`/syncbot note <milestone> <text>` and `note <milestone> clear` (SPEC §8): reviewers only, in
the client's internal channel; the note then shows beside the milestone to both audiences."""

from __future__ import annotations

import json

import pytest
from slack_env import Env
from test_slack_http import send, signed, slash, start

from syncbot import messages
from syncbot.slack.bolt import EVENTS_PATH
from syncbot.slack.commands import Commands, Reply, SlashRequest

REVIEWER = "U0LEAD"
NOTE = "Source data had more duplicates than the sample <!channel> <@U0EVIL> & co"


@pytest.fixture
def commands(env: Env) -> Commands:
    env.require_review("mrk", [REVIEWER])
    return Commands(env.app())


def ask(commands: Commands, text: str, channel: str = "CINT", user: str = REVIEWER) -> Reply:
    return commands.handle(SlashRequest("/syncbot", text, channel, user))


def said(reply: Reply) -> str:
    return json.dumps(reply.messages, ensure_ascii=False)


def test_a_reviewer_sets_and_clears_a_note_that_both_audiences_see(
    env: Env, commands: Commands
) -> None:
    reply = ask(commands, f"note mrk 1.1 {NOTE}")
    assert reply.public and messages.note_set("1.1") in said(reply)
    assert env.store().notes.load("mrk") == {"1.1": NOTE}
    for audience in ("internal", "client"):
        view = env.app().view("mrk", audience)  # type: ignore[arg-type]
        [m] = [m for m in view.milestones if m.id == "1.1"]
        assert m.note == NOTE
    # In Slack it is escaped text: nobody is mentioned by a note.
    client_digest = said(ask(commands, "digest mrk"))
    assert "&lt;!channel&gt; &lt;@U0EVIL&gt; &amp; co" in client_digest
    assert "<!channel>" not in client_digest and "<@U0EVIL>" not in client_digest
    reply = ask(commands, "note mrk 1.1 clear")
    assert reply.public and messages.note_cleared("1.1") in said(reply)
    assert env.store().notes.load("mrk") == {}


@pytest.mark.parametrize(
    ("channel", "user", "expect"),
    [
        ("CINT", "U0SOMEONE", messages.note_not_reviewer("Marker Corp")),
        ("CMRK", REVIEWER, messages.NOTE_INTERNAL_ONLY),  # the client's own channel
        ("CRANDOM", REVIEWER, messages.NOT_A_PROJECT_CHANNEL),
    ],
    ids=["not-a-reviewer", "client-channel", "other-channel"],
)
def test_anyone_else_or_anywhere_else_is_refused_and_the_note_unchanged(
    env: Env, commands: Commands, channel: str, user: str, expect: str
) -> None:
    ask(commands, "note mrk 1.1 Before")
    for text in ("note mrk 1.1 After", "note mrk 1.1 clear"):
        reply = ask(commands, text, channel, user)
        assert not reply.public
        assert expect in said(reply)
    assert env.store().notes.load("mrk") == {"1.1": "Before"}


def test_a_note_needs_a_known_milestone_and_some_text(commands: Commands) -> None:
    assert "Say which milestone and what to note" in said(ask(commands, "note mrk 1.1"))
    assert "1.1, 2.1" in said(ask(commands, "note mrk 9.9 anything"))
    # CINT serves two clients: the note must say which.
    assert "mrk" in said(ask(commands, "note 1.1 anything")) and "glx" in said(
        ask(commands, "note 1.1 anything")
    )


def test_a_note_through_the_signed_endpoint(env: Env, commands: Commands) -> None:
    for served in start(env, inline_seconds=30):
        body = slash(env, "note mrk 2.1 Waiting on the client's VPN", "CINT", user=REVIEWER)
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
        # A note is a write: acked at once, done and answered after the ack.
        assert status == 200 and json.loads(answer)["text"] == messages.SLASH_WORKING
        [done] = env.slack.wait_for_responses(1)
        assert done.payload["response_type"] == "in_channel"
        assert done.payload["text"] == messages.note_set("2.1")
        body = slash(env, "note mrk 2.1 clear", "CINT", user="U0SOMEONE")
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
        assert status == 200
        refused = env.slack.wait_for_responses(2)[-1]
        assert refused.payload["response_type"] == "ephemeral"
        assert refused.payload["text"] == messages.note_not_reviewer("Marker Corp")
    assert env.store().notes.load("mrk") == {"2.1": "Waiting on the client's VPN"}
