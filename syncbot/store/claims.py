"""Whether the poster holding an outbox claim is still alive, told by a lock it holds.

A poster holds a lock named after its owner id (unique per process start and poster, never
derived from a hostname or pid, which containers reuse) for as long as it holds claims:

- PostgreSQL: a session advisory lock on a connection of its own; the server releases it the
  moment that connection or its process dies, on whatever host it ran.
- SQLite: an exclusive `flock` on a file beside the database; the kernel releases it when the
  process dies (SQLite is one machine's database, so one kernel sees every holder).

Another poster that meets the claim asks `alive(owner)`: a lock it can take means the holder
is gone, so the claim is taken over at once instead of waiting out its lease (a half-posted
digest is finished by the next run). The lease stays as the last resort where no lock can be
asked (`alive` answers None: an in-memory database).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from syncbot.store.db import Database

CLAIMS_CLASS = 0x5359  # "SY": the first key of syncbot's two-key advisory locks for claims


def _digest(owner: str) -> bytes:
    return hashlib.sha256(owner.encode()).digest()


class OwnerLocks:
    def __init__(self, db: Database) -> None:
        self.db = db
        database = db.parsed.database if db.is_sqlite else None
        self.folder: Path | None = None
        if database and database != ":memory:":
            path = Path(database).expanduser()
            self.folder = path.parent / f".{path.name}.claims"

    @contextlib.contextmanager
    def held(self, owner: str) -> Iterator[None]:
        """Hold `owner`'s lock while the block runs."""
        if self.db.backend == "postgresql":
            with self.db.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:a, :b)"), _pg_key(owner))
                conn.commit()
                try:
                    yield
                finally:
                    with contextlib.suppress(Exception):
                        conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), _pg_key(owner))
                        conn.commit()
            return
        if self.folder is None:
            yield
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._file(owner)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)

    def alive(self, owner: str) -> bool | None:
        """True while `owner` holds its lock, False once it is gone, None if no lock can tell."""
        if self.db.backend == "postgresql":
            with self.db.engine.connect() as conn:
                got = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:a, :b)"), _pg_key(owner)
                    ).scalar()
                )
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), _pg_key(owner))
                conn.commit()
            return not got
        if self.folder is None:
            return None
        path = self._file(owner)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return False  # the holder removed it as it let go, or never got to hold it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock we took
        with contextlib.suppress(OSError):
            path.unlink()
        return False

    def _file(self, owner: str) -> Path:
        assert self.folder is not None
        return self.folder / f"{_digest(owner).hex()[:32]}.lock"


def _pg_key(owner: str) -> dict[str, int]:
    value = int.from_bytes(_digest(owner)[:4], "big", signed=True)
    return {"a": CLAIMS_CLASS, "b": value}
