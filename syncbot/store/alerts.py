"""What the alerts last saw of each milestone and dependency (SPEC §8): the state the next
evaluation compares with. It is separate from the last posted digest, which the digests'
honesty rules compare with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime


class AlertStateRow(Base):
    __tablename__ = "alert_state"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AlertStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, client_id: str) -> dict[str, dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(
                select(AlertStateRow).where(AlertStateRow.client_id == client_id)
            )
            return {row.subject: dict(row.data) for row in rows}

    def record(
        self, client_id: str, state: Mapping[str, Mapping[str, Any]], at: dt.datetime
    ) -> None:
        """Record what was seen; subjects no longer there are left (a milestone renamed back
        keeps its history)."""
        with self.db.session() as session:
            held = {
                row.subject: row
                for row in session.scalars(
                    select(AlertStateRow).where(AlertStateRow.client_id == client_id)
                )
            }
            for subject, data in state.items():
                row = held.get(subject)
                if row is None:
                    session.add(
                        AlertStateRow(
                            client_id=client_id, subject=subject, data=dict(data), updated_at=at
                        )
                    )
                elif row.data != dict(data):
                    row.data, row.updated_at = dict(data), at
