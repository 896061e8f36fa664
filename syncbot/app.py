"""The application object: the one place that combines store, connectors, rules, renderers
and the clock. The CLI, the daemon's jobs, the slash commands and the HTTP app only call it.

`Syncbot` syncs a client's sources (its trackers, then its milestone metrics from MLflow), gives
its state as of a day for an audience, renders that state (digests, slash answers, alerts) and
queues what is to be posted in the outbox. Posting itself is the Slack adapter's job
(`syncbot.slack.outbox`), which receives rendered entries.

Tickets are read from the store once per sync and kept in memory (per process) until the next
sync of that client, so answers and digests never reload them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from syncbot import __version__, messages
from syncbot.config import Client, LoadedConfig, Schedule, Source
from syncbot.connectors import open_metric_source, open_source
from syncbot.connectors.base import (
    Connections,
    FetchOptions,
    JiraAccess,
    LinearAccess,
    MlflowAccess,
    ProgressCallback,
)
from syncbot.connectors.retry import RetryPolicy
from syncbot.domain import (
    ClientState,
    MetricReading,
    Progress,
    SourceHealth,
    Ticket,
    Warning,
    WarningKind,
)
from syncbot.errors import (
    ConfigError,
    DataError,
    NoData,
    ReviewDecided,
    SettingsError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    StoreError,
    SyncbotError,
)
from syncbot.metrics import Metrics, error_kind
from syncbot.render import chart, replies
from syncbot.render.alerts import (
    alert_message,
    decided_messages,
    draft_messages,
    headsup_messages,
    sent_by,
    skipped_by,
    superseded,
)
from syncbot.render.blocks import digest_messages, document_messages, line_message
from syncbot.render.digest import client_digest, freshness_line, internal_digest
from syncbot.render.doc import DigestDoc, Document, Line, Span
from syncbot.render.trend import Trend, trend
from syncbot.render.views import Audience, ClientView, OpaqueId, audience_view, opaque_ids
from syncbot.rules import freshness, membership
from syncbot.rules.alerts import Evaluation
from syncbot.rules.alerts import evaluate as evaluate_alerts
from syncbot.rules.state import compute_state
from syncbot.schedule import NeverFires, grace, period_for
from syncbot.settings import Settings
from syncbot.store import (
    Kept,
    MilestoneSnapshot,
    OutboxEntry,
    OutboxKey,
    ShareLink,
    SignOff,
    Store,
    new_entry,
)
from syncbot.store.outbox import PostedDigest, Reported
from syncbot.store.reviews import Review
from syncbot.store.reviews import parse_id as parse_review_id
from syncbot.store.tickets import SourceRecord, unstorable

logger = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
AUDIENCES: tuple[Audience, ...] = ("internal", "client")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the staleness episode of a source never synced
MAX_ERROR_CHARS = 500
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


@dataclass(frozen=True)
class Correction:
    """A posted digest re-rendered for its period: what `slack.outbox.Outbox.correct` applies."""

    entry: OutboxEntry
    messages: tuple[dict[str, Any], ...]
    snapshot: Reported
    as_of: dt.date


TICKETS_KEPT = 2  # clients whose tickets stay in memory (the ones being synced)
STORED_KEPT = 1000  # (client, audience, period) whose stored inputs stay in memory


@dataclass(frozen=True)
class Computed:
    """A state as an answer uses it: with the last posted digest it was told against, and
    the tracker URLs of the ticket keys it names (internal answers link them)."""

    state: ClientState
    last: PostedDigest | None
    links: dict[str, str]


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


@dataclass(frozen=True)
class StateInputs:
    """What a state is made of, and the version that names it."""

    client: Client
    health: tuple[SourceHealth, ...]
    last: PostedDigest | None
    signed: frozenset[str]
    notes: dict[str, str]
    readings: dict[str, MetricReading]
    day: dt.date
    slot: str
    version: str


class Syncbot:
    """syncbot for one configuration, settings and store; `clock` gives aware UTC now."""

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
        self.connections = connections_from_settings(settings)

    # -- configuration ----------------------------------------------------------------------

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

    # -- syncing ----------------------------------------------------------------------------

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

    # -- state --------------------------------------------------------------------------------

    def tickets(self, client: Client) -> list[Ticket]:
        """The client's stored tickets, read once per sync of them (whichever process
        synced): kept for the last few clients only, since computed states are what
        answers use (a daemon of 50 clients does not hold 50 clients' tickets)."""
        stamp = tuple(sorted(self.store.tickets.generations(client.id).items()))
        with self._lock:
            held = self._tickets.get(client.id)
        if held is not None and held[0] == stamp:
            return held[1]
        tickets = self.store.tickets.load(
            client.id,
            [s.name for s in client.ticket_sources],
            described=client.experiment_labels,  # the one rule that reads descriptions
        )
        with self._lock:
            self._tickets.pop(client.id, None)
            self._tickets[client.id] = (stamp, tickets)
            while len(self._tickets) > TICKETS_KEPT:
                self._tickets.pop(next(iter(self._tickets)))
        return tickets

    def freshness(self, client_id: str) -> tuple[SourceHealth, ...]:
        """Each source's freshness now (`rules.freshness`: the one staleness rule)."""
        client = self.client(client_id)
        return self._health(client, self._records(client))

    def _records(self, client: Client) -> dict[str, SourceRecord]:
        records = self.store.tickets.records(client.id)
        if client.metric_source is not None:
            records.update(self.store.readings.records(client.id))
        return records

    def _health(
        self, client: Client, records: Mapping[str, SourceRecord]
    ) -> tuple[SourceHealth, ...]:
        every = self.schedule(client).sync_every_minutes
        now = self.clock()
        out = []
        for source in client.all_sources:
            record = records.get(source.name)
            out.append(
                freshness.source_health(
                    source.name,
                    source.kind,
                    last_success=record.last_success if record else None,
                    last_attempt=record.last_attempt if record else None,
                    last_error=record.last_error if record else None,
                    now=now,
                    sync_every_minutes=every,
                )
            )
        return tuple(out)

    def require_data(self, client_id: str) -> None:
        """NoData when none of the client's sources has ever synced successfully."""
        if not any(h.last_success for h in self.freshness(client_id)):
            raise NoData(messages.no_data(client_id))

    def state(
        self,
        client_id: str,
        *,
        as_of: dt.date | None = None,
        audience: Audience = "internal",
        before: dt.datetime | None = None,
    ) -> ClientState:
        """The state of `client` as `audience` would be told it.

        The honesty rules (forecast moved, skipped at-risk) compare with the last digest
        *posted* to `audience` (before `before`, for a digest of a given period); before the
        first one there is nothing to compare with. The phase gate runs once the client can
        sign off phases (it has approvers) or has signed one off: without approvers nobody
        could ever satisfy it, so it would only be noise.
        """
        state, _ = self._state(client_id, as_of=as_of, audience=audience, before=before)
        return state

    def _state(
        self,
        client_id: str,
        *,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> tuple[ClientState, PostedDigest | None]:
        computed = self._computed(client_id, as_of=as_of, audience=audience, before=before)
        return computed.state, computed.last

    def _computed(
        self,
        client_id: str,
        *,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> Computed:
        """The state, computed once per version of what it is made of and kept (in memory
        here, in the store for other processes): answers render from it, they never
        recompute it. The sources' freshness and staleness warnings depend on the clock,
        not on the data: they are added on every read."""
        inputs = self._inputs(client_id, as_of, audience, before)
        kept = self._kept(inputs)
        if kept is None:
            kept = self._compute(inputs)
        return self._fresh(inputs, kept)

    def computed_if_kept(self, client_id: str, audience: Audience) -> Computed | None:
        """Today's state if it is already computed (a few small reads, no computing): what a
        slash command may answer at once, in its ack. NoData before any source has synced."""
        inputs = self._inputs(client_id, None, audience, None)
        if not any(h.last_success for h in inputs.health):
            raise NoData(messages.no_data(client_id))
        kept = self._kept(inputs)
        return None if kept is None else self._fresh(inputs, kept)

    def warm(self) -> int:
        """Read every synced client's kept states (both audiences, today) and client-view ids
        into memory, computing nothing: run once at start-up, so that a restarted daemon's
        first answers cost what its later ones do (issue 9). The number of states read; a
        failing store stops it (answers then read as they go)."""
        read = 0
        try:
            for client in self.clients:
                try:
                    for audience in AUDIENCES:
                        read += self.computed_if_kept(client.id, audience) is not None
                except NoData:
                    continue  # never synced: nothing kept for either audience
                self.opaque(client.id)  # the client view's ids (the installation secret)
        except StoreError:
            logger.info("kept states not read ahead: the store failed", exc_info=True)
        return read

    def _inputs(
        self,
        client_id: str,
        as_of: dt.date | None,
        audience: Audience,
        before: dt.datetime | None,
    ) -> StateInputs:
        client = self.client(client_id)
        stored = self._stored_inputs(client, audience, before)
        day = as_of or self.today(client)
        slot = f"{audience}|{day.isoformat()}|{before.isoformat() if before else '-'}"
        version = _version(
            self._config_json(client),
            stored.generations,
            stored.last,
            stored.signed,
            stored.notes,
            day,
            stored.readings,
        )
        health = self._health(client, stored.records)  # on the clock: every time
        return StateInputs(
            client,
            health,
            stored.last,
            stored.signed,
            stored.notes,
            stored.readings,
            day,
            slot,
            version,
        )

    def _stored_inputs(
        self, client: Client, audience: Audience, before: dt.datetime | None
    ) -> StoredInputs:
        """The store's part of a state's inputs: read again only when the client's change
        counter moved since the last read (`store.changes`), else one small read."""
        key = (client.id, audience, before)
        with self.store.reading():  # one snapshot; the counter first (store/changes.py)
            stamp = self.store.changes.stamp(client.id)
            held = self._stored.get(key)
            if held is not None and held.stamp == stamp and stamp:
                return held
            stored = StoredInputs(
                stamp,
                self._records(client),
                self.store.outbox.last_posted(client.id, audience, before=before),
                frozenset(s.phase for s in self.store.signoffs.load(client.id)),
                self.store.notes.load(client.id),
                self.store.tickets.generations(client.id),
                self.store.readings.load(client.id) if client.metric_source else {},
            )
        if len(self._stored) >= STORED_KEPT:
            self._stored.clear()  # digests of many past periods: start over
        self._stored[key] = stored
        return stored

    def _kept(self, inputs: StateInputs) -> Kept | None:
        key = (inputs.client.id, inputs.slot)
        with self._lock:
            held = self._states.get(key)
        if held is not None and held[0] == inputs.version:
            return held[1]
        kept = self.store.states.get(inputs.client.id, inputs.slot, inputs.version)
        if kept is not None:
            with self._lock:
                self._states[key] = (inputs.version, kept)
        return kept

    def _compute(self, inputs: StateInputs) -> Kept:
        client, signed = inputs.client, inputs.signed
        tickets = self.tickets(client)
        state = compute_state(
            client,
            tickets,
            as_of=inputs.day,
            reported=inputs.last.snapshot if inputs.last else None,
            signed_off=set(signed) if client.approvers or signed else None,
            notes=inputs.notes,
            metrics=inputs.readings if client.metric_source else None,
        )
        named = _named_keys(state)
        kept = Kept(state, {t.key: t.url for t in tickets if t.url and t.key in named})
        try:
            self.store.states.put(client.id, inputs.slot, inputs.version, kept, self.clock())
        except StoreError:  # a read-only store still answers; the next writer keeps it
            logger.debug("could not keep the state of %s", client.id, exc_info=True)
        with self._lock:
            self._states[(client.id, inputs.slot)] = (inputs.version, kept)
        return kept

    def _fresh(self, inputs: StateInputs, kept: Kept) -> Computed:
        stale = _stale_warnings(inputs.health, self.clock())
        state = replace(kept.state, sources=inputs.health, warnings=(*kept.state.warnings, *stale))
        return Computed(state, inputs.last, kept.links)

    def view(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> ClientView:
        state = self.state(client_id, as_of=as_of, audience=audience)
        return audience_view(state, audience, self.opaque(client_id))

    def _config_json(self, client: Client) -> str:
        """A client's configuration as JSON, dumped once per configuration object."""
        held = self._configs.get(client.id)
        if held is None or held[0] is not client:
            held = (client, client.model_dump_json())
            self._configs[client.id] = held
        return held[1]

    def opaque(self, client_id: str) -> OpaqueId:
        """Stable, unguessable client-facing ids of a client's dependency tickets."""
        if client_id not in self._opaque:
            self._opaque[client_id] = opaque_ids(self.store.meta.installation_secret(), client_id)
        return self._opaque[client_id]

    # -- documents ----------------------------------------------------------------------------

    def digest(
        self,
        client_id: str,
        audience: Audience,
        *,
        as_of: dt.date | None = None,
        before: dt.datetime | None = None,
    ) -> tuple[DigestDoc, ClientState]:
        """The digest `audience` gets, and the state it reports, told relative to the last
        digest posted to `audience` (for a digest of a given period: the last one of an
        earlier period, `before`): forecast moves, skipped at-risk, completed since."""
        client = self.client(client_id)
        computed = self._computed(client.id, as_of=as_of, audience=audience, before=before)
        state, last = computed.state, computed.last
        since = self._since(client, audience, state.as_of, last)
        done_before = (
            {mid for mid, (_, status) in last.snapshot.items() if status == "done"}
            if last
            else None
        )
        now = self.clock()
        if audience == "client":
            view = audience_view(state, "client", self.opaque(client.id))
            doc = client_digest(
                view,
                since,
                freshness_line(view.sources, now),
                done_before=done_before,
                people=client.people,
            )
            return doc, state
        doc = internal_digest(state, since, now, links=computed.links, done_before=done_before)
        return doc, state

    def _since(
        self, client: Client, audience: str, as_of: dt.date, last: PostedDigest | None
    ) -> dt.date:
        """Start of the period a digest covers: the as-of date of the last digest posted to
        that audience, else one cadence back from the as-of date."""
        if last is not None and last.as_of <= as_of:
            return last.as_of
        weeks = 1 if audience == "internal" else self.schedule(client).client_digest_every_weeks
        return as_of - dt.timedelta(weeks=weeks)

    def reply(self, client_id: str, audience: Audience, what: str) -> Document:
        """A slash command answer (`status`, `milestones`, `blockers`, `digest`)."""
        if what == "digest":
            doc, _ = self.digest(client_id, audience)
            return replies.digest_preview(doc)
        computed = self._computed(client_id, as_of=None, audience=audience, before=None)
        return self._reply(client_id, audience, what, computed)

    def reply_if_kept(self, client_id: str, audience: Audience, what: str) -> Document | None:
        """The answer if today's state is already computed (what an ack may carry); None
        rather than compute it."""
        computed = self.computed_if_kept(client_id, audience)
        if computed is None:
            return None
        if what == "digest":
            return self.reply(client_id, audience, what)  # from the kept state
        return self._reply(client_id, audience, what, computed)

    def _reply(self, client_id: str, audience: Audience, what: str, computed: Computed) -> Document:
        view = audience_view(computed.state, audience, self.opaque(client_id))
        internal = audience == "internal"
        links = computed.links if internal else {}
        fresh = freshness_line(view.sources, self.clock())
        build = {
            "status": replies.status_reply,
            "milestones": replies.milestones_reply,
            "blockers": replies.blockers_reply,
        }[what]
        return build(view, internal=internal, links=links, freshness=fresh)

    def note(self, client_id: str, milestone_id: str, text: str | None, *, by: str) -> bool:
        """Set (or with None, clear) a milestone's client-facing note: its cause and recovery,
        shown beside it to both audiences and as the reason of its date changes. False when
        clearing a note that was not set."""
        client = self.client(client_id)
        known = [m.id for m in client.milestones]
        if milestone_id not in known:
            raise ConfigError(
                [
                    (
                        f"client {client.id!r} has no milestone {milestone_id!r} "
                        f"(milestones: {', '.join(known) or 'none'})"
                    )
                ]
            )
        if text is None:
            return self.store.notes.clear(client.id, milestone_id)
        cleaned = " ".join(text.split())
        if not cleaned:
            raise ConfigError(["a note needs some text (to remove one, clear it)"])
        self.store.notes.set(client.id, milestone_id, cleaned, by, self.clock())
        return True

    # -- the trend chart and the client page (SPEC §9) ---------------------------------------

    def trend(
        self, client_id: str, audience: Audience = "internal", *, as_of: dt.date | None = None
    ) -> Trend:
        """The milestone trend over the recorded reports (up to `as_of`, when given), named
        from `audience`'s view."""
        client = self.client(client_id)
        view = self.view(client.id, audience, as_of=as_of)
        recorded = {
            day: {s.milestone_id: (s.actual or s.forecast, s.status) for s in snapshots}
            for day, snapshots in self.store.history.load(client.id, until=as_of).items()
        }
        return trend(view, recorded, audience)

    def chart(
        self, client_id: str, audience: Audience = "internal", *, as_of: dt.date | None = None
    ) -> tuple[Trend, bytes]:
        """The trend and its PNG, drawn again only when the trend changed (page views and
        the digests of one period ask for the same picture)."""
        value = self.trend(client_id, audience, as_of=as_of)
        with self._lock:
            held = self._charts.get((client_id, audience))
        if held is not None and held[0] == value:
            return value, held[1]
        data = chart.png(value)
        with self._lock:
            self._charts[(client_id, audience)] = (value, data)
        return value, data

    def _chart_part(self, client: Client, key: OutboxKey, as_of: dt.date) -> dict[str, Any] | None:
        """The trend chart as the last part of a client digest, once there are two reports."""
        value, data = self.chart(client.id, "client", as_of=as_of)
        if not value.charted:
            return None
        tag = hashlib.sha256(key.text.encode()).hexdigest()[:10]
        return chart.file_part(
            value,
            data,
            filename=f"milestone-trend-{as_of.isoformat()}-{tag}.png",
            title=messages.chart_file_title(client.name, as_of),
        )

    def share(self, client_id: str, expires_in: dt.timedelta) -> tuple[str, ShareLink]:
        """A new link to the client's page: (its URL, shown once, and the stored link)."""
        client = self.client(client_id)
        token, link = self.store.links.create(client.id, self.clock(), expires_in)
        return self.share_url(token), link

    def share_url(self, token: str) -> str:
        base = (self.settings.public_url or "").rstrip("/")
        return f"{base}/c/{token}"

    def shares(self, client_id: str) -> list[ShareLink]:
        return self.store.links.list(self.client(client_id).id)

    def unshare(self, client_id: str, token: str) -> ShareLink | None:
        """Revoke one link, given as its token, its URL or the id `shares` lists."""
        given = token.strip().rstrip("/")
        if "/c/" in given:
            given = given.rsplit("/c/", 1)[1].split("/")[0]
        return self.store.links.revoke(self.client(client_id).id, given, self.clock())

    def unshare_all(self, client_id: str) -> int:
        return self.store.links.revoke_all(self.client(client_id).id, self.clock())

    def shared(self, token: str) -> tuple[Client, ShareLink] | None:
        """The client whose page `token` opens (recording the use), or None: unknown,
        expired and revoked tokens, and a client no longer configured, are alike."""
        if not token or len(token) > 200:
            return None
        link = self.store.links.use(token, self.clock())
        if link is None:
            return None
        client = next((c for c in self.clients if c.id == link.client_id), None)
        return (client, link) if client is not None else None

    def page(self, token: str, *, chart_url: str = "trend.png") -> str | None:
        """The client page `token` opens, as HTML; None for any token that opens none."""
        from syncbot.render.page import PageChart, client_page, no_data_page

        found = self.shared(token)
        if found is None:
            return None
        client, link = found
        try:
            self.require_data(client.id)
        except NoData:
            return no_data_page(client.name)
        doc, state = self.digest(client.id, "client")
        view = audience_view(state, "client", self.opaque(client.id))
        value = self.trend(client.id, "client")
        width, height = chart.pixel_size(value)
        shown = PageChart(
            url=chart_url if value.charted else None,
            alt=chart.alt_text(value),
            width=width,
            height=height,
            note=None
            if value.charted
            else messages.TREND_ONE_REPORT
            if value.reports
            else messages.TREND_NO_REPORTS,
        )
        return client_page(
            view,
            doc,
            freshness=freshness_line(view.sources, self.clock()),
            chart=shown,
            expires=link.expires_at,
        )

    def page_chart(self, token: str) -> bytes | None:
        """The trend chart of the page `token` opens (client audience); None as for `page`."""
        found = self.shared(token)
        if found is None:
            return None
        client, _ = found
        try:
            self.require_data(client.id)
        except NoData:
            return None
        return self.chart(client.id, "client")[1]

    def sign_off(self, client_id: str, phase: str, user_id: str) -> tuple[SignOff, bool]:
        """Record a phase sign-off; (the standing sign-off, whether this call made it)."""
        before = {s.phase for s in self.store.signoffs.load(client_id)}
        record = self.store.signoffs.sign_off(client_id, phase, user_id, self.clock())
        return record, phase not in before

    def first_request(self, kind: str, key: str, window: dt.timedelta) -> bool:
        """True the first time a signed request (or a delivery) is seen within `window`."""
        return self.store.seen.first(kind, key, self.clock(), window)

    # -- webhooks: sources to sync soon ------------------------------------------------------

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

    # -- the outbox ---------------------------------------------------------------------------

    def period(self, client: Client, audience: str, now: dt.datetime | None = None) -> dt.datetime:
        """The digest period `now` falls in (`syncbot.schedule`)."""
        cadence = self.loaded.config.cadence(client, audience)
        try:
            return period_for(cadence, now or self.clock())
        except NeverFires:
            key = "internal_digest_cron" if audience == "internal" else "client_digest_cron"
            raise ConfigError(
                [
                    (
                        f"client {client.id!r}: schedule.{key} {cadence.cron!r} has not fired in "
                        "five years; fix the crontab"
                    )
                ]
            ) from None

    def digest_due(self, client_id: str, audience: str) -> bool:
        """Whether this period's digest may still be posted: its period began within the
        grace (a digest job that fires late, or a client digest's off week, owes nothing)."""
        client = self.client(client_id)
        now = self.clock()
        return now - self.period(client, audience, now) <= grace(
            self.schedule(client).grace_minutes
        )

    def unsent(self, client_id: str, audience: str) -> list[OutboxEntry]:
        return self.store.outbox.unsent(client_id, audience)

    def queue_digest(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> list[OutboxEntry]:
        """What is owed to `audience` of `client`, oldest first: earlier periods still
        queued, then this period's digest, rendered and queued first if it is not yet."""
        client = self.client(client_id)
        period = self.period(client, audience)
        key = OutboxKey(client.id, audience, period)
        owed = [e for e in self.store.outbox.unsent(client.id, audience) if e.key.period < period]
        entry = self.store.outbox.get(key)
        if entry is None and audience == "client" and client.review_required:
            return [*owed, *self._draft_digest(client, period, as_of)]
        if entry is None:
            self.require_data(client.id)
            doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
            rendered = [m.as_json() for m in digest_messages(doc)]
            if audience == "client":  # SPEC §9: the trend chart goes with the client digest
                part = self._chart_part(client, key, doc.as_of)
                if part is not None:
                    rendered.append(part)
            entry = self.store.outbox.add(
                new_entry(
                    key,
                    channel_for(client, audience),
                    doc.as_of,
                    rendered,
                    reported_snapshot(state),
                ),
                self.clock(),
            )
        return [*owed, entry]

    # -- review before a client sees it (SPEC §8) ------------------------------------------

    def _draft_digest(
        self, client: Client, period: dt.datetime, as_of: dt.date | None
    ) -> list[OutboxEntry]:
        """The client digest of `period` as a draft in the internal channel: stored as a
        review (the client messages wait there) and posted for a reviewer to release."""
        review = self.store.reviews.get(client.id, "client", period)
        if review is None:
            self.require_data(client.id)
            doc, state = self.digest(client.id, "client", as_of=as_of, before=period)
            rendered = [m.as_json() for m in digest_messages(doc)]
            part = self._chart_part(client, OutboxKey(client.id, "client", period), doc.as_of)
            if part is not None:
                rendered.append(part)
            review = self.store.reviews.add(
                client_id=client.id,
                audience="client",
                period=period,
                kind="digest",
                as_of=doc.as_of,
                messages=rendered,
                snapshot={
                    k: [v[0].isoformat() if v[0] else None, v[1]]
                    for k, v in reported_snapshot(state).items()
                },
                draft_audience="draft",
                at=self.clock(),
            )
        if review.state not in ("pending", "releasing"):
            return []
        return [self._draft_entry(client, review)]

    def _draft_entry(self, client: Client, review: Review) -> OutboxEntry:
        key = OutboxKey(client.id, review.draft_audience, review.period)
        existing = self.store.outbox.get(key)
        if existing is not None:
            return existing
        where = f"{client.name}, {client.client_channel}"
        return self.store.outbox.add(
            new_entry(
                key,
                client.internal_channel,
                review.as_of,
                draft_messages(review.messages, review.id, where),
            ),
            self.clock(),
        )

    def superseded_drafts(self, client_id: str) -> list[tuple[OutboxEntry, list[dict[str, Any]]]]:
        """Pending drafts a newer draft of the same kind replaces: each review is marked
        superseded (its buttons stop acting) and its draft is to be updated to say so."""
        client = self.client(client_id)
        out = []
        for kind in ("digest",):
            newest = self._newest_review(client.id, kind)
            if newest is None:
                continue
            for older in self.store.reviews.open_before(client.id, kind, newest.period):
                moved = self.store.reviews.move(older, "superseded", came_from=("pending",))
                draft = self.store.outbox.get(
                    OutboxKey(client.id, older.draft_audience, older.period)
                )
                if moved is not None and draft is not None and draft.posted:
                    out.append((draft, decided_messages(draft.messages, superseded(newest.period))))
        return out

    def _newest_review(self, client_id: str, kind: str) -> Review | None:
        period = self.period(self.client(client_id), "client")
        review = self.store.reviews.get(client_id, "client", period)
        return review if review is not None and review.kind == kind else None

    def awaiting_review(self, client_id: str) -> bool:
        """Whether this period's client digest is a draft no reviewer has decided yet."""
        client = self.client(client_id)
        if not client.review_required:
            return False
        review = self.store.reviews.get(client.id, "client", self.period(client, "client"))
        return review is not None and review.state == "pending"

    def may_review(self, client_id: str, user_id: str) -> bool:
        return user_id in self.client(client_id).reviewers

    def review(self, review_id: str) -> Review | None:
        parsed = parse_review_id(review_id)
        if parsed is None:
            return None
        client_id, audience, period = parsed
        if client_id not in {c.id for c in self.clients}:
            return None
        return self.store.reviews.get(client_id, audience, period)

    def begin_release(self, review: Review, user_id: str) -> Review | None:
        """First press of "Send to client" wins: pending -> releasing, recording who."""
        return self.store.reviews.move(
            review, "releasing", came_from=("pending",), by=user_id, at=self.clock()
        )

    def release_entry(self, review: Review) -> OutboxEntry:
        """The client post a released review makes (queued once, whoever asks)."""
        client = self.client(review.client_id)
        snapshot = {
            k: (dt.date.fromisoformat(v[0]) if v[0] else None, str(v[1]))
            for k, v in review.snapshot.items()
        }
        return self.store.outbox.add(
            new_entry(
                OutboxKey(client.id, review.audience, review.period),
                client.client_channel,
                review.as_of,
                review.messages,
                snapshot,
            ),
            self.clock(),
        )

    def finish_release(self, review: Review) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        """releasing -> sent once the client post is in Slack; the draft's new messages."""
        done = self.store.reviews.move(review, "sent", came_from=("releasing",))
        current = done or self.store.reviews.get(review.client_id, review.audience, review.period)
        if current is None or current.state != "sent":
            return None
        return self._decided_draft(
            current, sent_by(current.decided_by or "", current.decided_at or self.clock())
        )

    def skip(self, review: Review, user_id: str) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        moved = self.store.reviews.move(
            review, "skipped", came_from=("pending",), by=user_id, at=self.clock()
        )
        if moved is None:
            return None
        return self._decided_draft(moved, skipped_by(user_id, moved.decided_at or self.clock()))

    def _decided_draft(
        self, review: Review, outcome: Sequence[Span]
    ) -> tuple[OutboxEntry, list[dict[str, Any]]] | None:
        draft = self.store.outbox.get(
            OutboxKey(review.client_id, review.draft_audience, review.period)
        )
        if draft is None or not draft.posted:
            return None
        return draft, decided_messages(draft.messages, outcome)

    def unfinished_releases(self) -> list[Review]:
        return self.store.reviews.releasing()

    def headsup(self, client_id: str, milestone_id: str) -> OutboxEntry | None:
        """A draft heads-up to the client about one milestone's change (from an alert's
        button): the client view of what moved, why, what it pushes. None when the
        milestone is unknown or has nothing to say (done, or on its planned date)."""
        client = self.client(client_id)
        view = self.view(client.id, "client")
        milestone = next((m for m in view.milestones if m.id == milestone_id), None)
        if milestone is None or milestone.actual is not None:
            return None
        now = self.clock()
        period = now.replace(second=0, microsecond=0)
        tag = hashlib.sha256(f"{client.id}|{milestone_id}|{now.isoformat()}".encode()).hexdigest()
        review = self.store.reviews.add(
            client_id=client.id,
            audience=f"hu-{tag[:10]}",
            period=period,
            kind="headsup",
            as_of=view.as_of,
            messages=headsup_messages(view, milestone),
            snapshot={},
            draft_audience=f"hd-{tag[:10]}",
            at=now,
        )
        return self._draft_entry(client, review)

    # -- alerts (SPEC §8) -----------------------------------------------------------------

    def evaluate_alerts(self, client_id: str, *, as_of: dt.date | None = None) -> Evaluation:
        """The alerts the current state raises against the last alerted state (a dry run)."""
        client = self.client(client_id)
        state = self.state(client.id, as_of=as_of)
        escalation = client.escalation
        return evaluate_alerts(
            state,
            self.store.alerts.load(client.id),
            escalate_after=escalation.after_days if escalation else None,
            notify=escalation.notify if escalation else (),
        )

    def raise_alerts(self, client_id: str, *, as_of: dt.date | None = None) -> list[OutboxEntry]:
        """Queue one internal message per alert (exactly once: each is an outbox row keyed
        by the change), then record the state the next evaluation compares with."""
        client = self.client(client_id)
        if not any(h.last_success for h in self.freshness(client.id)):
            return []
        result = self.evaluate_alerts(client.id, as_of=as_of)
        day = dt.datetime.combine(as_of or self.today(client), dt.time(), tzinfo=dt.UTC)
        entries = []
        for alert in result.alerts:
            message = alert_message(
                alert,
                client_name=client.name,
                client_id=client.id,
                people=client.people,
                headsup=client.review_required,
            )
            key = OutboxKey(client.id, f"alert-{alert.identity[:10]}", day)
            entries.append(
                self.store.outbox.add(
                    new_entry(key, client.internal_channel, day.date(), [message]), self.clock()
                )
            )
        self.store.alerts.record(client.id, result.record, self.clock())
        return entries

    def unsent_all(self, client_id: str) -> list[OutboxEntry]:
        """Every message of the client not fully posted yet (digests, drafts, alerts)."""
        return self.store.outbox.unsent_all(client_id)

    def correction(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> Correction | None:
        """This period's posted digest re-rendered; None when nothing was posted yet."""
        client = self.client(client_id)
        period = self.period(client, audience)
        if audience == "client" and client.review_required:
            return self._draft_correction(client, period, as_of)
        entry = self.store.outbox.get(OutboxKey(client.id, audience, period))
        if entry is None or not entry.posted:
            return None
        doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
        rendered = tuple(m.as_json() for m in digest_messages(doc))
        return Correction(entry, rendered, reported_snapshot(state), doc.as_of)

    def _draft_correction(
        self, client: Client, period: dt.datetime, as_of: dt.date | None
    ) -> Correction | None:
        """A reviewed client digest is corrected in its draft, before anyone decides: the
        client channel never changes unreviewed. Once decided, ReviewDecided says so."""
        review = self.store.reviews.get(client.id, "client", period)
        if review is None:
            return None
        draft = self.store.outbox.get(OutboxKey(client.id, review.draft_audience, period))
        if review.state != "pending" or draft is None or not draft.posted:
            if review.state == "pending":
                return None  # the draft itself is not in Slack yet: --post will post it
            raise ReviewDecided(messages.correction_decided(client.id, review.state))
        doc, state = self.digest(client.id, "client", as_of=as_of, before=period)
        rendered = [m.as_json() for m in digest_messages(doc)]
        chart = [m for m in review.messages if "file" in m]  # the chart stays as drafted
        snapshot = {
            k: [v[0].isoformat() if v[0] else None, v[1]]
            for k, v in reported_snapshot(state).items()
        }
        revised = self.store.reviews.revise(review, [*rendered, *chart], snapshot, doc.as_of)
        if revised is None:
            decided = self.store.reviews.get(client.id, "client", period)
            raise ReviewDecided(
                messages.correction_decided(client.id, decided.state if decided else "sent")
            )
        where = f"{client.name}, {client.client_channel}"
        new = tuple(draft_messages(rendered, revised.id, where))  # the shared chart stays
        return Correction(draft, new, draft.snapshot, doc.as_of)

    def source_alerts(self, client_id: str) -> list[tuple[str, OutboxEntry]]:
        """Staleness alerts and all-clears owed to the client's internal channel, as
        (kind, entry) with kind "stale" or "recovered": one alert per staleness episode
        (client, source, last success before it went stale), one all-clear after it."""
        client = self.client(client_id)
        now = self.clock()
        out: list[tuple[str, OutboxEntry]] = []
        for health in self.freshness(client.id):
            stale_audience, fresh_audience = alert_audiences(health.source)
            if health.stale:
                key = OutboxKey(client.id, stale_audience, health.last_success or EPOCH)
                entry = self.store.outbox.get(key)
                if entry is None:
                    logger.warning(
                        "%s/%s is stale (last success %s): alerting %s",
                        client.id,
                        health.source,
                        _when(health.last_success),
                        client.internal_channel,
                        extra={"client": client.id, "source": health.source, "job": "staleness"},
                    )
                    text = messages.stale_alert(
                        client.name,
                        health.label,
                        health.source,
                        health.last_success,
                        now,
                        self.schedule(client).sync_every_minutes,
                        (health.last_error or "")[:MAX_ERROR_CHARS] or None,
                    )
                    entry = self._alert_entry(client, key, text)
                if entry.state != "sent":
                    out.append(("stale", entry))
                continue
            latest = self.store.outbox.latest(client.id, stale_audience)
            if latest is None:
                continue
            if latest.state != "sent":  # an alert still owed goes out before its all-clear
                out.append(("stale", latest))
            if health.last_success is None or health.last_success <= latest.key.period:
                continue
            key = OutboxKey(client.id, fresh_audience, latest.key.period)
            entry = self.store.outbox.get(key)
            if entry is None:
                logger.info(
                    "%s/%s is fresh again: posting the all-clear",
                    client.id,
                    health.source,
                    extra={"client": client.id, "source": health.source, "job": "staleness"},
                )
                since = latest.key.period if latest.key.period != EPOCH else None
                text = messages.stale_recovered(
                    client.name, health.label, health.source, since, health.last_success
                )
                entry = self._alert_entry(client, key, text)
            if entry.state != "sent":
                out.append(("recovered", entry))
        return out

    def _alert_entry(self, client: Client, key: OutboxKey, text: str) -> OutboxEntry:
        message = line_message(Line.of(text))
        return self.store.outbox.add(
            new_entry(key, client.internal_channel, self.today(client), [message]), self.clock()
        )

    def document_messages(self, doc: Document) -> list[dict[str, Any]]:
        return [m.as_json() for m in document_messages(doc)]


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


def channel_for(client: Client, audience: str) -> str:
    return client.internal_channel if audience == "internal" else client.client_channel


def alert_audiences(source: str) -> tuple[str, str]:
    """Outbox audiences of a source's staleness alert and all-clear (16 characters at most)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    return f"stale-{digest}", f"fresh-{digest}"


def reported_snapshot(state: ClientState) -> dict[str, tuple[dt.date | None, str]]:
    """What a digest of `state` reports per milestone (forecast, status): kept with the posted
    digest for the honesty rules of the next one."""
    return {m.id: (m.forecast, m.status.value) for m in state.milestones}


def _version(
    client_json: str,
    generations: Mapping[str, int],
    last: PostedDigest | None,
    signed: frozenset[str],
    notes: Mapping[str, str],
    day: dt.date,
    readings: Mapping[str, MetricReading],
) -> str:
    """What names a computed state: everything it is made of (the generation of each
    source's stored tickets stands for them), and syncbot's own version."""
    parts = [
        __version__,
        client_json,
        day.isoformat(),
        sorted(generations.items()),
        [last.key.text, last.sent_at.isoformat(), repr(sorted(last.snapshot.items()))]
        if last
        else None,
        sorted(signed),
        sorted(notes.items()),
        sorted((k, repr(v)) for k, v in readings.items()),
    ]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _named_keys(state: ClientState) -> set[str]:
    """The ticket keys a state names (what internal answers may link)."""
    keys: set[str] = {d.key for d in state.dependencies}
    for m in state.milestones:
        keys.update(m.late_tickets, m.blocked_by, m.forecast_set_by_tickets)
        keys.update(m.forecast_set_by_dependencies, m.forecast_set_by_blockers)
    for w in state.warnings:
        keys.update(w.tickets)
    return keys


def _stale_warnings(health: Sequence[SourceHealth], now: dt.datetime) -> list[Warning]:
    out = []
    for h in health:
        if h.stale:
            text = messages.stale_source(h.label, h.last_success, now)
            internal = f"{text} ({h.source}: {h.last_error})" if h.last_error else text
            out.append(Warning(WarningKind.STALE_SOURCE, None, internal, client_message=text))
    return out


def _snapshot_json(snapshot: Reported) -> dict[str, Any]:
    return {k: [v[0].isoformat() if v[0] else None, v[1]] for k, v in snapshot.items()}


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


def _when(at: dt.datetime | None) -> str:
    return at.isoformat() if at else "never"
