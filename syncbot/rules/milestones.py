"""Milestone actual date, forecast and status with the early-warning rules (SPEC §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from syncbot import messages
from syncbot.config import Milestone
from syncbot.domain import (
    DependencyState,
    MetricState,
    MilestoneState,
    Progress,
    Status,
    Ticket,
)
from syncbot.rules.dates import days, local_date
from syncbot.rules.dependencies import forecast_floor

AT_RISK_DAYS = 7


def actual_date(tickets: Sequence[Ticket], tz: ZoneInfo) -> dt.date | None:
    """The latest completion date once every ticket is done; None otherwise or when empty."""
    if not tickets or not all(t.is_done for t in tickets):
        return None
    return max(local_date(t.completed or t.updated, tz) for t in tickets)


def _effective_due(ticket: Ticket, as_of: dt.date) -> dt.date:
    """A missing or past due date counts as the as-of date."""
    return ticket.due if ticket.due and ticket.due >= as_of else as_of


def forecast(
    planned: dt.date,
    open_tickets: Sequence[Ticket],
    blockers: Sequence[DependencyState],
    as_of: dt.date,
) -> dt.date:
    """Forecast of an open milestone.

    The latest open-ticket due date, where a missing or past due date counts as the as-of
    date; with no due dates at all, the planned date (or the as-of date once it has passed).
    Never earlier than what open blocking dependencies imply.
    """
    if any(t.due for t in open_tickets):
        result = max(_effective_due(t, as_of) for t in open_tickets)
    else:
        result = planned if planned >= as_of else as_of
    for dependency in blockers:
        result = max(result, forecast_floor(dependency, as_of))
    return result


def forecast_drivers(
    open_tickets: Sequence[Ticket],
    blockers: Sequence[DependencyState],
    predicted: dt.date,
    as_of: dt.date,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ticket keys, dependency keys) whose dates set `predicted`: the honest "why" of a slip."""
    deps = tuple(d.key for d in blockers if forecast_floor(d, as_of) == predicted)
    tickets = tuple(
        t.key for t in open_tickets if t.due is not None and _effective_due(t, as_of) == predicted
    )
    return tickets, deps


def status(planned: dt.date, predicted: dt.date, *, early_warning: bool) -> Status:
    if predicted > planned + days(AT_RISK_DAYS):
        return Status.DELAYED
    if predicted > planned or early_warning:
        return Status.AT_RISK
    return Status.ON_TRACK


@dataclass(frozen=True)
class Floor:
    """An earliest finish imposed from outside the milestone's own work: a predecessor's end
    plus the planned lag (`after`), or an internal blocker's forecast plus a day."""

    source: str  # the predecessor's milestone id, or the blocking ticket's key
    date: dt.date
    name: str = ""  # the predecessor's name (client-safe)
    end: dt.date | None = None  # the predecessor's own end (actual, else forecast)
    drifting: bool = False  # it moves a day later every day, as its source does


def milestone_state(
    milestone: Milestone,
    tickets: Sequence[Ticket],
    blockers: Sequence[DependencyState],
    *,
    as_of: dt.date,
    tz: ZoneInfo,
    predecessors: Sequence[Floor] = (),
    internal: Sequence[Floor] = (),
    note: str | None = None,
    metric: MetricState | None = None,
) -> MilestoneState:
    """State of one milestone; `tickets` are its members, `blockers` the open client
    dependencies that block it, `predecessors` the floors of its `after` milestones (in
    `after` order), `internal` those of open non-client tickets blocking its open tickets.

    Floors only push later: a predecessor's floor that is later than what everything else
    implies sets the forecast, and names that predecessor in `pushed_by`.

    A milestone with a `metric` is done only when its tickets are done and the target is
    met (SPEC §11), on the later of the two days; with every ticket done and the target not
    met it stays open, forecast like a milestone without open work (the planned date, or
    today once that has passed), the metric being the reason.
    """
    done = [t for t in tickets if t.is_done]
    open_ = [t for t in tickets if t.is_open]
    late = tuple(t.key for t in open_ if t.due is not None and t.due < as_of)
    actual = with_metric(actual_date(tickets, tz), metric)
    set_by: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    by_blockers: tuple[str, ...] = ()
    drifting = False
    pushed: Floor | None = None
    if actual is not None:
        predicted, state = None, Status.DONE
    else:
        predicted = forecast(milestone.planned, open_, blockers, as_of)
        for floor in internal:
            predicted = max(predicted, floor.date)
        for floor in predecessors:  # the first of equal floors names the push
            if floor.date > predicted and (pushed is None or floor.date > pushed.date):
                pushed = floor
        if pushed is not None:
            predicted = pushed.date
        # Set by work already late (or undated), a blocker or a dependency past due, or a
        # predecessor that is: the forecast moves a day later each day with nothing new.
        drifting = (
            pushed.drifting
            if pushed is not None
            else _drifts(predicted, milestone.planned, open_, blockers, internal, as_of)
        )
        early = bool(late) or any(d.overdue for d in blockers)
        state = status(milestone.planned, predicted, early_warning=early)
        if not tickets and state is Status.ON_TRACK and milestone.planned >= as_of:
            state = Status.NOT_STARTED
        set_by = forecast_drivers(open_, blockers, predicted, as_of)
        by_blockers = tuple(f.source for f in internal if f.date == predicted)
    late_by = (actual or predicted or milestone.planned) - milestone.planned
    open_note = note if actual is None else None  # a note stands until the milestone is done
    return MilestoneState(
        id=milestone.id,
        name=milestone.name,
        phase=milestone.phase,
        planned=milestone.planned,
        forecast=predicted,
        actual=actual,
        status=state,
        owner=milestone.owner,
        weight=milestone.weight,
        tickets_total=len(tickets),
        tickets_done=len(done),
        blocked_by=tuple(d.key for d in blockers),
        late_tickets=late,
        started=any(t.progress in (Progress.IN_PROGRESS, Progress.DONE) for t in tickets),
        forecast_set_by_tickets=set_by[0],
        forecast_set_by_dependencies=set_by[1],
        forecast_set_by_blockers=by_blockers,
        acceptance=milestone.acceptance,
        after=tuple(milestone.after),
        pushed_by=pushed.source if pushed else None,
        missed=actual is None and milestone.planned < as_of,
        days_late=late_by.days,
        note=open_note,
        reason=_reason(
            open_note,
            pushed,
            blockers,
            set_by[1],
            metric if actual is None and tickets and not open_ else None,
        ),
        metric=metric,
        drifting=drifting,
    )


