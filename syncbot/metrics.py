"""Prometheus metrics for `GET /metrics`, on a registry of our own (no global state leaks
between tests or embedded uses).

Label values are bounded: client ids and source names come from the configuration, error
kinds from `error_kind` (a short fixed list), never from free-form error text.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from syncbot.errors import (
    DataError,
    SettingsError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    SourceRateLimited,
    StoreError,
)

# What `generate_latest` writes: the classic text format every Prometheus version reads
# (prometheus_client's own server answers with it unless a scraper negotiates another).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def error_kind(exc: BaseException) -> str:
    """A small, fixed vocabulary for `syncbot_api_errors{kind=...}` (tracker and Slack)."""
    # Slack's classes live with the Slack libraries, which load only when posting; they are
    # matched by name so this module stays importable without them.
    slack = {
        "SlackRefused": "refused",
        "SlackRateLimited": "rate_limited",
        "SlackUnavailable": "unavailable",
    }
    for cls in type(exc).__mro__:
        if cls.__name__ in slack:
            return slack[cls.__name__]
    if isinstance(exc, SourceAuthError):
        return "auth"
    if isinstance(exc, SourceRateLimited):
        return "rate_limited"
    if isinstance(exc, SourceQueryError):
        return "query"
    if isinstance(exc, SourceError):
        return "unavailable"
    if isinstance(exc, DataError):
        return "data"
    if isinstance(exc, SettingsError):
        return "settings"
    if isinstance(exc, StoreError):
        return "store"
    return "other"


class Metrics:
    """The daemon's metrics. `outbox_size` is read from the store at scrape time."""

    def __init__(self, outbox_size: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.sync_seconds = Histogram(
            "syncbot_sync_duration_seconds",
            "Duration of one source sync (successful or not).",
            ["client", "source"],
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
        )
        self.sync_tickets = Gauge(
            "syncbot_sync_tickets",
            "Tickets held for a source after its last successful sync.",
            ["client", "source"],
            registry=self.registry,
        )
        self.sync_fetched = Counter(
            "syncbot_sync_fetched_tickets",
            "Tickets fetched from a source (incremental syncs fetch only the changes).",
            ["client", "source"],
            registry=self.registry,
        )
        self.sync_failures = Counter(
            "syncbot_sync_failures",
            "Source syncs that failed.",
            ["client", "source"],
            registry=self.registry,
        )
        self.last_success = Gauge(
            "syncbot_source_last_success_timestamp_seconds",
            "When a source last synced successfully (Unix time).",
            ["client", "source"],
            registry=self.registry,
        )
        self.source_stale = Gauge(
            "syncbot_source_stale",
            "1 while a source has not synced successfully for more than two sync intervals.",
            ["client", "source"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "syncbot_api_errors",
            "Errors from tracker and Slack APIs, by kind.",
            ["api", "kind"],
            registry=self.registry,
        )
        self.digests_posted = Counter(
            "syncbot_digests_posted",
            "Digests posted to Slack.",
            ["client", "audience"],
            registry=self.registry,
        )
        self.alerts_posted = Counter(
            "syncbot_alerts_posted",
            "Staleness alerts (kind=stale) and all-clears (kind=recovered) posted to Slack.",
            ["client", "kind"],
            registry=self.registry,
        )
        self.job_failures = Counter(
            "syncbot_job_failures",
            "Scheduled jobs that ended with an unexpected error (logged with a traceback).",
            ["job"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "syncbot_outbox_size",
            "Slack messages (digests, alerts) queued and not fully posted.",
            registry=self.registry,
        )
        if outbox_size is not None:
            self.outbox.set_function(outbox_size)

    def render(self) -> bytes:
        return generate_latest(self.registry)
