"""The Slack outbox: one row per message to deliver, as rendered, and every state transition
of its delivery protocol (used by `syncbot.slack.outbox`).

A row is a digest for one (client, audience, period), or an alert under an audience of its own
(`stale-<hash>`, `fresh-<hash>`, with the episode as its period). Its `state`:

    pending  nothing is in flight: every part with a `ts` is known to be in Slack, the others
             are known not to be (new rows, and rows after a definite refusal)
    sending  a chat.postMessage (or a file share) may have reached Slack without its `ts`
             (file id) being recorded (written before every call; a crash or a 5xx leaves
             it): look in the channel's history for the row's key (the file's name) before
             posting again
    sent     every part is in Slack; `parts` holds their `ts`

A row is claimed (`claimed_by`, `claimed_until`) by one poster at a time, so two never post
the same row concurrently; a claim whose holder died is taken over (`store.claims` tells a
dead holder from a live one) or, as a last resort, lapses at `claimed_until`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import JSON, Date, Integer, String, Text, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.errors import StoreError
from syncbot.store.changes import bump
from syncbot.store.db import Base, Database, UTCDateTime

OutboxState = Literal["pending", "sending", "sent"]
_STATES: dict[str, OutboxState] = {"pending": "pending", "sending": "sending", "sent": "sent"}
Reported = dict[str, tuple[dt.date | None, str]]


class OutboxRow(Base):
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


@dataclass(frozen=True)
class OutboxKey:
    client_id: str
    audience: str
    period: dt.datetime  # aware; the schedule's fire time the digest belongs to

    @property
    def text(self) -> str:
        """The message's identity in Slack message metadata: stable across processes."""
        at = self.period.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
        return f"syncbot:{self.client_id}:{self.audience}:{at}"


@dataclass(frozen=True)
class OutboxEntry:
    """A message in the outbox. `messages` are Slack message payloads ({"text", "blocks"}),
    or a file to share ({"text", "file"}: the trend chart, always last); `parts[i]` is the
    Slack `ts` of messages[i] (the file id of a file) once it is known to be posted."""

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
    updated_at: dt.datetime | None = None  # the last state change (e.g. marked `sending`)

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


