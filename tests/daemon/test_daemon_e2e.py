"""`syncbot run` as a real process against the fake Jira and Slack, with every-minute schedules.

Each run starts through a tiny wrapper that moves the process's clock (time-machine, ticking)
to just before the moment under test, so cron fires come within seconds; the test only polls
for effects with bounded deadlines. Three runs share one database:

A  14:59:52Z  first sync at once; /healthz 200; the 15:00 digests fire and the process is
              SIGKILLed by the fake Slack the moment it accepts the first post (posted in
              Slack, not recorded in the store).
B  ~15:03:35Z Jira answers 503, then hangs. The 15:00 message A died on is found in Slack's
              history and recorded, not posted again; 15:00 digests A had queued are posted.
              Missed minutes are coalesced: one digest per (client, audience) for B's
              minute, none for the minutes the daemon was down. acme's data is
              over two intervals old: its digests say so, the internal channel gets one
              alert, /healthz is 503, /metrics counts it all. SIGTERM arrives while the next
              scheduled sync hangs on Jira: exit 0 within seconds.
C  ~15:04:50Z Jira is back: the sync due at start succeeds, one all-clear, /healthz 200, the
              minute's digests once; SIGTERM, exit 0.

Finally every message in the fake Slack is counted per channel and period: each digest and
alert exactly once, in the right channel, and every outbox row is sent.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from daemon_support import CHANNELS, digest_key, glx_issues, readable
from prometheus_client.parser import text_string_to_metric_families
from scenario import write_pages
from servers.jira import EMAIL, FakeJira, at
from servers.jira import TOKEN as JIRA_TOKEN
from servers.slack import TOKEN as SLACK_TOKEN
from servers.slack import FakeSlack
from support import configs

from syncbot.store import Store

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = """
import datetime as dt, sys, time_machine
time_machine.travel(dt.datetime.fromisoformat(sys.argv[1]), tick=True).start()
from syncbot.cli import main
raise SystemExit(main(["run"]))
"""
SIGNING_SECRET = "e2e-signing-secret"
A_AT = dt.datetime(2026, 3, 9, 14, 59, 52, tzinfo=dt.UTC)
JIRA_SOURCE = "jira:ACME"
SCHEDULE = {
    "internal_digest_cron": "* * * * *",
    "client_digest_cron": "* * * * *",
    "client_digest_every_weeks": 1,
    "sync_every_minutes": 1,
    "grace_minutes": 10,
}
CLIENTS = (
    configs.client(
        "acme",
        name="Acme Corp",
        client_channel="CACME",
        sources=[configs.source("jira", project="ACME")],
        milestones=[
            configs.milestone(
                "1.1",
                name="Data pipeline operational",
                phase="Data Preparation",
                planned="2026-03-20",
                epic="ACME-10",
            )
        ],
    ),
    configs.client(
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
    ),
)
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class Run:
    """One `syncbot run` process; stderr goes to a file (a pipe left unread would fill up)."""

    def __init__(self, name: str, at: dt.datetime, env: dict[str, str], tmp: Path) -> None:
        self.name = name
        self.log = tmp / f"{name}.log"
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WRAPPER, at.isoformat()],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.url = wait_for(f"run {name} to listen", self._listening)

    def _listening(self) -> str | None:
        if self.proc.poll() is not None:
            pytest.fail(f"run {self.name} exited {self.proc.returncode}:\n{self.output()}")
        first = self.output().split("\n", 1)[0]
        found = re.search(r"listening on (http://\S+)", first)
        return found.group(1) if found else None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records (every line after the `listening on` line)."""
        lines = self.output().splitlines()[1:]
        return [json.loads(line) for line in lines if line.strip()]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def health(self) -> tuple[int, dict[str, Any]]:
        status, body = self.get("/healthz")
        return status, json.loads(body)

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        status, body = self.get("/metrics")
        assert status == 200
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body)
            for s in family.samples
        }

    def sigterm(self) -> float:
        """Send SIGTERM; return how long the process took to exit (it must exit 0)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=15)
        assert code == 0, f"run {self.name} exited {code}:\n{self.output()[-3000:]}"
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=15)


def metric(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def minute(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def digests(slack: FakeSlack) -> dict[str, list[tuple[str, str]]]:
    """Outbox key -> [(channel, ts)] of every syncbot message in the fake Slack."""
    out: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for channel in CHANNELS:
        for message in slack.posts(channel):
            key = digest_key(message)
            assert key is not None, f"a message without its outbox key in {channel}"
            out[key].append((channel, message.ts))
    return out


def period_of(key: str) -> str:
    """The period of an outbox key `syncbot:<client>:<audience>:<period>`."""
    return key.split(":", 3)[3]


def period_keys(period: str) -> set[str]:
    return {f"syncbot:{c}:{a}:{period}" for c in ("acme", "glx") for a in ("internal", "client")}


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud") as server:
        for n, due in ((11, "2026-03-18"), (12, "2026-03-19"), (13, None)):
            server.add(
                f"ACME-{n}",
                updated=at(2026, 3, 2, 10, n),
                epic="ACME-10",
                category="indeterminate",
                duedate=due,
            )
        yield server


def test_the_daemon_end_to_end(tmp_path: Path, jira: FakeJira) -> None:
    write_pages(tmp_path / "glx", [{"issues": list(glx_issues().values())}])
    config = configs.write_config(tmp_path / "syncbot.toml", *CLIENTS, schedule=SCHEDULE)
    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    with FakeSlack(channels=CHANNELS) as slack:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SYNCBOT_CONFIG": str(config),
            "SYNCBOT_DATABASE_URL": db_url,
            "SYNCBOT_JIRA_URL": jira.url,
            "SYNCBOT_JIRA_EMAIL": EMAIL,
            "SYNCBOT_JIRA_TOKEN": JIRA_TOKEN,
            "SYNCBOT_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SYNCBOT_SLACK_API_URL": slack.api_url,
            "SYNCBOT_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SYNCBOT_HOST": "127.0.0.1",
            "SYNCBOT_PORT": "0",
            "SYNCBOT_LOG_FORMAT": "json",
            "SYNCBOT_SOURCE_RETRIES": "0",
            "SYNCBOT_SOURCE_TIMEOUT_SECONDS": "20",
            "SYNCBOT_SLACK_POST_INTERVAL_SECONDS": "0",
            "SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS": "0",
            "SYNCBOT_SHUTDOWN_SECONDS": "1",
        }
        runs: list[Run] = []
        try:
            _scenario(tmp_path, env, jira, slack, db_url, runs)
        finally:
            for run in runs:
                run.kill()
        assert not jira.crashes and not slack.crashes
        for run in runs:
            out = run.output()
            for secret in (JIRA_TOKEN, SLACK_TOKEN, SIGNING_SECRET):
                assert secret not in out, f"a secret in the log of run {run.name}"


def _scenario(
    tmp: Path, env: dict[str, str], jira: FakeJira, slack: FakeSlack, db_url: str, runs: list[Run]
) -> None:
    # -- A: scheduled sync and digests; kill -9 as Slack accepts the first post ---------------
    a = Run("A", A_AT, env, tmp)
    runs.append(a)
    status, health = wait_for("A's first syncs", lambda: _synced(a))
    assert status == 200 and health["status"] == "ok"
    assert [(s["client"], s["stale"]) for s in health["sources"]] == [
        ("acme", False),
        ("glx", False),
    ]
    jobs = {j["id"]: j["next_run_time"] for j in health["scheduler"]["jobs"]}
    assert health["scheduler"]["running"] is True
    assert jobs["digest:acme:internal"] == "2026-03-09T10:00:00-05:00"  # the next minute
    assert jobs["digest:glx:client"] == "2026-03-09T15:00:00+00:00"
    sync_next = dt.datetime.fromisoformat(jobs["sync:acme"])  # one interval after the first
    slack.on_post(lambda _: os.kill(a.proc.pid, signal.SIGKILL))
    assert a.proc.wait(timeout=75) == -signal.SIGKILL
    died_on = digests(slack)
    assert len(died_on) >= 1
    first_period = max(period_of(k) for k in died_on)

    # -- B: restart after missed minutes, Jira failing; SIGTERM mid-sync --------------------------
    jira.reset_log()
    jira.server_error(503, times=1, path="/search")
    jira.hang(times=None, path="/search")
    b_at = sync_next + dt.timedelta(minutes=3, seconds=-15)
    b = Run("B", b_at, env, tmp)
    runs.append(b)
    b_period = minute(b_at)
    wait_for(f"B's digests of {b_period}", lambda: period_keys(b_period) <= set(digests(slack)))
    wait_for("B's staleness alert", lambda: any(":stale-" in k for k in digests(slack)))
    status, health = wait_for("B's failed sync of acme", lambda: _failed(b))
    assert status == 503 and health["status"] == "unhealthy"
    [acme] = [s for s in health["sources"] if s["client"] == "acme"]
    assert acme["stale"] is True and "503" in acme["last_error"]
    assert acme["last_success"] == _last_success(db_url)
    last_success = dt.datetime.fromisoformat(acme["last_success"])
    jobs = {j["id"]: j["next_run_time"] for j in health["scheduler"]["jobs"]}
    scheduled = sync_next + dt.timedelta(minutes=3)  # the interval grid survived the restart
    assert dt.datetime.fromisoformat(jobs["sync:acme"]) == scheduled
    found = b.metrics()
    assert metric(found, "syncbot_api_errors_total", api="jira", kind="unavailable") == 1
    assert metric(found, "syncbot_sync_failures_total", client="acme", source=JIRA_SOURCE) == 1
    assert (
        metric(found, "syncbot_sync_tickets", client="glx", source="jira-export:glx/page-*.json")
        == 1
    )
    # Counted once the job that posted them records them (a moment after Slack has them).
    wait_for(
        "B's posted digests to be counted",
        lambda: metric(
            b.metrics(), "syncbot_digests_posted_total", client="glx", audience="client"
        ),
    )
    found = wait_for("B's outbox to be empty", lambda: _drained(b))
    assert metric(found, "syncbot_alerts_posted_total", client="acme", kind="stale") == 1
    assert metric(found, "syncbot_source_stale", client="acme", source=JIRA_SOURCE) == 1
    for channel in ("CINT", "CACME"):
        [text] = [
            readable(m)
            for m in slack.posts(channel)
            if digest_key(m)
            in (f"syncbot:acme:internal:{b_period}", f"syncbot:acme:client:{b_period}")
        ]
        assert re.search(r"Jira data last refreshed \d+ min ago\.", text), text
    [glx_text] = [
        readable(m)
        for m in slack.posts("CGLX")
        if digest_key(m) == f"syncbot:glx:client:{b_period}"
    ]
    assert "last refreshed" not in glx_text
    # The next scheduled sync hangs on Jira: SIGTERM abandons it and the process exits 0.
    wait_for("B's scheduled sync", lambda: jira.count("/search") >= 2, timeout=75)
    assert b.sigterm() < 5.0
    logged = b.records()
    [failure] = [r for r in logged if r["message"].startswith("sync failed")]
    assert (failure["client"], failure["source"], failure["job"]) == (
        "acme",
        JIRA_SOURCE,
        "sync:acme",
    )
    assert any("abandoned: sync:acme" in r["message"] for r in logged)

    # -- C: Jira back; the sync due at start succeeds -------------------------------------------
    jira.clear_faults()
    # After the sync that is due (so that it runs at start), 5 s into a minute: the digests
    # of that minute are posted at start with 55 s to spare (a start-up that crossed into the
    # next minute would rightly post the next minute's instead).
    due = scheduled + dt.timedelta(minutes=1)
    c_at = due.replace(second=0, microsecond=0) + dt.timedelta(minutes=1, seconds=5)
    c = Run("C", c_at, env, tmp)
    runs.append(c)
    c_period = minute(c_at)
    wait_for("C's all-clear", lambda: any(":fresh-" in k for k in digests(slack)))
    wait_for(f"C's digests of {c_period}", lambda: period_keys(c_period) <= set(digests(slack)))
    status, health = wait_for("C's /healthz 200", lambda: _healthy(c))
    assert all(not s["stale"] for s in health["sources"])
    assert metric(c.metrics(), "syncbot_sync_tickets", client="acme", source=JIRA_SOURCE) == 3
    assert c.sigterm() < 5.0

    # -- every message, counted per channel and period ------------------------------------------
    posted = digests(slack)
    duplicates = {k: v for k, v in posted.items() if len(v) != 1}
    assert duplicates == {}, f"posted more than once: {duplicates}"
    channel_of = {"internal": "CINT", "stale": "CINT", "fresh": "CINT"}
    for key, [(channel, _)] in posted.items():
        _, client, audience, _ = key.split(":", 3)
        kind = audience.split("-")[0]
        expected = channel_of.get(kind) or {"acme": "CACME", "glx": "CGLX"}[client]
        assert channel == expected, key
    periods = {period_of(k) for k in posted if ":stale-" not in k and ":fresh-" not in k}
    assert not {p for p in periods if first_period < p < b_period}, "a missed minute was posted"
    assert {k for k in posted if k.endswith(b_period)} == period_keys(b_period)
    assert {k for k in posted if k.endswith(c_period)} == period_keys(c_period)
    # One alert and one all-clear, both for the episode that began with A's last success.
    [stale] = [k for k in posted if ":stale-" in k]
    [fresh] = [k for k in posted if ":fresh-" in k]
    assert stale.startswith("syncbot:acme:stale-") and fresh.startswith("syncbot:acme:fresh-")
    assert period_of(stale) == period_of(fresh) == minute(last_success)
    store = Store(db_url)
    try:
        for client in ("acme", "glx"):
            for audience in ("internal", "client"):
                assert store.outbox.unsent(client, audience) == []
        assert store.outbox.backlog() == 0
        for key, [(_, ts)] in died_on.items():
            assert posted[key] == [(posted[key][0][0], ts)]  # recovered, not posted again
    finally:
        store.close()


def _drained(run: Run) -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
    """/metrics once nothing is left queued in the outbox."""
    found = run.metrics()
    return found if metric(found, "syncbot_outbox_size") == 0 else None


def _last_success(db_url: str) -> str | None:
    """acme's Jira source's last success as the store has it (ISO 8601)."""
    store = Store(db_url)
    try:
        record = store.tickets.records("acme").get(JIRA_SOURCE)
        return record.last_success.isoformat() if record and record.last_success else None
    finally:
        store.close()


def _failed(run: Run) -> tuple[int, dict[str, Any]] | None:
    """/healthz once it shows acme's failed sync."""
    status, health = run.health()
    failed = [s for s in health["sources"] if s["client"] == "acme" and s["last_error"]]
    return (status, health) if failed else None


def _synced(run: Run) -> tuple[int, dict[str, Any]] | None:
    """/healthz once every source has synced."""
    status, health = run.health()
    return (status, health) if all(s["last_success"] for s in health["sources"]) else None


def _healthy(run: Run) -> tuple[int, dict[str, Any]] | None:
    status, health = run.health()
    return (status, health) if status == 200 else None
