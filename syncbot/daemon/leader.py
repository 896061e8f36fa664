"""Which `syncbot run` runs the schedule when several share one database: the leader lock.

APScheduler 3 cannot share a job store between schedulers, so exactly one daemon schedules
(syncs, digests, alerts, webhook syncs) and every daemon serves HTTP. No home-made consensus:

- **PostgreSQL.** Each daemon opens a connection of its own (no pool: a pooled connection
  could be handed back and the lock with it) and tries `pg_try_advisory_lock(key)`. The
  holder is the leader. The server releases a session lock the moment its connection ends,
  so a leader killed with -9 (its socket closed by the kernel) frees the lock at once; a
  machine that vanishes is noticed through TCP keepalives. Every SYNCBOT_LEADER_CHECK_SECONDS
  (5 s, at most 10) the leader checks in `pg_locks` that its own backend still holds the
  lock; a failed check or a lost connection stops its scheduler at once (`on_deposed`), and it
  goes back to trying, like every follower does on the same beat. The key is one bigint (the
  one-key form, a space apart from the two-key claim locks of `store/claims.py`) derived from
  the schema, so two installations in two schemas of one database each have their leader.
  The holder's identity (host:pid:random, made at start) is the lock connection's
  `application_name`, which every daemon reads from `pg_stat_activity`: nothing to clean up.
  A transaction-mode PgBouncer breaks session locks (each statement may run on another
  server connection): point SYNCBOT_DATABASE_URL at PostgreSQL or a session-mode pool.
- **SQLite.** One daemon per file: an exclusive `flock` on a file beside the database, held
  for the life of the daemon; a second daemon fails at start with `AnotherDaemon` (exit 2).
- **In-memory SQLite** (tests): the one daemon leads.

A leader that loses its lock may still be finishing a job (a thread cannot be stopped) while
the next leader starts: the outbox's unique keys and claims keep every post single.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from syncbot.errors import SyncbotError
from syncbot.store.db import Database, describe

logger = logging.getLogger(__name__)
CONNECT_SECONDS = 5
# libpq TCP settings of the lock connection: a silent peer is given up within about 10 s.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms
}
_HELD = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = pg_backend_pid() AND database = (SELECT oid FROM pg_database "
    "WHERE datname = current_database()) AND classid = CAST(CAST(:hi AS bigint) AS oid) "
    "AND objid = CAST(CAST(:lo AS bigint) AS oid) AND objsubid = 1"
)
_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM "
    "pg_database WHERE datname = current_database()) "
    "AND l.classid = CAST(CAST(:hi AS bigint) AS oid) "
    "AND l.objid = CAST(CAST(:lo AS bigint) AS oid) AND l.objsubid = 1"
)


class AnotherDaemon(SyncbotError):
    """A second daemon on a database that can have only one (SQLite)."""


def instance_id() -> str:
    """This process's identity as a leader: host:pid:random (the random part tells a restart
    in a container, which reuses pids, from the process before it). At most 63 characters,
    PostgreSQL's limit for `application_name`."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaderLock(Protocol):
    """A lock at most one daemon holds. Its methods are called from one thread at a time."""

    def acquire(self) -> bool:
        """Try to take the lock (connecting first if need be); True when this process holds it."""
        ...

    def check(self) -> bool:
        """Whether this process still holds the lock it acquired; False when it was lost."""
        ...

    def holder(self) -> str | None:
        """The identity of the holder, None when nobody holds it (or it cannot be told)."""
        ...

    def release(self) -> None:
        """Give the lock up (another daemon may take it); `acquire` may take it again."""
        ...

    def close(self) -> None:
        """Release the lock for good."""
        ...


def _key(schema: str) -> int:
    digest = hashlib.sha256(f"syncbot leader lock {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLeaderLock:
    """A session advisory lock on a dedicated, unpooled connection (see the module docstring)."""

    def __init__(self, url: str, instance: str) -> None:
        self.instance = instance
        connect_args: dict[str, Any] = {
            "connect_timeout": CONNECT_SECONDS,
            "application_name": f"syncbot {instance}"[:63],
            **KEEPALIVES,
        }
        self.engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
        self._conn: Connection | None = None
        self._key: dict[str, int] | None = None
        self.last_error: str | None = None

    def _connection(self) -> Connection:
        if self._conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            schema = conn.execute(text("SELECT current_schema()")).scalar() or "public"
            key = _key(str(schema))
            self._key = {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF, "key": key}
            self._conn = conn
        return self._conn

    def acquire(self) -> bool:
        try:
            conn = self._connection()
            assert self._key is not None
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), self._key).scalar())
        except SQLAlchemyError as exc:
            self._failed(exc)
            return False
        self.last_error = None
        return got

    def check(self) -> bool:
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(_HELD, self._key).scalar()
        except SQLAlchemyError as exc:
            self._failed(exc)
            return False
        return held == 1

    def holder(self) -> str | None:
        try:
            conn = self._connection()
            name = conn.execute(_HOLDER, self._key).scalar()
        except SQLAlchemyError as exc:
            self._failed(exc)
            return None
        return str(name).removeprefix("syncbot ") if name else None

    def _failed(self, exc: SQLAlchemyError) -> None:
        self.last_error = describe(exc)
        logger.warning("leader lock: the database connection failed: %s", self.last_error)
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # never reuse it: the server may still see it holding
            with contextlib.suppress(Exception):
                conn.close()

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
        self._drop()

    def close(self) -> None:
        self.release()
        self.engine.dispose()


