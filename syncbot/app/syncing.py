"""Syncing a client's sources into the store (its trackers, then its milestone metrics from
MLflow), and what asks for a sync: the webhooks' marks and the replay ids of signed requests.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from syncbot import messages
from syncbot.app.states import States
from syncbot.config import Client, Source
from syncbot.connectors import open_metric_source, open_source
from syncbot.connectors.base import ProgressCallback
from syncbot.domain import Progress, Ticket
from syncbot.errors import (
    ConfigError,
    DataError,
    SettingsError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    SyncbotError,
)
from syncbot.metrics import error_kind
from syncbot.rules import membership
from syncbot.store import MilestoneSnapshot
from syncbot.store.tickets import unstorable

logger = logging.getLogger(__name__)
EPIC_LINK_FIELD = "epic_link_field"  # source meta: Jira Data Center's Epic Link field id


@dataclass
class SyncReport:
    """One source's sync, as `sync` prints it."""

    client_id: str
    source: str
    fetched: int = 0
    skipped: int = 0
    stored: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    bad_input: bool = False  # the failure is the user's to fix (exit 2), not a passing fault
    unit: str = "ticket"  # what `fetched` counts: "ticket", or "metric" for MLflow

    def line(self) -> str:
        where = f"{self.client_id}/{self.source}"
        if self.error:
            return f"{where}: FAILED: {self.error}"
        fetched = (
            f"{self.fetched} tickets"  # as ever, whatever the number
            if self.unit == "ticket"
            else messages.plural(self.fetched, self.unit)
        )
        text = (
            f"{where}: fetched {fetched} ({self.pages} pages, "
            f"{self.requests} requests) in {self.seconds:.2f} s; {self.stored} stored"
        )
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text


@dataclass(frozen=True)
class Matching:
    """How a client's `match` rules met its tickets (printed after a sync)."""

    client_id: str
    empty: tuple[tuple[str, str], ...]  # (milestone id, name) whose match selected nothing
    unmatched: int  # open or done tickets no milestone selects

    def line(self) -> str | None:
        parts = []
        if self.empty:
            listed = ", ".join(f"{mid} '{name}'" for mid, name in self.empty)
            parts.append(
                f"{messages.plural(len(self.empty), 'milestone')} matched no ticket: {listed}"
            )
        if self.unmatched:
            parts.append(f"{messages.plural(self.unmatched, 'ticket')} matched no milestone")
        return f"{self.client_id}: {'; '.join(parts)}" if parts else None


@dataclass(frozen=True)
class ClientSync:
    reports: tuple[SyncReport, ...]
    matching: Matching


