"""Phase sign-offs: who (Slack user id) signed off which phase of a client, and when."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.changes import bump
from syncbot.store.db import Base, Database, UTCDateTime


class SignoffRow(Base):
    """The first sign-off of a phase stands."""

    __tablename__ = "phase_signoffs"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class SignOff:
    client_id: str
    phase: str
    user_id: str
    signed_at: dt.datetime


class SignoffStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def sign_off(self, client_id: str, phase: str, user_id: str, at: dt.datetime) -> SignOff:
        """Record a phase sign-off; a phase already signed off keeps its first sign-off,
        which is returned."""

        def add(session: Session) -> None:
            if session.get(SignoffRow, (client_id, phase)) is None:
                session.add(
                    SignoffRow(client_id=client_id, phase=phase, user_id=user_id, signed_at=at)
                )
                bump(session, client_id)

        self.db.attempt(add)  # a concurrent sign-off of the same phase wins: it stands
        with self.db.session() as session:
            row = session.get(SignoffRow, (client_id, phase))
            assert row is not None
            return SignOff(row.client_id, row.phase, row.user_id, row.signed_at)

    def load(self, client_id: str) -> list[SignOff]:
        with self.db.session() as session:
            rows = session.scalars(
                select(SignoffRow)
                .where(SignoffRow.client_id == client_id)
                .order_by(SignoffRow.signed_at, SignoffRow.phase)
            )
            return [SignOff(r.client_id, r.phase, r.user_id, r.signed_at) for r in rows]
