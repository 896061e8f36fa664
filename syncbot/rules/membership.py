"""Which tickets belong to which milestone (SPEC §4, first bullet)."""

from __future__ import annotations

from collections.abc import Iterable

from syncbot.config import Milestone
from syncbot.domain import Progress, Ticket


def matches(ticket: Ticket, key: str, value: str) -> bool:
    """True when a milestone's `match = {key = value}` selects `ticket`."""
    if key == "epic":
        return ticket.tracker == "jira" and ticket.parent == value
    if key == "label":
        return ticket.has_label([value])
    if key == "fix_version":
        return ticket.tracker == "jira" and value in ticket.fix_versions
    if key == "component":
        return ticket.tracker == "jira" and value in ticket.components
    if key == "linear_milestone":
        return (
            ticket.tracker == "linear"
            and ticket.linear_milestone is not None
            and ticket.linear_milestone.casefold() == value.casefold()
        )
    raise ValueError(f"unknown match key {key!r}")


def members(milestone: Milestone, tickets: Iterable[Ticket]) -> list[Ticket]:
    """The milestone's tickets, excluded ones (canceled, Won't Do, Duplicate) left out."""
    key, value = milestone.match.selector()
    return [t for t in tickets if t.progress is not Progress.EXCLUDED and matches(t, key, value)]
