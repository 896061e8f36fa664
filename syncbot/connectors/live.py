"""What the live connectors share: turning pages of raw issues into one `FetchResult`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from syncbot.connectors.base import FetchResult, ProgressCallback
from syncbot.connectors.parsing import MalformedTicket, timestamp
from syncbot.domain import Ticket

logger = logging.getLogger(__name__)


class Pages:
    """Translates page after page; a ticket seen twice keeps its latest update, a malformed
    one is skipped and counted, and `progress` hears after every page."""

    def __init__(
        self, translate: Callable[[Any], Ticket], progress: ProgressCallback | None = None
    ) -> None:
        self.translate = translate
        self.progress = progress
        self.latest: dict[str, Ticket] = {}
        self.problems: list[str] = []
        self.pages = 0

    def add(self, issues: Iterable[Any]) -> None:
        self.pages += 1
        for raw in issues:
            try:
                ticket = self.translate(raw)
            except MalformedTicket as exc:
                self.problems.append(str(exc))
                continue
            held = self.latest.get(ticket.key)
            if held is None or ticket.updated >= held.updated:
                self.latest[ticket.key] = ticket
        if self.progress:
            self.progress(len(self.latest), self.pages)

    def result(self, *, complete: bool, requests: int) -> FetchResult:
        """The cursor is the latest `updated` the tracker sent, in the offset it sent it."""
        cursor = max((t.updated for t in self.latest.values()), default=None)
        notes = []
        if self.problems:
            n = len(self.problems)
            shown = "; ".join(self.problems[:3]) + ("; ..." if n > 3 else "")
            notes.append(f"skipped {n} malformed ticket{'s' * (n != 1)} ({shown})")
        return FetchResult(
            tickets=list(self.latest.values()),
            complete=complete,
            cursor=cursor.isoformat() if cursor else None,
            skipped=len(self.problems),
            notes=notes,
            requests=requests,
            pages=self.pages,
        )


def since(updated_since: str | None, full: bool, source: str) -> dt.datetime | None:
    """The stored cursor as a datetime, or None for a full fetch (also when it is unreadable)."""
    if full or updated_since is None:
        return None
    try:
        return timestamp(updated_since, "cursor")
    except MalformedTicket:
        logger.warning(
            "%s: stored cursor %r is not a timestamp; fetching everything", source, updated_since
        )
        return None
