"""A counter per client, bumped in the same transaction as every write a client's state is
made from: its sources' tickets and sync records, metric readings, digests in the outbox,
sign-offs and notes. One small read then tells a process whether what it read before still
stands (`Syncbot._inputs`), so that a slash command's ack costs one read, not six.

Bumped by an upsert, so concurrent writers (several daemons on PostgreSQL) never collide on
the row. A process reads the counter *before* the rows it stands for: a write landing in
between makes the counter it kept older than the rows, which costs one more read, never a
stale answer.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.store.db import Base, Database


class ChangeRow(Base):
    __tablename__ = "state_changes"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


def bump(session: Session, client_id: str) -> None:
    """Count one more change to `client_id`'s inputs, in `session`'s transaction."""
    backend = session.get_bind().dialect.name
    insert = pg_insert if backend == "postgresql" else sqlite_insert
    statement = insert(ChangeRow).values(client_id=client_id, count=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[ChangeRow.client_id], set_={"count": ChangeRow.count + 1}
        )
    )


class ChangeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stamp(self, client_id: str) -> int:
        """How many changes `client_id`'s inputs have seen (0: none counted yet)."""
        with self.db.session() as session:
            count = session.execute(_STAMP, {"client_id": client_id}).scalar()
            return int(count or 0)


# Built once: the statement every slash ack runs (building it cost as much as running it).
_STAMP = select(ChangeRow.count).where(ChangeRow.client_id == bindparam("client_id"))
