"""Review before a client sees it (SPEC §8), through the real `POST /slack/events`: signed
`block_actions` payloads as Slack sends them when someone presses "Send to client" or "Skip"
on a draft, answered by bolt and acted on by syncbot, against the fake Slack.

The marker scenario's client `mrk` is set to `client_review = "required"` with one reviewer;
`digest --post` drafts its client digest into the internal channel CINT.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
import urllib.error
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from servers.slack import TOKEN, Message
from slack_env import NOW, SIGNING_SECRET, Env
from support.processes import Daemon, environment, shift_to, wait_for
from test_slack_http import send, signed, slash, start

from syncbot import messages
from syncbot.cli import main
from syncbot.render.alerts import HEADSUP, SEND, SKIP
from syncbot.slack.bolt import EVENTS_PATH

REVIEWER = "U0LEAD"
HOME = "T0FAKE"  # the team auth.test reports
CLIENT_CHANNEL = "CMRK"


@dataclass(frozen=True)
class Draft:
    ts: str
    value: str  # what its buttons carry

    def message(self, env: Env) -> Message:
        [found] = [m for m in env.slack.posts("CINT") if m.ts == self.ts]
        return found


def post_digest(at: Any = NOW) -> None:
    with time_machine.travel(at, tick=False):
        assert main(["digest", "--client", "mrk", "--audience", "client", "--post"]) == 0


def drafts(env: Env) -> list[Draft]:
    out = []
    for m in env.slack.posts("CINT"):
        for block in m.blocks:
            if block["type"] == "actions":
                values = {e["action_id"]: e["value"] for e in block["elements"]}
                if SEND in values:
                    out.append(Draft(m.ts, values[SEND]))
    return out


@pytest.fixture
def draft(env: Env) -> Draft:
    env.require_review("mrk", [REVIEWER])
    post_digest()
    [found] = drafts(env)
    assert env.slack.posts(CLIENT_CHANNEL) == []  # nothing reaches the client unreviewed
    return found


def press(
    env: Env,
    draft: Draft,
    action: str = SEND,
    *,
    user: str = REVIEWER,
    team: str = HOME,
    n: int = 1,
) -> str:
    """The form body Slack posts for a button press on the draft (type block_actions)."""
    payload = {
        "type": "block_actions",
        "team": {"id": HOME, "domain": "fake"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A0SYNCBOT",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": draft.ts,
            "channel_id": "CINT",
            "is_ephemeral": False,
        },
        "trigger_id": f"{time.monotonic_ns()}.1.abc",
        "channel": {"id": "CINT", "name": "internal"},
        "message": {"type": "message", "ts": draft.ts, "text": "draft"},
        "response_url": env.slack.response_url("CINT", n),
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "syncbot_review",
                "text": {"type": "plain_text", "text": "button", "emoji": True},
                "value": draft.value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def client_view(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A draft's blocks without what only the reviewer sees (the note and the buttons)."""
    return [
        b
        for b in blocks
        if b.get("block_id") != "syncbot_review"
        and not (b["type"] == "context" and "Draft for the client channel" in json.dumps(b))
    ]


@pytest.fixture
def url(env: Env) -> Iterator[str]:
    for served in start(env):
        yield served.url + EVENTS_PATH


def test_an_unsigned_press_is_401_and_changes_nothing(env: Env, draft: Draft, url: str) -> None:
    body = press(env, draft)
    assert send(url, body, {})[0] == 401
    assert send(url, body, signed(body, secret="not-the-secret"))[0] == 401
    assert env.slack.posts(CLIENT_CHANNEL) == [] and env.slack.responses == []
    assert env.slack.api_calls("chat.update") == []


def test_a_press_while_stopping_is_acked_and_told_nothing_was_done(env: Env, draft: Draft) -> None:
    """SIGTERM has stopped the workers but a request already received is still answered: the
    ack goes out, the draft is not sent, and the presser learns why (after the ack)."""
    for served in start(env):
        served.runtime.slack.close()  # what SIGTERM does once HTTP stops taking requests
        body = press(env, draft)
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
        assert status == 200 and answer == ""
        [follow_up] = env.slack.wait_for_responses(1)
    assert follow_up.payload["text"] == messages.SLASH_STOPPING
    assert follow_up.payload["response_type"] == "ephemeral"
    assert env.slack.posts(CLIENT_CHANNEL) == []


