"""Persistence: synced tickets, per-source sync state, the history of computed states, the
Slack outbox and phase sign-offs.

SQLAlchemy 2 over SQLite by default (one file, no server) or PostgreSQL for multi-instance
deployments; the schema is the same. Every write is one transaction, so a failed sync leaves
what was stored before intact.

The outbox (`slack_outbox`) holds one row per digest (client, audience, period). Its `state`
is the delivery protocol of `syncbot.slack.outbox`:

    pending  nothing is in flight: every part with a `ts` is known to be in Slack, the others
             are known not to be (new rows, and rows after a definite refusal)
    sending  a chat.postMessage may have reached Slack without its `ts` being recorded
             (written before every call; a crash or a 5xx leaves it): look in the channel's
             history for the row's key before posting again
    sent     every part is in Slack; `parts` holds their `ts`

A row is claimed (`claimed_by`, `claimed_until`) by one process at a time, so two runs never
post the same row concurrently; a claim left by a dead process lapses at `claimed_until`
(the daemon releases claims of dead processes on its host when it starts).

The daemon's staleness alerts travel through the same table and protocol, so they too are
posted exactly once across crashes: audience `stale-<hash of the source>` (and `fresh-...` for
the all-clear), period = the episode (the source's last success before it went stale).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    TypeDecorator,
    create_engine,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from syncbot.codec import ticket_from_json, ticket_to_json
from syncbot.domain import Ticket
from syncbot.errors import StoreError


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite drops offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class TicketRow(Base):
    __tablename__ = "tickets"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class SourceRow(Base):
    __tablename__ = "sources"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_success: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_full: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    tickets: Mapped[int] = mapped_column(Integer, default=0)


class SnapshotRow(Base):
    """Computed milestone state per client and as-of date (the latest computation wins)."""

    __tablename__ = "milestone_history"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    milestone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    forecast: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    actual: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """One digest for one (client, audience, period), as rendered, and how its delivery went."""

    __tablename__ = "slack_outbox"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    audience: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    messages: Mapped[list[Any]] = mapped_column(JSON)
    parts: Mapped[list[Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SignoffRow(Base):
    """A phase signed off for a client: by whom (Slack user id) and when. The first one stands."""

    __tablename__ = "phase_signoffs"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MetaRow(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class SourceRecord:
    client_id: str
    source: str
    cursor: str | None
    last_attempt: dt.datetime | None
    last_success: dt.datetime | None
    last_full: dt.datetime | None
    last_error: str | None
    tickets: int


@dataclass(frozen=True)
class MilestoneSnapshot:
    milestone_id: str
    as_of: dt.date
    forecast: dt.date | None
    actual: dt.date | None
    status: str


OutboxState = Literal["pending", "sending", "sent"]
_STATES: dict[str, OutboxState] = {"pending": "pending", "sending": "sending", "sent": "sent"}
Reported = dict[str, tuple[dt.date | None, str]]


@dataclass(frozen=True)
class OutboxKey:
    client_id: str
    audience: str
    period: dt.datetime  # aware; the schedule's fire time the digest belongs to

    @property
    def text(self) -> str:
        """The digest's identity in Slack message metadata: stable across processes."""
        at = self.period.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
        return f"syncbot:{self.client_id}:{self.audience}:{at}"


@dataclass(frozen=True)
class OutboxEntry:
    """A digest in the outbox. `messages` are Slack message payloads ({"text", "blocks"});
    `parts[i]` is the Slack `ts` of messages[i] once it is known to be posted."""

    key: OutboxKey
    channel: str
    as_of: dt.date
    state: OutboxState
    messages: tuple[dict[str, Any], ...]
    parts: tuple[str | None, ...]
    snapshot: Reported
    attempts: int = 0
    last_error: str | None = None
    created_at: dt.datetime | None = None
    first_attempt_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    claimed_by: str | None = None
    claimed_until: dt.datetime | None = None

    @property
    def posted(self) -> tuple[str, ...]:
        return tuple(ts for ts in self.parts if ts)


