"""Operational views of `syncbot run`: source freshness, the /healthz document, and the WSGI
apps serving GET /healthz and GET /metrics.

Staleness here is the daemon's rule (issue: "a source that has not synced successfully for
more than two intervals is stale"): a source is stale when its last successful sync is older
than two `sync_every_minutes`. Before a source's first success the two intervals count from
when the daemon started, so a daemon that has just started is not reported unhealthy before
its first syncs had their chance. `service.source_health` applies the same rule for digests
and `status` (there, a source never synced is stale at once: nothing is known yet).

/healthz answers 200 when every source is fresh and the scheduler is running, else 503.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from syncbot.config import Client, LoadedConfig, Schedule, Source
from syncbot.metrics import CONTENT_TYPE, Metrics
from syncbot.service import TRACKER_LABEL
from syncbot.store import SourceRecord, Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceStatus:
    """One source's freshness as the daemon sees it."""

    client_id: str
    source: str
    kind: str
    label: str  # "Jira", "Linear"
    last_success: dt.datetime | None
    last_attempt: dt.datetime | None
    last_error: str | None
    stale: bool
    stale_after: dt.timedelta

    def as_json(self) -> dict[str, Any]:
        return {
            "client": self.client_id,
            "source": self.source,
            "kind": self.kind,
            "last_success": _iso(self.last_success),
            "last_attempt": _iso(self.last_attempt),
            "last_error": self.last_error,
            "stale": self.stale,
            "stale_after_minutes": int(self.stale_after.total_seconds() // 60),
        }


def stale_after(schedule: Schedule) -> dt.timedelta:
    return dt.timedelta(minutes=2 * schedule.sync_every_minutes)


def source_status(
    client: Client,
    source: Source,
    record: SourceRecord | None,
    schedule: Schedule,
    *,
    now: dt.datetime,
    since: dt.datetime,
) -> SourceStatus:
    """Freshness of one source at `now`; `since`: when the daemon started."""
    limit = stale_after(schedule)
    success = record.last_success if record else None
    reference = success or since
    return SourceStatus(
        client_id=client.id,
        source=source.name,
        kind=source.kind,
        label=TRACKER_LABEL[source.tracker],
        last_success=success,
        last_attempt=record.last_attempt if record else None,
        last_error=record.last_error if record else None,
        stale=now - reference > limit,
        stale_after=limit,
    )


def client_statuses(
    loaded: LoadedConfig, client: Client, store: Store, *, now: dt.datetime, since: dt.datetime
) -> list[SourceStatus]:
    schedule = loaded.config.schedule_for(client)
    records = store.source_records(client.id)
    return [
        source_status(client, s, records.get(s.name), schedule, now=now, since=since)
        for s in client.sources
    ]


@dataclass(frozen=True)
class JobInfo:
    id: str
    next_run_time: dt.datetime | None  # None: paused


@dataclass(frozen=True)
class SchedulerInfo:
    state: str  # "running" | "paused" | "stopped"
    jobs: tuple[JobInfo, ...] = ()

    @property
    def running(self) -> bool:
        return self.state == "running"


def health_document(
    sources: Sequence[SourceStatus],
    scheduler: SchedulerInfo,
    now: dt.datetime,
    *,
    problems: Iterable[str] = (),
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of GET /healthz."""
    reasons = list(problems)
    if not scheduler.running:
        reasons.append(f"scheduler is {scheduler.state}")
    reasons += [
        f"{s.client_id}/{s.source}: no successful sync for more than "
        f"{int(s.stale_after.total_seconds() // 60)} minutes"
        for s in sources
        if s.stale
    ]
    doc = {
        "status": "unhealthy" if reasons else "ok",
        "time": _iso(now),
        "reasons": reasons,
        "sources": [s.as_json() for s in sources],
        "scheduler": {
            "running": scheduler.running,
            "state": scheduler.state,
            "jobs": [{"id": j.id, "next_run_time": _iso(j.next_run_time)} for j in scheduler.jobs],
        },
    }
    return (503 if reasons else 200), doc


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


_REASONS = {200: "200 OK", 405: "405 Method Not Allowed", 503: "503 Service Unavailable"}


class HealthApp:
    """GET /healthz: `probe()` gives the status and the JSON document."""

    def __init__(self, probe: Callable[[], tuple[int, dict[str, Any]]]) -> None:
        self.probe = probe

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return _respond(start_response, 405, b'{"error": "use GET"}', "application/json")
        try:
            status, doc = self.probe()
        except Exception as exc:  # the health check itself failed: that is unhealthy
            logger.exception("health check failed")
            status, doc = 503, {"status": "unhealthy", "reasons": [f"health check failed: {exc}"]}
        body = json.dumps(doc, ensure_ascii=False).encode()
        return _respond(start_response, status, body, "application/json")


class MetricsApp:
    """GET /metrics: the Prometheus text exposition of `metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return _respond(start_response, 405, b'{"error": "use GET"}', "application/json")
        return _respond(start_response, 200, self.metrics.render(), CONTENT_TYPE)


def _respond(
    start_response: StartResponse, status: int, body: bytes, content_type: str
) -> list[bytes]:
    start_response(
        _REASONS[status],
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]
