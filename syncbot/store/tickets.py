"""Synced tickets and per-source sync state (cursor, last success, last error).

Writes are upserts by key in batches, so a sync never loads what the store already holds; a
full reconcile reads only the stored keys to find the ones the tracker no longer has.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, Integer, String, Table, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.codec import ticket_from_json, ticket_to_json
from syncbot.domain import Ticket
from syncbot.store.changes import bump
from syncbot.store.db import Base, Database, UTCDateTime

BATCH = 500
MAX_KEY = 128
# The store's calendar: PostgreSQL and SQLite both hold these, and day arithmetic on them
# cannot overflow.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


class TicketRow(Base):
    __tablename__ = "tickets"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
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


GENERATION = "generation"  # source_meta: bumped by every save of the source's tickets


def _bump_generation(session: Session, client_id: str, source: str) -> None:
    row = session.get(SourceMetaRow, (client_id, source, GENERATION))
    if row is None:
        session.add(SourceMetaRow(client_id=client_id, source=source, name=GENERATION, value="1"))
    else:
        row.value = str(int(row.value) + 1)


class SourceMetaRow(Base):
    """Things a source learned about its tracker and keeps between syncs (e.g. the id of
    Jira Data Center's Epic Link field), refreshed on a full reconcile."""

    __tablename__ = "source_meta"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
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


def unstorable(ticket: Ticket) -> str | None:
    """Why the store cannot hold `ticket` (then it is skipped and named), or None."""
    if not ticket.key or len(ticket.key) > MAX_KEY:
        return f"key longer than {MAX_KEY} characters"
    if any("\x00" in text for text in _strings(ticket) if text):
        return "contains a NUL character"
    for name in ("created", "updated", "completed"):
        value: dt.datetime | None = getattr(ticket, name)
        if value is not None and not EARLIEST <= value <= LATEST:
            return f"{name} {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year}"
    return None


def _strings(ticket: Ticket) -> Iterator[str]:
    for name in _TICKET_FIELDS:
        value = getattr(ticket, name)
        if isinstance(value, str):
            yield value
        elif isinstance(value, tuple):
            yield from (v for v in value if isinstance(v, str))


_TICKET_FIELDS = tuple(field.name for field in dataclasses.fields(Ticket))


class TicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
        self,
        client_id: str,
        source: str,
        tickets: Iterable[Ticket],
        *,
        complete: bool,
        cursor: str | None,
        at: dt.datetime,
        keep: Collection[str] = (),
    ) -> int:
        """Upsert a source's tickets and mark it synced; when `complete`, also delete the
        stored tickets that are absent, except those in `keep` (tickets the tracker still
        has but sent in a form that could not be read: their last good copy stays)."""
        with self.db.session() as session:
            seen: set[str] = set()
            for batch in _batches(tickets):
                seen.update(t.key for t in batch)
                self._upsert(session, client_id, source, batch)
            if complete:
                held = session.scalars(
                    select(TicketRow.key).where(
                        TicketRow.client_id == client_id, TicketRow.source == source
                    )
                ).all()
                gone = sorted(set(held) - seen - set(keep))
                for start in range(0, len(gone), BATCH):
                    session.execute(
                        delete(TicketRow).where(
                            TicketRow.client_id == client_id,
                            TicketRow.source == source,
                            TicketRow.key.in_(gone[start : start + BATCH]),
                        )
                    )
            _bump_generation(session, client_id, source)
            record = self._source_row(session, client_id, source)
            record.last_attempt = record.last_success = at
            record.last_error = None
            if complete:
                record.last_full = at
            if cursor and (complete or _later(cursor, record.cursor)):
                record.cursor = cursor
            session.flush()
            count = session.scalar(
                select(func.count())
                .select_from(TicketRow)
                .where(TicketRow.client_id == client_id, TicketRow.source == source)
            )
            record.tickets = int(count or 0)
            bump(session, client_id)  # last: its row lock is held only until the commit
            return record.tickets

    def _upsert(
        self, session: Session, client_id: str, source: str, batch: Sequence[Ticket]
    ) -> None:
        rows = [
            {
                "client_id": client_id,
                "source": source,
                "key": t.key,
                "updated": t.updated,
                "data": ticket_to_json(t),
            }
            for t in batch
        ]
        # One statement, compiled once and cached, run over the batch (executemany, which
        # SQLAlchemy sends as multi-row INSERTs): compiling a VALUES list of 500 rows per batch
        # cost more than the sync's own work.
        insert = pg_insert if self.db.backend == "postgresql" else sqlite_insert
        statement = insert(cast(Table, TicketRow.__table__))
        statement = statement.on_conflict_do_update(
            index_elements=[TicketRow.client_id, TicketRow.source, TicketRow.key],
            set_={"updated": statement.excluded.updated, "data": statement.excluded.data},
        )
        session.connection().execute(statement, rows)

    def record_failure(self, client_id: str, source: str, error: str, at: dt.datetime) -> None:
        """Note a failed sync without touching the tickets already held."""
        with self.db.session() as session:
            record = self._source_row(session, client_id, source)
            record.last_attempt = at
            record.last_error = error
            bump(session, client_id)

    def load(
        self,
        client_id: str,
        sources: Iterable[str],
        *,
        described: Collection[str] | None = None,
    ) -> list[Ticket]:
        """The stored tickets of those sources. With `described` (labels), only tickets with
        one of them keep their description (the rules read it only there: experiments), so a
        large client's tickets take much less memory."""
        wanted = {label.casefold() for label in described} if described is not None else None
        with self.db.session() as session:
            rows = session.execute(
                select(TicketRow.data)
                .where(TicketRow.client_id == client_id, TicketRow.source.in_(list(sources)))
                .order_by(TicketRow.source, TicketRow.key)
                .execution_options(yield_per=BATCH)  # streamed: never every row's JSON at once
            )
            out = []
            for (data,) in rows:
                if wanted is not None and not wanted.intersection(
                    str(label).casefold() for label in data.get("labels") or ()
                ):
                    data.pop("description", None)
                out.append(ticket_from_json(data))
            return out

    def records(self, client_id: str) -> dict[str, SourceRecord]:
        with self.db.session() as session:
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

    def meta(self, client_id: str, source: str) -> dict[str, str]:
        with self.db.session() as session:
            rows = session.scalars(
                select(SourceMetaRow).where(
                    SourceMetaRow.client_id == client_id, SourceMetaRow.source == source
                )
            )
            return {row.name: row.value for row in rows}

    def generations(self, client_id: str) -> dict[str, int]:
        """Per source, how many times its tickets were saved: what names their content (a
        clock would not: two syncs may share a timestamp)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(SourceMetaRow).where(
                    SourceMetaRow.client_id == client_id, SourceMetaRow.name == GENERATION
                )
            )
            return {row.source: int(row.value) for row in rows}

    def set_meta(self, client_id: str, source: str, values: dict[str, str | None]) -> None:
        with self.db.session() as session:
            for name, value in values.items():
                row = session.get(SourceMetaRow, (client_id, source, name))
                if value is None:
                    if row is not None:
                        session.delete(row)
                elif row is None:
                    session.add(
                        SourceMetaRow(client_id=client_id, source=source, name=name, value=value)
                    )
                else:
                    row.value = value
            bump(session, client_id)

    def _source_row(self, session: Session, client_id: str, source: str) -> SourceRow:
        """The source's row, created if missing; two first syncs racing both get it."""
        row = session.get(SourceRow, (client_id, source))
        if row is None:
            insert = pg_insert if self.db.backend == "postgresql" else sqlite_insert
            session.execute(
                insert(SourceRow)
                .values(client_id=client_id, source=source, tickets=0)
                .on_conflict_do_nothing()
            )
            row = session.get(SourceRow, (client_id, source))
            assert row is not None
        return row


def _batches(tickets: Iterable[Ticket]) -> Iterator[list[Ticket]]:
    batch: dict[str, Ticket] = {}
    for ticket in tickets:
        batch[ticket.key] = ticket  # one row per key in a statement (ON CONFLICT needs it)
        if len(batch) >= BATCH:
            yield list(batch.values())
            batch = {}
    if batch:
        yield list(batch.values())


def _later(cursor: str, held: str | None) -> bool:
    """Compare tracker timestamps as instants: offsets differ across DST, strings mislead."""
    if held is None:
        return True
    try:
        return dt.datetime.fromisoformat(cursor) > dt.datetime.fromisoformat(held)
    except ValueError:
        return cursor > held
