"""Wiring used by the CLI (and later the daemon): sync sources into the store, assemble state.

This is the composition root's helper: it is handed `now` and never reads the clock itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from syncbot.config import Client, LoadedConfig, Schedule
from syncbot.connectors import open_source
from syncbot.connectors.base import (
    Connections,
    FetchOptions,
    JiraAccess,
    LinearAccess,
    ProgressCallback,
)
from syncbot.connectors.retry import RetryPolicy
from syncbot.domain import ClientState, SourceHealth, Ticket, Warning, WarningKind
from syncbot.errors import (
    DataError,
    SettingsError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    SyncbotError,
)
from syncbot.messages import stale_source
from syncbot.metrics import Metrics, error_kind
from syncbot.render.digest import DigestDoc, client_digest, freshness_line, internal_digest
from syncbot.render.views import Audience, OpaqueId, client_view, opaque_ids
from syncbot.rules.state import compute_state
from syncbot.settings import Settings
from syncbot.store import MilestoneSnapshot, PostedDigest, Store

logger = logging.getLogger(__name__)
TRACKER_LABEL = {"jira": "Jira", "linear": "Linear"}


@dataclass
class SyncReport:
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

    def line(self) -> str:
        where = f"{self.client_id}/{self.source}"
        if self.error:
            return f"{where}: FAILED: {self.error}"
        text = (
            f"{where}: fetched {self.fetched} tickets ({self.pages} pages, "
            f"{self.requests} requests) in {self.seconds:.2f} s; {self.stored} stored"
        )
        if self.notes:
            text += "; " + "; ".join(self.notes)
        return text


def today(client: Client, now: dt.datetime) -> dt.date:
    """The as-of date when none is pinned: today in the client's timezone."""
    return now.astimezone(client.tz).date()


