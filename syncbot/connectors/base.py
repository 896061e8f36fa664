"""The one seam every tracker connector implements: `TicketSource.fetch`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from syncbot.domain import Ticket

ProgressCallback = Callable[[int, int], None]  # (tickets fetched so far, pages so far)


@dataclass(frozen=True)
class FetchResult:
    """What one fetch returned.

    `complete` means `tickets` is the whole current set for the source, so the store may drop
    tickets it holds that are absent (a reconcile). Otherwise `tickets` are changes to merge.
    `cursor` is the tracker's own latest `updated` timestamp seen (ISO 8601), never this
    machine's clock, so the next incremental fetch can ask for changes since then.
    """

    tickets: list[Ticket]
    complete: bool
    cursor: str | None
    skipped: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. "skipped 2 malformed tickets in p3.json"
    requests: int = 0
    pages: int = 0


class TicketSource(Protocol):
    """A tracker (or recording of one) that yields tickets.

    `fetch` returns each ticket at most once (latest version wins when a ticket appears on
    several pages), in no particular order. With `updated_since=None` or `full=True` it
    returns the complete set. Malformed tickets are skipped and counted, never raised.
    It raises `SourceError` subclasses when the source cannot be read at all, and
    `DataError` for recorded data that is not readable.
    """

    name: str

    def fetch(
        self,
        *,
        updated_since: str | None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult: ...
