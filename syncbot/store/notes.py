"""Client-facing milestone notes (cause and recovery), set by a reviewer or `syncbot note`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.changes import bump
from syncbot.store.db import Base, Database, UTCDateTime


class NoteRow(Base):
    __tablename__ = "milestone_notes"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    milestone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Note:
    client_id: str
    milestone_id: str
    text: str
    set_by: str
    set_at: dt.datetime


class NoteStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def set(self, client_id: str, milestone_id: str, text: str, by: str, at: dt.datetime) -> Note:
        def write(session: Session) -> bool:
            row = session.get(NoteRow, (client_id, milestone_id))
            if row is None:
                session.add(
                    NoteRow(
                        client_id=client_id,
                        milestone_id=milestone_id,
                        text=text,
                        set_by=by,
                        set_at=at,
                    )
                )
            else:
                row.text, row.set_by, row.set_at = text, by, at
            bump(session, client_id)
            return True

        if self.db.attempt(write) is None:  # set concurrently for the first time: overwrite
            self.db.attempt(write)
        return Note(client_id, milestone_id, text, by, at)

    def clear(self, client_id: str, milestone_id: str) -> bool:
        with self.db.session() as session:
            row = session.get(NoteRow, (client_id, milestone_id))
            if row is None:
                return False
            session.delete(row)
            bump(session, client_id)
            return True

    def load(self, client_id: str) -> dict[str, str]:
        with self.db.session() as session:
            rows = session.scalars(select(NoteRow).where(NoteRow.client_id == client_id))
            return {row.milestone_id: row.text for row in rows}
