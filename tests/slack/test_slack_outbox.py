"""Exactly-once digest delivery: periods, 5xx retries, crashes between send and record, retries
of what could not be posted, corrections, and the history the honesty rules read."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from servers.slack import Message
from slack_env import NOW, Env
from test_slack_posting import FakeTime

from syncbot.cli import main
from syncbot.run import slack_access
from syncbot.slack.outbox import LEASE, Outbox
from syncbot.slack.posting import DIGEST_EVENT, SlackPoster
from syncbot.store import OutboxEntry, OutboxKey, Store

WEEK = dt.timedelta(days=7)
ROOT = Path(__file__).resolve().parents[2]


def post(
    capsys: pytest.CaptureFixture[str], at: dt.datetime, *args: str, code: int = 0
) -> tuple[str, str]:
    capsys.readouterr()
    with time_machine.travel(at, tick=False):
        assert main(["digest", "--client", "mrk", "--post", *args]) == code
    out = capsys.readouterr()
    return out.out, out.err


def outbox(env: Env, fake: FakeTime, store: Store, at: dt.datetime) -> Outbox:
    sender = SlackPoster.connect(slack_access(env.settings()), sleep=fake.sleep, clock=fake.clock)
    return Outbox(store, sender, clock=lambda: at, sleep=fake.sleep)


def keys_of(messages: list[Message]) -> list[tuple[str, int]]:
    out = []
    for m in messages:
        assert m.metadata and m.metadata["event_type"] == DIGEST_EVENT
        payload = m.metadata["event_payload"]
        out.append((payload["key"], payload["part"]))
    return out


def test_two_post_runs_in_one_period_post_once(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = post(capsys, NOW)
    assert "mrk/internal: posted 1 message to CINT for period 2026-03-09 09:00 CDT" in out
    assert "mrk/client: posted 1 message to CMRK for period 2026-03-02 09:00 CST" in out
    out, _ = post(capsys, NOW + dt.timedelta(hours=3))
    assert out.count("already posted") == 2 and "not posting again" in out
    assert len(env.slack.posts("CINT")) == 1 and len(env.slack.posts("CMRK")) == 1
    assert env.slack.posts("CGLX") == []  # another client's channel is never touched
    [internal] = env.slack.posts("CINT")
    assert "internal digest" in internal.text
    [(key, part)] = keys_of(env.slack.posts("CINT"))
    assert key == "syncbot:mrk:internal:2026-03-09T14:00Z" and part == 0


def test_audience_posts_only_that_digest(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = post(capsys, NOW, "--audience", "client")
    assert "mrk/client: posted" in out and "internal" not in out
    assert env.slack.posts("CINT") == [] and len(env.slack.posts("CMRK")) == 1


def test_each_period_is_posted_and_tells_what_changed_since_the_last_posted_digest(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    post(capsys, NOW, "--audience", "internal")
    # Milestone one's open ticket gets a later due date; the other one is done.
    env.edit_issue("MRK-2", duedate="2026-03-20")
    env.sync(NOW + dt.timedelta(days=1))
    out, _ = post(capsys, NOW + WEEK, "--audience", "internal")
    assert "for period 2026-03-16 09:00 CDT" in out
    first, second = env.slack.posts("CINT")
    assert "Forecast for 'Milestone one' moved from 2026-03-10 to 2026-03-20" in str(second.blocks)
    assert "Forecast for" not in str(first.blocks)
    # "Completed since" starts at the last posted digest, not one cadence back.
    assert "Completed since 2026-03-10" in str(second.blocks)


def test_completed_since_the_last_digest_lists_what_was_done_after_it(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    post(capsys, NOW, "--audience", "internal")
    env.edit_issue(
        "MRK-2",
        status={"name": "Done", "statusCategory": {"key": "done"}},
        resolution={"name": "Done"},
        resolutiondate="2026-03-10T16:00:00.000-0600",
    )
    env.sync(NOW + dt.timedelta(days=1))
    post(capsys, NOW + WEEK, "--audience", "internal")
    second = env.slack.posts("CINT")[1]
    # Done on the as-of day of the last digest, but after it: still reported, once.
    assert "Milestone one — delivered 2026-03-10" in str(second.blocks)


def test_slack_5xx_after_accepting_is_retried_without_a_second_post(env: Env) -> None:
    env.slack.accept_then_fail(status=500)
    fake, store = FakeTime(), env.store()
    [result] = outbox(env, fake, store, NOW).send_all(env.app().queue_digest("mrk", "internal"))
    assert result.outcome == "posted"
    [message] = env.slack.posts("CINT")
    assert result.parts == (message.ts,)
    assert len(env.slack.api_calls("chat.postMessage")) == 1  # found in the history instead
    assert len(env.slack.api_calls("conversations.history")) == 1
    assert fake.sleeps  # backed off (injected) before looking again


def test_slack_5xx_before_accepting_is_retried_and_posted_once(env: Env) -> None:
    env.slack.server_error(503, path="/api/chat.postMessage", times=2)
    fake, store = FakeTime(), env.store()
    [result] = outbox(env, fake, store, NOW).send_all(env.app().queue_digest("mrk", "client"))
    assert result.outcome == "posted"
    assert len(env.slack.posts("CMRK")) == 1
    assert len(env.slack.log("/api/chat.postMessage")) == 3


def test_a_post_slack_cannot_take_now_is_kept_and_sent_by_a_later_run_older_first(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.slack.server_error(500, path="/api/chat.postMessage", times=None)
    _, err = post(capsys, NOW, "--audience", "internal", code=1)
    assert "NOT POSTED to CINT for period 2026-03-09 09:00 CDT" in err
    assert "retried by the next" in err
    assert env.slack.posts() == []
    entry = env.store().outbox.get(
        OutboxKey("mrk", "internal", dt.datetime(2026, 3, 9, 14, tzinfo=dt.UTC))
    )
    assert entry is not None and entry.state != "sent" and "HTTP 500" in (entry.last_error or "")
    env.slack.clear_faults()
    out, _ = post(capsys, NOW + WEEK, "--audience", "internal")
    lines = out.splitlines()
    assert "period 2026-03-09" in lines[0] and "period 2026-03-16" in lines[1]
    assert [k for k, _ in keys_of(env.slack.posts("CINT"))] == [
        "syncbot:mrk:internal:2026-03-09T14:00Z",
        "syncbot:mrk:internal:2026-03-16T14:00Z",
    ]


def test_a_refused_post_exits_2_with_the_fix_and_is_posted_once_fixed(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.slack.not_in_channel.add("CMRK")
    out, err = post(capsys, NOW, code=2)
    assert "mrk/internal: posted" in out  # the other audience is not held back
    assert "not_in_channel" in err and "/invite @syncbot" in err
    env.slack.not_in_channel.clear()
    out, _ = post(capsys, NOW + dt.timedelta(minutes=5))
    assert "mrk/client: posted 1 message to CMRK" in out
    assert len(env.slack.posts("CMRK")) == 1 and len(env.slack.posts("CINT")) == 1


def test_crash_after_slack_accepted_and_before_the_store_write_never_posts_twice(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store write after chat.postMessage fails for real (its table is gone while Slack
    answers); the run dies holding its claim. The next run sees the claim's holder is gone,
    takes the row over, finds the message in the channel history and records it instead of
    posting again."""
    db = env.db_url.removeprefix("sqlite:///")

    def break_store(_: Message) -> None:
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE slack_outbox RENAME TO slack_outbox_away")

    env.slack.on_post(break_store)
    _, err = post(capsys, NOW, "--audience", "internal", code=2)
    assert "state database error" in err
    assert len(env.slack.posts("CINT")) == 1
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE slack_outbox_away RENAME TO slack_outbox")
    stuck = env.store().outbox.get(
        OutboxKey("mrk", "internal", dt.datetime(2026, 3, 9, 14, tzinfo=dt.UTC))
    )
    assert stuck is not None and stuck.claimed_by  # the dead run's claim, within its lease
    out, _ = post(capsys, NOW + dt.timedelta(minutes=1), "--audience", "internal")
    [message] = env.slack.posts("CINT")
    assert f"mrk/internal: found in CINT for period 2026-03-09 09:00 CDT (ts {message.ts})" in out
    assert "not posted again" in out
    entry = env.store().outbox.get(
        OutboxKey("mrk", "internal", dt.datetime(2026, 3, 9, 14, tzinfo=dt.UTC))
    )
    assert entry is not None and entry.state == "sent" and entry.parts == (message.ts,)
    out, _ = post(capsys, NOW + dt.timedelta(minutes=2), "--audience", "internal")
    assert "already posted" in out and len(env.slack.posts("CINT")) == 1


