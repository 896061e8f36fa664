"""One leader among the daemons sharing a database (`syncbot.daemon.leader`).

In-process: the PostgreSQL lock itself (one holder, its identity seen by the others, a lost
connection noticed at the next check, the lock taken by a follower then), and a second daemon
on a SQLite file refused in one line. End to end: two real `syncbot run` processes on one
PostgreSQL schema; the leader is SIGKILLed the moment Slack accepts its first digest of a
minute; the follower leads within seconds and posts the rest of that minute's digests once;
a restarted process follows; SIGTERM hands leadership over. Every message is counted. And a
webhook delivered to the follower reaches the leader through the database: the leader syncs
within seconds, a burst in at most two syncs, a redelivery in none.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime as dt
import hashlib
import hmac
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_support import digest_key, glx_issues
from scenario import write_pages
from servers.jira import EMAIL, FakeJira, at
from servers.jira import TOKEN as JIRA_TOKEN
from servers.slack import TOKEN as SLACK_TOKEN
from servers.slack import FakeSlack
from sqlalchemy import create_engine, text
from support import cli, configs
from support.processes import Daemon, environment, fresh_schema, shift_to, wait_for

from syncbot.daemon.leader import Leadership, PostgresLeaderLock, leader_lock
from syncbot.store import Store

CHANNELS = ("CINT", "CGLX")
EVERY_MINUTE = {
    "internal_digest_cron": "* * * * *",
    "client_digest_cron": "* * * * *",
    "client_digest_every_weeks": 1,
    "sync_every_minutes": 60,
    "grace_minutes": 5,
}
GLX = configs.client(
    "glx",
    name="Globex",
    client_channel="CGLX",
    timezone="Europe/London",
    sources=[configs.source(path="glx/page-*.json")],
    milestones=[
        configs.milestone(
            "A", name="Globex milestone", phase="Build", planned="2026-03-27", epic="GLX-100"
        )
    ],
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    base = os.environ.get("SYNCBOT_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL not configured: set SYNCBOT_TEST_POSTGRES_URL (.ci/run does)")
    with fresh_schema(base) as url:
        yield url


# -- the lock, in-process -----------------------------------------------------------------------


class Calls:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def elected(self) -> None:
        self.seen.append("elected")

    def deposed(self) -> None:
        self.seen.append("deposed")


def election(url: str, name: str, calls: Calls) -> Leadership:
    return Leadership(
        PostgresLeaderLock(url, name),
        name,
        every=60,
        on_elected=calls.elected,
        on_deposed=calls.deposed,
    )


def test_one_holder_whose_identity_the_others_see_and_a_lost_connection_hands_over(
    pg_url: str,
) -> None:
    a_calls, b_calls = Calls(), Calls()
    a, b = (
        election(pg_url, "host-a:1:aaaaaa", a_calls),
        election(pg_url, "host-b:2:bbbbbb", b_calls),
    )
    try:
        a.round()
        b.round()
        assert (a.leading, b.leading) == (True, False)
        assert a.holder == b.holder == "host-a:1:aaaaaa"
        assert (a_calls.seen, b_calls.seen) == (["elected"], [])
        a.round()
        b.round()  # re-checked: nothing changes
        assert (a_calls.seen, b_calls.seen) == (["elected"], [])

        # The server ends the leader's connection (a restart, a network cut, an admin):
        # its next check notices and stops its scheduler; the follower then leads.
        engine = create_engine(pg_url)
        with engine.begin() as conn:
            ended = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'syncbot host-a:1:aaaaaa'"
                )
            ).scalars()
            assert list(ended) == [True]
        engine.dispose()
        a.round()
        assert a.leading is False and a_calls.seen == ["elected", "deposed"]
        assert a.error  # why: the connection failed
        b.round()
        assert b.leading is True and b_calls.seen == ["elected"]
        a.round()  # a reconnects and follows
        assert a.leading is False and a.holder == "host-b:2:bbbbbb" and a.error is None
    finally:
        a.close()
        b.close()


def test_a_leader_that_cannot_start_its_scheduler_gives_the_lock_up(pg_url: str) -> None:
    def broken() -> None:
        raise RuntimeError("job store unavailable")

    a = Leadership(
        PostgresLeaderLock(pg_url, "a:1:a"), "a:1:a", every=60, on_elected=broken, on_deposed=print
    )
    b_calls = Calls()
    b = election(pg_url, "b:2:b", b_calls)
    try:
        a.round()
        assert a.leading is False
        b.round()
        assert b.leading is True and a.lock.holder() == "b:2:b"
    finally:
        a.close()
        b.close()


def test_a_second_daemon_on_one_sqlite_file_exits_2_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pages(tmp_path / "glx", [{"issues": list(glx_issues().values())}])
    config = configs.write_config(tmp_path / "syncbot.toml", GLX)
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(url)
    first = leader_lock(store.db, "host-a:4242:abcdef")  # the first daemon's lock
    try:
        monkeypatch.setenv("SYNCBOT_DATABASE_URL", url)
        monkeypatch.setenv("SYNCBOT_SLACK_SIGNING_SECRET", "secret")
        monkeypatch.setenv("SYNCBOT_PORT", "0")
        result = cli.run(["run", "--config", str(config)])
        assert result.code == 2
        [line] = result.lines
        assert "another syncbot daemon (host-a:4242:abcdef)" in line
        assert "PostgreSQL" in line and str(tmp_path / "state.db") in line
    finally:
        first.close()
        store.close()


# -- two real daemons -------------------------------------------------------------------------


def test_two_daemons_one_leader_kill_9_fails_over_with_every_digest_posted_once(
    tmp_path: Path, pg_url: str
) -> None:
    write_pages(tmp_path / "glx", [{"issues": list(glx_issues().values())}])
    config = configs.write_config(tmp_path / "syncbot.toml", GLX, schedule=EVERY_MINUTE)
    # The processes' shared fake clock starts 15 s before 15:00: the first minute fires soon.
    shift = shift_to(dt.datetime(2026, 3, 9, 14, 59, 45, tzinfo=dt.UTC))
    with FakeSlack(channels=CHANNELS) as slack:
        env = environment(
            SYNCBOT_CONFIG=str(config),
            SYNCBOT_DATABASE_URL=pg_url,
            SYNCBOT_SLACK_BOT_TOKEN=SLACK_TOKEN,
            SYNCBOT_SLACK_API_URL=slack.api_url,
            SYNCBOT_SLACK_SIGNING_SECRET="leader-test-secret",
            SYNCBOT_HOST="127.0.0.1",
            SYNCBOT_PORT="0",
            SYNCBOT_LOG_FORMAT="json",
            SYNCBOT_SLACK_POST_INTERVAL_SECONDS="0",
            SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS="0",
            SYNCBOT_SHUTDOWN_SECONDS="1",
        )
        daemons: list[Daemon] = []
        try:
            a = Daemon("A", shift, env, tmp_path)
            daemons.append(a)
            a_health = wait_for("A to lead", a.leading)
            b = Daemon("B", shift, env, tmp_path)
            daemons.append(b)
            b_health = wait_for("B to follow A", b.following)
            assert b_health["leader_id"] == a_health["instance"] == a_health["leader_id"]
            assert b_health["status"] == "ok" and b_health["scheduler"]["state"] == "stopped"
            assert a.health()["leader"] is True  # still one leader

            killed: list[float] = []

            def kill_a(_: object) -> None:
                killed.append(time.monotonic())
                os.kill(a.proc.pid, signal.SIGKILL)

            slack.on_post(kill_a)  # A dies as Slack accepts its first digest of 15:00
            assert a.proc.wait(timeout=40) == -signal.SIGKILL
            led = wait_for("B to lead", b.leading)
            failover = time.monotonic() - killed[0]
            assert led["leader_id"] == led["instance"] == b_health["instance"]
            keys = period_keys("2026-03-09T15:00Z")
            wait_for("B to post the rest of 15:00", lambda: keys <= set(posted(slack)))
            posts_after = time.monotonic() - killed[0]
            print(
                f"failover: B led {failover:.1f} s after kill -9; "
                f"15:00 complete {posts_after:.1f} s"
            )
            assert failover <= 30

            # A restarted follows B; SIGTERM to B hands leadership to it.
            a2 = Daemon("A2", shift, env, tmp_path)
            daemons.append(a2)
            following = wait_for("A2 to follow B", a2.following)
            assert following["leader_id"] == led["instance"]
            assert b.sigterm() < 10
            wait_for("A2 to lead after B's SIGTERM", a2.leading, timeout=20)
            assert a2.sigterm() < 10
        finally:
            for daemon in daemons:
                daemon.kill()
        assert not slack.crashes
        found = posted(slack)
        doubles = {k: v for k, v in found.items() if len(v) != 1}
        assert doubles == {}, f"posted more than once: {doubles}"
        per_minute = collections.Counter(k.split(":", 3)[3] for k in found)
        first, last = min(per_minute), max(per_minute)
        assert first == "2026-03-09T15:00Z"
        minutes = _minutes(first, last)
        assert {m: per_minute[m] for m in minutes} == {m: 2 for m in minutes}, "a gap"
        records = [r["message"] for d in daemons for r in d.records()]
        assert any("lost the leader lock" in m or "holds the leader lock" in m for m in records)
        for daemon in daemons:
            assert "leader-test-secret" not in daemon.output()
    store = Store(pg_url)
    try:
        assert store.outbox.backlog() == 0
    finally:
        store.close()


def period_keys(period: str) -> set[str]:
    return {f"syncbot:glx:{a}:{period}" for a in ("internal", "client")}


def posted(slack: FakeSlack) -> dict[str, list[str]]:
    """Outbox key -> timestamps of every syncbot message in the fake Slack."""
    out: dict[str, list[str]] = collections.defaultdict(list)
    for channel in CHANNELS:
        for message in slack.posts(channel):
            key = digest_key(message)
            assert key is not None, f"a message without its outbox key in {channel}"
            out[key].append(message.ts)
    return out


def _minutes(first: str, last: str) -> list[str]:
    start = dt.datetime.strptime(first, "%Y-%m-%dT%H:%MZ")
    end = dt.datetime.strptime(last, "%Y-%m-%dT%H:%MZ")
    out = []
    while start <= end:
        out.append(start.strftime("%Y-%m-%dT%H:%MZ"))
        start += dt.timedelta(minutes=1)
    return out


WEBHOOK_SECRET = "leader-test-webhook-secret"
PAYLOAD = Path(__file__).resolve().parents[1] / "payloads" / "webhooks" / "jira-issue-updated.json"


def test_a_webhook_to_the_follower_is_synced_by_the_leader_within_seconds(
    tmp_path: Path, pg_url: str
) -> None:
    acme = configs.client(
        "acme",
        client_channel="CACME",
        sources=[configs.source("jira", project="ACME")],
        milestones=[configs.milestone("1.1", epic="ACME-10")],
    )
    config = configs.write_config(
        tmp_path / "syncbot.toml", acme, schedule={"sync_every_minutes": 60}
    )
    body = PAYLOAD.read_bytes()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()

    def deliver(daemon: Daemon, delivery: str) -> tuple[int, str]:
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": signature,
            "X-Atlassian-Webhook-Identifier": delivery,
        }
        return daemon.request("/webhooks/jira", body, headers)

    with FakeJira("cloud") as jira, FakeSlack(channels=("CINT", "CACME")) as slack:
        jira.add("ACME-11", updated=at(2026, 3, 2, 10), epic="ACME-10")
        env = environment(
            SYNCBOT_CONFIG=str(config),
            SYNCBOT_DATABASE_URL=pg_url,
            SYNCBOT_JIRA_URL=jira.url,
            SYNCBOT_JIRA_EMAIL=EMAIL,
            SYNCBOT_JIRA_TOKEN=JIRA_TOKEN,
            SYNCBOT_JIRA_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SYNCBOT_SLACK_BOT_TOKEN=SLACK_TOKEN,
            SYNCBOT_SLACK_API_URL=slack.api_url,
            SYNCBOT_SLACK_SIGNING_SECRET="leader-test-secret",
            SYNCBOT_HOST="127.0.0.1",
            SYNCBOT_PORT="0",
            SYNCBOT_LOG_FORMAT="json",
            SYNCBOT_SHUTDOWN_SECONDS="1",
        )
        daemons: list[Daemon] = []
        try:
            a = Daemon("A", 0.0, env, tmp_path)
            daemons.append(a)
            wait_for("A to lead", a.leading)
            wait_for("A's first sync", lambda: a.health()["status"] == "ok")
            b = Daemon("B", 0.0, env, tmp_path)
            daemons.append(b)
            wait_for("B to follow", b.following)
            jira.reset_log()

            started = time.monotonic()
            status, answer = deliver(b, "first")
            answered = time.monotonic() - started
            assert status == 200 and '"sources": 1' in answer and answered < 1.0
            wait_for("the leader's sync", lambda: jira.count("/search/jql"), timeout=10)
            latency = time.monotonic() - started
            [search] = jira.log("/search/jql")
            jql = search.json()["jql"] if search.method == "POST" else search.param("jql")
            assert "updated >=" in str(jql)  # incremental
            print(f"webhook: answered in {answered:.3f} s, synced {latency:.1f} s after")
            wait_for("the first webhook sync to finish", lambda: _webhook_syncs(a) == (1, 1))

            # A burst of 20 deliveries (and one redelivery) to the follower: at most two syncs.
            jira.reset_log()
            names = [f"burst-{n}" for n in range(20)] + ["burst-0"]
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda name: deliver(b, name), names))
            assert all(code == 200 for code, _ in answers)
            assert sum('"duplicate": true' in text for _, text in answers) == 1
            wait_for("the burst's sync", lambda: jira.count("/search/jql"), timeout=10)
            store = Store(pg_url)
            try:
                wait_for(
                    "every mark to be synced",
                    lambda: not store.dirty.pending() and _settled(a),
                    timeout=20,
                )
            finally:
                store.close()
            started_syncs, finished = _webhook_syncs(a)
            assert 2 <= started_syncs <= 3 and started_syncs == finished  # first + burst
            assert jira.count("/search/jql") == started_syncs - 1
            assert not [r for r in b.records() if r["message"].startswith("webhook: syncing")]
            assert b.sigterm() < 10 and a.sigterm() < 10
        finally:
            for daemon in daemons:
                daemon.kill()
        assert not jira.crashes


def _webhook_syncs(daemon: Daemon) -> tuple[int, int]:
    """(webhook syncs started, webhook syncs finished) per the daemon's log."""
    records = daemon.records()
    started = sum(r["message"].startswith("webhook: syncing") for r in records)
    finished = sum(
        r.get("job") == "webhook:acme" and r["message"].startswith("acme/jira:ACME: fetched")
        for r in records
    )
    return started, finished


def _settled(daemon: Daemon) -> bool:
    started, finished = _webhook_syncs(daemon)
    return started == finished