@dataclass(frozen=True)
class PostedDigest:
    """The last digest that reached Slack for a (client, audience): what it reported."""

    key: OutboxKey
    channel: str
    as_of: dt.date
    sent_at: dt.datetime
    parts: tuple[str, ...]
    snapshot: Reported  # milestone id -> (forecast, status) as the digest showed them


@dataclass(frozen=True)
class SignOff:
    client_id: str
    phase: str
    user_id: str
    signed_at: dt.datetime


class Store:
    """The state database. Safe to share one instance within a process."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"SYNCBOT_DATABASE_URL is not a database URL: {exc}") from exc
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # SQLite: the daemon writes from several threads (and `digest --post` may run beside
        # it); wait up to 30 s for another writer's transaction rather than fail at 5 s.
        options: dict[str, Any] = (
            {"connect_args": {"timeout": 30}} if parsed.get_backend_name() == "sqlite" else {}
        )
        try:
            self.engine: Engine = create_engine(url, **options)
            Base.metadata.create_all(self.engine)
        except (SQLAlchemyError, ModuleNotFoundError) as exc:
            raise StoreError(
                f"cannot open the state database {parsed!r}: {str(exc).splitlines()[0]}"
            ) from exc

    @property
    def location(self) -> str:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            return str(Path(parsed.database).expanduser().resolve())
        return parsed.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with Session(self.engine) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"state database error: {str(exc).splitlines()[0]}") from exc

    def close(self) -> None:
        self.engine.dispose()

    # -- tickets and sources ------------------------------------------------------------

    def save_tickets(
        self,
        client_id: str,
        source: str,
        tickets: Iterable[Ticket],
        *,
        complete: bool,
        cursor: str | None,
        at: dt.datetime,
    ) -> int:
        """Merge (or, when `complete`, replace) a source's tickets and mark it synced."""
        tickets = list(tickets)
        with self.session() as session:
            held = {
                row.key: row
                for row in session.scalars(
                    select(TicketRow).where(
                        TicketRow.client_id == client_id, TicketRow.source == source
                    )
                )
            }
            for ticket in tickets:
                row = held.get(ticket.key)
                data = ticket_to_json(ticket)
                if row is None:
                    session.add(
                        TicketRow(
                            client_id=client_id,
                            source=source,
                            key=ticket.key,
                            updated=ticket.updated,
                            data=data,
                        )
                    )
                elif row.data != data:
                    row.updated, row.data = ticket.updated, data
            if complete:
                gone = set(held) - {t.key for t in tickets}
                if gone:
                    session.execute(
                        delete(TicketRow).where(
                            TicketRow.client_id == client_id,
                            TicketRow.source == source,
                            TicketRow.key.in_(gone),
                        )
                    )
            record = self._source_row(session, client_id, source)
            record.last_attempt = record.last_success = at
            record.last_error = None
            if complete:
                record.last_full = at
            if cursor and (complete or _later(cursor, record.cursor)):
                record.cursor = cursor
            session.flush()
            count = len(
                session.scalars(
                    select(TicketRow.key).where(
                        TicketRow.client_id == client_id, TicketRow.source == source
                    )
                ).all()
            )
            record.tickets = count
            return count

    def record_failure(self, client_id: str, source: str, error: str, at: dt.datetime) -> None:
        """Note a failed sync without touching the tickets already held."""
        with self.session() as session:
            record = self._source_row(session, client_id, source)
            record.last_attempt = at
            record.last_error = error

    def tickets(self, client_id: str, sources: Iterable[str]) -> list[Ticket]:
        with self.session() as session:
            rows = session.scalars(
                select(TicketRow)
                .where(TicketRow.client_id == client_id, TicketRow.source.in_(list(sources)))
                .order_by(TicketRow.source, TicketRow.key)
            )
            return [ticket_from_json(row.data) for row in rows]

    def source_records(self, client_id: str) -> dict[str, SourceRecord]:
        with self.session() as session:
            rows = session.scalars(select(SourceRow).where(SourceRow.client_id == client_id))
            return {
                row.source: SourceRecord(
                    row.client_id,
                    row.source,
                    row.cursor,
                    row.last_attempt,
                    row.last_success,
                    row.last_full,
                    row.last_error,
                    row.tickets,
                )
                for row in rows
            }

    @staticmethod
    def _source_row(session: Session, client_id: str, source: str) -> SourceRow:
        row = session.get(SourceRow, (client_id, source))
        if row is None:
            row = SourceRow(client_id=client_id, source=source, tickets=0)
            session.add(row)
        return row

    # -- computed state history ---------------------------------------------------------

    def save_snapshot(
        self,
        client_id: str,
        as_of: dt.date,
        milestones: Iterable[MilestoneSnapshot],
        at: dt.datetime,
    ) -> None:
        with self.session() as session:
            session.execute(
                delete(SnapshotRow).where(
                    SnapshotRow.client_id == client_id, SnapshotRow.as_of == as_of
                )
            )
            for m in milestones:
                session.add(
                    SnapshotRow(
                        client_id=client_id,
                        as_of=as_of,
                        milestone_id=m.milestone_id,
                        forecast=m.forecast,
                        actual=m.actual,
                        status=m.status,
                        computed_at=at,
                    )
                )

    def snapshots(self, client_id: str) -> dict[dt.date, list[MilestoneSnapshot]]:
        """All recorded states of a client's milestones, by as-of date, oldest first."""
        out: dict[dt.date, list[MilestoneSnapshot]] = {}
        with self.session() as session:
            rows = session.scalars(
                select(SnapshotRow)
                .where(SnapshotRow.client_id == client_id)
                .order_by(SnapshotRow.as_of, SnapshotRow.milestone_id)
            )
            for row in rows:
                out.setdefault(row.as_of, []).append(
                    MilestoneSnapshot(
                        row.milestone_id, row.as_of, row.forecast, row.actual, row.status
                    )
                )
        return out

    # -- Slack outbox ---------------------------------------------------------------------

    def outbox_add(self, entry: OutboxEntry, at: dt.datetime) -> OutboxEntry:
        """Store a new digest unless one exists for its key; return the stored one.

        Two processes adding the same key race on the primary key: one insert wins and both
        get the winner's row back.
        """
        existing = self.outbox_get(entry.key)
        if existing is not None:
            return existing
        try:
            with Session(self.engine) as session, session.begin():
                session.add(
                    OutboxRow(
                        client_id=entry.key.client_id,
                        audience=entry.key.audience,
                        period=entry.key.period,
                        key=entry.key.text,
                        channel=entry.channel,
                        as_of=entry.as_of,
                        state=entry.state,
                        messages=list(entry.messages),
                        parts=list(entry.parts),
                        snapshot=_snapshot_json(entry.snapshot),
                        attempts=0,
                        created_at=at,
                        updated_at=at,
                    )
                )
        except IntegrityError:
            pass  # another process stored the same digest first: use theirs
        except SQLAlchemyError as exc:
            raise StoreError(f"state database error: {str(exc).splitlines()[0]}") from exc
        stored = self.outbox_get(entry.key)
        if stored is None:  # pragma: no cover - the insert either happened or lost a race
            raise StoreError(f"outbox row {entry.key.text} vanished after it was written")
        return stored

    def outbox_get(self, key: OutboxKey) -> OutboxEntry | None:
        with self.session() as session:
            row = session.get(OutboxRow, _pk(key))
            return None if row is None else _entry(row)

    def outbox_unsent(self, client_id: str, audience: str) -> list[OutboxEntry]:
        """Digests not (fully) posted yet for a client and audience, oldest period first."""
        with self.session() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.client_id == client_id,
                    OutboxRow.audience == audience,
                    OutboxRow.state != "sent",
                )
                .order_by(OutboxRow.period)
            )
            return [_entry(row) for row in rows]

    def outbox_backlog(self) -> int:
        """How many digests are queued and not fully posted (all clients; for /metrics)."""
        with self.session() as session:
            return len(
                session.scalars(select(OutboxRow.key).where(OutboxRow.state != "sent")).all()
            )

    def outbox_latest(self, client_id: str, audience: str) -> OutboxEntry | None:
        """The row of the latest period for a client and audience, whatever its state."""
        with self.session() as session:
            row = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.client_id == client_id, OutboxRow.audience == audience)
                .order_by(OutboxRow.period.desc())
                .limit(1)
            ).first()
            return None if row is None else _entry(row)

    def outbox_claimed(self) -> list[OutboxEntry]:
        """Rows not fully posted that someone holds a claim on (live or lapsed)."""
        with self.session() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.state != "sent", OutboxRow.claimed_by.is_not(None))
                .order_by(OutboxRow.period)
            )
            return [_entry(row) for row in rows]

    def outbox_claim(
        self, key: OutboxKey, owner: str, at: dt.datetime, lease: dt.timedelta
    ) -> OutboxEntry | None:
        """Take (or extend) the right to deliver `key` until `at + lease`; None when another
        owner's claim is still running. One conditional UPDATE, so it is atomic on both
        backends."""
        with self.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.client_id == key.client_id,
                    OutboxRow.audience == key.audience,
                    OutboxRow.period == key.period,
                    or_(
                        OutboxRow.claimed_until.is_(None),
                        OutboxRow.claimed_until < at,
                        OutboxRow.claimed_by == owner,
                    ),
                )
                .values(claimed_by=owner, claimed_until=at + lease)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
        return self.outbox_get(key)

    def outbox_release(self, key: OutboxKey, owner: str) -> None:
        with self.session() as session:
            session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.client_id == key.client_id,
                    OutboxRow.audience == key.audience,
                    OutboxRow.period == key.period,
                    OutboxRow.claimed_by == owner,
                )
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def outbox_sending(self, key: OutboxKey, at: dt.datetime) -> None:
        """Mark that a post is about to be made: from here until its `ts` is recorded, the
        row's outcome is unknown."""
        with self.session() as session:
            row = self._outbox_row(session, key)
            row.state = "sending"
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or at
            row.updated_at = at

    def outbox_posted(self, key: OutboxKey, index: int, ts: str, at: dt.datetime) -> OutboxEntry:
        """Record that messages[index] is in Slack as `ts`; the row is sent once all are."""
        with self.session() as session:
            row = self._outbox_row(session, key)
            parts = list(row.parts)
            parts[index] = ts
            row.parts = parts
            row.last_error = None
            row.updated_at = at
            if all(parts):
                row.state = "sent"
                row.sent_at = row.sent_at or at
            else:
                row.state = "pending"
            session.flush()
            return _entry(row)

    def outbox_settled(self, key: OutboxKey, at: dt.datetime) -> OutboxEntry:
        """After a look at the channel's history: whatever is not recorded was not posted."""
        with self.session() as session:
            row = self._outbox_row(session, key)
            if row.state == "sending":
                row.state = "sent" if all(row.parts) else "pending"
                if row.state == "sent":
                    row.sent_at = row.sent_at or at
            row.updated_at = at
            session.flush()
            return _entry(row)

    def outbox_failed(self, key: OutboxKey, error: str, at: dt.datetime, *, certain: bool) -> None:
        """Note a failed attempt. `certain`: Slack definitely did not post (a refusal, a 429);
        otherwise the row stays `sending` and the next attempt checks the history first."""
        with self.session() as session:
            row = self._outbox_row(session, key)
            row.last_error = error
            row.updated_at = at
            if certain and row.state == "sending":
                row.state = "pending"

    def outbox_revise(
        self,
        key: OutboxKey,
        *,
        messages: Iterable[dict[str, Any]],
        parts: Iterable[str | None],
        snapshot: Mapping[str, tuple[dt.date | None, str]],
        as_of: dt.date,
        at: dt.datetime,
    ) -> OutboxEntry:
        """Replace a digest's content after a correction (the Slack messages were updated)."""
        with self.session() as session:
            row = self._outbox_row(session, key)
            row.messages = list(messages)
            row.parts = list(parts)
            row.snapshot = _snapshot_json(snapshot)
            row.as_of = as_of
            row.updated_at = at
            row.state = "sent" if all(row.parts) else "pending"
            session.flush()
            return _entry(row)

    def last_posted_digest(
        self, client_id: str, audience: str, *, before: dt.datetime | None = None
    ) -> PostedDigest | None:
        """The latest fully posted digest (by period), optionally only periods before `before`.

        Its snapshot is what the honesty rules compare with: forecasts and statuses as that
        digest reported them.
        """
        with self.session() as session:
            query = select(OutboxRow).where(
                OutboxRow.client_id == client_id,
                OutboxRow.audience == audience,
                OutboxRow.state == "sent",
            )
            if before is not None:
                query = query.where(OutboxRow.period < before)
            row = session.scalars(query.order_by(OutboxRow.period.desc()).limit(1)).first()
            if row is None or row.sent_at is None:
                return None
            entry = _entry(row)
            return PostedDigest(
                entry.key, entry.channel, entry.as_of, row.sent_at, entry.posted, entry.snapshot
            )

    @staticmethod
    def _outbox_row(session: Session, key: OutboxKey) -> OutboxRow:
        row = session.get(OutboxRow, _pk(key))
        if row is None:
            raise StoreError(f"outbox row {key.text} not found (deleted while in use?)")
        return row

    # -- phase sign-offs ----------------------------------------------------------------

    def sign_off(self, client_id: str, phase: str, user_id: str, at: dt.datetime) -> SignOff:
        """Record a phase sign-off; a phase already signed off keeps its first sign-off,
        which is returned."""
        try:
            with Session(self.engine) as session, session.begin():
                if session.get(SignoffRow, (client_id, phase)) is None:
                    session.add(
                        SignoffRow(client_id=client_id, phase=phase, user_id=user_id, signed_at=at)
                    )
        except IntegrityError:
            pass  # signed off concurrently: the other one stands
        except SQLAlchemyError as exc:
            raise StoreError(f"state database error: {str(exc).splitlines()[0]}") from exc
        with self.session() as session:
            row = session.get(SignoffRow, (client_id, phase))
            assert row is not None
            return SignOff(row.client_id, row.phase, row.user_id, row.signed_at)

    def sign_offs(self, client_id: str) -> list[SignOff]:
        with self.session() as session:
            rows = session.scalars(
                select(SignoffRow)
                .where(SignoffRow.client_id == client_id)
                .order_by(SignoffRow.signed_at, SignoffRow.phase)
            )
            return [SignOff(r.client_id, r.phase, r.user_id, r.signed_at) for r in rows]

    # -- installation -------------------------------------------------------------------

    def installation_secret(self) -> bytes:
        """A random per-installation key (for opaque client-facing ids), made on first use."""
        with self.session() as session:
            row = session.get(MetaRow, "installation_secret")
            if row is None:
                row = MetaRow(key="installation_secret", value=secrets.token_hex(32))
                session.add(row)
            return bytes.fromhex(row.value)


