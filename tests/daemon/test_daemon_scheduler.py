"""The daemon's scheduler: stored jobs, restarts that keep missed runs, coalesced catch-up
within the grace, the fortnightly client cadence, fault isolation and bounded shutdown.

Time is pinned: the daemon gets a `Clock`, APScheduler (which reads datetime.now itself) runs
under time-machine with the clock frozen. Tests wait for scheduler events, never sleep.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from daemon_support import (
    MONDAY,
    WEEK,
    Clock,
    Project,
    at_chicago,
    down_at,
    keys,
    running,
    texts,
)
from servers.jira import EMAIL, TOKEN, FakeJira, at
from servers.slack import FakeSlack
from sqlalchemy import create_engine, text
from support import configs

from syncbot.daemon import JOBS_TABLE, Daemon, desired_jobs
from syncbot.schedule import grace

MON = MONDAY.date()  # Monday 2026-03-09: not a client-digest week (weeks 0, 2, ... from 01-05)


def stored_next_runs(daemon: Daemon) -> dict[str, dt.datetime | None]:
    return dict(daemon.scheduler.jobs())


def test_jobs_are_stored_per_client_in_the_clients_timezone(
    project: Project, store_url: str
) -> None:
    now = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)  # Tuesday
    with time_machine.travel(now, tick=False):
        daemon = project.daemon(Clock(now), url=store_url)
        daemon.schedule()
        try:
            runs = stored_next_runs(daemon)
        finally:
            daemon.stop(timeout=0)
    assert runs["sync:acme"] == now and runs["sync:glx"] == now  # first sync at once
    # Internal and client jobs fire on their crons in each client's timezone; the client job
    # fires weekly and posts only in digest weeks.
    assert runs["digest:acme:internal"] == at_chicago(dt.date(2026, 3, 16), 9)
    assert runs["digest:acme:client"] == at_chicago(dt.date(2026, 3, 16), 9)
    assert runs["digest:glx:internal"] == dt.datetime(2026, 3, 16, 9, tzinfo=dt.UTC)  # London
    assert {"startup", "housekeeping"} <= set(runs)
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            ids = sorted(r[0] for r in conn.execute(text(f"SELECT id FROM {JOBS_TABLE}")))
    finally:
        engine.dispose()
    assert ids == [
        "digest:acme:client",
        "digest:acme:internal",
        "digest:glx:client",
        "digest:glx:internal",
        "sync:acme",
        "sync:glx",
    ]
    [spec] = [s for s in desired_jobs(project.loaded().config) if s.id == "digest:acme:internal"]
    assert spec.misfire_grace_time == 3600  # grace_minutes = 60


def test_a_restart_keeps_a_stored_job_with_its_missed_run_and_replaces_a_changed_one(
    project: Project, store_url: str
) -> None:
    down_at(project, at_chicago(MON, 8), url=store_url)
    restart = at_chicago(MON, 9, 20)
    with time_machine.travel(restart, tick=False):
        daemon = project.daemon(Clock(restart), url=store_url)
        daemon.schedule()
        try:
            runs = stored_next_runs(daemon)
        finally:
            daemon.stop(timeout=0)
    # Kept as stored: the 09:00 run missed while down is still owed (replace_existing=True
    # would have moved it to next Monday and lost it).
    assert runs["digest:acme:internal"] == at_chicago(MON, 9)

    project.write_config(internal_digest_cron="30 9 * * mon")
    config = project.config.read_text()
    project.config.write_text(config[: config.index('[[clients]]\nid = "glx"')])
    with time_machine.travel(restart, tick=False):
        daemon = project.daemon(Clock(restart), url=store_url)
        daemon.schedule()
        try:
            runs = stored_next_runs(daemon)
        finally:
            daemon.stop(timeout=0)
    assert runs["digest:acme:internal"] == at_chicago(MON, 9, 30)  # rescheduled from now
    assert runs["digest:acme:client"] == at_chicago(MON, 9)  # unchanged: kept
    assert not any(job.startswith(("sync:glx", "digest:glx")) for job in runs)


def test_a_digest_missed_while_down_is_posted_once_after_a_restart_within_the_grace(
    project: Project, slack: FakeSlack
) -> None:
    down_at(project, at_chicago(MON, 8, 50))
    with running(project, at_chicago(MON, 9, 40)) as (daemon, events):
        seen = events.wait("startup", "digest:acme:internal", "sync:acme")
        assert ("digest:acme:internal", EVENT_JOB_EXECUTED) in seen
        runs = stored_next_runs(daemon)
    assert keys(slack, "CINT", "internal") == ["syncbot:acme:internal:2026-03-09T14:00Z"]
    # The job ran once for the missed fire (coalesced) and the startup catch-up found the
    # period posted; the next run is next week's.
    assert runs["digest:acme:internal"] == at_chicago(MON + WEEK, 9)
    assert keys(slack, "CACME") == []  # 2026-03-09 is not a client-digest week


def test_several_missed_fires_coalesce_into_one_digest_of_the_latest_period(
    project: Project, slack: FakeSlack
) -> None:
    project.write_config(internal_digest_cron="*/10 * * * *")
    down_at(project, at_chicago(MON, 8, 55))
    with running(project, at_chicago(MON, 9, 35)) as (_, events):
        events.wait("startup", "digest:acme:internal")
    # Down over the 09:00, 09:10, 09:20 and 09:30 fires: one digest, for 09:30.
    assert sorted(keys(slack, "CINT", "internal")) == [
        "syncbot:acme:internal:2026-03-09T14:30Z",
        "syncbot:glx:internal:2026-03-09T14:30Z",
    ]


def test_a_digest_missed_beyond_the_grace_is_not_posted_late(
    project: Project, slack: FakeSlack
) -> None:
    down_at(project, at_chicago(MON, 8, 50))
    with running(project, at_chicago(MON, 10, 15)) as (_, events):
        seen = events.wait("startup", "digest:acme:internal")
    assert ("digest:acme:internal", EVENT_JOB_MISSED) in seen
    assert keys(slack, "CINT") == []


def test_the_client_digest_goes_out_fortnightly_and_once_per_period(
    project: Project, slack: FakeSlack
) -> None:
    clock = Clock(at_chicago(MON, 9, 0, 5))
    daemon = project.daemon(clock)
    daemon.sync("acme")
    outcomes = []
    for day in (MON, MON + WEEK, MON + WEEK, MON + 2 * WEEK, MON + 3 * WEEK):
        clock.set(at_chicago(day, 9, 0, 5))
        outcomes.append([d.outcome for d in daemon.digest("acme", "client")])
    assert outcomes == [[], ["posted"], ["already_posted"], [], ["posted"]]
    assert keys(slack, "CACME") == [
        "syncbot:acme:client:2026-03-16T14:00Z",
        "syncbot:acme:client:2026-03-30T14:00Z",
    ]


def test_a_failing_source_or_job_never_stops_the_other_jobs(
    project: Project, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    # acme's internal crontab never matches (February 30th): its digest job fails for real.
    project.write_config(internal_digest_cron="*/10 * * * *")
    project.client_schedules["acme"] = {"internal_digest_cron": "0 9 30 2 *"}
    project.write_config()
    clock = Clock(MONDAY)
    daemon = project.daemon(clock)
    project.break_source("acme")
    with caplog.at_level(logging.INFO):
        acme = daemon.sync("acme")
        glx = daemon.sync("glx")
        clock.set(MONDAY + dt.timedelta(seconds=30))
        assert daemon.digest("acme", "internal") == []
        assert [d.outcome for d in daemon.digest("glx", "internal")] == ["posted"]
    assert acme is not None and glx is not None
    [acme_report], [glx_report] = acme.reports, glx.reports
    assert acme_report.error and "not valid JSON" in acme_report.error
    assert glx_report.error is None
    [failed] = [r for r in caplog.records if r.getMessage().startswith("sync failed")]
    assert (failed.client, failed.job) == ("acme", "sync:acme")  # type: ignore[attr-defined]
    assert failed.source == "jira-export:acme/page-*.json"  # type: ignore[attr-defined]
    [crash] = [r for r in caplog.records if r.exc_info]
    assert crash.getMessage() == "job digest:acme:internal failed"
    assert (crash.client, crash.job) == ("acme", "digest:acme:internal")  # type: ignore[attr-defined]
    assert keys(slack, "CINT", "internal") == ["syncbot:glx:internal:2026-03-09T14:00Z"]
    registry = daemon.metrics.registry
    assert (
        registry.get_sample_value("syncbot_job_failures_total", {"job": "digest:acme:internal"})
        == 1
    )


def test_a_slack_outage_keeps_the_digest_queued_until_housekeeping_gets_it_through(
    project: Project, slack: FakeSlack
) -> None:
    clock = Clock(MONDAY + dt.timedelta(seconds=5))
    daemon = project.daemon(clock)
    daemon.sync("acme")
    slack.server_error(500, path="/api/chat.postMessage", times=None)
    [result] = daemon.digest("acme", "internal")
    assert result.outcome == "pending" and slack.posts("CINT") == []
    assert project.store().outbox.backlog() == 1
    daemon.housekeeping()  # still down: stays queued
    slack.clear_faults()
    clock.set(MONDAY + dt.timedelta(minutes=2))
    daemon.housekeeping()
    daemon.housekeeping()
    assert keys(slack, "CINT") == ["syncbot:acme:internal:2026-03-09T14:00Z"]
    assert project.store().outbox.backlog() == 0
    assert "Acme Corp — internal digest, 2026-03-09" in texts(slack, "CINT")[0]


def test_stop_abandons_a_stuck_job_after_its_timeout(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    """A sync hanging in a tracker request that never answers does not hold up SIGTERM."""
    with FakeJira("cloud") as jira:
        jira.add("ACME-1", updated=at(2026, 3, 2, 10), epic="ACME-10")
        jira.hang(path="/search/jql", times=None)
        live = configs.client(
            "acme",
            client_channel="CACME",
            sources=[configs.source("jira", project="ACME")],
            milestones=[configs.milestone("1.1", epic="ACME-10")],
        )
        configs.write_config(project.config, live)
        settings = {"jira_url": jira.url, "jira_email": EMAIL, "jira_token": TOKEN}
        with time_machine.travel(MONDAY, tick=False):
            daemon = project.daemon(Clock(MONDAY), **settings)
            daemon.start()
            assert jira.wait_for_request("/search/jql", timeout=10)
            started = time.monotonic()
            with caplog.at_level(logging.WARNING):
                daemon.stop(timeout=0.2)
            elapsed = time.monotonic() - started
        jira.clear_faults()
    assert elapsed < 10.0  # not the 30 s the stuck request would hold it
    [line] = [r.getMessage() for r in caplog.records if "abandoned" in r.getMessage()]
    assert "sync:acme" in line


def test_the_grace_is_at_least_a_minute(project: Project) -> None:
    project.write_config(grace_minutes=0)
    schedule = project.loaded().config.schedule
    assert grace(schedule.grace_minutes) == dt.timedelta(minutes=1)
