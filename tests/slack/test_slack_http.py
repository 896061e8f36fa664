"""POST /slack/events on the real WSGI server (waitress + bolt), with signed HTTP requests."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from servers.shared import require_shared
from servers.slack import TOKEN
from slack_env import APPROVER, SIGNING_SECRET, Env
from slack_sdk.signature import SignatureVerifier

from syncbot import messages
from syncbot.cli import main
from syncbot.run import Runtime
from syncbot.slack.bolt import EVENTS_PATH
from syncbot.web import HttpServer

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    url: str
    runtime: Runtime


def start(
    env: Env, *, inline_seconds: float = 2.0, **settings: Any
) -> Generator[Served, None, None]:
    values = env.settings(**settings)
    runtime = Runtime(env.app(**settings), values, inline_seconds=inline_seconds)
    server = HttpServer(runtime.router, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.port}", runtime)
    finally:
        server.close()
        thread.join(5)
        runtime.close()


@pytest.fixture
def served(env: Env) -> Iterator[Served]:
    yield from start(env)


def slash(env: Env, text: str, channel: str, user: str = "U0SOMEONE") -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0FAKE",
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "a-channel",
            "user_id": user,
            "user_name": "someone",
            "command": "/syncbot",
            "text": text,
            "response_url": env.slack.response_url(channel),
            "trigger_id": f"{time.monotonic_ns()}.1.abc",
        }
    )


def signed(
    body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def send(
    url: str, body: str | bytes, headers: dict[str, str], *, method: str = "POST"
) -> tuple[int, str]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        url,
        data=data if method == "POST" else None,
        method=method,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize(
    ("text", "channel", "expect"),
    [
        ("help", "CMRK", "/syncbot milestones"),
        ("status", "CMRK", "Marker Corp — status"),
        ("milestones", "CMRK", "Milestone two"),
        ("blockers", "CMRK", "Dependency summary for the client"),
        ("digest", "CMRK", messages.DIGEST_PREVIEW),
        ("status", "CINT", "Marker Corp — status"),
        ("blockers mrk", "CINT", "MRK-9"),
        ("digest glx", "CINT", "Globex — internal digest"),
        ("status", "CRANDOM", messages.NOT_A_PROJECT_CHANNEL),
    ],
)
def test_every_subcommand_is_answered_in_the_ack(
    env: Env, text: str, channel: str, expect: str
) -> None:
    """Answers come in the ack itself when ready within `inline_seconds` (2 s in production,
    so the ack stays within Slack's 3 s; ack times are measured in `make bench`, not here: a
    generous bound keeps this test about what is answered, whatever the machine's load)."""
    body = slash(env, text, channel, user=APPROVER)
    for served in start(env, inline_seconds=30):
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
    assert status == 200
    payload = json.loads(answer)
    assert payload["response_type"] in ("ephemeral", "in_channel")
    assert expect in json.dumps(payload, ensure_ascii=False)


def test_a_sign_off_is_acked_at_once_and_recorded_after_the_ack(env: Env) -> None:
    """A command that writes to the store never does it inside the ack (a sync may hold the
    database's write lock for a while): the ack says it is being done, the answer follows."""
    body = slash(env, "signoff Deployment", "CMRK", user=APPROVER)
    for served in start(env, inline_seconds=30):
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
        assert status == 200 and json.loads(answer)["text"] == messages.SLASH_WORKING
        [follow_up] = env.slack.wait_for_responses(1)
    assert "signed off by" in follow_up.payload["text"]
    assert follow_up.payload["response_type"] == "in_channel"
    assert [s.phase for s in env.store().signoffs.load("mrk")] == ["Deployment"]


def test_slow_answers_are_acked_at_once_and_sent_to_the_response_url(env: Env) -> None:
    for served in start(env, inline_seconds=0):
        body = slash(env, "blockers", "CMRK")
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
        assert status == 200 and json.loads(answer)["text"] == messages.SLASH_WORKING
        [follow_up] = env.slack.wait_for_responses(1)
        assert follow_up.channel == "CMRK"
        assert "Dependency summary for the client" in json.dumps(
            follow_up.payload, ensure_ascii=False
        )
        assert follow_up.payload["response_type"] == "ephemeral"


def test_an_answer_still_queued_at_sigterm_says_nothing_was_done(env: Env) -> None:
    """Acked "working on it", then the daemon stops before a worker took it: the user is told
    syncbot is restarting (nothing was done), not left waiting nor told that it failed."""
    release = threading.Event()
    for served in start(env, inline_seconds=0):
        slack = served.runtime.slack
        busy = [slack.pool.submit(release.wait, 30) for _ in range(slack.workers)]
        try:
            body = slash(env, "status", "CMRK")
            status, answer = send(served.url + EVENTS_PATH, body, signed(body))
            assert status == 200 and json.loads(answer)["text"] == messages.SLASH_WORKING
            slack.close()  # what SIGTERM does once HTTP has stopped
            [follow_up] = env.slack.wait_for_responses(1)
        finally:
            release.set()
        assert follow_up.channel == "CMRK"
        assert follow_up.payload["text"] == messages.SLASH_STOPPING
        assert follow_up.payload["response_type"] == "ephemeral"
        assert all(b.result(10) for b in busy)


def test_a_shared_internal_channel_gets_each_clients_answer(env: Env, served: Served) -> None:
    body = slash(env, "status", "CINT")
    status, answer = send(served.url + EVENTS_PATH, body, signed(body))
    assert status == 200 and json.loads(answer)["text"].startswith("Marker Corp — status")
    [second] = env.slack.wait_for_responses(1)
    assert second.channel == "CINT" and "Globex — status" in json.dumps(
        second.payload, ensure_ascii=False
    )


def test_a_long_digest_preview_sends_its_other_parts_to_the_response_url(env: Env) -> None:
    env.add_milestones(40)
    env.sync()
    body = slash(env, "digest mrk", "CINT")
    for served in start(env):
        status, answer = send(served.url + EVENTS_PATH, body, signed(body))
    assert status == 200
    first = json.loads(answer)
    assert "(part 1 of" in first["text"]
    parts = int(first["text"].split(" of ")[1].rstrip(")"))
    rest = env.slack.wait_for_responses(parts - 1)
    assert [f"(part {n} of {parts})" in r.payload["text"] for n, r in enumerate(rest, 2)] == [
        True
    ] * (parts - 1)


@pytest.mark.parametrize(
    "case",
    [
        "unsigned",
        "mis-signed",
        "replayed-old",
        "tampered-body",
        "future",
        "bad-timestamp",
        "not-utf8",
    ],
)
def test_unverified_requests_get_401_and_are_logged_without_their_bodies(
    env: Env, served: Served, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    body = slash(env, "signoff Deployment BODYMARKER", "CMRK", user=APPROVER)
    raw = body.encode()
    headers = {
        "unsigned": {},
        "mis-signed": signed(body, secret="not-the-secret"),
        "replayed-old": signed(body, timestamp=int(time.time()) - 6 * 60),
        "tampered-body": signed(body.replace("CMRK", "CGLX")),
        "future": signed(body, timestamp=int(time.time()) + 6 * 60),
        "bad-timestamp": {**signed(body), "X-Slack-Request-Timestamp": "soon"},
        "not-utf8": signed(body),
    }[case]
    if case == "not-utf8":
        raw += b"&junk=\xff\xfe"
    with caplog.at_level(logging.DEBUG):
        status, answer = send(served.url + EVENTS_PATH, raw, headers)
    assert status == 401
    assert "BODYMARKER" not in answer
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "rejected POST /slack/events" in logged
    assert "BODYMARKER" not in logged and "response_url" not in logged
    assert SIGNING_SECRET not in logged and TOKEN not in logged
    reason = {
        "unsigned": "unsigned",
        "replayed-old": "stale",
        "future": "in the future",
        "bad-timestamp": "not a number",
        "not-utf8": "not UTF-8",
    }.get(case, "does not match")
    assert reason in logged
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert env.store().signoffs.load("mrk") == []  # nothing was acted on
    assert env.slack.responses == []


def test_the_public_signature_vector_is_accepted_only_inside_its_five_minutes(
    env: Env, served: Served
) -> None:
    vector = json.loads(
        require_shared("slack", "python-slack-sdk__signature_vector.json").read_text()
    )
    for served in start(env, slack_signing_secret=vector["signing_secret"]):
        url = served.url + EVENTS_PATH
        headers = dict(vector["headers"])
        with time_machine.travel(vector["mock_now"] + 60):
            status, answer = send(url, vector["body"], headers)
        assert status == 200  # verified; its channel is no project's, so a polite refusal
        assert json.loads(answer)["text"] == messages.NOT_A_PROJECT_CHANNEL
        status, _ = send(url, vector["body"], headers)  # years later: a replay
        assert status == 401


def test_other_paths_and_methods_are_404(env: Env, served: Served) -> None:
    assert send(served.url + "/nope", "", {})[0] == 404
    assert send(served.url + EVENTS_PATH, "", {}, method="GET")[0] == 404


def test_socket_mode_only_mounts_no_http_endpoint_and_reports_a_bad_app_token(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"slack_signing_secret": None, "slack_app_token": "xapp-1-test"}
    runtime = Runtime(env.app(**settings), env.settings(**settings))
    try:
        # Nothing Slack sends over HTTP; the client pages (SPEC §9) are served either way, and
        # the webhook paths answer 404 without their secrets.
        assert runtime.socket_mode and sorted(runtime.router.paths) == [
            "/c/*",
            "/webhooks/jira",
            "/webhooks/linear",
        ]
    finally:
        runtime.close()
    monkeypatch.setenv("SYNCBOT_SLACK_APP_TOKEN", "xapp-1-test")
    monkeypatch.setenv("SYNCBOT_HOST", "127.0.0.1")
    monkeypatch.setenv("SYNCBOT_PORT", "0")
    capsys.readouterr()
    assert main(["run"]) == 2  # the fake Slack refuses apps.connections.open
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "Socket Mode" in line and "SYNCBOT_SLACK_APP_TOKEN" in line and "xapp-1-test" not in line


def test_run_without_any_slack_secret_is_one_line(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["run"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "SYNCBOT_SLACK_SIGNING_SECRET" in line and "SYNCBOT_SLACK_APP_TOKEN" in line


def test_syncbot_run_serves_signed_slash_commands_and_stops_on_sigterm(env: Env) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "syncbot", "run"],
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SYNCBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SYNCBOT_HOST": "127.0.0.1",
            "SYNCBOT_PORT": "0",
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "listening on http://127.0.0.1:" in line and "POST /slack/events" in line
        url = line.split("listening on ")[1].split(" ")[0]
        body = slash(env, "status", "CMRK")
        status, answer = send(url + EVENTS_PATH, body, signed(body))
        assert status == 200
        if json.loads(answer)["text"] == messages.SLASH_WORKING:  # its state not computed yet
            [follow_up] = env.slack.wait_for_responses(1)
            answer = json.dumps(follow_up.payload, ensure_ascii=False)
        assert json.loads(answer)["text"].startswith("Marker Corp — status")
        assert "ZZLEAK" not in answer
        assert send(url + EVENTS_PATH, body, {})[0] == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def test_a_replayed_signed_request_is_refused_by_the_daemon_and_by_its_next_run(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    body = slash(env, "signoff Deployment", "CMRK", user=APPROVER)
    headers = signed(body)
    first = start(env)
    served = next(first)
    status, answer = send(served.url + EVENTS_PATH, body, headers)
    assert status == 200 and json.loads(answer)["text"] == messages.SLASH_WORKING
    assert "signed off by" in env.slack.wait_for_responses(1)[0].payload["text"]
    with caplog.at_level(logging.WARNING):
        for _ in range(2):  # within the five minutes: a replay, whatever it asks
            status, answer = send(served.url + EVENTS_PATH, body, headers)
            assert status == 401 and "signed off" not in answer
        first.close()  # a graceful stop: the ids it saw are stored
        for later in start(env):  # the next run on the same SQLite file agrees
            assert send(later.url + EVENTS_PATH, body, headers)[0] == 401
    assert "replayed" in "\n".join(r.getMessage() for r in caplog.records)
    assert len(env.store().signoffs.load("mrk")) == 1
    assert len(env.slack.responses) == 1  # nothing answered the replays
