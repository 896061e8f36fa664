"""The history of computed milestone states: one row per client, as-of day and milestone
(the last computation of a day wins). It is what the milestone trend analysis reads
(SPEC §9): each as-of day with rows is one *report*.

Every sync writes the day's rows (`app.Syncbot.sync`); `load` and `report_days` read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Date, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime


class SnapshotRow(Base):
    __tablename__ = "milestone_history"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    milestone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    forecast: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    actual: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class MilestoneSnapshot:
    milestone_id: str
    as_of: dt.date
    forecast: dt.date | None
    actual: dt.date | None
    status: str


class HistoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(
        self,
        client_id: str,
        as_of: dt.date,
        milestones: Iterable[MilestoneSnapshot],
        at: dt.datetime,
    ) -> None:
        with self.db.session() as session:
            session.execute(
                delete(SnapshotRow).where(
                    SnapshotRow.client_id == client_id, SnapshotRow.as_of == as_of
                )
            )
            session.add_all(
                SnapshotRow(
                    client_id=client_id,
                    as_of=as_of,
                    milestone_id=m.milestone_id,
                    forecast=m.forecast,
                    actual=m.actual,
                    status=m.status,
                    computed_at=at,
                )
                for m in milestones
            )

    def load(
        self, client_id: str, *, until: dt.date | None = None
    ) -> dict[dt.date, list[MilestoneSnapshot]]:
        """All recorded states of a client's milestones, by as-of date, oldest first (only
        as-of dates on or before `until`, when given)."""
        out: dict[dt.date, list[MilestoneSnapshot]] = {}
        query = select(SnapshotRow).where(SnapshotRow.client_id == client_id)
        if until is not None:
            query = query.where(SnapshotRow.as_of <= until)
        with self.db.session() as session:
            rows = session.scalars(query.order_by(SnapshotRow.as_of, SnapshotRow.milestone_id))
            for row in rows:
                out.setdefault(row.as_of, []).append(
                    MilestoneSnapshot(
                        row.milestone_id, row.as_of, row.forecast, row.actual, row.status
                    )
                )
        return out

    def report_days(self, client_id: str, *, until: dt.date | None = None) -> list[dt.date]:
        """The as-of days with a recorded state (the client's reports), oldest first."""
        query = select(SnapshotRow.as_of).distinct().where(SnapshotRow.client_id == client_id)
        if until is not None:
            query = query.where(SnapshotRow.as_of <= until)
        with self.db.session() as session:
            return sorted(session.scalars(query))