def with_metric(actual: dt.date | None, metric: MetricState | None) -> dt.date | None:
    """The actual date once the metric's target is met too: the later of the two days."""
    if actual is None or metric is None:
        return actual
    if not metric.met:
        return None
    return max(actual, metric.met_on) if metric.met_on else actual


def end(state: MilestoneState) -> dt.date:
    """When a milestone ends, for what comes after it: its actual date, else its forecast."""
    return state.actual or state.forecast or state.planned


def predecessor_floor(successor: Milestone, predecessor: MilestoneState) -> Floor:
    """end(P) + lag, lag = max(0, M.planned - P.planned): finish-to-start keeping the gap
    the plan allowed."""
    lag = max(successor.planned - predecessor.planned, dt.timedelta(0))
    finish = end(predecessor)
    return Floor(predecessor.id, finish + lag, predecessor.name, finish, predecessor.drifting)


def moves_daily(due: dt.date | None, as_of: dt.date) -> bool:
    """A missing or past due date counts as the as-of date, so it moves a day each day."""
    return due is None or due < as_of


def _drifts(
    predicted: dt.date,
    planned: dt.date,
    open_tickets: Sequence[Ticket],
    blockers: Sequence[DependencyState],
    internal: Sequence[Floor],
    as_of: dt.date,
) -> bool:
    """Whether the forecast is set by something already late (or undated), so that it moves
    a day later each day with nothing new: a late ticket, a client dependency or an
    internal blocker past due. A date someone set is never drift."""
    if predicted <= planned:
        return False
    if predicted == as_of:
        dated = [t for t in open_tickets if t.due is not None]
        if not dated or any(moves_daily(t.due, as_of) for t in open_tickets):
            return True
    if predicted == as_of + days(1):
        if any(moves_daily(d.due, as_of) for d in blockers):
            return True
    return any(f.drifting and f.date == predicted for f in internal)


def blocker_floor(blocker: Ticket, as_of: dt.date) -> dt.date:
    """An internal blocker B pushes what it blocks to B's forecast + 1 day, B's forecast
    being its due date, or the as-of date when it has none or is overdue."""
    return _effective_due(blocker, as_of) + days(1)


def _reason(
    note: str | None,
    pushed: Floor | None,
    blockers: Sequence[DependencyState],
    waiting: Sequence[str],
    metric: MetricState | None = None,
) -> str:
    """Why the forecast is where it is, in words a client may read: the note, else the
    driver (a predecessor, a client dependency, a metric short of its target once every
    ticket is done), else the work itself."""
    if note:
        return note
    if pushed is not None:
        return messages.pushed_by(pushed.name, pushed.end or pushed.date)
    summaries = [d.summary for d in blockers if d.key in waiting]
    if summaries:
        return messages.waiting_on(summaries)
    if metric is not None:
        return messages.metric_short_of_target(
            metric.label, metric.value, metric.target, metric.higher_is_better
        )
    return messages.SLIP_REASON_UNKNOWN_CLIENT