def new_entry(
    key: OutboxKey,
    channel: str,
    as_of: dt.date,
    messages: Iterable[dict[str, Any]],
    snapshot: Reported | None = None,
) -> OutboxEntry:
    """A row not yet posted, with one part per message."""
    rendered = tuple(messages)
    return OutboxEntry(
        key=key,
        channel=channel,
        as_of=as_of,
        state="pending",
        messages=rendered,
        parts=(None,) * len(rendered),
        snapshot=snapshot or {},
    )


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, entry: OutboxEntry, at: dt.datetime) -> OutboxEntry:
        """Store a new row unless one exists for its key; return the stored one. Two
        processes adding the same key race on the primary key: both get the winner's row."""
        existing = self.get(entry.key)
        if existing is not None:
            return existing

        def insert(session: Session) -> None:
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
            bump(session, entry.key.client_id)

        self.db.attempt(insert)
        stored = self.get(entry.key)
        if stored is None:  # pragma: no cover - the insert either happened or lost a race
            raise StoreError(f"outbox row {entry.key.text} vanished after it was written")
        return stored

    def get(self, key: OutboxKey) -> OutboxEntry | None:
        with self.db.session() as session:
            row = session.get(OutboxRow, _pk(key))
            return None if row is None else _entry(row)

    def unsent(self, client_id: str, audience: str) -> list[OutboxEntry]:
        """Rows not (fully) posted yet for a client and audience, oldest period first."""
        with self.db.session() as session:
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

    def unsent_all(self, client_id: str) -> list[OutboxEntry]:
        """Every row of a client not (fully) posted yet, whatever its audience."""
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.client_id == client_id, OutboxRow.state != "sent")
                .order_by(OutboxRow.period, OutboxRow.audience)
            )
            return [_entry(row) for row in rows]

    def backlog(self) -> int:
        """How many rows are queued and not fully posted (all clients; for /metrics)."""
        with self.db.session() as session:
            count = session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.state != "sent")
            )
            return int(count or 0)

    def latest(self, client_id: str, audience: str) -> OutboxEntry | None:
        """The row of the latest period for a client and audience, whatever its state."""
        with self.db.session() as session:
            row = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.client_id == client_id, OutboxRow.audience == audience)
                .order_by(OutboxRow.period.desc())
                .limit(1)
            ).first()
            return None if row is None else _entry(row)

    def claimed(self) -> list[OutboxEntry]:
        """Rows not fully posted that someone holds a claim on (live or lapsed)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.state != "sent", OutboxRow.claimed_by.is_not(None))
                .order_by(OutboxRow.period)
            )
            return [_entry(row) for row in rows]

    def claim(
        self, key: OutboxKey, owner: str, at: dt.datetime, lease: dt.timedelta
    ) -> OutboxEntry | None:
        """Take (or extend) the right to deliver `key` until `at + lease`; None when another
        owner's claim is still running. One conditional UPDATE: atomic on both backends."""
        with self.db.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(
                    *_where(key),
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
        return self.get(key)

    def take_over(
        self, key: OutboxKey, gone: str, owner: str, at: dt.datetime, lease: dt.timedelta
    ) -> OutboxEntry | None:
        """Take the claim of `gone` (a poster that died holding it); None if it changed."""
        with self.db.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(*_where(key), OutboxRow.claimed_by == gone)
                .values(claimed_by=owner, claimed_until=at + lease)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                return None
        return self.get(key)

    def renew(self, key: OutboxKey, owner: str, at: dt.datetime, lease: dt.timedelta) -> bool:
        """Extend `owner`'s own claim; False when it no longer holds it (it lapsed and someone
        else took the row): the caller must stop posting."""
        with self.db.session() as session:
            result = session.execute(
                update(OutboxRow)
                .where(*_where(key), OutboxRow.claimed_by == owner)
                .values(claimed_until=at + lease)
                .execution_options(synchronize_session=False)
            )
            return getattr(result, "rowcount", 0) == 1

    def release(self, key: OutboxKey, owner: str) -> None:
        with self.db.session() as session:
            session.execute(
                update(OutboxRow)
                .where(*_where(key), OutboxRow.claimed_by == owner)
                .values(claimed_by=None, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def sending(self, key: OutboxKey, at: dt.datetime) -> None:
        """A post is about to be made: until its `ts` is recorded, the outcome is unknown."""
        with self.db.session() as session:
            row = _row(session, key)
            row.state = "sending"
            row.attempts += 1
            row.first_attempt_at = row.first_attempt_at or at
            row.updated_at = at
            bump(session, key.client_id)

    def posted(self, key: OutboxKey, index: int, ts: str, at: dt.datetime) -> OutboxEntry:
        """Record that messages[index] is in Slack as `ts`; the row is sent once all are."""
        with self.db.session() as session:
            row = _row(session, key)
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
            bump(session, key.client_id)
            session.flush()
            return _entry(row)

    def settled(self, key: OutboxKey, at: dt.datetime) -> OutboxEntry:
        """After a look at the channel's history: whatever is not recorded was not posted."""
        with self.db.session() as session:
            row = _row(session, key)
            if row.state == "sending":
                row.state = "sent" if all(row.parts) else "pending"
                if row.state == "sent":
                    row.sent_at = row.sent_at or at
            row.updated_at = at
            bump(session, key.client_id)
            session.flush()
            return _entry(row)

    def failed(self, key: OutboxKey, error: str, at: dt.datetime, *, certain: bool) -> None:
        """Note a failed attempt. `certain`: Slack definitely did not post (a refusal, a 429);
        otherwise the row stays `sending` and the next attempt checks the history first."""
        with self.db.session() as session:
            row = _row(session, key)
            row.last_error = error
            row.updated_at = at
            if certain and row.state == "sending":
                row.state = "pending"
            bump(session, key.client_id)

    def revise(
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
        with self.db.session() as session:
            row = _row(session, key)
            row.messages = list(messages)
            row.parts = list(parts)
            row.snapshot = _snapshot_json(snapshot)
            row.as_of = as_of
            row.updated_at = at
            row.state = "sent" if all(row.parts) else "pending"
            bump(session, key.client_id)
            session.flush()
            return _entry(row)

    def last_posted(
        self, client_id: str, audience: str, *, before: dt.datetime | None = None
    ) -> PostedDigest | None:
        """The latest fully posted digest (by period), optionally only periods before `before`.

        Its snapshot is what the honesty rules compare with: forecasts and statuses as that
        digest reported them.
        """
        # Only what it reported, not the messages themselves (a big digest's blocks would
        # be decoded on every slash answer).
        with self.db.session() as session:
            query = select(
                OutboxRow.period,
                OutboxRow.channel,
                OutboxRow.as_of,
                OutboxRow.sent_at,
                OutboxRow.parts,
                OutboxRow.snapshot,
            ).where(
                OutboxRow.client_id == client_id,
                OutboxRow.audience == audience,
                OutboxRow.state == "sent",
            )
            if before is not None:
                query = query.where(OutboxRow.period < before)
            row = session.execute(query.order_by(OutboxRow.period.desc()).limit(1)).first()
            if row is None or row.sent_at is None:
                return None
            return PostedDigest(
                OutboxKey(client_id, audience, row.period),
                row.channel,
                row.as_of,
                row.sent_at,
                tuple(p for p in row.parts if p),
                _snapshot(row.snapshot),
            )


def _pk(key: OutboxKey) -> tuple[str, str, dt.datetime]:
    return (key.client_id, key.audience, key.period.astimezone(dt.UTC))


def _where(key: OutboxKey) -> tuple[Any, ...]:
    return (
        OutboxRow.client_id == key.client_id,
        OutboxRow.audience == key.audience,
        OutboxRow.period == key.period,
    )


def _row(session: Session, key: OutboxKey) -> OutboxRow:
    row = session.get(OutboxRow, _pk(key))
    if row is None:
        raise StoreError(f"outbox row {key.text} not found (deleted while in use?)")
    return row


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
        updated_at=row.updated_at,
    )
