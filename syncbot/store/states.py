"""Computed client states, kept so that answers never recompute them (issue 9).

A state is computed once per change of what it is made of (the stored tickets, the sources'
records, notes, sign-offs, the last posted digest, the client's configuration, the as-of
date, syncbot's version): that is its `version`, a hash the application object makes. The
daemon keeps the current ones in memory; this table keeps them for the CLI and the other
daemons, so `syncbot status` after a sync reads one small row instead of every ticket. A
row whose version no longer matches is simply recomputed and replaced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import JSON, Date, LargeBinary, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from syncbot.domain import ClientState
from syncbot.store.db import Base, Database, UTCDateTime

KEEP = dt.timedelta(days=14)  # rows not recomputed for this long are dropped
_STATE = TypeAdapter(ClientState)


class StateRow(Base):
    __tablename__ = "client_states"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[str] = mapped_column(String(96), primary_key=True)  # audience|as-of|before
    as_of: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes] = mapped_column(LargeBinary)  # ClientState as JSON (pydantic)
    links: Mapped[dict[str, str]] = mapped_column(JSON)  # the keys it names -> tracker URL
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Kept:
    state: ClientState
    links: dict[str, str]


class StateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, client_id: str, slot: str, version: str) -> Kept | None:
        """The kept state of that slot if it is still `version`; None otherwise."""
        with self.db.session() as session:
            row = session.get(StateRow, (client_id, slot))
            if row is None or row.version != version:
                return None
            try:
                state = _STATE.validate_json(row.state)
            except ValidationError:  # written by another syncbot version: recompute
                return None
            return Kept(state, dict(row.links))

    def put(
        self,
        client_id: str,
        slot: str,
        version: str,
        kept: Kept,
        at: dt.datetime,
    ) -> None:
        def write(session: Session) -> bool:
            row = session.get(StateRow, (client_id, slot))
            data = _STATE.dump_json(kept.state)
            if row is None:
                session.add(
                    StateRow(
                        client_id=client_id,
                        slot=slot,
                        as_of=kept.state.as_of,
                        version=version,
                        state=data,
                        links=kept.links,
                        computed_at=at,
                    )
                )
            else:
                row.version, row.state, row.links, row.computed_at = version, data, kept.links, at
                row.as_of = kept.state.as_of
            session.execute(
                delete(StateRow).where(
                    StateRow.client_id == client_id, StateRow.computed_at < at - KEEP
                )
            )
            return True

        if self.db.attempt(write) is None:  # another process put it first: take ours
            self.db.attempt(write)
