"""Which tickets belong to which milestone (SPEC §4, first bullet)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from syncbot.config import Milestone
from syncbot.domain import Progress, Ticket


def matches(ticket: Ticket, key: str, value: str) -> bool:
    """True when a milestone's `match = {key = value}` selects `ticket` (the definition the
    index of `membership` implements; tests hold them to each other)."""
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
    return membership([milestone], tickets)[milestone.id]


def _selectors(ticket: Ticket) -> Iterator[tuple[str, str]]:
    """Every (match key, normalised value) that selects `ticket` (what `matches` accepts)."""
    if ticket.tracker == "jira":
        if ticket.parent is not None:
            yield "epic", ticket.parent
        for version in ticket.fix_versions:
            yield "fix_version", version
        for component in ticket.components:
            yield "component", component
    if ticket.tracker == "linear" and ticket.linear_milestone is not None:
        yield "linear_milestone", ticket.linear_milestone.casefold()
    for label in dict.fromkeys(label.casefold() for label in ticket.labels):
        yield "label", label


def membership(
    milestones: Sequence[Milestone], tickets: Iterable[Ticket]
) -> dict[str, list[Ticket]]:
    """Milestone id -> its tickets (as `members`), from one pass that indexes every ticket by
    what selects it: linear in tickets, whatever the number of milestones."""
    index: dict[tuple[str, str], list[Ticket]] = {}
    for ticket in tickets:
        if ticket.progress is Progress.EXCLUDED:
            continue
        for selector in dict.fromkeys(_selectors(ticket)):
            index.setdefault(selector, []).append(ticket)
    out = {}
    for milestone in milestones:
        key, value = milestone.match.selector()
        wanted = value.casefold() if key in ("label", "linear_milestone") else value
        out[milestone.id] = list(index.get((key, wanted), ()))
    return out
