"""A small project for daemon tests: recorded Jira pages that tests edit, a config, a fake Slack.

Client `acme` (America/Chicago, baseline 2026-01-09, approver U0SPONSOR) reads a
`jira-export` source; three milestones in three phases. Client `glx` (Europe/London) reads a
second export and shares the internal channel. Times are pinned by a `Clock` the daemon is
given; nothing here sleeps.

As of Monday 2026-03-09 every acme milestone is on track: 1.1 forecast 2026-03-18 (planned
03-20), 2.1 2026-03-25 (03-27), 3.1 2026-04-08 (04-10).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from scenario import jira_issue, write_pages
from servers.slack import TOKEN, FakeSlack, Message
from support import configs

from syncbot.app import Syncbot
from syncbot.config import LoadedConfig, load_config
from syncbot.daemon import Daemon
from syncbot.metrics import Metrics
from syncbot.run import daemon_for
from syncbot.settings import Settings
from syncbot.slack.posting import DIGEST_EVENT
from syncbot.store import Store

CHICAGO = "America/Chicago"
APPROVER = "U0SPONSOR"
CHANNELS = ("CINT", "CACME", "CGLX")
MONDAY = dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)  # 09:00 CDT, acme's internal digest
WEEK = dt.timedelta(days=7)
MINUTE = dt.timedelta(minutes=1)

SCHEDULE = {
    "internal_digest_cron": "0 9 * * mon",
    "client_digest_cron": "0 9 * * mon",
    "client_digest_every_weeks": 2,
    "sync_every_minutes": 10,
    "grace_minutes": 60,
}


def acme_issues() -> dict[str, dict[str, Any]]:
    def issue(key: str, epic: str, due: str, category: str = "new", **more: Any) -> Any:
        return jira_issue(
            key,
            summary=f"Task {key}",
            category=category,
            duedate=due,
            parent={"key": epic},
            **more,
        )

    return {
        "ACME-11": issue("ACME-11", "ACME-10", "2026-03-18", "indeterminate"),
        "ACME-21": issue("ACME-21", "ACME-20", "2026-03-25"),
        "ACME-31": issue("ACME-31", "ACME-30", "2026-04-08"),
    }


def glx_issues() -> dict[str, dict[str, Any]]:
    return {
        "GLX-1": jira_issue(
            "GLX-1",
            summary="Task GLX-1",
            category="indeterminate",
            duedate="2026-03-20",
            parent={"key": "GLX-100"},
        )
    }


def config_text(
    schedule: dict[str, Any], client_schedules: dict[str, dict[str, Any]] | None = None
) -> str:
    own = client_schedules or {}
    return configs.config_text(
        configs.client(
            "acme",
            name="Acme Corp",
            client_channel="CACME",
            timezone=CHICAGO,
            baseline="2026-01-09",
            approvers=[APPROVER],
            schedule=_merged(schedule, own.get("acme")),
            sources=[configs.source(path="acme/page-*.json")],
            milestones=[
                configs.milestone(
                    "1.1",
                    name="Data pipeline operational",
                    phase="Data Preparation",
                    planned="2026-03-20",
                    epic="ACME-10",
                ),
                configs.milestone(
                    "2.1",
                    name="Model trained",
                    phase="Modelling",
                    planned="2026-03-27",
                    epic="ACME-20",
                ),
                configs.milestone(
                    "3.1",
                    name="Model in staging",
                    phase="Deployment",
                    planned="2026-04-10",
                    epic="ACME-30",
                ),
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
                    "A",
                    name="Globex milestone",
                    phase="Build",
                    planned="2026-03-27",
                    epic="GLX-100",
                )
            ],
        ),
        schedule=schedule,
    )


def _merged(schedule: dict[str, Any], own: dict[str, Any] | None) -> dict[str, Any] | None:
    """A client's own [clients.schedule] replaces the global one whole: start from it."""
    return {**schedule, **own} if own else None


