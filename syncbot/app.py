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
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbot import messages
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
from syncbot.domain import ClientState, Progress, SourceHealth, Ticket, Warning, WarningKind
from syncbot.errors import (
    ConfigError,
    DataError,
    NoData,
    SettingsError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    SyncbotError,
)
from syncbot.metrics import Metrics, error_kind
from syncbot.render import replies
from syncbot.render.blocks import digest_messages, document_messages, line_message
from syncbot.render.digest import client_digest, freshness_line, internal_digest
from syncbot.render.doc import DigestDoc, Document, Line
from syncbot.render.views import Audience, ClientView, OpaqueId, audience_view, opaque_ids
from syncbot.rules import freshness, membership
from syncbot.rules.state import compute_state
from syncbot.schedule import NeverFires, grace, period_for
from syncbot.settings import Settings
from syncbot.store import MilestoneSnapshot, OutboxEntry, OutboxKey, SignOff, Store, new_entry
from syncbot.store.outbox import PostedDigest, Reported
from syncbot.store.tickets import unstorable

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
        self._tickets: dict[str, list[Ticket]] = {}
        self._lock = threading.Lock()
        self._opaque: dict[str, OpaqueId] = {}
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
    ) -> ClientSync:
        """Sync every source of one client (a failing source is recorded and the others go
        on), then its milestone metrics (whose failure never fails the trackers'), then record
        the day's state in the history."""
        client = self.client(client_id)
        reports = tuple(self._sync_source(client, s, full, progress) for s in client.ticket_sources)
        if (metric_source := client.metric_source) is not None:
            reports += (self._sync_metrics(client, metric_source),)
        with self._lock:
            self._tickets.pop(client.id, None)
        tickets = self.tickets(client)
        state = self.state(client.id, as_of=as_of)
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
            report.error = exc.detail if isinstance(exc, SourceError) else str(exc)
            report.bad_input = isinstance(
                exc, DataError | SettingsError | SourceAuthError | SourceQueryError | ConfigError
            )
            if self.metrics is not None:
                self.metrics.sync_failures.labels(client.id, source.name).inc()
                if isinstance(exc, SourceError):  # the tracker's API failed us
                    self.metrics.api_errors.labels(source.tracker, error_kind(exc)).inc()
            self.store.tickets.record_failure(client.id, source.name, report.error, self.clock())
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
            report.error = exc.detail if isinstance(exc, SourceError) else str(exc)
            report.bad_input = isinstance(
                exc, DataError | SettingsError | SourceAuthError | SourceQueryError | ConfigError
            )
            if self.metrics is not None:
                self.metrics.sync_failures.labels(client.id, source.name).inc()
                if isinstance(exc, SourceError):
                    self.metrics.api_errors.labels("mlflow", error_kind(exc)).inc()
            self.store.readings.record_failure(client.id, source.name, report.error, self.clock())
        report.seconds = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.sync_seconds.labels(client.id, source.name).observe(report.seconds)
        return report

    # -- state --------------------------------------------------------------------------------

    def tickets(self, client: Client) -> list[Ticket]:
        """The client's stored tickets, read once per sync (per process)."""
        with self._lock:
            held = self._tickets.get(client.id)
        if held is None:
            held = self.store.tickets.load(client.id, [s.name for s in client.ticket_sources])
            with self._lock:
                self._tickets[client.id] = held
        return held

    def freshness(self, client_id: str) -> tuple[SourceHealth, ...]:
        """Each source's freshness now (`rules.freshness`: the one staleness rule)."""
        client = self.client(client_id)
        every = self.schedule(client).sync_every_minutes
        records = self.store.tickets.records(client.id)
        if client.metric_source is not None:
            records.update(self.store.readings.records(client.id))
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
        client = self.client(client_id)
        health = self.freshness(client.id)
        last = self.store.outbox.last_posted(client.id, audience, before=before)
        signed = {s.phase for s in self.store.signoffs.load(client.id)}
        notes = self.store.notes.load(client.id)
        state = compute_state(
            client,
            self.tickets(client),
            as_of=as_of or self.today(client),
            sources=health,
            source_warnings=_stale_warnings(health, self.clock()),
            reported=last.snapshot if last else None,
            signed_off=signed if client.approvers or signed else None,
            notes=notes,
            metrics=self.store.readings.load(client.id) if client.metric_source else None,
        )
        return state, last

    def view(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> ClientView:
        state = self.state(client_id, as_of=as_of, audience=audience)
        return audience_view(state, audience, self.opaque(client_id))

    def opaque(self, client_id: str) -> OpaqueId:
        """Stable, unguessable client-facing ids of a client's dependency tickets."""
        if client_id not in self._opaque:
            self._opaque[client_id] = opaque_ids(self.store.meta.installation_secret(), client_id)
        return self._opaque[client_id]

    def links(self, client_id: str) -> dict[str, str]:
        """Ticket key -> URL in the tracker, for linking keys in internal answers."""
        return {t.key: t.url for t in self.tickets(self.client(client_id)) if t.url}

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
        state, last = self._state(client.id, as_of=as_of, audience=audience, before=before)
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
                view, since, freshness_line(view.sources, now), done_before=done_before
            )
            return doc, state
        doc = internal_digest(
            state, since, now, links=self.links(client.id), done_before=done_before
        )
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
        view = self.view(client_id, audience)
        internal = audience == "internal"
        links = self.links(client_id) if internal else {}
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

    def sign_off(self, client_id: str, phase: str, user_id: str) -> tuple[SignOff, bool]:
        """Record a phase sign-off; (the standing sign-off, whether this call made it)."""
        before = {s.phase for s in self.store.signoffs.load(client_id)}
        record = self.store.signoffs.sign_off(client_id, phase, user_id, self.clock())
        return record, phase not in before

    def first_request(self, kind: str, key: str, window: dt.timedelta) -> bool:
        """True the first time a signed request (or a delivery) is seen within `window`."""
        return self.store.seen.first(kind, key, self.clock(), window)

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
        if entry is None:
            self.require_data(client.id)
            doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
            entry = self.store.outbox.add(
                new_entry(
                    key,
                    channel_for(client, audience),
                    doc.as_of,
                    (m.as_json() for m in digest_messages(doc)),
                    reported_snapshot(state),
                ),
                self.clock(),
            )
        return [*owed, entry]

    def correction(
        self, client_id: str, audience: Audience, *, as_of: dt.date | None = None
    ) -> Correction | None:
        """This period's posted digest re-rendered; None when nothing was posted yet."""
        client = self.client(client_id)
        period = self.period(client, audience)
        entry = self.store.outbox.get(OutboxKey(client.id, audience, period))
        if entry is None or not entry.posted:
            return None
        doc, state = self.digest(client.id, audience, as_of=as_of, before=period)
        rendered = tuple(m.as_json() for m in digest_messages(doc))
        return Correction(entry, rendered, reported_snapshot(state), doc.as_of)

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


def _stale_warnings(health: Sequence[SourceHealth], now: dt.datetime) -> list[Warning]:
    out = []
    for h in health:
        if h.stale:
            text = messages.stale_source(h.label, h.last_success, now)
            internal = f"{text} ({h.source}: {h.last_error})" if h.last_error else text
            out.append(Warning(WarningKind.STALE_SOURCE, None, internal, client_message=text))
    return out


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
