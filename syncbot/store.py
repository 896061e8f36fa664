"""Persistence: synced tickets, per-source sync state, and the history of computed states.

SQLAlchemy 2 over SQLite by default (one file, no server) or PostgreSQL for multi-instance
deployments; the schema is the same. Every write is one transaction, so a failed sync leaves
what was stored before intact.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    select,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
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
        try:
            self.engine: Engine = create_engine(url)
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
            if cursor and (record.cursor is None or cursor > record.cursor or complete):
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

    # -- installation -------------------------------------------------------------------

    def installation_secret(self) -> bytes:
        """A random per-installation key (for opaque client-facing ids), made on first use."""
        with self.session() as session:
            row = session.get(MetaRow, "installation_secret")
            if row is None:
                row = MetaRow(key="installation_secret", value=secrets.token_hex(32))
                session.add(row)
            return bytes.fromhex(row.value)
