"""Request ids seen recently (signed Slack requests; later, webhook deliveries), so that a
replay or a redelivery is recognised by every daemon sharing the database."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime


class SeenRow(Base):
    __tablename__ = "seen_requests"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class SeenStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def first(self, kind: str, key: str, at: dt.datetime, keep: dt.timedelta) -> bool:
        """Record `key`; True the first time it is seen within `keep`, False on a repeat."""

        def add(session: Session) -> bool:
            session.execute(delete(SeenRow).where(SeenRow.expires < at))
            if session.get(SeenRow, (kind, key)) is not None:
                return False
            session.add(SeenRow(kind=kind, key=key[:128], expires=at + keep))
            session.flush()
            return True

        added = self.db.attempt(add)
        return bool(added)  # None: another process recorded it first, a repeat
