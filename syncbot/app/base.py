"""The application object's foundation: configuration, settings, store, clock and the tracker
connections, and the memory the capabilities above share (held tickets, kept states, charts).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from syncbot.config import Client, LoadedConfig, Schedule
from syncbot.connectors.base import (
    Connections,
    FetchOptions,
    JiraAccess,
    LinearAccess,
    MlflowAccess,
)
from syncbot.connectors.retry import RetryPolicy
from syncbot.domain import MetricReading, Ticket
from syncbot.metrics import Metrics
from syncbot.render.trend import Trend
from syncbot.render.views import Audience, OpaqueId
from syncbot.settings import Settings
from syncbot.store import Kept, Store
from syncbot.store.outbox import PostedDigest
from syncbot.store.tickets import SourceRecord

Clock = Callable[[], dt.datetime]
AUDIENCES: tuple[Audience, ...] = ("internal", "client")


@dataclass(frozen=True)
class StoredInputs:
    """What a state is made of that the store holds, as read at change `stamp`."""

    stamp: int
    records: dict[str, SourceRecord]
    last: PostedDigest | None
    signed: frozenset[str]
    notes: dict[str, str]
    generations: dict[str, int]
    readings: dict[str, MetricReading]


class Base:
    """The configuration, settings, store and clock every capability uses."""

    def __init__(
        self,
        loaded: LoadedConfig,
        settings: Settings,
        store: Store,
        clock: Clock,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self.loaded = loaded
        self.settings = settings
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self._tickets: dict[str, tuple[tuple[Any, ...], list[Ticket]]] = {}  # oldest first
        self._lock = threading.Lock()
        self._opaque: dict[str, OpaqueId] = {}
        self._configs: dict[str, tuple[Client, str]] = {}
        self._charts: dict[tuple[str, str], tuple[Trend, bytes]] = {}
        self._states: dict[tuple[str, str], tuple[str, Kept]] = {}
        self._stored: dict[tuple[str, str, dt.datetime | None], StoredInputs] = {}
        # (client, audience, what) -> (what the answer was rendered from, its Slack messages)
        self._answers: dict[tuple[str, str, str], tuple[Hashable, tuple[dict[str, Any], ...]]] = {}
        self.connections = connections_from_settings(settings)

    @property
    def clients(self) -> list[Client]:
        return self.loaded.config.clients

    def client(self, client_id: str) -> Client:
        return self.loaded.config.client(client_id)

    def schedule(self, client: Client) -> Schedule:
        return self.loaded.config.schedule_for(client)

    def today(self, client: Client) -> dt.date:
        """The as-of date when none is pinned: today in the client's timezone."""
        return self.clock().astimezone(client.tz).date()


def connections_from_settings(settings: Settings) -> Connections:
    """The connectors' value objects from the environment's settings (the connectors never
    read `Settings`). A tracker whose credentials are incomplete gets no access object, and
    `missing` names what to set."""
    missing = {
        tracker: " and ".join(names)
        for tracker in ("jira", "linear", "mlflow")
        if (names := settings.missing_for(tracker))
    }
    jira = None
    if "jira" not in missing and settings.jira_url:
        jira = JiraAccess(
            url=settings.jira_url,
            # A PAT means Data Center; without one, missing_for made sure of email + token.
            email=None if settings.jira_pat else settings.jira_email,
            token=None if settings.jira_pat else settings.jira_token,
            pat=settings.jira_pat,
        )
    linear = None
    if settings.linear_api_key is not None:
        linear = LinearAccess(url=settings.linear_api_url, api_key=settings.linear_api_key)
    mlflow = None
    if settings.mlflow_url:
        mlflow = MlflowAccess(url=settings.mlflow_url, token=settings.mlflow_token)
    options = FetchOptions(
        jira_page_size=settings.jira_page_size,
        linear_page_size=settings.linear_page_size,
        mlflow_page_size=settings.mlflow_page_size,
        overlap=dt.timedelta(minutes=settings.sync_overlap_minutes),
        timeout=settings.source_timeout_seconds,
        retry=RetryPolicy(
            retries=settings.source_retries,
            backoff=settings.source_backoff_seconds,
            max_wait=settings.source_max_wait_seconds,
        ),
    )
    return Connections(jira=jira, linear=linear, mlflow=mlflow, options=options, missing=missing)
