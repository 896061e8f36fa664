"""Linear: translation of GraphQL `Issue` nodes into `Ticket`s.

`to_ticket` is pure and shared by the `linear-export` source and the live connector.
`ISSUE_FIELDS` is the selection both the live query and the export format rely on.
"""

from __future__ import annotations

from typing import Any

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

ISSUE_FIELDS = """
    id identifier title description url
    state { name type }
    dueDate createdAt updatedAt completedAt canceledAt estimate
    assignee { name email }
    labels { nodes { name } }
    projectMilestone { id name targetDate }
    project { id name }
    relations { nodes { type relatedIssue { id identifier } } }
    inverseRelations { nodes { type issue { id identifier } } }
    history(first: 50) { nodes { createdAt fromState { name } toState { name } } }
"""
_STATE = {"triage": Progress.TODO, "backlog": Progress.TODO, "unstarted": Progress.TODO,
          "started": Progress.IN_PROGRESS, "completed": Progress.DONE,
          "canceled": Progress.EXCLUDED, "duplicate": Progress.EXCLUDED}


def to_ticket(raw: Any) -> Ticket:
    """Translate one `Issue` node; raise MalformedTicket if unusable."""
    key = need(raw, "identifier", "issue")
    if not isinstance(key, str):
        raise MalformedTicket(f"issue: identifier is not a string: {key!r}")
    state = need(raw, "state", key)
    state_type = need(state, "type", f"{key}.state")
    if state_type not in _STATE:
        raise MalformedTicket(f"{key}.state.type: unknown state type {state_type!r}")
    progress = _STATE[state_type]
    if raw.get("canceledAt") and progress is not Progress.DONE:
        progress = Progress.EXCLUDED
    completed = None
    if progress is Progress.DONE:
        completed = optional_timestamp(raw.get("completedAt"), f"{key}.completedAt") or \
            timestamp(need(raw, "updatedAt", key), f"{key}.updatedAt")
    assignee = obj(raw.get("assignee"))
    blocks = tuple(
        obj(rel.get("relatedIssue")).get("identifier")
        for rel in _nodes(raw.get("relations")) if rel.get("type") == "blocks"
    )
    blocked_by = tuple(
        obj(rel.get("issue")).get("identifier")
        for rel in _nodes(raw.get("inverseRelations")) if rel.get("type") == "blocks"
    )
    return Ticket(
        key=key,
        tracker="linear",
        title=str(raw.get("title") or ""),
        status=str(state.get("name") or state_type),
        progress=progress,
        created=timestamp(need(raw, "createdAt", key), f"{key}.createdAt"),
        updated=timestamp(need(raw, "updatedAt", key), f"{key}.updatedAt"),
        completed=completed,
        due=optional_date(raw.get("dueDate"), f"{key}.dueDate"),
        labels=names(_nodes(raw.get("labels"))),
        linear_milestone=obj(raw.get("projectMilestone")).get("name"),
        project=obj(raw.get("project")).get("name"),
        assignee_name=assignee.get("name"),
        assignee_email=assignee.get("email"),
        description=str(raw.get("description") or ""),
        url=raw.get("url") if isinstance(raw.get("url"), str) else None,
        blocked_by=tuple(k for k in blocked_by if isinstance(k, str)),
        blocks=tuple(k for k in blocks if isinstance(k, str)),
        history=_history(raw, key),
    )


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = obj(connection).get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _history(raw: dict[str, Any], key: str) -> tuple[StatusChange, ...]:
    changes = []
    for entry in _nodes(raw.get("history")):
        to_state = obj(entry.get("toState")).get("name")
        if to_state and entry.get("createdAt"):
            at = timestamp(entry["createdAt"], f"{key}.history")
            changes.append(StatusChange(at, obj(entry.get("fromState")).get("name"), to_state))
    return tuple(sorted(changes, key=lambda c: c.at))