class Syncing(States):
    """Syncs of a client's sources, and the marks and ids that ask for them."""

    def sync(
        self,
        client_id: str,
        *,
        full: bool = False,
        as_of: dt.date | None = None,
        progress: Callable[[str], ProgressCallback | None] | None = None,
        sources: Collection[str] | None = None,
    ) -> ClientSync:
        """Sync every source of one client (only those named in `sources`, when given: a
        webhook's; a failing source is recorded and the others go on), then its milestone
        metrics (whose failure never fails the trackers'; not on a webhook's sync), then
        record the day's state in the history: the report of that as-of day for the trend
        (SPEC §9; the last sync of a day wins). A client none of whose sources has ever
        synced has no state to record."""
        client = self.client(client_id)
        reports = tuple(
            self._sync_source(client, s, full, progress)
            for s in client.ticket_sources
            if sources is None or s.name in sources
        )
        if (metric_source := client.metric_source) is not None and sources is None:
            reports += (self._sync_metrics(client, metric_source),)
        tickets = self.tickets(client)
        state = self.state(client.id, as_of=as_of)
        if any(source.last_success for source in state.sources):
            # Both audiences' states are computed now, once, and kept: answers use them.
            self.state(client.id, as_of=as_of, audience="client")
            self.opaque(client.id)  # and the client view's ids: no read of them in an ack
        if any(source.last_success for source in state.sources):
            self.store.history.save(
                client.id,
                state.as_of,
                [
                    MilestoneSnapshot(m.id, state.as_of, m.forecast, m.actual, m.status.value)
                    for m in state.milestones
                ],
                self.clock(),
            )
        return ClientSync(reports, _matching(client, tickets))

    def _sync_source(
        self,
        client: Client,
        source: Source,
        full: bool,
        progress: Callable[[str], ProgressCallback | None] | None,
    ) -> SyncReport:
        report = SyncReport(client.id, source.name)
        started = time.perf_counter()
        now = self.clock()
        try:
            record = self.store.tickets.records(client.id).get(source.name)
            reconcile = (
                full
                or record is None
                or record.last_full is None
                or now - record.last_full > dt.timedelta(hours=self.settings.full_reconcile_hours)
            )
            known = self.store.tickets.meta(client.id, source.name).get(EPIC_LINK_FIELD)
            fetcher = open_source(
                source,
                client=client,
                connections=self.connections,
                files=self.loaded.export_files(source) if source.is_export else (),
                # A full reconcile discovers the field again (an admin may have changed it).
                known_epic_link_field=None if reconcile else known,
            )
            result = fetcher.fetch(
                updated_since=None if reconcile else record.cursor if record else None,
                full=reconcile,
                progress=progress(source.name) if progress else None,
            )
            if result.complete and not result.tickets and record and record.tickets:
                raise SourceQueryError(
                    source.name,
                    f"returned no tickets at all; keeping the {record.tickets} stored "
                    "rather than dropping them (check the source's project, team or jql)",
                )
            storable, refused = _storable(result.tickets)
            report.stored = self.store.tickets.save(
                client.id,
                source.name,
                storable,
                complete=result.complete,
                cursor=result.cursor,
                at=self.clock(),
                keep=[*result.skipped_keys, *(key for key, _ in refused)],
            )
            if result.epic_link_field != known:
                self.store.tickets.set_meta(
                    client.id, source.name, {EPIC_LINK_FIELD: result.epic_link_field}
                )
            report.fetched = len(result.tickets)
            report.skipped = result.skipped + len(refused)
            report.pages, report.requests = result.pages, result.requests
            report.notes = list(result.notes)
            if refused:
                report.notes.append(messages.unstorable(refused))
        except SyncbotError as exc:
            logger.debug("sync of %s failed", source.name, exc_info=True)
            self._failed(report, exc, source.tracker, self.store.tickets.record_failure)
        report.seconds = time.perf_counter() - started
        if self.metrics is not None:
            labels = (client.id, source.name)
            self.metrics.sync_seconds.labels(*labels).observe(report.seconds)
            if report.error is None:
                self.metrics.sync_tickets.labels(*labels).set(report.stored)
                self.metrics.sync_fetched.labels(*labels).inc(report.fetched)
        return report

    def _sync_metrics(self, client: Client, source: Source) -> SyncReport:
        """Read every milestone metric of `client` from its MLflow source into the store; a
        failure is recorded against that source (which then ages into staleness like a
        tracker's) and leaves the last known readings as they were."""
        report = SyncReport(client.id, source.name, unit="metric")
        started = time.perf_counter()
        wanted = [(m.id, m.metric) for m in client.milestones if m.metric is not None]
        try:
            reader = open_metric_source(
                source,
                connections=self.connections,
                files=self.loaded.export_files(source) if source.is_export else (),
            )
            result = reader.read(wanted)
            report.stored = self.store.readings.save(
                client.id, source.name, result.readings, self.clock()
            )
            report.fetched = len(result.readings)
            report.pages, report.requests = result.pages, result.requests
            report.notes = list(result.notes)
        except SyncbotError as exc:
            logger.debug("reading the metrics of %s failed", source.name, exc_info=True)
            self._failed(report, exc, "mlflow", self.store.readings.record_failure)
        report.seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.sync_seconds.labels(client.id, source.name).observe(report.seconds)
        return report

    def _failed(
        self,
        report: SyncReport,
        exc: SyncbotError,
        api: str,
        record: Callable[[str, str, str, dt.datetime], None],
    ) -> None:
        """A source's failed read, the same for trackers and MLflow: the report says why and
        whether the input is at fault, the metrics count it, the store records it (the data
        held stays)."""
        report.error = exc.detail if isinstance(exc, SourceError) else str(exc)
        report.bad_input = isinstance(
            exc, DataError | SettingsError | SourceAuthError | SourceQueryError | ConfigError
        )
        if self.metrics is not None:
            self.metrics.sync_failures.labels(report.client_id, report.source).inc()
            if isinstance(exc, SourceError):  # the tracker's (or MLflow's) API failed us
                self.metrics.api_errors.labels(api, error_kind(exc)).inc()
        record(report.client_id, report.source, report.error, self.clock())

    def first_request(self, kind: str, key: str, window: dt.timedelta) -> bool:
        """True the first time a signed request (or a delivery) is seen within `window`."""
        return self.store.seen.first(kind, key, self.clock(), window)

    def mark_dirty(
        self,
        sources: Sequence[tuple[str, str]],
        *,
        delivery: tuple[str, str] | None = None,
        window: dt.timedelta = dt.timedelta(days=1),
    ) -> bool:
        """Mark (client id, source name) pairs for a sync by the leading daemon; False, marking
        nothing, when `delivery` (kind, id) was already processed within `window`."""
        return self.store.dirty.mark(sources, self.clock(), delivery=delivery, keep=window)

    def dirty_sources(self) -> dict[tuple[str, str], int]:
        """Sources marked for a sync, with the generation of their latest mark."""
        return self.store.dirty.pending()

    def take_dirty(self, key: tuple[str, str], generation: int) -> bool:
        """Clear a mark unless a newer one came since `generation`."""
        return self.store.dirty.take(key, generation)


def _storable(tickets: Sequence[Ticket]) -> tuple[list[Ticket], list[tuple[str, str]]]:
    """The tickets the store can hold, and (key, why) of those it cannot (skipped, named)."""
    keep, refused = [], []
    for ticket in tickets:
        problem = unstorable(ticket)
        if problem is None:
            keep.append(ticket)
        else:
            refused.append((ticket.key, problem))
    return keep, refused


def _matching(client: Client, tickets: Sequence[Ticket]) -> Matching:
    members = membership.membership(client.milestones, tickets)
    selected = {t.key for group in members.values() for t in group}
    unmatched = sum(
        1 for t in tickets if t.progress is not Progress.EXCLUDED and t.key not in selected
    )
    empty = tuple((m.id, m.name) for m in client.milestones if not members[m.id])
    return Matching(client.id, empty, unmatched)
