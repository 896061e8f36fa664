"""The trend chart goes with the client digest (SPEC §9), shared with files_upload_v2 as the
last part of the digest's outbox entry: exactly once, across 5xx answers and kill -9 at
either side of the share (the protocol is in syncbot/slack/outbox.py, step 6)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from scenario import MARK
from servers.slack import Message
from slack_env import NOW, Env
from test_slack_outbox import outbox, post
from test_slack_posting import FakeTime

from syncbot.cli import main
from syncbot.store import OutboxKey

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PERIOD = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)  # mrk's client digest period
KEYS = ("MRK-1", "MRK-2", "MRK-3", "MRK-9", "MRK-100", "GLX-1", "GLX-2")


@pytest.fixture
def two_reports(env: Env) -> Env:
    """A second report day (a week before NOW) so the client has a trend to chart."""
    with time_machine.travel(NOW, tick=False):
        assert main(["sync", "--config", str(env.config), "--as-of", "2026-03-03"]) == 0
    return env


def calls(env: Env, method: str) -> int:
    return len(env.slack.api_calls(method))


def entry_parts(env: Env) -> tuple[str | None, ...]:
    entry = env.store().outbox.get(OutboxKey("mrk", "client", CLIENT_PERIOD))
    assert entry is not None
    return entry.parts


def test_the_client_digest_carries_the_chart_once(
    two_reports: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env = two_reports
    out, _ = post(capsys, NOW)
    assert "mrk/client: posted 1 message to CMRK" in out and "with the trend chart" in out
    [digest, share] = env.slack.posts("CMRK")
    assert digest.metadata and not digest.files
    [chart] = share.files
    assert chart.data is not None and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert chart.filename.startswith("milestone-trend-2026-03-10-") and chart.title
    assert "Marker Corp" in chart.title and "Marker Corp" in (chart.alt_txt or "")
    # The three steps of files_upload_v2, once each; no chart for the internal audience.
    assert [
        calls(env, m) for m in ("files.getUploadURLExternal", "files.completeUploadExternal")
    ] == [1, 1]
    assert env.slack.count("/upload/v1/", method="POST") == 1
    assert env.slack.shared_files("CINT") == []
    assert entry_parts(env) == (digest.ts, chart.id)
    # Nothing of a ticket in the channel: not in the file's name, title or alt text either.
    seen = env.slack.sent_to("CMRK")
    assert MARK not in seen and not [k for k in KEYS if k in seen]
    out, _ = post(capsys, NOW + dt.timedelta(hours=1))
    assert "already posted" in out and len(env.slack.shared_files("CMRK")) == 1
    assert calls(env, "files.getUploadURLExternal") == 1


def test_no_chart_with_a_single_report(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    post(capsys, NOW, "--audience", "client")
    assert len(env.slack.posts("CMRK")) == 1 and env.slack.shared_files() == []
    assert calls(env, "files.getUploadURLExternal") == 0


def test_a_5xx_after_the_share_is_found_in_the_history_not_shared_again(two_reports: Env) -> None:
    env = two_reports
    env.slack.accept_then_fail("files.completeUploadExternal", status=500)
    fake, store = FakeTime(), env.store()
    [result] = outbox(env, fake, store, NOW).send_all(env.app().queue_digest("mrk", "client"))
    assert result.outcome == "posted", result.line()
    assert len(env.slack.shared_files("CMRK")) == 1
    assert calls(env, "files.completeUploadExternal") == 1
    assert calls(env, "conversations.history") == 1  # looked, found it
    assert entry_parts(env)[-1] == env.slack.shared_files("CMRK")[0].id


def test_a_5xx_before_the_share_is_retried_without_looking(two_reports: Env) -> None:
    env = two_reports
    env.slack.server_error(503, path="/api/files.getUploadURLExternal", times=1)
    fake, store = FakeTime(), env.store()
    [result] = outbox(env, fake, store, NOW).send_all(env.app().queue_digest("mrk", "client"))
    assert result.outcome == "posted", result.line()
    assert len(env.slack.shared_files("CMRK")) == 1
    assert calls(env, "conversations.history") == 0  # nothing could have been shared


def test_a_refused_share_is_kept_and_shared_once_fixed(
    two_reports: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env = two_reports
    env.slack.refuse("files.getUploadURLExternal", "missing_scope")
    _, err = post(capsys, NOW, "--audience", "client", code=2)
    assert "missing_scope" in err and "manifest" in err
    assert len(env.slack.posts("CMRK")) == 1 and env.slack.shared_files() == []
    out, _ = post(capsys, NOW + dt.timedelta(minutes=5), "--audience", "client")
    assert "shared the trend chart in CMRK" in out
    assert len(env.slack.posts("CMRK")) == 2 and len(env.slack.shared_files("CMRK")) == 1


def test_a_correction_updates_the_digest_and_leaves_the_chart(
    two_reports: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env = two_reports
    post(capsys, NOW, "--audience", "client")
    env.edit_issue("MRK-9", duedate="2026-03-12")
    env.sync(NOW + dt.timedelta(hours=1))
    out, _ = post(capsys, NOW + dt.timedelta(hours=2), "--audience", "client", "--correct")
    assert "updated 1 message in CMRK" in out
    assert calls(env, "chat.update") == 1 and calls(env, "files.getUploadURLExternal") == 1
    assert len(env.slack.shared_files("CMRK")) == 1 and all(entry_parts(env))


def killed_run(env: Env, method: str) -> None:
    """`syncbot digest --post --audience client` in a process SIGKILLed by the fake Slack at
    `method` (see FakeSlack.on_post), its clock frozen at NOW."""
    script = (
        "import sys, datetime as dt, time_machine\n"
        "from syncbot.cli import main\n"
        f"with time_machine.travel(dt.datetime.fromisoformat({NOW.isoformat()!r}), tick=False):\n"
        "    sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            "digest",
            "--client",
            "mrk",
            "--post",
            "--audience",
            "client",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )

    def kill(_: Message) -> None:
        os.kill(proc.pid, signal.SIGKILL)

    env.slack.on_post(kill, method=method)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL


def test_killed_right_after_the_share_the_chart_is_found_not_shared_again(
    two_reports: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env = two_reports
    env.slack.shares_pending = True  # Slack shows the share in the history a moment later
    killed_run(env, "files.completeUploadExternal")
    [shared] = env.slack.shared_files("CMRK")
    assert entry_parts(env)[-1] is None  # shared in Slack, not recorded in the store
    # Moments later the history does not show it yet: the next run waits, not shares twice.
    _, err = post(capsys, NOW + dt.timedelta(seconds=5), "--audience", "client", code=1)
    assert "waiting for Slack to show it" in err
    assert calls(env, "files.getUploadURLExternal") == 1
    env.slack.reveal_shares()
    out, _ = post(capsys, NOW + dt.timedelta(minutes=2), "--audience", "client")
    assert "found in CMRK" in out and "not posted again" in out
    assert env.slack.shared_files("CMRK") == [shared]
    assert calls(env, "files.getUploadURLExternal") == 1
    assert entry_parts(env)[-1] == shared.id
    assert len(env.slack.posts("CMRK")) == 2  # the digest and its chart, once each


def test_killed_between_the_upload_and_the_share_the_chart_is_shared_once(
    two_reports: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env = two_reports
    killed_run(env, "upload")
    assert env.slack.shared_files() == []
    [orphan] = env.slack.uploads.values()
    assert orphan.data is not None and orphan.shared_in is None  # nobody can see it
    out, _ = post(capsys, NOW + dt.timedelta(minutes=2), "--audience", "client")
    assert "shared the trend chart in CMRK" in out
    [shared] = env.slack.shared_files("CMRK")
    assert shared.id != orphan.id and shared.filename == orphan.filename
    assert len(env.slack.posts("CMRK")) == 2