class SoleDaemon:
    """The lock of a database only one daemon may use: always held once constructed.

    For a SQLite file it is an exclusive `flock` on `.<name>.daemon` beside it (released by
    the kernel when the process ends); a second daemon gets AnotherDaemon.
    """

    def __init__(self, instance: str, path: Path | None = None, *, database: str = "") -> None:
        self.instance = instance
        self.last_error: str | None = None
        self._fd: int | None = None
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise AnotherDaemon(
                f"run: another syncbot daemon ({other}) is already running on the SQLite "
                f"database {database}: stop it, or run several daemons on PostgreSQL "
                "(SYNCBOT_DATABASE_URL=postgresql+psycopg://...)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, instance.encode())
        self._fd = fd

    def acquire(self) -> bool:
        return True

    def check(self) -> bool:
        return True

    def holder(self) -> str | None:
        return self.instance

    def release(self) -> None:
        pass  # nobody else may use this database: there is no one to hand it to

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # drops the flock


def leader_lock(db: Database, instance: str) -> LeaderLock:
    """The leader lock for the state database `db` (AnotherDaemon: SQLite already in use)."""
    if db.backend == "postgresql":
        return PostgresLeaderLock(db.url, instance)
    database = db.parsed.database if db.is_sqlite else None
    if database and database != ":memory:":
        path = Path(database).expanduser()
        return SoleDaemon(instance, path.parent / f".{path.name}.daemon", database=db.location)
    return SoleDaemon(instance)


class Leadership:
    """Contends for `lock` every `every` seconds in a thread of its own; calls `on_elected`
    once it leads and `on_deposed` as soon as it finds it no longer does.

    `start()` makes the first attempt before it returns, so a daemon that can lead at once
    does. A failing `on_elected` (say the job store cannot be opened) gives the lock up for
    another daemon, and this one tries again later. `stop()` ends contending; `close()`
    releases the lock (after the daemon stopped its jobs, so the next leader starts clean).
    """

    def __init__(
        self,
        lock: LeaderLock,
        instance: str,
        *,
        every: float,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
    ) -> None:
        self.lock = lock
        self.instance = instance
        self.every = every
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.leading = False
        self.holder: str | None = None  # as seen at the last round
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round_lock = threading.Lock()

    @property
    def error(self) -> str | None:
        """Why the last round could not reach the lock, if it could not."""
        return getattr(self.lock, "last_error", None)

    def start(self) -> None:
        self.round()
        self._thread = threading.Thread(target=self._run, name="syncbot-leader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.round()
            except Exception:  # never let the election thread die
                logger.exception("leader election round failed")

    def round(self) -> None:
        """One check (leader) or attempt (follower)."""
        with self._round_lock:
            if self._stop.is_set():
                return
            if self.leading:
                if not self.lock.check():
                    self.leading, self.holder = False, None
                    logger.error(
                        "lost the leader lock (%s): scheduler stopped; serving HTTP, trying "
                        "to lead again every %g s",
                        self.error or "no longer held",
                        self.every,
                    )
                    self._call(self.on_deposed, "stepping down")
            elif self.lock.acquire():
                self.leading, self.holder = True, self.instance
                logger.info(
                    "leader: %s holds the leader lock: starting the scheduler", self.instance
                )
                if not self._call(self.on_elected, "starting the scheduler"):
                    self.leading = False
                    self.lock.release()  # give another daemon its chance
            previous, self.holder = self.holder, self.lock.holder()
            if not self.leading and self.holder != previous:
                logger.info(
                    "follower: the leader is %s; serving HTTP, the scheduler waits",
                    self.holder or "nobody (yet)",
                )

    @staticmethod
    def _call(action: Callable[[], None], what: str) -> bool:
        try:
            action()
        except Exception:
            logger.exception("leader election: %s failed", what)
            return False
        return True

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        with self._round_lock:  # a round in progress finishes first
            pass

    def close(self) -> None:
        self.stop()
        self.leading = False
        self.lock.close()
