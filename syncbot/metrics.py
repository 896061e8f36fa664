"""Prometheus metrics for `GET /metrics`, on a registry of our own (no global state leaks
between tests or embedded uses)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The daemon's metrics. `outbox_size` is read from the store at scrape time."""

    def __init__(self, outbox_size: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.sync_seconds = Histogram(
            "syncbot_sync_duration_seconds",
            "Duration of one source sync.",
            ["client", "source"],
            registry=self.registry,
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
        )
        self.sync_tickets = Gauge(
            "syncbot_sync_tickets",
            "Tickets fetched by the last sync of a source.",
            ["client", "source"],
            registry=self.registry,
        )
        self.sync_failures = Counter(
            "syncbot_sync_failures",
            "Source syncs that failed.",
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
        self.outbox = Gauge(
            "syncbot_outbox_size", "Digests waiting to be posted.", registry=self.registry
        )
        if outbox_size is not None:
            self.outbox.set_function(outbox_size)

    def render(self) -> bytes:
        return generate_latest(self.registry)
