"""Socket Mode end to end: `syncbot run`'s Runtime (no signing secret, SYNCBOT_SLACK_APP_TOKEN
set) connects through slack_bolt's SocketModeHandler and slack_sdk's builtin SocketModeClient
to a local WebSocket server speaking Slack's Socket Mode envelope (tests/servers/
socket_mode.py), after `apps.connections.open` on the fake Slack Web API handed out its URL.

Slash commands and review buttons arrive as envelopes; each is acked on the socket (a slash
command's answer in the ack's payload, or through its response_url when it is slow); a
button's ephemeral answer goes to its response_url, and "Send to client" posts through the
Web API, once. Every wait is a condition with a deadline (servers.socket_mode.WAIT_SECONDS).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import time_machine
from scenario import jira_issue, write_pages
from servers.slack import TOKEN, FakeSlack, Message
from servers.socket_mode import WAIT_SECONDS, FakeSocketMode
from support import configs
from support.cli import ok
from support.processes import Daemon, environment, shift_to, wait_for

from syncbot import messages
from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.errors import SettingsError
from syncbot.run import Runtime
from syncbot.settings import Settings
from syncbot.store import Store

APP_TOKEN = "xapp-1-A0SYNCBOT-1-socket-test"
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)  # Tuesday; acme's client period 03-09
LEAD, OUTSIDER = "U0LEAD", "U0OUTSIDER"
TEAM = "T0FAKE"  # the team FakeSlack's auth.test reports

CLIENT = configs.client(
    "acme",
    name="Acme Corp",
    internal_channel="CINT",
    client_channel="CACME",
    baseline="2026-01-09",
    reviewers=[LEAD],
    client_review="required",
    sources=[configs.source(path="export/page-*.json")],
    milestones=[
        configs.milestone("A", name="Data pipeline", planned="2026-03-06", epic="ACME-10"),
        configs.milestone("B", name="Model trained", planned="2026-03-27", epic="ACME-20"),
    ],
)


def export() -> list[dict[str, Any]]:
    issues = [
        jira_issue("ACME-1", summary="pipeline", category="done", parent={"key": "ACME-10"}),
        jira_issue("ACME-2", summary="training", duedate="2026-03-20", parent={"key": "ACME-20"}),
    ]
    issues[0]["fields"]["resolutiondate"] = "2026-03-05T10:00:00.000-0600"
    return [{"issues": issues, "isLast": True}]


@dataclass
class Socket:
    """A Runtime in Socket Mode, and the fakes it talks to."""

    slack: FakeSlack
    server: FakeSocketMode
    runtime: Runtime
    config: Path


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)  # the socket client would use one
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("SYNCBOT_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SYNCBOT_SLACK_POST_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS", "0")
    write_pages(tmp_path / "export", export())
    path = configs.write_config(tmp_path / "syncbot.toml", CLIENT)
    with time_machine.travel(NOW, tick=False):
        ok(["sync", "--config", str(path)])
    return path


def socket_runtime(
    config: Path, slack: FakeSlack, *, app_token: str = APP_TOKEN, inline_seconds: float = 30.0
) -> Runtime:
    """`Runtime` as `syncbot run` builds it for Socket Mode: an app token, no signing secret;
    the application object's clock pinned at NOW (the sockets run on real time)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{config.parent / 'state.db'}",
        "slack_bot_token": TOKEN,
        "slack_api_url": slack.api_url,
        "slack_app_token": app_token,
        "slack_signing_secret": None,
        "slack_post_interval_seconds": 0,
        "slack_retry_backoff_seconds": 0,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    store = Store(settings.resolved_database_url())
    app = Syncbot(load_config(config), settings, store, lambda: NOW)
    return Runtime(app, settings, inline_seconds=inline_seconds)


def connected(
    config: Path, monkeypatch: pytest.MonkeyPatch, *, inline_seconds: float = 30.0
) -> Iterator[Socket]:
    """The fakes started, the Runtime connected (`Runtime.start`, as `syncbot run` does);
    everything closed afterwards, and neither fake saw anything it did not expect."""
    with FakeSlack(channels=("CINT", "CACME")) as slack, FakeSocketMode() as server:
        slack.socket_mode(APP_TOKEN, server)
        monkeypatch.setenv("SYNCBOT_SLACK_API_URL", slack.api_url)  # for CLI runs
        runtime = socket_runtime(config, slack, inline_seconds=inline_seconds)
        try:
            runtime.start()
            server.wait_for_connections(1)
            yield Socket(slack, server, runtime, config)
        finally:
            runtime.close()
            runtime.app.store.close()
        assert server.unexpected == [] and server.refused == []
        assert slack.crashes == []


@pytest.fixture
def socket(config: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Socket]:
    yield from connected(config, monkeypatch)


