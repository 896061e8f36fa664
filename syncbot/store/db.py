"""The database itself: URL checks, engine, sessions, the one SQLAlchemyError -> StoreError
translation, and the column types every table shares.

SQLAlchemy 2 over SQLite by default (one file, no server) or PostgreSQL for several daemons;
the schema is the same. Every write is one transaction, so a failed sync leaves what was
stored before intact. Tables are only ever added, never altered, so `create_all` is the whole
migration story of this version: an existing database gains new tables on first open.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, TypeDecorator, create_engine, event
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.orm import DeclarativeBase, Session

from syncbot.errors import StoreError, StoreUnavailable

T = TypeVar("T")
_CREDENTIAL_KEYS = re.compile(r"pass|secret|token|key|auth", re.IGNORECASE)
# Messages of drivers that mean "the server is not there right now", not "fix your URL".
_PASSING = re.compile(
    r"connection refused|could not connect|timeout|timed out|server closed|"
    r"connection (?:reset|lost|terminated)|terminating connection|database is locked|"
    r"no route to host|the database system is (?:starting|shutting) ",
    re.IGNORECASE,
)


# What another process creating the same tables at the same moment makes a driver say.
_RACE = re.compile(r"already exists|database is locked|duplicate key", re.IGNORECASE)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite drops offsets)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


def parse_url(url: str) -> URL:
    """SYNCBOT_DATABASE_URL parsed, or a StoreError that never repeats the URL's secrets."""
    try:
        return make_url(url)
    except ArgumentError:
        raise StoreError(
            "SYNCBOT_DATABASE_URL is not a database URL (expected e.g. sqlite:///path/to/file.db "
            "or postgresql+psycopg://user@host/db)"
        ) from None
    except ValueError:
        raise StoreError(
            "SYNCBOT_DATABASE_URL: the port is not a number (expected host:5432)"
        ) from None


def masked(url: URL) -> str:
    """The URL as it may be shown: password and credential-like query values replaced."""
    query = {
        key: ("***" if _CREDENTIAL_KEYS.search(key) else value) for key, value in url.query.items()
    }
    return url.set(query=query).render_as_string(hide_password=True)


def describe(exc: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's background links."""
    original = getattr(exc, "orig", None)
    text = str(original if original is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def translated(exc: SQLAlchemyError, what: str = "state database error") -> StoreError:
    """One translation for every database failure: passing ones (the server is down or
    busy) are StoreUnavailable, exit 1; the rest StoreError, exit 2."""
    detail = describe(exc)
    if isinstance(exc, OperationalError | DBAPIError) and _PASSING.search(detail):
        return StoreUnavailable(f"{what}: {detail} (temporary: try again)")
    return StoreError(f"{what}: {detail}")


def _wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:  # e.g. a read-only file: keep its journal mode
        pass
    finally:
        cursor.close()


class Database:
    """Engine and sessions over one URL. Safe to share within a process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._reading: ContextVar[Session | None] = ContextVar(f"reading-{id(self)}", default=None)
        parsed = parse_url(url)
        self.parsed = parsed
        self.backend = parsed.get_backend_name()
        if self.backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
            folder = Path(parsed.database or "").expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the folder of the state database {folder}: "
                    f"{exc.strerror or exc}; set SYNCBOT_DATABASE_URL to a writable place"
                ) from None
        # SQLite: the daemon writes from several threads (and `digest --post` may run beside
        # it); wait up to 30 s for another writer's transaction rather than fail at 5 s.
        options: dict[str, Any] = {"connect_args": {"timeout": 30}} if self.is_sqlite else {}
        if not self.is_sqlite:
            options["pool_pre_ping"] = True
        try:
            self.engine: Engine = create_engine(url, **options)
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise StoreError(
                f"cannot open the state database {masked(parsed)}: no driver for it "
                f"({describe(exc)}); for PostgreSQL install syncbot[postgres]"
            ) from None
        except (SQLAlchemyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"cannot open the state database {masked(parsed)}: {describe(exc)}"
            ) from None
        if self.is_sqlite and parsed.database not in (None, "", ":memory:"):
            # Write-ahead logging: readers (a slash answer, /healthz) never wait for a sync's
            # write transaction, and the writer does not wait for them.
            event.listen(self.engine, "connect", _wal)

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    @property
    def location(self) -> str:
        if self.is_sqlite and self.parsed.database:
            return str(Path(self.parsed.database).expanduser().resolve())
        return masked(self.parsed)

    def create_tables(self) -> None:
        """Create missing tables. Two processes starting on a fresh PostgreSQL race on the
        catalog; the loser retries once the winner is done."""
        for attempt in range(6):
            try:
                Base.metadata.create_all(self.engine)
                return
            except (IntegrityError, ProgrammingError, OperationalError) as exc:
                racing = isinstance(exc, IntegrityError | ProgrammingError) or _RACE.search(
                    describe(exc)
                )
                if attempt == 5 or not racing:
                    raise self._open_error(exc) from None
                time.sleep(0.05 * (attempt + 1))
            except SQLAlchemyError as exc:
                raise self._open_error(exc) from None

    def _open_error(self, exc: SQLAlchemyError) -> StoreError:
        return translated(exc, f"cannot open the state database {self.location}")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. Inside
        `reading()`, the reading's session (one transaction for several small reads)."""
        shared = self._reading.get()
        if shared is not None:
            yield shared
            return
        try:
            with Session(self.engine) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise translated(exc) from None

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Several reads in one transaction of this thread: one connection and one snapshot
        instead of one each (what a handful of small reads mostly cost). Only for reads:
        the block must not write."""
        if self._reading.get() is not None:
            yield
            return
        try:
            with Session(self.engine) as session, session.begin():
                token = self._reading.set(session)
                try:
                    yield
                finally:
                    self._reading.reset(token)
        except SQLAlchemyError as exc:
            raise translated(exc) from None

    def attempt(self, work: Callable[[Session], T]) -> T | None:
        """Run `work` in its own transaction; None when it lost a uniqueness race (another
        process wrote the same row first)."""
        try:
            with Session(self.engine) as session, session.begin():
                return work(session)
        except IntegrityError:
            return None
        except SQLAlchemyError as exc:
            raise translated(exc) from None

    def close(self) -> None:
        self.engine.dispose()
