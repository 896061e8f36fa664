"""SPEC §11: a milestone with a metric is done only once its tickets are done AND the target is
met; the metric as the rules judge a reading; a done milestone whose metric regresses."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from rule_factories import AS_OF, CHICAGO, PLANNED, UTC, client, day, milestone, moment, ticket

from syncbot import messages
from syncbot.config import Metric
from syncbot.domain import (
    MetricReading,
    MilestoneState,
    Progress,
    Status,
    Ticket,
    WarningKind,
)
from syncbot.rules.metrics import metric_state
from syncbot.rules.state import compute_state

F1 = Metric(experiment="claims-triage", name="val_f1", target=0.8, label="F1")
RMSE = Metric(experiment="claims-triage", name="rmse", target=0.3, higher_is_better=False)


def read(
    value: float | None,
    *,
    metric: Metric = F1,
    run_at: dt.datetime | None = None,
    met_at: dt.datetime | None = None,
) -> MetricReading:
    """A reading of `metric` (taken for its current target) with `value` as the best value."""
    return MetricReading(
        experiment=metric.experiment,
        name=metric.name,
        target=metric.target,
        higher_is_better=metric.higher_is_better,
        value=value,
        run_id="run-1" if value is not None else None,
        run_at=run_at or (moment(day(-3)) if value is not None else None),
        met_at=met_at,
    )


def state(
    tickets: Sequence[Ticket],
    reading: MetricReading | None,
    *,
    metric: Metric = F1,
    reported: Mapping[str, tuple[dt.date | None, str]] | None = None,
    planned: dt.date = PLANNED,
) -> MilestoneState:
    m = milestone(planned=planned).model_copy(update={"metric": metric})
    found = compute_state(
        client(m),
        tickets,
        as_of=AS_OF,
        metrics={"2.1": reading} if reading else None,
        reported=reported,
    )
    [only] = found.milestones
    return only


def done_tickets(on: int = -5) -> list[Ticket]:
    return [
        ticket(f"ACME-{n}", progress=Progress.DONE, labels=["m-2.1"], completed=moment(day(on)))
        for n in (1, 2)
    ]


def test_the_metric_judges_the_best_value_against_the_configured_target() -> None:
    below = metric_state(F1, read(0.78), UTC)
    assert (below.value, below.met, below.label, below.run, below.at) == (
        0.78,
        False,
        "F1",
        "run-1",
        day(-3),
    )
    assert below.met_on is None
    met = metric_state(F1, read(0.8, met_at=moment(day(-6))), UTC)
    assert met.met and met.met_on == day(-6)  # the day the first run reached it
    lower = metric_state(RMSE, read(0.29, metric=RMSE, met_at=moment(day(-4))), UTC)
    assert lower.met and lower.label == "rmse" and not lower.higher_is_better
    assert not metric_state(RMSE, read(0.31, metric=RMSE), UTC).met


def test_no_reading_or_a_reading_of_another_metric_is_no_value() -> None:
    for reading in (None, read(0.9, metric=RMSE)):
        found = metric_state(F1, reading, UTC)
        assert (found.value, found.met, found.run, found.at) == (None, False, None, None)
    nothing_logged = metric_state(F1, read(None), UTC)
    assert nothing_logged.value is None and not nothing_logged.met


def test_a_reading_for_another_target_keeps_its_value_not_its_first_met_day() -> None:
    old = read(0.82, met_at=moment(day(-20)), run_at=moment(day(-2)))
    raised = F1.model_copy(update={"target": 0.81})
    found = metric_state(raised, dataclasses.replace(old, target=0.7), UTC)
    assert found.met and found.met_on == day(-2)  # the best run's date, not the old target's
    assert not metric_state(F1.model_copy(update={"target": 0.9}), old, UTC).met


def test_dates_are_the_clients_calendar() -> None:
    late_evening = dt.datetime(2026, 3, 7, 3, 30, tzinfo=dt.UTC)  # 03-06 21:30 in Chicago
    found = metric_state(F1, read(0.9, run_at=late_evening, met_at=late_evening), CHICAGO)
    assert found.at == found.met_on == dt.date(2026, 3, 6)


def test_tickets_done_and_target_met_is_done_on_the_later_day() -> None:
    m = state(done_tickets(on=-5), read(0.85, met_at=moment(day(-2))))
    assert m.status is Status.DONE and m.actual == day(-2)  # target met after the tickets
    earlier = state(done_tickets(on=-5), read(0.85, met_at=moment(day(-9))))
    assert earlier.actual == day(-5)  # met before the last ticket was done
    assert m.metric is not None and m.metric.met and not m.waits_on_metric


def test_tickets_done_but_the_target_not_met_keeps_it_open_with_the_metric_as_reason() -> None:
    m = state(done_tickets(), read(0.78))
    assert m.status is not Status.DONE and m.actual is None
    assert m.waits_on_metric and m.forecast == PLANNED
    assert m.reason == messages.metric_short_of_target("F1", 0.78, 0.8, True)
    assert "best so far 0.78" in m.reason
    overdue = state(done_tickets(), read(None), planned=day(-3))
    assert overdue.missed and overdue.forecast == AS_OF and overdue.status is Status.AT_RISK
    assert "waiting for a first F1 result" in overdue.reason


def test_open_tickets_set_the_forecast_whatever_the_metric() -> None:
    tickets = [*done_tickets(), ticket("ACME-9", labels=["m-2.1"], due=day(4))]
    m = state(tickets, read(0.9, met_at=moment(day(-1))))
    assert m.status is Status.ON_TRACK and m.forecast == day(4)
    assert m.metric is not None and m.metric.met and not m.waits_on_metric


def test_a_milestone_without_tickets_is_never_done_by_its_metric_alone() -> None:
    m = state([], read(0.95, met_at=moment(day(-1))))
    assert m.status is Status.NOT_STARTED and m.actual is None


def test_a_done_milestone_whose_metric_regresses_warns_internally() -> None:
    was_done = {"2.1": (None, "done")}
    m = compute_state(
        client(milestone().model_copy(update={"metric": F1})),
        done_tickets(),
        as_of=AS_OF,
        metrics={"2.1": read(0.79)},
        reported=was_done,
    )
    [warning] = [w for w in m.warnings if w.kind is WarningKind.METRIC_REGRESSED]
    assert warning.milestone == "2.1" and warning.client_message is None  # internal only
    assert "no longer meets the target: F1 0.79 of target 0.80" in warning.message
    assert "run-1" in warning.message and "open again" in warning.message
    # Not a regression: it was not done before, or it is still met, or a ticket reopened.
    for reported, reading, tickets in (
        ({"2.1": (None, "at_risk")}, read(0.79), done_tickets()),
        (was_done, read(0.81, met_at=moment(day(-2))), done_tickets()),
        (was_done, read(0.79), [*done_tickets(), ticket("ACME-9", labels=["m-2.1"])]),
    ):
        quiet = compute_state(
            client(milestone().model_copy(update={"metric": F1})),
            tickets,
            as_of=AS_OF,
            metrics={"2.1": reading},
            reported=reported,
        )
        assert not [w for w in quiet.warnings if w.kind is WarningKind.METRIC_REGRESSED]
