"""GET /healthz and GET /metrics on the real WSGI server, and the error kinds metrics use."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from daemon_support import MONDAY, Clock, Project, at_chicago, running
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from servers.jira import EMAIL, TOKEN, FakeJira, at
from servers.slack import FakeSlack
from support import configs

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.daemon import Daemon
from syncbot.errors import DataError, SourceAuthError, SourceError, SourceRateLimited
from syncbot.metrics import Metrics, error_kind
from syncbot.run import Runtime
from syncbot.settings import Settings
from syncbot.slack.errors import SlackRefused, SlackUnavailable
from syncbot.store import Store
from syncbot.web import HttpServer

MON = MONDAY.date()
ACME = "jira-export:acme/page-*.json"
GLX = "jira-export:glx/page-*.json"


@contextmanager
def served(project: Project, daemon: Daemon) -> Iterator[str]:
    runtime = Runtime(daemon.app, project.settings(slack_signing_secret="secret"), daemon=daemon)
    server = HttpServer(runtime.router, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()
        thread.join(5)
        runtime.slack.close()


def get(url: str, method: str = "GET") -> tuple[int, str, str]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found[(name, frozenset(labels.items()))]


def test_healthz_is_200_while_fresh_and_503_naming_a_stale_source(project: Project) -> None:
    clock = Clock(at_chicago(MON, 8))
    with running(project, clock) as (daemon, events):
        events.wait("startup", "sync:acme", "sync:glx")
        with served(project, daemon) as url:
            status, kind, body = get(url + "/healthz")
            assert (status, kind) == (200, "application/json")
            doc = json.loads(body)
            assert doc["status"] == "ok" and doc["reasons"] == []
            assert doc["sources"] == [
                {
                    "client": "acme",
                    "source": ACME,
                    "kind": "jira-export",
                    "last_success": "2026-03-09T13:00:00+00:00",
                    "last_attempt": "2026-03-09T13:00:00+00:00",
                    "last_error": None,
                    "stale": False,
                    "stale_after_minutes": 20,
                },
                {
                    "client": "glx",
                    "source": GLX,
                    "kind": "jira-export",
                    "last_success": "2026-03-09T13:00:00+00:00",
                    "last_attempt": "2026-03-09T13:00:00+00:00",
                    "last_error": None,
                    "stale": False,
                    "stale_after_minutes": 20,
                },
            ]
            assert doc["scheduler"]["running"] is True
            jobs = {j["id"]: j["next_run_time"] for j in doc["scheduler"]["jobs"]}
            assert jobs["digest:acme:internal"] == "2026-03-09T09:00:00-05:00"
            assert jobs["sync:acme"] == "2026-03-09T13:10:00+00:00"

            # 25 minutes later acme has failed since 08:00; glx synced again.
            project.break_source("acme")
            clock.set(at_chicago(MON, 8, 25))
            daemon.sync("acme")
            daemon.sync("glx")
            status, _, body = get(url + "/healthz")
            doc = json.loads(body)
            assert status == 503 and doc["status"] == "unhealthy"
            assert doc["reasons"] == [f"acme/{ACME}: no successful sync for more than 20 minutes"]
            [acme] = [s for s in doc["sources"] if s["client"] == "acme"]
            assert acme["stale"] is True and "not valid JSON" in acme["last_error"]
            assert acme["last_success"] == "2026-03-09T13:00:00+00:00"
            assert get(url + "/healthz", "POST")[0] == 405
    runtime = Runtime(daemon.app, project.settings(slack_signing_secret="secret"), daemon=daemon)
    status, doc = runtime.health()
    runtime.slack.close()
    assert status == 503 and "scheduler is stopped" in doc["reasons"]


def test_metrics_show_syncs_slack_errors_digests_and_the_outbox(
    project: Project, slack: FakeSlack
) -> None:
    project.write_config(internal_digest_cron="*/10 * * * *")
    clock = Clock(MONDAY)
    daemon = project.daemon(clock)
    daemon.sync("glx")
    daemon.sync("glx")
    daemon.sync("acme")
    project.break_source("acme")
    daemon.sync("acme")
    clock.set(MONDAY + dt.timedelta(seconds=20))
    daemon.digest("glx", "internal")  # posted
    slack.refuse("chat.postMessage", "not_in_channel")
    daemon.digest("acme", "internal")  # refused: stays queued
    slack.server_error(503, path="/api/chat.postMessage", times=None)
    daemon.housekeeping()  # acme's digest again: Slack is down now
    with served(project, daemon) as url:
        status, kind, body = get(url + "/metrics")
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    found = samples(body)
    assert value(found, "syncbot_sync_duration_seconds_count", client="glx", source=GLX) == 2
    assert value(found, "syncbot_sync_tickets", client="glx", source=GLX) == 1
    assert value(found, "syncbot_sync_fetched_tickets_total", client="glx", source=GLX) == 2
    assert value(found, "syncbot_sync_failures_total", client="acme", source=ACME) == 1
    assert value(found, "syncbot_sync_duration_seconds_count", client="acme", source=ACME) == 2
    assert value(found, "syncbot_digests_posted_total", client="glx", audience="internal") == 1
    assert value(found, "syncbot_api_errors_total", api="slack", kind="refused") == 1
    assert value(found, "syncbot_api_errors_total", api="slack", kind="unavailable") >= 1
    assert value(found, "syncbot_outbox_size") == 1  # acme's digest, still queued
    assert value(found, "syncbot_source_stale", client="glx", source=GLX) == 0
    assert (
        value(found, "syncbot_source_last_success_timestamp_seconds", client="glx", source=GLX)
        == MONDAY.timestamp()
    )


LIVE = configs.client(
    "acme", client_channel="CACME", sources=[configs.source("jira", project="ACME")]
)


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("server_error", "unavailable"), ("rate_limit", "rate_limited"), ("deny", "auth")],
)
def test_tracker_api_errors_are_counted_by_kind(tmp_path: Path, fault: str, kind: str) -> None:
    loaded = load_config(configs.write_config(tmp_path / "syncbot.toml", LIVE))
    metrics = Metrics()
    with FakeJira("cloud") as jira:
        jira.add("ACME-1", updated=at(2026, 3, 1, 8))
        if fault == "rate_limit":
            jira.rate_limit(times=None, retry_after=3600)
        else:
            getattr(jira, fault)(times=None, path="/search")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite:///{tmp_path / 'state.db'}",
            jira_url=jira.url,
            jira_email=EMAIL,
            jira_token=SecretStr(TOKEN),
            source_retries=0,
        )
        store = Store(settings.resolved_database_url())
        try:
            app = Syncbot(loaded, settings, store, lambda: MONDAY, metrics=metrics)
            [report] = app.sync("acme").reports
        finally:
            store.close()
    assert report.error
    found = samples(metrics.render().decode())
    assert value(found, "syncbot_api_errors_total", api="jira", kind=kind) == 1
    assert value(found, "syncbot_sync_failures_total", client="acme", source="jira:ACME") == 1


def test_error_kinds_are_a_small_fixed_vocabulary() -> None:
    assert error_kind(SourceAuthError("s", "401")) == "auth"
    assert error_kind(SourceRateLimited("s", "429")) == "rate_limited"
    assert error_kind(SourceError("s", "500")) == "unavailable"
    assert error_kind(DataError("bad file")) == "data"
    assert error_kind(SlackRefused("chat.postMessage", "not_in_channel")) == "refused"
    assert error_kind(SlackUnavailable("chat.postMessage", "HTTP 500")) == "unavailable"
    assert error_kind(ValueError("x")) == "other"


def test_healthz_and_status_agree_from_the_first_minute(project: Project) -> None:
    """One staleness rule: before a source's first successful sync both say stale; after it
    both say fresh (they used to disagree for the first two sync intervals)."""
    clock = Clock(MONDAY)
    daemon = project.daemon(clock)
    runtime = Runtime(daemon.app, project.settings(slack_signing_secret="secret"), daemon=daemon)
    try:
        status, doc = runtime.health()
        assert status == 503
        assert f"acme/{ACME}: never synced successfully" in doc["reasons"]
        assert daemon.app.view("acme", "internal").stale is True
        daemon.sync("acme")
        daemon.sync("glx")
        clock.set(MONDAY + dt.timedelta(minutes=5))
        status, doc = runtime.health()
        assert [s["stale"] for s in doc["sources"]] == [False, False]
        assert daemon.app.view("acme", "internal").stale is False
    finally:
        runtime.slack.close()
