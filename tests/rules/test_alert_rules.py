"""SPEC §8 alerts as a pure rule: what worsened against the last alerted state, day by day.

Each test replays a milestone over a few as-of days through `compute_state` and `evaluate`,
carrying the recorded state forward as the store would, and names the (subject, kind) pairs
raised each day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from rule_factories import AS_OF, client, day, milestone, ticket

from syncbot.config import Client
from syncbot.domain import Progress, Ticket
from syncbot.rules.alerts import evaluate
from syncbot.rules.state import compute_state

Day = tuple[dt.date, Sequence[Ticket]]


def replay(c: Client, days: Sequence[Day], **options: Any) -> list[list[tuple[str, str]]]:
    """(subject, kind) raised on each day, recording as `syncbot alerts --post` does."""
    recorded: dict[str, dict[str, Any]] = {}
    out = []
    for as_of, tickets in days:
        result = evaluate(compute_state(c, tickets, as_of=as_of), recorded, **options)
        out.append([(a.subject, ch.kind) for a in result.alerts for ch in a.changes])
        recorded.update(result.record)
    return out


def work(due: dt.date | None, **fields: Any) -> Ticket:
    return ticket("ACME-1", progress=Progress.IN_PROGRESS, due=due, labels=["m-2.1"], **fields)


def dependency(due: dt.date | None) -> Ticket:
    return ticket(
        "ACME-9", due=due, labels=["client-dependency"], blocks=("ACME-1",), title="Data access"
    )


def same(tickets: Callable[[], Sequence[Ticket]], *offsets: int) -> list[Day]:
    return [(day(o), tickets()) for o in offsets]


def test_first_sight_is_recorded_without_alerting() -> None:
    c = client(milestone(planned=day(-3)))  # already missed and late on the first evaluation
    assert replay(c, same(lambda: [work(day(-5))], 0)) == [[]]


def test_a_slip_alerts_once_and_an_improvement_raises_nothing() -> None:
    c = client(milestone(planned=day(10)))
    days = [
        (day(0), [work(day(9))]),
        (day(1), [work(day(13))]),  # 3 days late: at risk, forecast later
        (day(2), [work(day(13))]),  # nothing new
        (day(3), [work(day(9))]),  # back on track: improvements do not alert
        (day(4), [work(day(12))]),  # slips again: said again, measured from the improvement
    ]
    assert replay(c, days) == [
        [],
        [("2.1", "status"), ("2.1", "forecast")],
        [],
        [],
        [("2.1", "status"), ("2.1", "forecast")],
    ]


def test_a_forecast_one_day_later_alerts_but_an_unchanged_one_does_not() -> None:
    c = client(milestone(planned=day(20)))
    days = [(day(0), [work(day(5))]), (day(1), [work(day(6))]), (day(2), [work(day(6))])]
    assert replay(c, days) == [[], [("2.1", "forecast")], []]


def test_missed_is_said_the_day_the_planned_date_passes() -> None:
    c = client(milestone(planned=day(1)))
    days = same(lambda: [work(day(1))], 0, 1, 2)  # on day 2 planned (day 1) has passed
    raised = replay(c, days)  # the work is late on day 2 too: at risk, forecast moving
    assert raised[:2] == [[], []]
    assert ("2.1", "missed") in raised[2]


def test_late_work_drifting_a_day_a_day_alerts_once_not_daily() -> None:
    c = client(milestone(planned=day(1)))
    raised = replay(c, same(lambda: [work(day(1))], 0, 2, 3, 4, 5))
    assert ("2.1", "forecast") in raised[1]  # it starts drifting: said once
    assert all(("2.1", "forecast") not in r for r in raised[2:])


def test_a_date_someone_sets_within_tomorrow_is_not_drift() -> None:
    # The forecast lands on as-of + 1 because someone set that due date, not because work
    # is late: the following day's move (to a later set date) is a real slip.
    c = client(milestone(planned=day(0)))
    days = [(day(0), [work(day(0))]), (day(1), [work(day(2))]), (day(2), [work(day(5))])]
    raised = replay(c, days)
    assert ("2.1", "forecast") in raised[1]
    assert ("2.1", "forecast") in raised[2]


def test_a_dependency_overdue_alerts_once_and_escalates_once_naming_notify() -> None:
    c = client(milestone(planned=day(20)))
    tickets = lambda: [work(day(15)), dependency(day(1))]  # noqa: E731
    raised = replay(c, same(tickets, 0, 2, 3, 4, 5, 6), escalate_after=3, notify=("U0ACCOUNT",))
    dep = "dep:ACME-9"
    assert raised == [
        [],
        [("2.1", "status"), (dep, "dependency_overdue")],  # overdue on day 2: at risk
        [],
        [],
        [(dep, "escalation")],  # overdue 4 days > 3
        [],
    ]
    state = compute_state(c, tickets(), as_of=day(5))
    before = {"dep:ACME-9": {"overdue": True, "escalated": False}}
    alert = evaluate(state, before, escalate_after=3, notify=("U0ACCOUNT",)).alerts[0]
    assert alert.mention == ("U0ACCOUNT",)


def test_without_escalation_settings_nothing_escalates() -> None:
    c = client(milestone(planned=day(20)))
    raised = replay(c, same(lambda: [work(day(15)), dependency(day(1))], 0, 2, 30))
    assert [k for r in raised for s, k in r if s.startswith("dep:")] == ["dependency_overdue"]


def test_the_same_change_has_the_same_identity_across_evaluations() -> None:
    # The outbox key comes from the identity: two daemons evaluating the same change agree.
    c = client(milestone(planned=day(10)))
    before = evaluate(compute_state(c, [work(day(9))], as_of=AS_OF), {}).record
    state = compute_state(c, [work(day(13))], as_of=day(1))
    first, second = evaluate(state, before).alerts, evaluate(state, before).alerts
    assert [a.identity for a in first] == [a.identity for a in second]
    other = evaluate(compute_state(c, [work(day(14))], as_of=day(1)), before).alerts
    assert other[0].identity != first[0].identity


def test_a_done_milestone_whose_metric_regresses_alerts_once_as_a_regression() -> None:
    from test_metrics import F1, done_tickets, read

    c = client(milestone().model_copy(update={"metric": F1}))
    recorded: dict[str, dict[str, Any]] = {}
    raised = []
    for as_of, value in ((AS_OF, 0.81), (day(1), 0.79), (day(2), 0.79)):
        met = read(value, met_at=day_moment(-2) if value >= 0.8 else None)
        state = compute_state(c, done_tickets(), as_of=as_of, metrics={"2.1": met})
        result = evaluate(state, recorded)
        raised.append([(ch.kind, ch.message) for a in result.alerts for ch in a.changes])
        recorded.update(result.record)
    assert raised[0] == [] and raised[2] == []
    [(kind, message)] = raised[1]  # not also "went from done to on track"
    assert kind == "metric_regressed"
    assert "no longer meets the target: F1 0.79 of target 0.80" in message


def day_moment(offset: int) -> dt.datetime:
    return dt.datetime.combine(day(offset), dt.time(12), tzinfo=dt.UTC)
