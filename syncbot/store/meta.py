"""Installation-wide values, made once on first use (e.g. the key of opaque client ids)."""

from __future__ import annotations

import secrets

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.db import Base, Database


class MetaRow(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetaStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._secret: bytes | None = None

    def installation_secret(self) -> bytes:
        """A random per-installation key, made by whichever process asks first: concurrent
        first requests all end up with the one that was stored."""
        if self._secret is None:
            self._secret = bytes.fromhex(self._once("installation_secret", secrets.token_hex(32)))
        return self._secret

    def _once(self, key: str, candidate: str) -> str:
        def add(session: Session) -> None:
            if session.get(MetaRow, key) is None:
                session.add(MetaRow(key=key, value=candidate))

        self.db.attempt(add)
        with self.db.session() as session:
            row = session.get(MetaRow, key)
            assert row is not None
            return row.value
