"""Jira: translation of REST v3 (Cloud) and v2 (Data Center) issues into `Ticket`s.

`to_ticket` is pure and shared by the `jira-export` source and the live connector, so both
map tickets identically.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from syncbot.connectors.adf import adf_to_text
from syncbot.connectors.parsing import (
    MalformedTicket,
    names,
    need,
    obj,
    optional_date,
    optional_timestamp,
    timestamp,
)
from syncbot.domain import Progress, StatusChange, Ticket

# Only what the rules and the internal digest need; the live connector asks for exactly these.
FIELDS = (
    "summary", "status", "resolution", "resolutiondate", "statuscategorychangedate",
    "created", "updated", "duedate", "labels", "parent", "fixVersions", "components",
    "issuelinks", "assignee", "description", "project",
)
DEFAULT_EPIC_LINK_FIELDS = ("customfield_10014",)
_CATEGORY = {"new": Progress.TODO, "undefined": Progress.TODO,
             "indeterminate": Progress.IN_PROGRESS, "done": Progress.DONE}


def to_ticket(
    raw: Any,
    *,
    excluded_resolutions: Iterable[str] = ("Won't Do", "Duplicate"),
    epic_link_fields: Iterable[str] = DEFAULT_EPIC_LINK_FIELDS,
    browse_url: str | None = None,
) -> Ticket:
    """Translate one issue object from a search response; raise MalformedTicket if unusable."""
    key = need(raw, "key", "issue")
    if not isinstance(key, str):
        raise MalformedTicket(f"issue: key is not a string: {key!r}")
    fields = need(raw, "fields", key)
    status = need(fields, "status", key)
    status_name = need(status, "name", f"{key}.status")
    resolution = obj(fields.get("resolution")).get("name")
    progress = _progress(status, resolution, excluded_resolutions)
    history = _status_history(raw, key)
    completed = None
    if progress is Progress.DONE:
        completed = (
            optional_timestamp(fields.get("resolutiondate"), f"{key}.resolutiondate")
            or optional_timestamp(fields.get("statuscategorychangedate"), key)
            or next((c.at for c in reversed(history) if c.to_status == status_name), None)
            or timestamp(need(fields, "updated", key), f"{key}.updated")
        )
    assignee = obj(fields.get("assignee"))
    blocked_by, blocks = _block_links(fields.get("issuelinks"))
    return Ticket(
        key=key,
        tracker="jira",
        title=str(fields.get("summary") or ""),
        status=str(status_name),
        progress=progress,
        created=timestamp(need(fields, "created", key), f"{key}.created"),
        updated=timestamp(need(fields, "updated", key), f"{key}.updated"),
        completed=completed,
        due=optional_date(fields.get("duedate"), f"{key}.duedate"),
        labels=names(fields.get("labels")),
        parent=_parent(fields, epic_link_fields),
        fix_versions=names(fields.get("fixVersions")),
        components=names(fields.get("components")),
        project=obj(fields.get("project")).get("key"),
        assignee_name=assignee.get("displayName"),
        assignee_email=assignee.get("emailAddress"),
        description=adf_to_text(fields.get("description")),
        url=f"{browse_url.rstrip('/')}/browse/{key}" if browse_url else None,
        blocked_by=blocked_by,
        blocks=blocks,
        history=history,
    )


def _progress(status: dict[str, Any], resolution: Any, excluded: Iterable[str]) -> Progress:
    if isinstance(resolution, str) and _norm(resolution) in {_norm(r) for r in excluded}:
        return Progress.EXCLUDED
    category = obj(status.get("statusCategory")).get("key")
    if category in _CATEGORY:
        return _CATEGORY[category]
    # Some payloads omit the category; a resolution is Jira's other "done" signal.
    return Progress.DONE if resolution else Progress.TODO


def _norm(text: str) -> str:
    return text.replace("\u2019", "'").casefold().strip()


def _parent(fields: dict[str, Any], epic_link_fields: Iterable[str]) -> str | None:
    parent = obj(fields.get("parent")).get("key")
    if isinstance(parent, str):
        return parent
    for field in epic_link_fields:  # Data Center: Epic Link custom field holds the epic key
        value = fields.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _block_links(links: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(keys blocking this issue, keys this issue blocks) from `issuelinks`.

    On issue X, a Blocks link with `inwardIssue: Y` reads "X is blocked by Y"; with
    `outwardIssue: Y` it reads "X blocks Y" (Jira labels each end with the type's text).
    """
    blocked_by: list[str] = []
    blocks: list[str] = []
    for link in links if isinstance(links, list) else []:
        kind = obj(obj(link).get("type"))
        if kind.get("name") != "Blocks" and "blocked by" not in str(kind.get("inward", "")):
            continue
        inward = obj(link.get("inwardIssue")).get("key")
        outward = obj(link.get("outwardIssue")).get("key")
        if isinstance(inward, str):
            blocked_by.append(inward)
        if isinstance(outward, str):
            blocks.append(outward)
    return tuple(blocked_by), tuple(blocks)


def _status_history(raw: dict[str, Any], key: str) -> tuple[StatusChange, ...]:
    changes = []
    histories = obj(raw.get("changelog")).get("histories")
    for entry in histories if isinstance(histories, list) else []:
        entry = obj(entry)
        if not entry.get("created"):
            continue
        at = timestamp(entry["created"], f"{key}.changelog")
        for item in entry.get("items") or []:
            item = obj(item)
            if item.get("field") == "status" and item.get("toString"):
                changes.append(StatusChange(at, item.get("fromString"), str(item["toString"])))
    return tuple(sorted(changes, key=lambda c: c.at))
