"""The one seam every tracker connector implements (`TicketSource.fetch`), the one of metric
sources (`MetricSource.read`), what they return, and the value objects a caller hands the
connectors to reach the trackers and MLflow.

The connectors never see the application's `Settings`: the application layer builds a
`Connections` (tracker access plus `FetchOptions`) and passes it to `open_source`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import SecretStr

from syncbot.config import Metric
from syncbot.connectors.retry import RetryPolicy
from syncbot.domain import MetricReading, Ticket

ProgressCallback = Callable[[int, int], None]  # (tickets fetched so far, pages so far)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch returned.

    `complete` means `tickets` is the whole current set for the source, so the store may drop
    tickets it holds that are absent (a reconcile). Otherwise `tickets` are changes to merge:
    a fetch that could not read every page (a missing export file, a tracker that stopped
    paging early) is never complete, and says why in `notes`.
    `cursor` is the tracker's own latest `updated` timestamp seen (ISO 8601), never this
    machine's clock, so the next incremental fetch can ask for changes since then.
    `skipped_keys` names the malformed tickets that were skipped (when their key could be
    read), so a store can keep their last good version instead of dropping them.
    `epic_link_field` is the Jira Data Center "Epic Link" custom field id the fetch used (found
    in the field list, or the known one it was given), for the caller to keep and hand back
    (`JiraSource(known_epic_link_field=...)`); None for other sources.
    """

    tickets: list[Ticket]
    complete: bool
    cursor: str | None
    skipped: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. "skipped 2 malformed tickets in p3.json"
    requests: int = 0
    pages: int = 0
    skipped_keys: tuple[str, ...] = ()
    epic_link_field: str | None = None


class TicketSource(Protocol):
    """A tracker (or recording of one) that yields tickets.

    `fetch` returns each ticket at most once (latest version wins when a ticket appears on
    several pages), in no particular order, each with its whole history and lists (no
    nested list is silently cut). With `updated_since=None` or `full=True` it returns the
    complete set, and says `complete=True` only when it read every page. Malformed tickets
    are skipped and counted, never raised. It raises `SourceError` subclasses when the
    source cannot be read at all, and `DataError` for recorded data that is not readable.
    """

    name: str

    def fetch(
        self,
        *,
        updated_since: str | None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult: ...


@dataclass(frozen=True)
class MetricResult:
    """What one read of a metric source returned: a reading per milestone asked about."""

    readings: dict[str, MetricReading]  # milestone id -> reading
    requests: int = 0
    pages: int = 0  # runs/search answers read
    notes: list[str] = field(default_factory=list)


class MetricSource(Protocol):
    """MLflow (or a recording of it) answering milestone metrics.

    `read` takes (milestone id, metric) pairs and returns a reading for every one of them, or
    raises: `SourceError` subclasses when the server cannot be read (`SourceQueryError` when
    an experiment does not exist), `DataError` for recorded answers that cannot be used. It is
    all or nothing, so a failed read leaves every last known value in place.
    """

    name: str

    def read(self, wanted: Sequence[tuple[str, Metric]]) -> MetricResult: ...


# -- what the caller hands the connectors ---------------------------------------------------


@dataclass(frozen=True)
class JiraAccess:
    """Where Jira is and how to sign in: email + API token (Cloud, HTTP basic) or a personal
    access token (Data Center, Bearer).

    The credentials also decide the deployment: a PAT means Data Center, which costs no
    serverInfo call.
    """

    url: str
    email: str | None = None
    token: SecretStr | None = None
    pat: SecretStr | None = None

    @property
    def cloud(self) -> bool:
        return self.pat is None

    @property
    def settings(self) -> str:
        """The settings to check when Jira refuses these credentials."""
        return "SYNCBOT_JIRA_PAT" if self.pat else "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN"


@dataclass(frozen=True)
class LinearAccess:
    """Linear's GraphQL endpoint and the API key sent as `Authorization`."""

    url: str
    api_key: SecretStr


@dataclass(frozen=True)
class MlflowAccess:
    """The MLflow tracking server's base URL (user:password@ in it means HTTP basic auth) and
    an optional bearer token (e.g. a Databricks personal access token)."""

    url: str
    token: SecretStr | None = None


@dataclass(frozen=True)
class FetchOptions:
    """How the live connectors page, overlap incremental reads, time out and retry.

    `timeout` bounds each HTTP request twice: between bytes (the libraries' read timeout)
    and in total, so a tracker trickling its answer cannot hold a sync past it.
    """

    jira_page_size: int | None = None  # None: the API's largest page
    linear_page_size: int | None = None  # None: linear.PAGE_SIZE
    mlflow_page_size: int | None = None  # None: mlflow.PAGE_SIZE
    overlap: dt.timedelta = dt.timedelta(minutes=5)
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Connections:
    """Everything `open_source` needs to reach the trackers (and `open_metric_source`, MLflow).

    `jira` / `linear` / `mlflow` are None when they are not configured; `missing` then says,
    per tracker ("jira", "linear", "mlflow"), what to set, for the one-line error of a source
    that needs it.
    """

    jira: JiraAccess | None = None
    linear: LinearAccess | None = None
    mlflow: MlflowAccess | None = None
    options: FetchOptions = field(default_factory=FetchOptions)
    missing: Mapping[str, str] = field(default_factory=dict)