def connections_from_settings(settings: Settings) -> Connections:
    """The connectors' value objects from the environment's settings (the connectors never
    read `Settings`). A tracker whose credentials are incomplete gets no access object, and
    `missing` names what to set."""
    missing = {
        tracker: " and ".join(names)
        for tracker in ("jira", "linear")
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
    options = FetchOptions(
        jira_page_size=settings.jira_page_size,
        linear_page_size=settings.linear_page_size,
        overlap=dt.timedelta(minutes=settings.sync_overlap_minutes),
        timeout=settings.source_timeout_seconds,
        retry=RetryPolicy(
            retries=settings.source_retries,
            backoff=settings.source_backoff_seconds,
            max_wait=settings.source_max_wait_seconds,
        ),
    )
    return Connections(jira=jira, linear=linear, options=options, missing=missing)


def sync_client(
    loaded: LoadedConfig,
    client: Client,
    settings: Settings,
    store: Store,
    *,
    now: Callable[[], dt.datetime],
    full: bool = False,
    progress: Callable[[str], ProgressCallback | None] | None = None,
    metrics: Metrics | None = None,
) -> list[SyncReport]:
    """Sync every source of one client. A failing source is recorded and the others go on.

    With `metrics`, each source's sync is measured (duration, tickets, failures and API
    errors by kind, see `syncbot.metrics`).
    """
    reports = []
    records = store.source_records(client.id)
    connections = connections_from_settings(settings)
    for source in client.sources:
        report = SyncReport(client.id, source.name)
        started = time.perf_counter()
        try:
            record = records.get(source.name)
            reconcile = (
                full
                or record is None
                or record.last_full is None
                or (now() - record.last_full > dt.timedelta(hours=settings.full_reconcile_hours))
            )
            files = loaded.export_files(source) if source.is_export else []
            result = open_source(source, client=client, connections=connections, files=files).fetch(
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
            report.stored = store.save_tickets(
                client.id,
                source.name,
                result.tickets,
                complete=result.complete,
                cursor=result.cursor,
                at=now(),
            )
            report.fetched, report.skipped = len(result.tickets), result.skipped
            report.pages, report.requests = result.pages, result.requests
            report.notes = result.notes
        except SyncbotError as exc:
            logger.debug("sync of %s failed", source.name, exc_info=True)
            report.error = exc.detail if isinstance(exc, SourceError) else str(exc)
            report.bad_input = isinstance(
                exc, DataError | SettingsError | SourceAuthError | SourceQueryError
            )
            if metrics is not None:
                metrics.sync_failures.labels(client.id, source.name).inc()
                if isinstance(exc, SourceError):  # the tracker's API failed us
                    metrics.api_errors.labels(source.tracker, error_kind(exc)).inc()
            store.record_failure(client.id, source.name, report.error, now())
        report.seconds = time.perf_counter() - started
        if metrics is not None:
            metrics.sync_seconds.labels(client.id, source.name).observe(report.seconds)
            if report.error is None:
                metrics.sync_tickets.labels(client.id, source.name).set(report.stored)
                metrics.sync_fetched.labels(client.id, source.name).inc(report.fetched)
        reports.append(report)
    return reports


def source_health(
    client: Client, schedule: Schedule, store: Store, now: dt.datetime
) -> list[SourceHealth]:
    """Stale (issue 5's rule): a live source with no successful sync for more than two
    sync intervals; an export whose last read failed; any source never synced."""
    records = store.source_records(client.id)
    limit = dt.timedelta(minutes=2 * schedule.sync_every_minutes)
    out = []
    for source in client.sources:
        record = records.get(source.name)
        success = record.last_success if record else None
        if source.is_export:
            late = record is not None and record.last_error is not None
        else:
            late = success is not None and now - success > limit
        out.append(
            SourceHealth(
                source.name,
                TRACKER_LABEL[source.tracker],
                success,
                stale=success is None or late,
                last_error=record.last_error if record else None,
            )
        )
    return out


def _stale_warnings(health: list[SourceHealth], now: dt.datetime) -> list[Warning]:
    out = []
    for h in health:
        if h.stale:
            text = stale_source(h.label, h.last_success, now)
            internal = f"{text} ({h.source}: {h.last_error})" if h.last_error else text
            out.append(Warning(WarningKind.STALE_SOURCE, None, internal, client_message=text))
    return out


def client_state(
    loaded: LoadedConfig,
    client: Client,
    store: Store,
    *,
    as_of: dt.date,
    now: dt.datetime,
    audience: Audience = "internal",
) -> ClientState:
    """The current state of `client` from what the store holds, as `audience` would be told.

    The honesty rules (forecast moved, skipped at-risk) compare with the last digest *posted*
    to `audience`; before the first one there is nothing to compare with. The phase gate runs
    once the client can sign off phases (it has approvers) or has signed one off: without
    approvers nobody could ever satisfy the gate, so it would only be noise.
    """
    last = store.last_posted_digest(client.id, audience)
    return _state(
        loaded, client, store, as_of=as_of, now=now, reported=last.snapshot if last else None
    )


def _state(
    loaded: LoadedConfig,
    client: Client,
    store: Store,
    *,
    as_of: dt.date,
    now: dt.datetime,
    reported: Mapping[str, tuple[dt.date | None, str]] | None,
    tickets: Sequence[Ticket] | None = None,
) -> ClientState:
    schedule = loaded.config.schedule_for(client)
    health = source_health(client, schedule, store, now)
    if tickets is None:
        tickets = store.tickets(client.id, [s.name for s in client.sources])
    return compute_state(
        client,
        tickets,
        as_of=as_of,
        sources=health,
        source_warnings=_stale_warnings(health, now),
        reported=reported,
        signed_off=signed_off_phases(client, store),
    )


def signed_off_phases(client: Client, store: Store) -> set[str] | None:
    """Phases signed off for the phase gate, or None when the gate does not apply (above)."""
    signed = {s.phase for s in store.sign_offs(client.id)}
    return signed if client.approvers or signed else None


def record_snapshot(store: Store, state: ClientState, now: dt.datetime) -> None:
    store.save_snapshot(
        state.client_id,
        state.as_of,
        [
            MilestoneSnapshot(m.id, state.as_of, m.forecast, m.actual, m.status.value)
            for m in state.milestones
        ],
        now,
    )


def opaque_for(store: Store, client_id: str) -> OpaqueId:
    return opaque_ids(store.installation_secret(), client_id)


def digest_since(
    loaded: LoadedConfig,
    client: Client,
    audience: str,
    as_of: dt.date,
    last: PostedDigest | None = None,
) -> dt.date:
    """Start of the period a digest covers: the as-of date of the last digest posted to that
    audience, else one cadence back from the as-of date."""
    if last is not None and last.as_of <= as_of:
        return last.as_of
    weeks = (
        1
        if audience == "internal"
        else loaded.config.schedule_for(client).client_digest_every_weeks
    )
    return as_of - dt.timedelta(weeks=weeks)


def digest_for(
    loaded: LoadedConfig,
    client: Client,
    store: Store,
    audience: Audience,
    *,
    as_of: dt.date,
    now: dt.datetime,
    before: dt.datetime | None = None,
) -> tuple[DigestDoc, ClientState]:
    """The digest `audience` gets now, and the state it reports.

    It is told relative to the last digest posted to `audience` (for a digest of a given
    period: the last one of an earlier period, `before`): forecast moves, skipped at-risk,
    and what was completed since.
    """
    last = store.last_posted_digest(client.id, audience, before=before)
    tickets = store.tickets(client.id, [s.name for s in client.sources])
    state = _state(
        loaded,
        client,
        store,
        as_of=as_of,
        now=now,
        reported=last.snapshot if last else None,
        tickets=tickets,
    )
    since = digest_since(loaded, client, audience, as_of, last)
    done_before = (
        {mid for mid, (_, status) in last.snapshot.items() if status == "done"} if last else None
    )
    if audience == "client":
        view = client_view(state, opaque_for(store, client.id))
        return client_digest(
            view, since, freshness_line(state, now), done_before=done_before
        ), state
    links = {t.key: t.url for t in tickets if t.url}
    return internal_digest(state, since, now, links=links, done_before=done_before), state


def ticket_links(client: Client, store: Store) -> dict[str, str]:
    """Ticket key -> URL in the tracker, for linking keys in internal answers."""
    return {
        t.key: t.url for t in store.tickets(client.id, [s.name for s in client.sources]) if t.url
    }


def reported_snapshot(state: ClientState) -> dict[str, tuple[dt.date | None, str]]:
    """What a digest of `state` reports per milestone (forecast, status): kept with the posted
    digest for the honesty rules of the next one."""
    return {m.id: (m.forecast, m.status.value) for m in state.milestones}
