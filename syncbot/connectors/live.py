"""What every connector shares: turning pages of raw issues into one `FetchResult`.

The live connectors and the export sources both feed their pages through `Pages`, so
deduplication, skipping, filtering and progress work the same for a tracker and its recording.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from syncbot.connectors.base import FetchResult, ProgressCallback
from syncbot.connectors.parsing import MalformedTicket, timestamp
from syncbot.domain import Ticket

logger = logging.getLogger(__name__)


def raw_key(raw: Any) -> str | None:
    """A raw issue's key (Jira `key`, Linear `identifier`) when it has a readable one."""
    if isinstance(raw, dict):
        for name in ("key", "identifier"):
            value = raw.get(name)
            if isinstance(value, str) and value:
                return value
    return None


class Pages:
    """Translates page after page: a ticket seen twice keeps its latest update, a malformed
    one is skipped and counted (and its key kept, when readable), and `progress` hears
    after every page.

    `keep` filters the final set (after deduplication, so the latest version decides); what
    it drops is counted in a note naming the `scope` it keeps. A page added with a `label`
    (an export file name) has its skipped tickets reported per label; `note` adds a line of
    the caller's own.
    """

    def __init__(
        self,
        translate: Callable[[Any], Ticket],
        progress: ProgressCallback | None = None,
        *,
        keep: Callable[[Ticket], bool] | None = None,
        scope: str | None = None,
    ) -> None:
        self.translate = translate
        self.progress = progress
        self.keep = keep
        self.scope = scope  # what `keep` keeps, e.g. "project 'ACME'"
        self.latest: dict[str, Ticket] = {}
        self.problems: list[tuple[str | None, str]] = []  # (page label, what was wrong)
        self.skipped_keys: dict[str, None] = {}  # an ordered set
        self.notes: list[str] = []
        self.pages = 0

    def add(self, issues: Iterable[Any], *, label: str | None = None) -> None:
        self.pages += 1
        for raw in issues:
            try:
                ticket = self.translate(raw)
            except MalformedTicket as exc:
                self.problems.append((label, str(exc)))
                key = raw_key(raw)
                if key is not None:
                    self.skipped_keys[key] = None
                continue
            held = self.latest.get(ticket.key)
            if held is None or ticket.updated >= held.updated:
                self.latest[ticket.key] = ticket
        if self.progress:
            self.progress(len(self.latest), self.pages)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def result(
        self, *, complete: bool, requests: int, epic_link_field: str | None = None
    ) -> FetchResult:
        """The cursor is the latest `updated` the tracker sent, in the offset it sent it."""
        tickets = list(self.latest.values())
        notes = self._problem_notes() + self.notes
        if self.keep is not None:
            kept = [t for t in tickets if self.keep(t)]
            if n := len(tickets) - len(kept):
                notes.append(f"ignored {n} ticket{'s' * (n != 1)} outside {self.scope}")
            tickets = kept
        cursor = max((t.updated for t in self.latest.values()), default=None)
        # A key that came back readable on another page is not a skipped ticket.
        skipped_keys = tuple(k for k in self.skipped_keys if k not in self.latest)
        return FetchResult(
            tickets=tickets,
            complete=complete,
            cursor=cursor.isoformat() if cursor else None,
            skipped=len(self.problems),
            notes=notes,
            requests=requests,
            pages=self.pages,
            skipped_keys=skipped_keys,
            epic_link_field=epic_link_field,
        )

    def _problem_notes(self) -> list[str]:
        notes = []
        unlabelled = [p for label, p in self.problems if label is None]
        if unlabelled:
            n = len(unlabelled)
            shown = "; ".join(unlabelled[:3]) + ("; ..." if n > 3 else "")
            notes.append(f"skipped {n} malformed ticket{'s' * (n != 1)} ({shown})")
        labels = list(dict.fromkeys(label for label, _ in self.problems if label is not None))
        for label in labels:
            found = [p for where, p in self.problems if where == label]
            n = len(found)
            shown = "; ".join(found[:3]) + ("; ..." if n > 3 else "")
            notes.append(f"skipped {n} malformed ticket{'s' * (n != 1)} in {label} ({shown})")
        return notes


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
