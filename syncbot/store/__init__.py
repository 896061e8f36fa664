"""Persistence: one `Store` per database, with a repository per kind of record.

    store.tickets    synced tickets and per-source sync state   (store/tickets.py)
    store.history    computed milestone states per as-of day     (store/history.py)
    store.links      client page links (hashed tokens)           (store/links.py)
    store.outbox     Slack messages to deliver, exactly once      (store/outbox.py)
    store.signoffs   phase sign-offs                              (store/signoffs.py)
    store.meta       installation-wide values                     (store/meta.py)
    store.claims     whether an outbox claim's holder is alive    (store/claims.py)
    store.seen       request ids seen recently (replays)          (store/seen.py)
    store.notes      client-facing milestone notes                (store/notes.py)
    store.alerts     what the alerts last saw, per subject        (store/alerts.py)
    store.reviews    client posts waiting for a reviewer          (store/reviews.py)
    store.dirty      sources a webhook marked for a sync          (store/dirty.py)
    store.states     computed client states, kept per version     (store/states.py)
    store.readings   milestone metric readings, metric source state (store/readings.py)
    store.changes    a counter per client of writes its state is made from (store/changes.py)

The engine, sessions and the translation of database errors live in `store/db.py`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from syncbot.store.alerts import AlertStore
from syncbot.store.changes import ChangeStore
from syncbot.store.claims import OwnerLocks
from syncbot.store.db import Database
from syncbot.store.dirty import DirtyStore
from syncbot.store.history import HistoryStore, MilestoneSnapshot
from syncbot.store.links import LinkStore, ShareLink
from syncbot.store.meta import MetaStore
from syncbot.store.notes import NoteStore
from syncbot.store.outbox import OutboxEntry, OutboxKey, OutboxStore, PostedDigest, new_entry
from syncbot.store.readings import ReadingStore
from syncbot.store.reviews import ReviewStore
from syncbot.store.seen import SeenStore
from syncbot.store.signoffs import SignOff, SignoffStore
from syncbot.store.states import Kept, StateStore
from syncbot.store.tickets import SourceRecord, TicketStore

__all__ = [
    "Kept",
    "MilestoneSnapshot",
    "OutboxEntry",
    "OutboxKey",
    "PostedDigest",
    "ShareLink",
    "SignOff",
    "SourceRecord",
    "Store",
    "new_entry",
]


class Store:
    """The state database. Safe to share one instance within a process."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        try:
            self.db.create_tables()
        except BaseException:
            self.db.close()
            raise
        self.tickets = TicketStore(self.db)
        self.history = HistoryStore(self.db)
        self.links = LinkStore(self.db)
        self.outbox = OutboxStore(self.db)
        self.signoffs = SignoffStore(self.db)
        self.meta = MetaStore(self.db)
        self.claims = OwnerLocks(self.db)
        self.seen = SeenStore(self.db)
        self.notes = NoteStore(self.db)
        self.alerts = AlertStore(self.db)
        self.reviews = ReviewStore(self.db)
        self.dirty = DirtyStore(self.db)
        self.states = StateStore(self.db)
        self.readings = ReadingStore(self.db)
        self.changes = ChangeStore(self.db)

    @property
    def url(self) -> str:
        return self.db.url

    @property
    def location(self) -> str:
        """Where the state lives, as it may be shown (a file path, or the masked URL)."""
        return self.db.location

    def reading(self) -> AbstractContextManager[None]:
        """Several reads in one transaction (`Database.reading`)."""
        return self.db.reading()

    def close(self) -> None:
        self.seen.close()
        self.db.close()