def test_killed_process_mid_digest_resumes_with_only_the_missing_parts(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real `syncbot digest --post` process is SIGKILLed as Slack accepts its first part."""
    env.add_milestones(40)
    env.sync()
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
            "internal",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    env.slack.on_post(lambda _: os.kill(proc.pid, signal.SIGKILL))
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    [first] = env.slack.posts("CINT")
    entry = env.store().outbox.get(
        OutboxKey("mrk", "internal", dt.datetime(2026, 3, 9, 14, tzinfo=dt.UTC))
    )
    assert entry is not None and entry.state == "sending" and len(entry.messages) >= 2
    assert entry.claimed_until is not None and entry.claimed_until > NOW  # its lease runs on
    # The very next run sees the claim's holder is dead and finishes the digest at once
    # (it does not report "being posted by another run" for the rest of the lease).
    out, _ = post(capsys, NOW + dt.timedelta(seconds=5), "--audience", "internal")
    posted = env.slack.posts("CINT")
    assert len(posted) == len(entry.messages)
    assert sorted(p for _, p in keys_of(posted)) == list(range(len(entry.messages)))
    assert posted[0] is first or posted[0].ts == first.ts
    assert f"posted {len(entry.messages) - 1} messages" in out


def test_correction_updates_the_posted_messages_in_place(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    post(capsys, NOW, "--audience", "client")
    [before] = env.slack.posts("CMRK")
    old_blocks = str(before.blocks)
    env.edit_issue("MRK-9", duedate="2026-03-12")
    env.sync(NOW + dt.timedelta(hours=1))
    out, _ = post(capsys, NOW + dt.timedelta(hours=2), "--audience", "client", "--correct")
    assert "mrk/client: updated 1 message in CMRK" in out
    [after] = env.slack.posts("CMRK")
    assert after.ts == before.ts and len(env.slack.api_calls("chat.update")) == 1
    assert "2026-03-12" in str(after.blocks) and str(after.blocks) != old_blocks
    out, _ = post(capsys, NOW + dt.timedelta(hours=3), "--audience", "client")
    assert "already posted" in out and len(env.slack.posts("CMRK")) == 1


def test_correct_needs_post_and_something_posted(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["digest", "--client", "mrk", "--correct"]) == 2
    assert "use it with --post" in capsys.readouterr().err
    out, _ = post(capsys, NOW, "--audience", "client", "--correct")
    assert "nothing posted for period" in out and env.slack.api_calls("chat.update") == []


@pytest.mark.parametrize(
    ("old", "new", "refused"),
    [
        (
            'internal_channel = "CINT"\nclient_channel = "CGLX"',
            'internal_channel = "CMRK"\nclient_channel = "CGLX"',
            "clients[0].client_channel: 'CMRK' is also clients[1]'s internal_channel",
        ),
        (
            'client_channel = "CGLX"',
            'client_channel = "CMRK"',
            "clients[1].client_channel: 'CMRK' is also clients[0].client_channel",
        ),
    ],
    ids=["internal-into-a-client-channel", "client-into-another-clients-channel"],
)
def test_a_channel_misconfiguration_never_posts_into_someone_elses_client_channel(
    env: Env, capsys: pytest.CaptureFixture[str], old: str, new: str, refused: str
) -> None:
    assert old in env.config.read_text()
    env.config.write_text(env.config.read_text().replace(old, new))
    capsys.readouterr()
    with time_machine.travel(NOW, tick=False):
        assert main(["digest", "--client", "glx", "--post"]) == 2
    assert refused in capsys.readouterr().err
    assert env.slack.posts("CMRK") == []


def test_missing_bot_token_is_one_line(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCBOT_SLACK_BOT_TOKEN")
    _, err = post(capsys, NOW, code=2)
    expected = (
        "syncbot: error: SYNCBOT_SLACK_BOT_TOKEN is not set: put the bot token (xoxb-...) "
        "in the environment or .env"
    )
    assert err.strip().splitlines() == [expected]


# -- the store's outbox, on SQLite and PostgreSQL --------------------------------------------

KEY = OutboxKey("acme", "client", dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC))


def entry(key: OutboxKey = KEY, parts: int = 2) -> OutboxEntry:
    return OutboxEntry(
        key=key,
        channel="CC",
        as_of=dt.date(2026, 3, 2),
        state="pending",
        messages=tuple({"text": f"part {i}"} for i in range(parts)),
        parts=(None,) * parts,
        snapshot={"1.1": (dt.date(2026, 3, 6), "on_track"), "2.1": (None, "not_started")},
    )


def test_outbox_rows_are_added_once_and_claimed_by_one_owner(store: Store) -> None:
    first = store.outbox.add(entry(), NOW)
    again = store.outbox.add(entry(parts=5), NOW)
    assert again == first and len(again.messages) == 2
    assert store.outbox.claim(KEY, "a", NOW, LEASE) is not None
    assert store.outbox.claim(KEY, "b", NOW + dt.timedelta(minutes=1), LEASE) is None
    assert store.outbox.claim(KEY, "a", NOW + dt.timedelta(minutes=1), LEASE) is not None
    assert store.outbox.claim(KEY, "b", NOW + LEASE + dt.timedelta(minutes=2), LEASE) is not None
    store.outbox.release(KEY, "b")
    assert store.outbox.claim(KEY, "c", NOW, LEASE) is not None


def test_outbox_states_and_the_last_posted_snapshot(store: Store) -> None:
    store.outbox.add(entry(), NOW)
    assert store.outbox.last_posted("acme", "client") is None
    store.outbox.sending(KEY, NOW)
    assert store.outbox.get(KEY).state == "sending"  # type: ignore[union-attr]
    assert store.outbox.backlog() == 1
    assert store.outbox.posted(KEY, 0, "1.1", NOW).state == "pending"
    store.outbox.sending(KEY, NOW)
    store.outbox.failed(KEY, "HTTP 500", NOW, certain=False)
    assert store.outbox.get(KEY).state == "sending"  # type: ignore[union-attr]
    done = store.outbox.posted(KEY, 1, "1.2", NOW + dt.timedelta(seconds=2))
    assert done.state == "sent" and done.posted == ("1.1", "1.2")
    last = store.outbox.last_posted("acme", "client")
    assert last is not None and last.parts == ("1.1", "1.2")
    assert last.snapshot == {"1.1": (dt.date(2026, 3, 6), "on_track"), "2.1": (None, "not_started")}
    assert store.outbox.last_posted("acme", "client", before=KEY.period) is None
    assert store.outbox.last_posted("acme", "internal") is None
    assert store.outbox.unsent("acme", "client") == [] and store.outbox.backlog() == 0


def test_sign_offs_keep_the_first_one(store: Store) -> None:
    first = store.signoffs.sign_off("acme", "Data Preparation", "U1", NOW)
    second = store.signoffs.sign_off("acme", "Data Preparation", "U2", NOW + WEEK)
    assert second == first and first.user_id == "U1"
    assert [s.phase for s in store.signoffs.load("acme")] == ["Data Preparation"]
    assert store.signoffs.load("other") == []


def test_a_live_posters_claim_is_never_taken_and_a_poster_that_lost_its_claim_stops(
    env: Env,
) -> None:
    """Two daemons in containers: same hostname, both pid 1. A claim is held under an id
    unique to each poster, and only taken over when its holder is gone (its lock is free),
    never because a hostname and pid look like "my own dead earlier run". And a poster whose
    lease was taken (a stall longer than LEASE) stops before its next part."""
    env.add_milestones(40)
    env.sync()
    [entry] = env.app().queue_digest("mrk", "internal")
    assert len(entry.messages) >= 2
    fake = FakeTime()
    first = outbox(env, fake, env.store(), NOW)
    second = outbox(env, fake, env.store(), NOW)
    assert first.owner != second.owner and first.owner.split(":")[:2] == second.owner.split(":")[:2]

    posted_by_second: list[str] = []

    def meanwhile(_: Message) -> None:
        # While `first` posts its first part, its lease runs out (a long stall) and `second`
        # takes the row, posts what is left, and releases it.
        if posted_by_second:
            return
        with env.store().claims.held(second.owner):
            later = NOW + LEASE + dt.timedelta(seconds=1)
            taken = env.store().outbox.claim(entry.key, second.owner, later, LEASE)
            assert taken is not None  # the lease lapsed: only then may another take it
            posted_by_second.append(second.owner)

    env.slack.on_post(meanwhile)
    result = first.send(entry)
    assert result.outcome == "busy"  # it noticed, and stopped
    assert len(env.slack.posts("CINT")) == 1  # only the part it posted before losing the row
    held = env.store().outbox.get(entry.key)
    assert held is not None and held.claimed_by == second.owner

    # A claim whose holder is alive (its lock held) is busy for everyone else, lease or not.
    with env.store().claims.held(second.owner):
        assert second.owner is not None
        other = outbox(env, fake, env.store(), NOW)
        assert other.send(entry).outcome == "busy"
    # Once the holder is gone (lock free), the next poster takes over and finishes.
    done = outbox(env, fake, env.store(), NOW).send(entry)
    assert done.outcome == "posted"
    assert len(env.slack.posts("CINT")) == len(entry.messages)