def _pk(key: OutboxKey) -> tuple[str, str, dt.datetime]:
    return (key.client_id, key.audience, key.period.astimezone(dt.UTC))


def _snapshot_json(snapshot: Mapping[str, tuple[dt.date | None, str]]) -> dict[str, Any]:
    return {
        mid: {"forecast": forecast.isoformat() if forecast else None, "status": status}
        for mid, (forecast, status) in snapshot.items()
    }


def _snapshot(data: Mapping[str, Any]) -> Reported:
    return {
        mid: (
            dt.date.fromisoformat(value["forecast"]) if value.get("forecast") else None,
            str(value["status"]),
        )
        for mid, value in data.items()
    }


def _entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(
        key=OutboxKey(row.client_id, row.audience, row.period),
        channel=row.channel,
        as_of=row.as_of,
        state=_STATES[row.state],
        messages=tuple(row.messages),
        parts=tuple(row.parts),
        snapshot=_snapshot(row.snapshot),
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        first_attempt_at=row.first_attempt_at,
        sent_at=row.sent_at,
        claimed_by=row.claimed_by,
        claimed_until=row.claimed_until,
    )


def _later(cursor: str, held: str | None) -> bool:
    """Compare tracker timestamps as instants: offsets differ across DST, strings mislead."""
    if held is None:
        return True
    try:
        return dt.datetime.fromisoformat(cursor) > dt.datetime.fromisoformat(held)
    except ValueError:
        return cursor > held
