"""`jira-export` and `linear-export` sources: recorded API response pages read from files.

Each file is one response page exactly as the tracker returns it (SPEC §5); tickets go through
the same `to_ticket` translation as the live connectors. Every fetch is a full snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from syncbot.connectors import jira, linear
from syncbot.connectors.base import FetchResult, ProgressCallback
from syncbot.connectors.parsing import MalformedTicket
from syncbot.domain import Ticket
from syncbot.errors import DataError


class ExportSource:
    """Reads every page file on each fetch; duplicates across pages keep the latest update."""

    def __init__(
        self, name: str, kind: str, files: list[Path], translate: Callable[[Any], Ticket]
    ) -> None:
        self.name = name
        self.kind = kind
        self.files = files
        self.translate = translate

    def fetch(
        self,
        *,
        updated_since: str | None = None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        if not self.files:
            raise DataError(f"{self.name}: no export files found")
        latest: dict[str, Ticket] = {}
        skipped = 0
        notes = []
        for page, path in enumerate(self.files, start=1):
            nodes = self._nodes(path)
            bad = 0
            for node in nodes:
                try:
                    ticket = self.translate(node)
                except MalformedTicket:
                    bad += 1
                    continue
                held = latest.get(ticket.key)
                if held is None or ticket.updated >= held.updated:
                    latest[ticket.key] = ticket
            if bad:
                skipped += bad
                notes.append(f"skipped {bad} malformed ticket{'s' * (bad != 1)} in {path.name}")
            if progress:
                progress(len(latest), page)
        cursor = max((t.updated for t in latest.values()), default=None)
        return FetchResult(
            tickets=list(latest.values()),
            complete=True,
            cursor=cursor.isoformat() if cursor else None,
            skipped=skipped,
            notes=notes,
            requests=0,
            pages=len(self.files),
        )

    def _nodes(self, path: Path) -> list[Any]:
        try:
            data = json.loads(path.read_bytes())
        except OSError as exc:
            raise DataError(f"{path}: cannot read export file: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from exc
        if self.kind == "jira-export":
            issues = data.get("issues") if isinstance(data, dict) else None
            if not isinstance(issues, list):
                raise DataError(f"{path}: not a Jira search response (expected an 'issues' list)")
            return issues
        payload = data.get("data") if isinstance(data, dict) else None
        connection = payload.get("issues") if isinstance(payload, dict) else None
        nodes = connection.get("nodes") if isinstance(connection, dict) else None
        if not isinstance(nodes, list):
            raise DataError(f"{path}: not a Linear issues response (expected data.issues.nodes)")
        return nodes


def jira_export(
    name: str, files: list[Path], *, excluded_resolutions: list[str], epic_link_field: str | None
) -> ExportSource:
    epic_fields = (epic_link_field,) if epic_link_field else jira.DEFAULT_EPIC_LINK_FIELDS

    def translate(raw: Any) -> Ticket:
        return jira.to_ticket(
            raw, excluded_resolutions=excluded_resolutions, epic_link_fields=epic_fields
        )

    return ExportSource(name, "jira-export", files, translate)


def linear_export(name: str, files: list[Path]) -> ExportSource:
    return ExportSource(name, "linear-export", files, linear.to_ticket)
