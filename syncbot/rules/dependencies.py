"""Client dependencies: open tickets the client owns that hold up milestones (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from syncbot import messages
from syncbot.domain import DependencyState, Ticket
from syncbot.rules.dates import days, local_date


def is_dependency(ticket: Ticket, labels: Sequence[str]) -> bool:
    return ticket.is_open and ticket.has_label(labels)


def blocked_since(
    ticket: Ticket, keywords: Sequence[str], tz: ZoneInfo, as_of: dt.date
) -> dt.date | None:
    """When it last entered a blocked/waiting status; else, once overdue, the day after its
    due date; else None: it is not blocking yet (SPEC §4 v2)."""
    wanted = [k.casefold() for k in keywords]
    entered = [c.at for c in ticket.history if any(k in c.to_status.casefold() for k in wanted)]
    if entered:
        return local_date(max(entered), tz)
    if ticket.due is not None and ticket.due < as_of:
        return ticket.due + days(1)
    return None


def forecast_floor(dependency: DependencyState, as_of: dt.date) -> dt.date:
    """Earliest date blocked work can finish: the day after the due date, or after today
    when the dependency is overdue or has no due date."""
    due = dependency.due if dependency.due and dependency.due >= as_of else as_of
    return due + days(1)


def dependencies(
    tickets: Sequence[Ticket],
    membership: Mapping[str, Sequence[Ticket]],
    names: Mapping[str, str],
    *,
    labels: Sequence[str],
    blocked_keywords: Sequence[str],
    tz: ZoneInfo,
    as_of: dt.date,
) -> list[DependencyState]:
    """Every open client dependency, with the milestones it blocks and its impact.

    A dependency blocks the milestones holding open tickets linked to it as "is blocked by"
    (from either end of the link), plus the milestones it belongs to itself.
    `membership` maps milestone id -> its tickets, in milestone order; `names` id -> name.
    Work is indexed by ticket key once, so this is linear in tickets and links.
    """
    blocked_by_dep: dict[str, set[str]] = {}
    for ticket in tickets:
        for key in ticket.blocked_by:
            blocked_by_dep.setdefault(key, set()).add(ticket.key)
        for key in ticket.blocks:
            blocked_by_dep.setdefault(ticket.key, set()).add(key)
    order = {mid: n for n, mid in enumerate(membership)}
    open_in: dict[str, set[str]] = {}  # open ticket key -> milestone ids holding it
    started: set[str] = set()  # milestones with a ticket done
    for mid, members in membership.items():
        for t in members:
            if t.is_open:
                open_in.setdefault(t.key, set()).add(mid)
            elif t.is_done:
                started.add(mid)
    out = []
    for ticket in tickets:
        if not is_dependency(ticket, labels):
            continue
        held_up = blocked_by_dep.get(ticket.key, set()) | {ticket.key}
        # Only open tickets are held up: a linked ticket finished anyway is not blocked.
        hit = {mid for key in held_up for mid in open_in.get(key, ())}
        blocks = tuple(sorted(hit, key=order.__getitem__))
        since = blocked_since(ticket, blocked_keywords, tz, as_of)
        days_blocked = (as_of - since).days if since is not None and since <= as_of else 0
        out.append(
            DependencyState(
                key=ticket.key,
                summary=ticket.title,
                owner=ticket.assignee_name,
                owner_email=ticket.assignee_email,
                due=ticket.due,
                blocked_since=since,
                days_blocked=days_blocked,
                blocks=blocks,
                impact_statement=messages.impact_statement(
                    [names[m] for m in blocks if m not in started],
                    [names[m] for m in blocks if m in started],
                    ticket.title,
                    since=since,
                    days_blocked=days_blocked,
                    due=ticket.due,
                ),
                overdue=ticket.due is not None and ticket.due < as_of,
                url=ticket.url,
            )
        )
    return sorted(out, key=lambda d: (d.due or dt.date.max, d.key))
