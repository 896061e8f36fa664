"""Sources a webhook said have changed, waiting for the leader to sync them.

Any daemon may receive a webhook; only the leader syncs. So a delivery becomes rows here (one
per client and source, shared by every daemon on the database) and the leader's daemon polls
them (`syncbot.daemon.dirty`). Each mark bumps the row's `generation`: the poller can tell a
source that is still receiving marks (a burst in progress) from one that has settled, without
comparing the clocks of different machines. `take` removes a row only up to the generation
the poller saw, so a mark that arrives while its sync starts is kept for one more sync.

A delivery's id (X-Atlassian-Webhook-Identifier, Linear-Delivery) is recorded in
`seen_requests` in the same transaction as its marks: a redelivery marks nothing, and a
delivery whose marks could not be written is not remembered either, so its retry counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.db import Base, Database, UTCDateTime
from syncbot.store.seen import SeenRow

SourceKey = tuple[str, str]  # (client id, source name)


class DirtyRow(Base):
    __tablename__ = "dirty_sources"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(512), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    marked: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the latest mark, for people


class DirtyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def mark(
        self,
        sources: Sequence[SourceKey],
        at: dt.datetime,
        *,
        delivery: tuple[str, str] | None = None,
        keep: dt.timedelta = dt.timedelta(days=1),
    ) -> bool:
        """Mark `sources` dirty; False (marking nothing) when `delivery` (kind, id) was
        already processed within `keep`."""
        insert = pg_insert if self.db.backend == "postgresql" else sqlite_insert

        def work(session: Session) -> bool:
            if delivery is not None:
                kind, key = delivery[0], delivery[1][:128]
                session.execute(delete(SeenRow).where(SeenRow.expires < at))
                if session.get(SeenRow, (kind, key)) is not None:
                    return False
                session.add(SeenRow(kind=kind, key=key, expires=at + keep))
                session.flush()
            for client_id, source in dict.fromkeys(sources):
                statement = insert(DirtyRow).values(
                    client_id=client_id, source=source, generation=1, marked=at
                )
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[DirtyRow.client_id, DirtyRow.source],
                        set_={"generation": DirtyRow.generation + 1, "marked": at},
                    )
                )
            return True

        done = self.db.attempt(work)
        return bool(done)  # None: another daemon recorded this delivery first

    def pending(self) -> dict[SourceKey, int]:
        """Every dirty source with its generation."""
        with self.db.session() as session:
            rows = session.execute(select(DirtyRow.client_id, DirtyRow.source, DirtyRow.generation))
            return {(c, s): g for c, s, g in rows}

    def take(self, key: SourceKey, generation: int) -> bool:
        """Clear `key` if no mark came after `generation`; True when it was cleared."""
        with self.db.session() as session:
            result = session.execute(
                delete(DirtyRow).where(
                    DirtyRow.client_id == key[0],
                    DirtyRow.source == key[1],
                    DirtyRow.generation <= generation,
                )
            )
            return bool(getattr(result, "rowcount", 0))
