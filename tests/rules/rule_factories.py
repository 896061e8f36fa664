"""Builders for the rule tests: tickets, milestones and clients with only what a test cares about.

Every date is relative to `AS_OF` (2026-03-10, the SPEC §6 example's as-of date) unless a test
says otherwise, so a test reads as "due two days after as-of" rather than as raw calendar dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from syncbot.config import Client, Match, Milestone, Source
from syncbot.domain import DependencyState, MilestoneState, Progress, Status, StatusChange, Ticket

AS_OF = dt.date(2026, 3, 10)
UTC = ZoneInfo("UTC")
CHICAGO = ZoneInfo("America/Chicago")
CREATED = dt.datetime(2026, 1, 5, 15, 0, tzinfo=dt.UTC)  # well before any baseline used here
PLANNED = AS_OF + dt.timedelta(days=14)  # default planned date: two weeks after as-of

_STATUS_NAME = {
    Progress.TODO: "To Do",
    Progress.IN_PROGRESS: "In Progress",
    Progress.DONE: "Done",
    Progress.EXCLUDED: "Won't Do",
}


def day(offset: int, base: dt.date = AS_OF) -> dt.date:
    """The date `offset` days after `base` (before it when negative)."""
    return base + dt.timedelta(days=offset)


def moment(date: dt.date, hour: int = 12, minute: int = 0, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """An aware datetime on `date` at `hour:minute` in `tz`."""
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=tz)


def ticket(
    key: str,
    *,
    progress: Progress = Progress.TODO,
    tracker: str = "jira",
    due: dt.date | None = None,
    completed: dt.datetime | None = None,
    created: dt.datetime = CREATED,
    labels: Iterable[str] = (),
    history: Iterable[tuple[dt.datetime, str]] = (),
    **fields: Any,
) -> Ticket:
    """A ticket; a done one completes the day before as-of unless `completed` says otherwise.

    `history` is a list of (when, status entered) pairs.
    """
    if progress is Progress.DONE and completed is None:
        completed = moment(day(-1))
    changes = tuple(StatusChange(at, None, status) for at, status in history)
    fields.setdefault("title", f"Title of {key}")
    fields.setdefault("status", _STATUS_NAME[progress])
    moments = [created, *(c.at for c in changes), *([completed] if completed else [])]
    fields.setdefault("updated", max(moments))
    return Ticket(
        key=key,
        tracker=tracker,
        progress=progress,
        created=created,
        completed=completed,
        due=due,
        labels=tuple(labels),
        history=changes,
        **fields,
    )


def milestone(
    id: str = "2.1",
    *,
    planned: dt.date = PLANNED,
    match: dict[str, str] | None = None,
    name: str | None = None,
    phase: str = "Build",
    weight: float = 1,
) -> Milestone:
    """A milestone matching label `m-<id>` unless `match` says otherwise."""
    return Milestone(
        id=id,
        name=name or f"Milestone {id}",
        phase=phase,
        planned=planned,
        owner="Priya Shah",
        match=Match(**(match or {"label": f"m-{id}"})),
        weight=weight,
    )


def client(*milestones: Milestone, **settings: Any) -> Client:
    """A client with a Jira and a Linear source and the given milestones."""
    return Client(
        id="acme",
        name="Acme Corp",
        internal_channel="C0INTERNAL",
        client_channel="C0ACMECLIENT",
        sources=[Source(kind="jira", project="ACME"), Source(kind="linear", team="ENG")],
        milestones=list(milestones),
        **settings,
    )


def dependency(
    key: str = "ACME-40",
    *,
    due: dt.date | None = None,
    as_of: dt.date = AS_OF,
    blocks: tuple[str, ...] = ("2.1",),
) -> DependencyState:
    """An open client dependency as the dependency rule would report it."""
    since = day(-8, as_of)
    return DependencyState(
        key=key,
        summary=f"Title of {key}",
        owner="Dana Client",
        owner_email="dana@acme.example",
        due=due,
        blocked_since=since,
        days_blocked=(as_of - since).days,
        blocks=blocks,
        impact_statement="",
        overdue=due is not None and due < as_of,
    )


def milestone_state(
    id: str = "2.1",
    *,
    status: Status = Status.ON_TRACK,
    planned: dt.date = PLANNED,
    forecast: dt.date | None = None,
    phase: str = "Build",
    weight: float = 1,
    started: bool = False,
    name: str | None = None,
) -> MilestoneState:
    """A computed milestone, for rules that consume milestone states (warnings, earned value).

    A done milestone gets an actual date and no forecast; an open one forecasts its planned
    date unless `forecast` is given.
    """
    done = status is Status.DONE
    return MilestoneState(
        id=id,
        name=name or f"Milestone {id}",
        phase=phase,
        planned=planned,
        forecast=None if done else (forecast or planned),
        actual=day(-1) if done else None,
        status=status,
        owner="Priya Shah",
        weight=weight,
        tickets_total=2,
        tickets_done=2 if done else 0,
        blocked_by=(),
        late_tickets=(),
        started=started or done,
    )
