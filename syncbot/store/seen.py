"""Request ids seen recently (signed Slack requests; later, webhook deliveries), so that a
replay or a redelivery is recognised by every daemon sharing the database.

On PostgreSQL (several daemons) the database decides, in the request. On SQLite only one
daemon may use the file (`syncbot run` refuses a second), so this process's own memory
decides and the row is written behind, off the request: a slash command's ack never waits
for SQLite's single writer (a sync holds it for a while), nor reads. A restart reads the
unexpired rows back once, at its first request; a
kill -9 may lose the last few milliseconds of ids, whose replays the signature's own
five-minute window still bounds.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
from typing import cast

from sqlalchemy import String, Table, delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.errors import StoreError
from syncbot.store.db import Base, Database, UTCDateTime

logger = logging.getLogger(__name__)
PRUNE_EVERY = dt.timedelta(minutes=1)


class SeenRow(Base):
    __tablename__ = "seen_requests"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class SeenStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], dt.datetime] = {}  # SQLite: what this process saw
        self._pruned: dt.datetime | None = None
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        self._pending: list[tuple[str, str, dt.datetime, dt.datetime]] = []  # to write behind

    def first(self, kind: str, key: str, at: dt.datetime, keep: dt.timedelta) -> bool:
        """Record `key`; True the first time it is seen within `keep`, False on a repeat."""
        key = key[:128]
        if not self.db.is_sqlite:
            return bool(self.db.attempt(lambda s: _add(s, kind, key, at, keep)))
        with self._lock:
            if self._pruned is None:  # the first request of this run: what earlier runs saw
                self._held.update(self._stored(at))
                self._pruned = at
            expires = self._held.get((kind, key))
            if expires is not None and expires >= at:
                return False  # a replay (or a concurrent copy of the same request)
            self._held[(kind, key)] = at + keep
            if at - self._pruned >= PRUNE_EVERY:
                self._held = {k: e for k, e in self._held.items() if e >= at}
                self._pruned = at
            if self._writer is None:
                self._writer = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="syncbot-seen"
                )
            self._pending.append((kind, key, at, at + keep))
            if len(self._pending) == 1:  # else a write is already queued: it takes this too
                self._writer.submit(self._write_behind)
        return True

    def close(self) -> None:
        """Write what is still pending (a graceful stop loses no id)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    def _stored(self, at: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
        """The ids earlier runs of this daemon saw that have not expired (one read)."""
        with self.db.session() as session:
            rows = session.execute(
                select(SeenRow.kind, SeenRow.key, SeenRow.expires).where(SeenRow.expires >= at)
            )
            return {(row.kind, row.key): row.expires for row in rows}

    def _write_behind(self) -> None:
        """Every id waiting, in one transaction (50 requests at once: one write, not 50)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        now = max(at for _, _, at, _ in batch)
        rows = [{"kind": kind, "key": key, "expires": until} for kind, key, _, until in batch]
        try:
            with self.db.session() as session:
                session.execute(delete(SeenRow).where(SeenRow.expires < now))
                table = cast(Table, SeenRow.__table__)
                session.connection().execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
        except StoreError as exc:  # memory still refuses the replays while this process runs
            logger.warning("could not record %d request id(s): %s", len(rows), exc)


def _add(session: Session, kind: str, key: str, at: dt.datetime, keep: dt.timedelta) -> bool:
    session.execute(delete(SeenRow).where(SeenRow.expires < at))
    if session.get(SeenRow, (kind, key)) is not None:
        return False
    session.add(SeenRow(kind=kind, key=key, expires=at + keep))
    session.flush()
    return True
