"""SPEC §4: milestone actual date, forecast, status boundaries and the early-warning rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rule_factories import (
    AS_OF,
    CHICAGO,
    PLANNED,
    UTC,
    client,
    day,
    dependency,
    milestone,
    moment,
    ticket,
)

from syncbot.config import Milestone
from syncbot.domain import DependencyState, MilestoneState, Progress, Status, Ticket
from syncbot.rules.membership import members
from syncbot.rules.milestones import milestone_state
from syncbot.rules.state import compute_state


def state_of(
    tickets: Sequence[Ticket],
    *,
    planned: dt.date = PLANNED,
    blockers: Sequence[DependencyState] = (),
    as_of: dt.date = AS_OF,
    tz: ZoneInfo = UTC,
) -> MilestoneState:
    """State of milestone 2.1 (label m-2.1) holding `tickets`."""
    m: Milestone = milestone(planned=planned)
    return milestone_state(m, members(m, tickets), blockers, as_of=as_of, tz=tz)


def open_ticket(key: str, due: dt.date | None = None, **fields: Any) -> Ticket:
    return ticket(key, progress=Progress.IN_PROGRESS, due=due, labels=["m-2.1"], **fields)


def done_ticket(key: str, completed: dt.datetime, **fields: Any) -> Ticket:
    return ticket(key, progress=Progress.DONE, completed=completed, labels=["m-2.1"], **fields)


# --- actual date -------------------------------------------------------------------------


def test_done_milestone_has_the_latest_completion_date_and_no_forecast() -> None:
    state = state_of(
        [
            done_ticket("ACME-1", moment(day(-9))),
            done_ticket("ACME-2", moment(day(-2))),
            done_ticket("ACME-3", moment(day(-5))),
        ]
    )

    assert state.status is Status.DONE
    assert state.actual == day(-2)
    assert state.forecast is None
    assert (state.tickets_total, state.tickets_done) == (3, 3)


def test_actual_date_is_the_completion_date_in_the_client_timezone() -> None:
    # 03:30 UTC on 6 March is still the evening of 5 March in Chicago.
    tickets = [
        done_ticket("ACME-1", dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)),
        done_ticket("ACME-2", dt.datetime(2026, 3, 6, 3, 30, tzinfo=dt.UTC)),
    ]

    assert state_of(tickets, tz=UTC).actual == dt.date(2026, 3, 6)
    assert state_of(tickets, tz=CHICAGO).actual == dt.date(2026, 3, 5)


def test_compute_state_dates_completion_in_the_configured_client_timezone() -> None:
    m = milestone()
    done = done_ticket("ACME-2", dt.datetime(2026, 3, 6, 3, 30, tzinfo=dt.UTC))

    chicago = compute_state(client(m, timezone="America/Chicago"), [done], as_of=AS_OF)

    assert chicago.milestones[0].actual == dt.date(2026, 3, 5)


def test_one_open_ticket_keeps_the_milestone_open() -> None:
    state = state_of([done_ticket("ACME-1", moment(day(-3))), open_ticket("ACME-2", day(2))])

    assert state.status is not Status.DONE
    assert state.actual is None
    assert state.forecast == day(2)
    assert (state.tickets_total, state.tickets_done) == (2, 1)


# --- milestones without tickets ----------------------------------------------------------


@pytest.mark.parametrize("planned_offset", [0, 1, 30])
def test_a_future_milestone_without_tickets_is_not_started(planned_offset: int) -> None:
    state = state_of([], planned=day(planned_offset))

    assert state.status is Status.NOT_STARTED
    assert state.forecast == day(planned_offset)
    assert state.actual is None
    assert state.tickets_total == 0


@pytest.mark.parametrize(
    ("planned_offset", "expected"),
    [(-1, Status.AT_RISK), (-7, Status.AT_RISK), (-8, Status.DELAYED), (-30, Status.DELAYED)],
)
def test_a_past_milestone_without_tickets_is_never_done_and_follows_the_ladder(
    planned_offset: int, expected: Status
) -> None:
    """Nothing was delivered and the planned date has passed: the forecast is today."""
    state = state_of([], planned=day(planned_offset))

    assert state.forecast == AS_OF
    assert state.actual is None
    assert state.status is expected


# --- forecast ----------------------------------------------------------------------------


def test_forecast_is_the_latest_open_ticket_due_date() -> None:
    state = state_of(
        [
            open_ticket("ACME-1", day(3)),
            open_ticket("ACME-2", day(9)),
            open_ticket("ACME-3", day(1)),
        ]
    )

    assert state.forecast == day(9)


def test_forecast_ignores_the_due_dates_of_done_tickets() -> None:
    state = state_of(
        [done_ticket("ACME-1", moment(day(-1)), due=day(30)), open_ticket("ACME-2", day(4))]
    )

    assert state.forecast == day(4)


def test_an_open_ticket_without_a_due_date_counts_as_the_as_of_date() -> None:
    """Some due dates present: the undated ticket counts as today, not as the planned date."""
    state = state_of([open_ticket("ACME-1", day(-6)), open_ticket("ACME-2")], planned=day(20))

    assert state.forecast == AS_OF


def test_an_overdue_open_ticket_counts_as_the_as_of_date() -> None:
    state = state_of([open_ticket("ACME-1", day(-4))])

    assert state.forecast == AS_OF


def test_open_tickets_all_without_due_dates_forecast_the_planned_date() -> None:
    state = state_of([open_ticket("ACME-1"), open_ticket("ACME-2")], planned=day(12))

    assert state.forecast == day(12)
    assert state.status is Status.ON_TRACK


def test_open_tickets_all_without_due_dates_forecast_as_of_once_planned_has_passed() -> None:
    state = state_of([open_ticket("ACME-1"), open_ticket("ACME-2")], planned=day(-3))

    assert state.forecast == AS_OF
    assert state.status is Status.AT_RISK


# --- dependency floor --------------------------------------------------------------------


def test_an_open_dependency_due_later_pushes_the_forecast_to_the_day_after() -> None:
    state = state_of([open_ticket("ACME-1", day(2))], blockers=[dependency(due=day(5))])

    assert state.forecast == day(6)
    assert state.blocked_by == ("ACME-40",)


def test_a_dependency_due_before_the_tickets_leaves_the_forecast_alone() -> None:
    state = state_of([open_ticket("ACME-1", day(10))], blockers=[dependency(due=day(5))])

    assert state.forecast == day(10)


@pytest.mark.parametrize("due", [day(-3), None], ids=["overdue", "no-due-date"])
def test_an_overdue_or_undated_dependency_pushes_the_forecast_past_as_of(
    due: dt.date | None,
) -> None:
    state = state_of([open_ticket("ACME-1", day(-2))], blockers=[dependency(due=due)])

    assert state.forecast == day(1)


def test_the_latest_of_several_dependencies_wins() -> None:
    blockers = [dependency("ACME-40", due=day(3)), dependency("ACME-41", due=day(8))]

    state = state_of([open_ticket("ACME-1", day(1))], blockers=blockers)

    assert state.forecast == day(9)


def test_a_dependency_floor_applies_even_when_no_ticket_has_a_due_date() -> None:
    state = state_of([open_ticket("ACME-1")], planned=day(2), blockers=[dependency(due=day(5))])

    assert state.forecast == day(6)
    assert state.status is Status.AT_RISK


def test_compute_state_floors_the_forecast_of_a_milestone_holding_a_blocked_ticket() -> None:
    m = milestone(planned=day(14))
    blocked = open_ticket("ACME-1", day(2), blocked_by=("ACME-40",))
    dep = ticket("ACME-40", due=day(5), labels=["client-dependency"])

    state = compute_state(client(m), [blocked, dep], as_of=AS_OF).milestones[0]

    assert state.blocked_by == ("ACME-40",)
    assert state.forecast == day(6)


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forecast_offset", "expected"),
    [
        (-3, Status.ON_TRACK),
        (0, Status.ON_TRACK),
        (1, Status.AT_RISK),
        (7, Status.AT_RISK),
        (8, Status.DELAYED),
        (20, Status.DELAYED),
    ],
)
def test_status_boundaries_are_planned_and_planned_plus_seven_days(
    forecast_offset: int, expected: Status
) -> None:
    state = state_of([open_ticket("ACME-1", day(forecast_offset, PLANNED))])

    assert state.forecast == day(forecast_offset, PLANNED)
    assert state.status is expected


def test_an_open_ticket_past_due_makes_an_on_time_milestone_at_risk() -> None:
    state = state_of([open_ticket("ACME-1", day(-1)), open_ticket("ACME-2", day(3))])

    assert state.forecast is not None and state.forecast <= state.planned
    assert state.status is Status.AT_RISK
    assert state.late_tickets == ("ACME-1",)


def test_a_ticket_due_today_is_not_late() -> None:
    state = state_of([open_ticket("ACME-1", AS_OF)])

    assert state.status is Status.ON_TRACK
    assert state.late_tickets == ()


def test_a_done_ticket_past_its_due_date_is_no_early_warning() -> None:
    state = state_of(
        [done_ticket("ACME-1", moment(day(-1)), due=day(-5)), open_ticket("ACME-2", day(3))]
    )

    assert state.status is Status.ON_TRACK


def test_early_warning_never_softens_a_delay() -> None:
    state = state_of([open_ticket("ACME-1", day(-1)), open_ticket("ACME-2", day(9, PLANNED))])

    assert state.status is Status.DELAYED


def test_an_overdue_client_dependency_makes_an_on_time_milestone_at_risk() -> None:
    state = state_of([open_ticket("ACME-1", day(3))], blockers=[dependency(due=day(-1))])

    assert state.forecast == day(3)
    assert state.status is Status.AT_RISK


def test_a_dependency_not_yet_due_is_no_early_warning() -> None:
    state = state_of([open_ticket("ACME-1", day(3))], blockers=[dependency(due=day(1))])

    assert state.forecast == day(3)
    assert state.status is Status.ON_TRACK


def test_compute_state_flags_a_milestone_blocked_by_an_overdue_dependency() -> None:
    m = milestone(planned=day(14))
    tickets = [
        open_ticket("ACME-1", day(3), blocked_by=("ACME-40",)),
        ticket("ACME-40", due=day(-2), labels=["client-dependency"]),
    ]

    state = compute_state(client(m), tickets, as_of=AS_OF).milestones[0]

    assert state.status is Status.AT_RISK
    assert state.late_tickets == ()  # the warning comes from the dependency, not a member