class Clock:
    """The daemon's injected clock: a test moves it."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at


@dataclass
class Project:
    root: Path
    slack: FakeSlack
    schedule: dict[str, Any] = field(default_factory=lambda: dict(SCHEDULE))
    issues: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    client_schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    _stores: list[Store] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.issues = {"acme": acme_issues(), "glx": glx_issues()}
        for client in self.issues:
            self.write(client)
        self.write_config()

    @property
    def config(self) -> Path:
        return self.root / "syncbot.toml"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'state.db'}"

    def write_config(self, **schedule: Any) -> None:
        self.schedule.update(schedule)
        self.config.write_text(config_text(self.schedule, self.client_schedules), encoding="utf-8")

    def write(self, client: str = "acme") -> None:
        write_pages(self.root / client, [{"issues": list(self.issues[client].values())}])

    def edit(self, key: str, **fields: Any) -> None:
        """Change a recorded ticket's fields (seen at the next sync)."""
        client = key.split("-")[0].lower()
        issue = self.issues[client][key]
        issue["fields"].update(fields)
        issue["fields"]["updated"] = "2026-03-20T10:00:00.000-0500"
        self.write(client)

    def add(self, key: str, epic: str, *, created: str, labels: list[str] | None = None) -> None:
        client = key.split("-")[0].lower()
        self.issues[client][key] = jira_issue(
            key,
            summary=f"Task {key}",
            created=created,
            updated=created,
            parent={"key": epic},
            labels=labels or [],
        )
        self.write(client)

    def break_source(self, client: str = "acme") -> None:
        (self.root / client / "page-1.json").write_text("{not json", encoding="utf-8")

    def loaded(self) -> LoadedConfig:
        return load_config(self.config)

    def store(self, url: str | None = None) -> Store:
        store = Store(url or self.db_url)
        self._stores.append(store)
        return store

    def settings(self, url: str | None = None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": url or self.db_url,
            "slack_bot_token": TOKEN,
            "slack_api_url": self.slack.api_url,
            "slack_post_interval_seconds": 0,
            "slack_retry_backoff_seconds": 0,
            "shutdown_seconds": 2,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    def app(self, clock: Clock, *, url: str | None = None, **settings: Any) -> Syncbot:
        values = self.settings(url, **settings)
        return Syncbot(self.loaded(), values, self.store(url), clock, metrics=Metrics())

    def daemon(self, clock: Clock, *, url: str | None = None, **settings: Any) -> Daemon:
        app = self.app(clock, url=url, **settings)
        return daemon_for(app, app.settings)

    def close(self) -> None:
        for store in self._stores:
            store.close()


def digest_key(message: Message) -> str | None:
    meta = message.metadata or {}
    if meta.get("event_type") != DIGEST_EVENT:
        return None
    key = (meta.get("event_payload") or {}).get("key")
    return str(key) if key else None


def keys(slack: FakeSlack, channel: str, kind: str | None = None) -> list[str]:
    """Outbox keys of the messages in `channel`, in posting order (`kind`: "internal",
    "client", "stale", "fresh": only those)."""
    out = []
    for message in slack.posts(channel):
        key = digest_key(message)
        if key is None:
            continue
        audience = key.split(":")[2]
        if kind is None or audience == kind or audience.startswith(f"{kind}-"):
            out.append(key)
    return out


def readable(message: Message) -> str:
    """What a person reads in a message: its blocks' texts, links shown as their labels and
    mrkdwn escapes undone, one line each."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    text = "\n".join(found) if found else message.text
    text = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def texts(slack: FakeSlack, channel: str) -> list[str]:
    """Each message of `channel` as a person reads it (see `readable`); file shares (the
    trend chart after a client digest) are not messages to read."""
    return [readable(m) for m in slack.posts(channel) if not m.files]


def at_chicago(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=ZoneInfo(CHICAGO))


def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=CHANNELS) as server:
        yield server


class Events:
    """Scheduler job events, waited for with a condition (no sleeping)."""

    def __init__(self, daemon: Daemon) -> None:
        self.seen: list[tuple[str, int]] = []
        self._changed = threading.Condition()
        daemon.scheduler.add_listener(
            self._on, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR
        )

    def _on(self, event: Any) -> None:
        with self._changed:
            self.seen.append((event.job_id, event.code))
            self._changed.notify_all()

    def wait(self, *job_ids: str, timeout: float = 20.0) -> list[tuple[str, int]]:
        with self._changed:
            done = self._changed.wait_for(
                lambda: set(job_ids) <= {j for j, _ in self.seen}, timeout
            )
            assert done, f"waited for {job_ids}, saw {self.seen}"
            return list(self.seen)


@contextmanager
def running(
    project: Project, at: dt.datetime | Clock, **settings: Any
) -> Iterator[tuple[Daemon, Events]]:
    """A daemon started at `at` with APScheduler's clock frozen there, stopped on exit. (The
    daemon's own clock is `at` when a `Clock` is given: a test may move it.)"""
    clock = at if isinstance(at, Clock) else Clock(at)
    with time_machine.travel(clock.at, tick=False):
        daemon = project.daemon(clock, **settings)
        daemon.schedule()
        events = Events(daemon)
        daemon.scheduler.resume()
        try:
            yield daemon, events
        finally:
            daemon.stop(timeout=5)


def down_at(project: Project, at: dt.datetime, url: str | None = None) -> None:
    """A daemon that scheduled its jobs at `at` and went down before running any."""
    with time_machine.travel(at, tick=False):
        daemon = project.daemon(Clock(at), url=url)
        daemon.schedule()
        daemon.stop(timeout=0)
