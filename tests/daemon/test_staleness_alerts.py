"""Staleness: more than two sync intervals without a success makes a source stale; the internal
channel gets one alert per episode (not one per interval, not one per restart) and one
all-clear when it recovers; digests say how old the data is.

acme syncs every 10 minutes, so it is stale once its last success is more than 20 minutes old.
"""

from __future__ import annotations

import datetime as dt

from daemon_support import MONDAY, Clock, Project, keys, texts
from servers.slack import FakeSlack

from syncbot import messages

T0 = MONDAY - dt.timedelta(hours=2)  # Monday 07:00 CDT, 12:00 UTC
SOURCE = "jira-export:acme/page-*.json"


def minutes(n: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


def test_one_alert_per_episode_across_intervals_and_restarts_then_one_all_clear(
    project: Project, slack: FakeSlack
) -> None:
    clock = Clock(T0)
    daemon = project.daemon(clock)
    daemon.sync("acme")
    project.break_source("acme")
    for n in (10, 20):  # failing, but the last success is not yet more than 20 minutes old
        clock.set(minutes(n))
        daemon.sync("acme")
        assert [s.stale for s in daemon.app.freshness("acme")] == [False]
    assert keys(slack, "CINT", "stale") == []

    for n in (30, 40, 50):
        clock.set(minutes(n))
        daemon.sync("acme")
        daemon.housekeeping()
    restarted = project.daemon(clock)  # a restart does not start a new episode
    clock.set(minutes(60))
    restarted.sync("acme")
    restarted.housekeeping()

    [alert] = keys(slack, "CINT", "stale")
    assert alert.startswith("syncbot:acme:stale-") and alert.endswith(":2026-03-09T12:00Z")
    [text] = [t for t in texts(slack, "CINT") if "is stale" in t]
    assert (
        "Jira data for Acme Corp was last refreshed 30 min ago (2026-03-09 12:00 UTC): "
        f"source `{SOURCE}` is stale." in text
    )
    assert "every 10 minutes" in text and "not valid JSON" in text

    # The digest says plainly how old its data is, internally and to the client.
    clock.set(MONDAY + dt.timedelta(seconds=30))
    [posted] = restarted.digest("acme", "internal")
    assert posted.outcome == "posted"
    assert "Jira data last refreshed 2 h ago." in texts(slack, "CINT")[-1]
    doc, _ = restarted.app.digest("acme", "client", as_of=MONDAY.date())
    assert "Jira data last refreshed 2 h ago." in doc.summary

    project.write("acme")  # the source works again
    clock.set(MONDAY + dt.timedelta(minutes=10))
    restarted.sync("acme")
    for n in (20, 30):
        clock.set(MONDAY + dt.timedelta(minutes=n))
        restarted.sync("acme")
        restarted.housekeeping()
    [fresh] = keys(slack, "CINT", "fresh")
    assert fresh.endswith(":2026-03-09T12:00Z")  # the same episode
    [text] = [t for t in texts(slack, "CINT") if "fresh again" in t]
    assert f"Jira data for Acme Corp is fresh again (source `{SOURCE}` refreshed" in text
    assert len(keys(slack, "CINT", "stale")) == 1
    recovered = {"client": "acme", "kind": "recovered"}
    assert (
        restarted.metrics.registry.get_sample_value("syncbot_alerts_posted_total", recovered) == 1
    )

    # A later outage is a new episode: a second alert, keyed by the new last success.
    project.break_source("acme")
    clock.set(MONDAY + dt.timedelta(minutes=55))
    restarted.sync("acme")
    second = [k for k in keys(slack, "CINT", "stale") if k != alert]
    assert len(second) == 1 and second[0].endswith(":2026-03-09T14:30Z")


def test_a_source_that_never_synced_is_stale_from_its_first_failed_sync(
    project: Project, slack: FakeSlack
) -> None:
    """Nothing is known about it (the one staleness rule, `rules.freshness`): /healthz,
    `status` and the alert agree at once, and the episode is alerted once."""
    project.break_source("acme")
    clock = Clock(T0)
    daemon = project.daemon(clock)
    daemon.schedule()  # the daemon starts at T0 (paused: jobs are run by hand here)
    try:
        daemon.sync("acme")
        assert [s.stale for s in daemon.app.freshness("acme")] == [True]
        for n in (15, 25, 35):
            clock.set(minutes(n))
            daemon.sync("acme")
    finally:
        daemon.stop(timeout=0)
    [alert] = keys(slack, "CINT", "stale")
    assert alert.endswith(":1970-01-01T00:00Z")  # the "never synced" episode
    assert "Jira data for Acme Corp has never been refreshed successfully" in "\n".join(
        texts(slack, "CINT")
    )


def test_an_alert_slack_cannot_take_is_posted_once_when_it_can(
    project: Project, slack: FakeSlack
) -> None:
    clock = Clock(T0)
    daemon = project.daemon(clock)
    daemon.sync("acme")
    project.break_source("acme")
    slack.server_error(500, path="/api/chat.postMessage", times=None)
    for n in (30, 40):
        clock.set(minutes(n))
        daemon.sync("acme")
    assert slack.posts("CINT") == []
    slack.clear_faults()
    clock.set(minutes(45))
    daemon.housekeeping()
    daemon.housekeeping()
    assert len(keys(slack, "CINT", "stale")) == 1
    errors = {"api": "slack", "kind": "unavailable"}
    assert (daemon.metrics.registry.get_sample_value("syncbot_api_errors_total", errors) or 0) >= 2


def test_stale_alert_wording() -> None:
    now = dt.datetime(2026, 3, 9, 15, 0, tzinfo=dt.UTC)
    text = messages.stale_alert(
        "Acme", "Linear", "linear:ENG", now - dt.timedelta(hours=3), now, 10, "HTTP 500"
    )
    assert text.startswith(":warning: Linear data for Acme was last refreshed 3 h ago")
    assert text.endswith("Last error: HTTP 500")


def test_an_alert_escapes_what_it_repeats_from_a_source(project: Project, slack: FakeSlack) -> None:
    """A source's name and its tracker's error text reach the alert escaped: no ping."""
    hostile = project.root / "<!channel>"
    hostile.mkdir()
    (hostile / "page-1.json").write_text("{not json <!here>", encoding="utf-8")
    text = project.config.read_text()
    project.config.write_text(
        text.replace('path = "acme/page-*.json"', 'path = "<!channel>/page-*.json"')
    )
    daemon = project.daemon(Clock(T0))
    daemon.sync("acme")
    [alert] = [m for m in slack.posts("CINT") if "never been refreshed" in m.text]
    for text in (alert.text, alert.blocks[0]["text"]["text"]):
        assert "&lt;!channel&gt;" in text and "<!" not in text
