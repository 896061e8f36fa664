"""Milestone metric readings (the last known one per milestone) and the freshness of the
client's metric source (last attempt, success and error), like a tracker source's.

A failed read records its error and leaves every reading as it was: an unreachable MLflow
server never loses what syncbot last knew.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Boolean, Float, String, Text, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.domain import MetricReading
from syncbot.store.changes import bump
from syncbot.store.db import Base, Database, UTCDateTime
from syncbot.store.tickets import SourceRecord


class MetricReadingRow(Base):
    __tablename__ = "metric_readings"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    milestone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512))
    experiment: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    target: Mapped[float] = mapped_column(Float)
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class MetricSourceRow(Base):
    __tablename__ = "metric_sources"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    last_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_success: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ReadingStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
        self,
        client_id: str,
        source: str,
        readings: Mapping[str, MetricReading],
        at: dt.datetime,
    ) -> int:
        """Replace the readings of the milestones in `readings` and mark the source synced;
        the number of readings the client now holds."""
        insert = pg_insert if self.db.backend == "postgresql" else sqlite_insert
        with self.db.session() as session:
            for milestone_id, r in readings.items():
                values = {
                    "source": source,
                    "experiment": r.experiment,
                    "name": r.name,
                    "target": r.target,
                    "higher_is_better": r.higher_is_better,
                    "value": r.value,
                    "run_id": r.run_id,
                    "run_at": r.run_at,
                    "met_at": r.met_at,
                    "read_at": at,
                }
                statement = insert(MetricReadingRow).values(
                    client_id=client_id, milestone_id=milestone_id, **values
                )
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[MetricReadingRow.client_id, MetricReadingRow.milestone_id],
                        set_=values,
                    )
                )
            record = self._source_row(session, client_id, source)
            record.last_attempt = record.last_success = at
            record.last_error = None
            bump(session, client_id)
            session.flush()
            return self._count(session, client_id)

    def record_failure(self, client_id: str, source: str, error: str, at: dt.datetime) -> None:
        """Note a failed read without touching the readings already held."""
        with self.db.session() as session:
            record = self._source_row(session, client_id, source)
            record.last_attempt = at
            record.last_error = error
            bump(session, client_id)

    def load(self, client_id: str) -> dict[str, MetricReading]:
        """Milestone id -> its last known reading."""
        with self.db.session() as session:
            rows = session.scalars(
                select(MetricReadingRow).where(MetricReadingRow.client_id == client_id)
            )
            return {
                row.milestone_id: MetricReading(
                    experiment=row.experiment,
                    name=row.name,
                    target=row.target,
                    higher_is_better=row.higher_is_better,
                    value=row.value,
                    run_id=row.run_id,
                    run_at=row.run_at,
                    met_at=row.met_at,
                )
                for row in rows
            }

    def records(self, client_id: str) -> dict[str, SourceRecord]:
        """The metric source's sync state, in the shape of a tracker source's (no cursor;
        every read is whole, so its last success is also its last full read)."""
        with self.db.session() as session:
            rows = session.scalars(
                select(MetricSourceRow).where(MetricSourceRow.client_id == client_id)
            ).all()
            held = self._count(session, client_id)
            return {
                row.source: SourceRecord(
                    row.client_id,
                    row.source,
                    None,
                    row.last_attempt,
                    row.last_success,
                    row.last_success,
                    row.last_error,
                    held,
                )
                for row in rows
            }

    def _count(self, session: Session, client_id: str) -> int:
        count = session.scalar(
            select(func.count())
            .select_from(MetricReadingRow)
            .where(MetricReadingRow.client_id == client_id)
        )
        return int(count or 0)

    def _source_row(self, session: Session, client_id: str, source: str) -> MetricSourceRow:
        """The source's row, created if missing; two first reads racing both get it."""
        row = session.get(MetricSourceRow, (client_id, source))
        if row is None:
            insert = pg_insert if self.db.backend == "postgresql" else sqlite_insert
            session.execute(
                insert(MetricSourceRow)
                .values(client_id=client_id, source=source)
                .on_conflict_do_nothing()
            )
            row = session.get(MetricSourceRow, (client_id, source))
            assert row is not None
        return row
