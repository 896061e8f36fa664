"""`jira-export` and `linear-export` sources: recorded API response pages read from files.

Each file is one response page exactly as the tracker returns it (SPEC §5); tickets go through
the same `to_ticket` translation, and the same paging code (`live.Pages`), as the live
connectors. Every fetch reads every file. A recorded list that says it was cut short (a Jira
changelog whose `total` exceeds its histories, a Linear list whose `pageInfo.hasNextPage` is
true) cannot be completed offline: the notes say so.

A fetch is complete (the store may drop tickets absent from it) only when the files hold
every page: no gap in the page numbering of the file names (page-1, page-3: page-2 is
missing), consecutive `startAt` offsets (Data Center search pages), and a last file that does
not say more pages follow (Jira `nextPageToken` / `isLast: false` / `total`, Linear
`pageInfo.hasNextPage`). Otherwise the tickets read are merged and the notes say what is
missing, so a lost file never deletes tickets.

`project` keeps only the tickets of one Jira project key (`fields.project.key`, else the key's
prefix) or Linear project name; `team` (Linear) keeps one team's tickets, read from the
identifier's prefix (`ENG-12`: Linear identifiers start with the team key). JQL cannot be
evaluated over a recording, so a `jql` is refused by the configuration check.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncbot.connectors import jira, linear, live
from syncbot.connectors.base import FetchResult, ProgressCallback
from syncbot.connectors.parsing import UnreadableJson, loads
from syncbot.domain import Ticket
from syncbot.errors import DataError

_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Page:
    """One export file: its issues, and what it says about the pages around it."""

    issues: list[Any]
    more: str | None = None  # why this page says another follows, e.g. "nextPageToken"
    start: int | None = None  # Data Center search offset (`startAt`), when recorded


class ExportSource:
    """Reads every page file on each fetch; duplicates across pages keep the latest update."""

    def __init__(
        self,
        name: str,
        kind: str,
        files: Sequence[Path],
        translate: Callable[[Any], Ticket],
        *,
        keep: Callable[[Ticket], bool] | None = None,
        scope: str | None = None,
        cut_lists: Callable[[Any], list[str]] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.files = list(files)
        self.translate = translate
        self.keep = keep
        self.cut_lists = cut_lists  # which lists of a raw issue the recording cut short
        self.scope = scope  # what `keep` keeps, for the note, e.g. "project 'ACME'"

    def fetch(
        self,
        *,
        updated_since: str | None = None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        if not self.files:
            raise DataError(f"{self.name}: no export files found")
        pages = live.Pages(self.translate, progress, keep=self.keep, scope=self.scope)
        read = []
        cut: dict[str, str] = {}  # ticket key -> the lists recorded only in part
        for path in self.files:
            page = self.read(path)
            pages.add(page.issues, label=path.name)
            # Only what the page-numbering check needs: holding every raw issue until the
            # end would double a large export's memory.
            read.append((path, Page([None] * len(page.issues), page.more, page.start)))
            if self.cut_lists is not None:
                for raw in page.issues:
                    lists = self.cut_lists(raw)
                    if lists and (key := live.raw_key(raw)):
                        cut[key] = ", ".join(lists)
        missing = _missing_pages(read)
        for line in missing:
            pages.note(line)
        if cut:
            # Offline there is no follow-up request: say so rather than judge silently.
            n = len(cut)
            shown = "; ".join(f"{key}: {what}" for key, what in list(cut.items())[:3])
            pages.note(
                f"{n} ticket{'s' * (n != 1)} recorded with lists cut short ({shown}"
                f"{'; ...' if n > 3 else ''}): judged on the part recorded"
            )
        return pages.result(complete=not missing, requests=0)

    def read(self, path: Path) -> Page:
        """One page file; DataError (one line naming the file) when it cannot be used."""
        try:
            data = loads(path.read_bytes())
        except OSError as exc:
            raise DataError(f"{path}: cannot read export file: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: not valid JSON ({exc})") from exc
        except UnreadableJson as exc:
            raise DataError(f"{path}: not usable JSON ({exc})") from exc
        if self.kind == "jira-export":
            return _jira_page(data, path)
        return _linear_page(data, path)


def _jira_page(data: Any, path: Path) -> Page:
    issues = data.get("issues") if isinstance(data, dict) else None
    if not isinstance(issues, list):
        raise DataError(f"{path}: not a Jira search response (expected an 'issues' list)")
    assert isinstance(data, dict)
    more = None
    token = data.get("nextPageToken")
    start = data.get("startAt")
    total = data.get("total")
    if isinstance(token, str) and token:
        more = "nextPageToken"
    elif data.get("isLast") is False:
        more = "isLast: false"
    elif isinstance(start, int) and isinstance(total, int) and start + len(issues) < total:
        more = f"startAt {start} + {len(issues)} issues < total {total}"
    return Page(issues, more, start if isinstance(start, int) else None)


def _linear_page(data: Any, path: Path) -> Page:
    payload = data.get("data") if isinstance(data, dict) else None
    connection = payload.get("issues") if isinstance(payload, dict) else None
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    if not isinstance(nodes, list):
        raise DataError(f"{path}: not a Linear issues response (expected data.issues.nodes)")
    assert isinstance(connection, dict)
    info = connection.get("pageInfo")
    more = None
    if isinstance(info, dict) and info.get("hasNextPage") is True:
        more = "pageInfo.hasNextPage: true"
    return Page(nodes, more)


def _missing_pages(read: list[tuple[Path, Page]]) -> list[str]:
    """What the files say is missing, one line each; empty when they hold every page."""
    problems = []
    names = _numbering_gaps([path for path, _ in read])
    if names:
        listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        problems.append(f"page file{'s' * (len(names) != 1)} {listed} missing")
    for (before, previous), (path, page) in itertools.pairwise(read):
        if previous.start is not None and page.start is not None:
            expected = previous.start + len(previous.issues)
            if page.start != expected:
                problems.append(
                    f"{path.name} starts at issue {page.start}, but {before.name} ends at "
                    f"{expected}: a page is missing"
                )
    last, page = read[-1]
    if page.more:
        problems.append(f"{last.name}, the last file, says more pages follow ({page.more})")
    if problems:
        problems[-1] += "; not a complete read, so no stored ticket is dropped"
    return problems


def _numbering_gaps(files: list[Path]) -> list[str]:
    """Names of the page files missing from a numbered run (page-1, page-3: page-2.json).

    Only when every file name is the same but for its last number; a run starts at 0 or 1.
    """
    shapes = []
    for path in files:
        found = list(_NUMBER.finditer(path.name))
        if not found:
            return []
        number = found[-1]
        shapes.append((path.name[: number.start()], number.group(), path.name[number.end() :]))
    if len({(head, tail) for head, _, tail in shapes}) != 1:
        return []
    head, _, tail = shapes[0]
    numbers = sorted({int(digits) for _, digits, _ in shapes})
    padded = next((len(d) for _, d, _ in shapes if len(d) > 1 and d.startswith("0")), 0)
    first = 0 if numbers[0] == 0 else 1
    present = set(numbers)
    return [f"{head}{n:0{padded}d}{tail}" for n in range(first, numbers[-1]) if n not in present]


def jira_export(
    name: str,
    files: Sequence[Path],
    *,
    excluded_resolutions: list[str],
    epic_link_field: str | None,
    project: str | None = None,
) -> ExportSource:
    epic_fields = (epic_link_field,) if epic_link_field else jira.DEFAULT_EPIC_LINK_FIELDS

    def translate(raw: Any) -> Ticket:
        return jira.to_ticket(
            raw, excluded_resolutions=excluded_resolutions, epic_link_fields=epic_fields
        )

    def in_project(ticket: Ticket) -> bool:
        return (ticket.project or ticket.key.rsplit("-", 1)[0]) == project

    return ExportSource(
        name,
        "jira-export",
        files,
        translate,
        keep=in_project if project else None,
        scope=f"project {project!r}",
        cut_lists=lambda raw: ["changelog"] if jira.changelog_cut(raw) else [],
    )


def linear_export(
    name: str, files: Sequence[Path], *, project: str | None = None, team: str | None = None
) -> ExportSource:
    def in_scope(ticket: Ticket) -> bool:
        return (project is None or ticket.project == project) and (
            team is None or ticket.key.rsplit("-", 1)[0] == team
        )

    scope = " and ".join(
        part
        for part in (f"project {project!r}" if project else "", f"team {team!r}" if team else "")
        if part
    )
    return ExportSource(
        name,
        "linear-export",
        files,
        linear.to_ticket,
        keep=in_scope if (project or team) else None,
        scope=scope or None,
        cut_lists=linear.cut_lists,
    )