def slash_payload(slack: FakeSlack, text: str, channel: str, user: str = LEAD) -> dict[str, Any]:
    """A slash command as Socket Mode carries it: the HTTP form's fields, as JSON."""
    return {
        "token": "deprecated-verification-token",
        "team_id": TEAM,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "a-channel",
        "user_id": user,
        "user_name": "someone",
        "command": "/syncbot",
        "text": text,
        "api_app_id": "A0SYNCBOT",
        "is_enterprise_install": "false",
        "response_url": slack.response_url(channel),
        "trigger_id": f"{time.monotonic_ns()}.1.abc",
    }


def press_payload(
    slack: FakeSlack, draft: Message, action: str, *, user: str = LEAD, team: str = TEAM
) -> dict[str, Any]:
    """A `block_actions` payload for a button of `draft` (as Slack sends a press)."""
    button = next(
        e
        for b in draft.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action
    )
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A0SYNCBOT",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": draft.ts,
            "channel_id": draft.channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{time.monotonic_ns()}.1.abc",
        "team": {"id": TEAM, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": draft.channel, "name": "internal"},
        "message": {"type": "message", "ts": draft.ts, "text": draft.text, "blocks": draft.blocks},
        "state": {"values": {}},
        "response_url": slack.response_url(draft.channel),
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "syncbot_review",
                "text": button["text"],
                "value": button["value"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def post_draft(slack: FakeSlack, config: Path) -> Message:
    """`syncbot digest --post` for the client audience: under review, a draft in CINT."""
    args = ["digest", "--config", str(config), "--client", "acme", "--audience", "client"]
    with time_machine.travel(NOW, tick=False):
        ok([*args, "--post"])
    [draft] = [m for m in slack.posts("CINT") if _buttons(m)]
    assert _buttons(draft) == [messages.REVIEW_SEND, messages.REVIEW_SKIP]
    assert slack.posts("CACME") == []
    return draft


def _buttons(message: Message) -> list[str]:
    return [
        e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]
    ]


def replies(slack: FakeSlack, count: int) -> list[dict[str, Any]]:
    """The first `count` response_url posts, once they have arrived."""
    got = slack.wait_for_responses(count, timeout=WAIT_SECONDS)
    assert len(got) >= count, f"{len(got)} response_url posts, not {count}"
    return [r.payload for r in got[:count]]


def test_a_slash_command_is_acked_with_its_answer(socket: Socket) -> None:
    [opened] = socket.slack.api_calls("apps.connections.open")
    assert opened.token == APP_TOKEN  # the app-level token, never the bot token
    assert socket.server.connections == 1 and socket.server.open_connections == [1]
    # No HTTP endpoint for Slack: Socket Mode alone (the client pages are served either way).
    assert "/slack/events" not in socket.runtime.router.paths
    envelope = socket.server.push(
        "slash_commands", slash_payload(socket.slack, "status acme", "CINT")
    )
    ack = socket.server.wait_for_ack(envelope)
    assert ack.payload is not None, "a slash command's answer comes in the ack"
    assert ack.payload["response_type"] == "ephemeral"
    assert ack.payload["text"].startswith("Acme Corp — status")
    assert "1 done · 1 on track" in json.dumps(ack.payload, ensure_ascii=False)
    assert socket.slack.responses == []  # nothing else was needed


def test_a_slow_slash_command_is_acked_at_once_and_answered_through_its_response_url(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for socket in connected(config, monkeypatch, inline_seconds=0):
        envelope = socket.server.push(
            "slash_commands", slash_payload(socket.slack, "status acme", "CINT")
        )
        ack = socket.server.wait_for_ack(envelope)
        assert ack.payload is not None and ack.payload["text"] == messages.SLASH_WORKING
        [answer] = replies(socket.slack, 1)
        assert answer["text"].startswith("Acme Corp — status")
        assert socket.slack.responses[0].channel == "CINT"


def test_send_to_client_over_socket_mode_posts_once_however_often_pressed(
    socket: Socket,
) -> None:
    draft = post_draft(socket.slack, socket.config)
    presses = [press_payload(socket.slack, draft, "syncbot_send") for _ in range(3)]
    # Two presses, back to back: each is acked (without a payload: Slack accepts none for
    # block_actions), and the client channel gets the message once.
    first = socket.server.push("interactive", presses[0])
    second = socket.server.push("interactive", presses[1])
    for envelope in (first, second):
        assert socket.server.wait_for_ack(envelope).payload is None
    answers = replies(socket.slack, 2)
    assert all(
        a["response_type"] == "ephemeral" and a["replace_original"] is False for a in answers
    )
    assert messages.REVIEW_NOT_REVIEWER not in json.dumps(answers)
    [sent] = wait_for("the client post", lambda: socket.slack.posts("CACME"))
    assert sent.text == draft.text  # exactly what the reviewer saw
    assert not any(b["type"] == "actions" for b in sent.blocks)  # no buttons for the client
    # The draft is updated: who sent it, no buttons.
    wait_for("the draft updated after the send", lambda: draft.versions and not _buttons(draft))
    assert f"<@{LEAD}>" in json.dumps(draft.versions[-1])
    # A third press (on a copy of the draft not yet refreshed): says who sent it, posts nothing.
    third = socket.server.push("interactive", presses[2])
    socket.server.wait_for_ack(third)
    late = replies(socket.slack, 3)[2]
    assert late["text"].startswith("Already sent to the client by") and f"<@{LEAD}>" in late["text"]
    assert len(socket.slack.posts("CACME")) == 1
    assert len(socket.slack.api_calls("apps.connections.open")) == 1


def test_a_press_by_a_non_reviewer_is_refused_ephemerally_and_posts_nothing(
    socket: Socket,
) -> None:
    draft = post_draft(socket.slack, socket.config)
    updates = len(socket.slack.api_calls("chat.update"))
    for user, team in ((OUTSIDER, TEAM), (LEAD, "T0CLIENTORG")):  # not a reviewer; a guest
        envelope = socket.server.push(
            "interactive", press_payload(socket.slack, draft, "syncbot_send", user=user, team=team)
        )
        assert socket.server.wait_for_ack(envelope).payload is None
    refusals = replies(socket.slack, 2)
    assert [r["text"] for r in refusals] == [messages.REVIEW_NOT_REVIEWER] * 2
    assert all(r["response_type"] == "ephemeral" for r in refusals)
    assert socket.slack.posts("CACME") == []
    assert len(socket.slack.api_calls("chat.update")) == updates and not draft.versions
    assert _buttons(draft) == [messages.REVIEW_SEND, messages.REVIEW_SKIP]


def test_after_a_disconnect_the_client_reconnects_and_envelopes_still_work(
    socket: Socket,
) -> None:
    socket.server.disconnect()
    newest = socket.server.wait_for_connections(2)
    assert newest == 2
    assert len(socket.slack.api_calls("apps.connections.open")) == 2  # a new URL for it
    wait_for("the old connection closed", lambda: socket.server.open_connections == [2])
    envelope = socket.server.push(
        "slash_commands", slash_payload(socket.slack, "status acme", "CINT")
    )
    ack = socket.server.wait_for_ack(envelope)
    assert ack.connection == 2
    assert ack.payload is not None and ack.payload["text"].startswith("Acme Corp — status")


def test_an_unknown_app_token_is_refused_before_any_connection(config: Path) -> None:
    with FakeSlack(channels=("CINT", "CACME")) as slack, FakeSocketMode() as server:
        slack.socket_mode(APP_TOKEN, server)
        runtime = socket_runtime(config, slack, app_token="xapp-1-not-this-app")
        try:
            with pytest.raises(SettingsError, match=r"apps\.connections\.open \(invalid_auth\)"):
                runtime.start()
        finally:
            runtime.close()
            runtime.app.store.close()
        assert server.connections == 0
        [opened] = slack.api_calls("apps.connections.open")
        assert opened.token == "xapp-1-not-this-app"


def test_syncbot_run_serves_socket_mode_and_stops_on_sigterm(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon itself (`syncbot run`, its clock at NOW): connected over Socket Mode with
    no signing secret, it answers a slash command and a Send press, and exits 0 on SIGTERM."""
    with FakeSlack(channels=("CINT", "CACME")) as slack, FakeSocketMode() as server:
        slack.socket_mode(APP_TOKEN, server)
        monkeypatch.setenv("SYNCBOT_SLACK_API_URL", slack.api_url)
        draft = post_draft(slack, config)
        env = environment(
            SYNCBOT_CONFIG=str(config),
            SYNCBOT_DATABASE_URL=f"sqlite:///{config.parent / 'state.db'}",
            SYNCBOT_SLACK_BOT_TOKEN=TOKEN,
            SYNCBOT_SLACK_API_URL=slack.api_url,
            SYNCBOT_SLACK_APP_TOKEN=APP_TOKEN,
            SYNCBOT_SLACK_POST_INTERVAL_SECONDS="0",
            SYNCBOT_HOST="127.0.0.1",
            SYNCBOT_PORT="0",
        )
        daemon = Daemon("socket", shift_to(NOW), env, tmp_path)
        try:
            assert "Slack Socket Mode connected" in daemon.output()
            assert "POST /slack/events" not in daemon.output()
            server.wait_for_connections(1)
            envelope = server.push("slash_commands", slash_payload(slack, "status acme", "CINT"))
            ack = server.wait_for_ack(envelope)
            assert ack.payload is not None
            answer, answered = ack.payload, 0
            if answer["text"] == messages.SLASH_WORKING:  # slower than the daemon's 2 s
                answer, answered = replies(slack, 1)[0], 1
            assert answer["text"].startswith("Acme Corp — status")
            press = server.push("interactive", press_payload(slack, draft, "syncbot_send"))
            assert server.wait_for_ack(press).payload is None
            [sent] = wait_for("the client post", lambda: slack.posts("CACME"))
            assert sent.text == draft.text
            assert replies(slack, answered + 1)[answered]["text"] == messages.REVIEW_SENT
            daemon.sigterm()  # exits 0, within its bounded shutdown
        finally:
            daemon.kill()
        assert APP_TOKEN not in daemon.output()  # a secret is never logged
        assert server.unexpected == [] and server.refused == []