@pytest.mark.parametrize(
    ("user", "team"),
    [("U0SOMEONE", HOME), (REVIEWER, "T0CLIENTORG")],
    ids=["not-a-reviewer", "another-workspace"],
)
def test_only_a_reviewer_of_this_workspace_may_act(
    env: Env, draft: Draft, url: str, user: str, team: str
) -> None:
    for n, action in enumerate((SEND, SKIP), 1):
        body = press(env, draft, action, user=user, team=team, n=n)
        status, _ = send(url, body, signed(body))
        assert status == 200
    replies = env.slack.wait_for_responses(2)
    assert [r.payload["text"] for r in replies] == [messages.REVIEW_NOT_REVIEWER] * 2
    assert all(r.payload["response_type"] == "ephemeral" for r in replies)
    assert env.slack.posts(CLIENT_CHANNEL) == []
    assert env.slack.api_calls("chat.update") == []  # the draft is as it was
    # Nothing changed: the reviewer can still send it.
    body = press(env, draft, n=3)
    assert send(url, body, signed(body))[0] == 200
    assert env.slack.wait_for_responses(3)[-1].payload["text"] == messages.REVIEW_SENT
    assert len(env.slack.posts(CLIENT_CHANNEL)) == 1


def test_five_concurrent_sends_post_once_and_the_draft_says_who_sent_it(
    env: Env, draft: Draft, url: str
) -> None:
    drafted = copy.deepcopy(client_view(draft.message(env).blocks))
    barrier = threading.Barrier(5)
    statuses: list[int] = []

    def go(n: int) -> None:
        body = press(env, draft, n=n)
        headers = signed(body)
        barrier.wait()
        statuses.append(send(url, body, headers)[0])

    threads = [threading.Thread(target=go, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * 5
    replies = env.slack.wait_for_responses(5)
    assert len(replies) == 5
    [posted] = env.slack.posts(CLIENT_CHANNEL)
    assert posted.blocks == drafted  # exactly what the reviewer read
    update = wait_for("the draft's update", lambda: env.slack.api_calls("chat.update"))
    assert update[0].params["ts"] == draft.ts
    decided = draft.message(env)
    assert not [b for b in decided.blocks if b["type"] == "actions"]
    outcome = json.dumps(decided.blocks)
    assert f"Sent to the client by <@{REVIEWER}>" in outcome
    assert NOW.strftime("%Y-%m-%d") in outcome
    texts = [r.payload["text"] for r in replies]
    assert texts.count(messages.REVIEW_SENT) >= 1
    # The others are told what is happening, never that Slack failed (it did not).
    others = [t for t in texts if t != messages.REVIEW_SENT]
    assert all(t.startswith(("Being sent to the client by", "Already sent")) for t in others)
    # A later press, however late, posts nothing more and says who sent it.
    body = press(env, draft, n=6)
    assert send(url, body, signed(body))[0] == 200
    late = env.slack.wait_for_responses(6)[-1]
    assert late.payload["text"].startswith(f"Already sent to the client by <@{REVIEWER}>")
    assert len(env.slack.posts(CLIENT_CHANNEL)) == 1


def test_skip_posts_nothing_and_records_who_skipped(env: Env, draft: Draft, url: str) -> None:
    body = press(env, draft, SKIP)
    assert send(url, body, signed(body))[0] == 200
    [reply] = env.slack.wait_for_responses(1)
    assert reply.payload["text"] == messages.REVIEW_SKIPPED
    wait_for("the draft's update", lambda: env.slack.api_calls("chat.update"))
    decided = json.dumps(draft.message(env).blocks)
    assert f"Skipped by <@{REVIEWER}>" in decided and '"actions"' not in decided
    body = press(env, draft, SEND, n=2)  # Send after Skip: still nothing
    assert send(url, body, signed(body))[0] == 200
    assert env.slack.wait_for_responses(2)[-1].payload["text"].startswith("Skipped by")
    assert env.slack.posts(CLIENT_CHANNEL) == []
    before = len(env.slack.posts("CINT"))
    post_digest()  # the same period again: not drafted again
    assert len(env.slack.posts("CINT")) == before


def test_a_superseded_draft_says_so_and_its_buttons_stop(env: Env, draft: Draft, url: str) -> None:
    later = NOW.replace(day=NOW.day + 14)  # the next fortnightly client period
    env.sync(later)
    post_digest(later)
    [new] = drafts(env)  # the old one has no buttons any more
    old = draft
    assert new.value != draft.value
    replaced = json.dumps(draft.message(env).blocks)
    assert "Superseded by the draft for" in replaced and '"actions"' not in replaced
    body = press(env, old)
    assert send(url, body, signed(body))[0] == 200
    [reply] = env.slack.wait_for_responses(1)
    assert reply.payload["text"] == messages.REVIEW_SUPERSEDED
    assert env.slack.posts(CLIENT_CHANNEL) == []
    body = press(env, new, n=2)  # the newer one still sends, with its trend chart
    assert send(url, body, signed(body))[0] == 200
    assert env.slack.wait_for_responses(2)[-1].payload["text"] == messages.REVIEW_SENT
    texts = [m.text for m in env.slack.posts(CLIENT_CHANNEL) if not m.files]
    assert texts == ["Marker Corp — project update, 2026-03-24"]
    assert len(env.slack.shared_files(CLIENT_CHANNEL)) == 1


def test_a_correction_before_review_updates_the_draft_and_after_it_is_refused(
    env: Env, draft: Draft, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env.edit_issue("MRK-9", duedate="2026-03-12")
    env.sync()
    with time_machine.travel(NOW, tick=False):
        assert (
            main(["digest", "--client", "mrk", "--audience", "client", "--post", "--correct"]) == 0
        )
    [update] = env.slack.api_calls("chat.update")
    assert update.params["channel"] == "CINT" and update.params["ts"] == draft.ts
    corrected = copy.deepcopy(draft.message(env).blocks)
    assert "2026-03-12" in json.dumps(corrected)
    assert [b for b in corrected if b["type"] == "actions"]  # still to be reviewed
    body = press(env, draft)
    assert send(url, body, signed(body))[0] == 200
    env.slack.wait_for_responses(1)
    [posted] = env.slack.posts(CLIENT_CHANNEL)
    assert posted.blocks == client_view(corrected)  # the corrected content went out
    capsys.readouterr()
    with time_machine.travel(NOW, tick=False):
        assert (
            main(["digest", "--client", "mrk", "--audience", "client", "--post", "--correct"]) == 2
        )
    err = capsys.readouterr().err.strip()
    assert err.startswith("syncbot: error: mrk: this period's client digest was sent to the client")
    assert len(err.splitlines()) == 1
    assert len(env.slack.posts(CLIENT_CHANNEL)) == 1
    assert len(env.slack.api_calls("chat.update")) == 2  # the draft's decision only


def daemon_env(env: Env) -> dict[str, str]:
    return environment(
        SYNCBOT_CONFIG=str(env.config),
        SYNCBOT_DATABASE_URL=env.db_url,
        SYNCBOT_SLACK_BOT_TOKEN=TOKEN,
        SYNCBOT_SLACK_API_URL=env.slack.api_url,
        SYNCBOT_SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SYNCBOT_HOST="127.0.0.1",
        SYNCBOT_PORT="0",
        SYNCBOT_LOG_FORMAT="json",
        SYNCBOT_SLACK_POST_INTERVAL_SECONDS="0",
        SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS="0",
        SYNCBOT_SHUTDOWN_SECONDS="1",
    )


def ask(daemon: Daemon, shift: float, body: str) -> tuple[int, str]:
    headers = signed(body, timestamp=int(time.time() + shift))  # the daemon's clock
    return daemon.request(EVENTS_PATH, body.encode(), _form(headers))


def test_syncbot_run_alerts_escalates_takes_a_note_and_releases_a_heads_up(
    env: Env, tmp_path: Path
) -> None:
    """Through `syncbot run` (a real process) against the fake Slack: the sync at start
    raises the day's alerts (a slip with its owner mentioned, an escalation naming
    `escalation.notify`); a reviewer's `/syncbot note` becomes the reason a heads-up gives;
    the heads-up button drafts it, Send posts it to the client once; a restarted daemon
    raises nothing again."""
    text = env.config.read_text()
    text = text.replace('client_review = "off"', 'client_review = "off"\n__MRK__', 1)
    env.config.write_text(text)
    env.require_review("mrk", [REVIEWER])
    extra = (
        '[clients.people]\n"Agency PM" = "U0PM"\n"Dana Client-Owner" = "U0DANA"\n'
        '[clients.escalation]\nafter_days = 2\nnotify = ["U0ACCOUNT"]'
    )
    env.config.write_text(env.config.read_text().replace("__MRK__", extra, 1))
    with time_machine.travel(NOW, tick=False):  # the last alerted state: recorded silently
        assert main(["alerts", "--client", "mrk", "--post"]) == 0
    env.edit_issue("MRK-2", duedate="2026-03-25")  # 1.1 slips by two weeks
    shift = shift_to(NOW.replace(hour=16))
    values = daemon_env(env)
    daemon = Daemon("first", shift, values, tmp_path)
    again: Daemon | None = None
    try:

        def alerts() -> list[Message]:
            return [m for m in env.slack.posts("CINT") if m.text.startswith(":rotating_light:")]

        def two() -> list[Message] | None:
            found = alerts()
            return found if len(found) >= 2 else None

        found = wait_for("the day's alerts", two)
        slip = next(m for m in found if "'Milestone one'" in m.text)
        assert "went from at risk to delayed" in slip.text and "Owner: <@U0PM>" in slip.text
        escalation = next(m for m in found if "escalation after 2 days" in m.text)
        assert "<@U0ACCOUNT>" in escalation.text and "Owner: <@U0DANA>" in escalation.text
        note = "the source data had more duplicates than the sample"
        status, _ = ask(daemon, shift, slash(env, f"note mrk 1.1 {note}", "CINT", REVIEWER))
        assert status == 200
        assert env.slack.wait_for_responses(1)[0].payload["text"] == messages.note_set("1.1")
        [button] = [Draft(slip.ts, v) for v in _values(slip, HEADSUP)]
        status, _ = ask(daemon, shift, press(env, button, HEADSUP, n=2))
        assert status == 200
        assert env.slack.wait_for_responses(2)[1].payload["text"] == messages.HEADSUP_DRAFTED
        [headsup] = [d for d in drafts(env) if "an update on" in d.message(env).text]
        assert f"Why: {note}" in json.dumps(headsup.message(env).blocks)
        for n in (3, 4):  # pressed twice: posted once
            assert ask(daemon, shift, press(env, headsup, n=n))[0] == 200
        env.slack.wait_for_responses(4)
        [posted] = env.slack.posts(CLIENT_CHANNEL)
        assert posted.text == "Marker Corp — an update on 'Milestone one'"
        assert f"Why: {note}" in json.dumps(posted.blocks) and "MRK-" not in json.dumps(
            posted.blocks
        )
        assert daemon.sigterm() < 20
        before = len(alerts())
        again = Daemon("again", shift_to(NOW.replace(hour=17)), values, tmp_path)
        wait_for(
            "the restarted daemon's evaluation",
            lambda: any(r["message"] == "mrk: no new alerts" for r in again.records()),
        )
        assert len(alerts()) == before and len(env.slack.posts(CLIENT_CHANNEL)) == 1
    finally:
        for d in (daemon, again):
            if d is not None:
                d.kill()


def _values(message: Message, action: str) -> list[str]:
    return [
        e["value"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    ]


@pytest.mark.parametrize("posted", [False, True], ids=["before-slack-took-it", "after"])
def test_killed_after_the_claim_the_restarted_daemon_posts_once(
    env: Env, draft: Draft, tmp_path: Path, posted: bool
) -> None:
    """kill -9 of `syncbot run` between the press's claim and the client post (or just
    after Slack took the post): the next daemon finishes the release at start, once."""
    values = daemon_env(env)
    shift = shift_to(NOW)
    first = Daemon("first", shift, values, tmp_path)
    second: Daemon | None = None
    try:
        killed = env.slack.on_post_to(
            CLIENT_CHANNEL, lambda: os.kill(first.proc.pid, signal.SIGKILL), posted=posted
        )
        body = press(env, draft)
        headers = signed(body, timestamp=int(time.time() + shift))  # the daemon's clock
        try:  # acked before the work; the kill may still cut the answer short
            status, _ = first.request(EVENTS_PATH, body.encode(), _form(headers))
            assert status == 200
        except (urllib.error.URLError, ConnectionError):
            pass
        assert killed.wait(30)
        first.proc.wait(timeout=20)
        assert len(env.slack.posts(CLIENT_CHANNEL)) == (1 if posted else 0)
        second = Daemon("second", shift_to(NOW), values, tmp_path)
        wait_for(
            "the draft to say it was sent",
            lambda: "Sent to the client by" in json.dumps(draft.message(env).blocks),
        )
        assert len(env.slack.posts(CLIENT_CHANNEL)) == 1
        assert second.sigterm() < 20
    finally:
        for d in (first, second):
            if d is not None:
                d.kill()


def _form(headers: dict[str, str]) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded", **headers}
