"""SPEC §4: earned value by milestone weight — PV, EV and SPI = EV / PV (null while PV = 0)."""

from __future__ import annotations

import pytest
from rule_factories import AS_OF, client, day, milestone, milestone_state, ticket

from syncbot.domain import Progress, Status
from syncbot.rules.earned_value import earned_value
from syncbot.rules.state import compute_state


def test_planned_and_earned_value_are_weighted_shares() -> None:
    milestones = [
        milestone_state("1", planned=day(-20), status=Status.DONE, weight=3),
        milestone_state("2", planned=day(-5), status=Status.DELAYED, weight=1),
        milestone_state("3", planned=day(10), status=Status.ON_TRACK, weight=4),
    ]

    ev = earned_value(milestones, AS_OF)

    assert ev.planned_value == pytest.approx(4 / 8)
    assert ev.earned_value == pytest.approx(3 / 8)
    assert ev.spi == pytest.approx(0.75)


def test_a_milestone_planned_on_the_as_of_date_counts_as_planned() -> None:
    milestones = [
        milestone_state("1", planned=AS_OF, status=Status.ON_TRACK),
        milestone_state("2", planned=day(1), status=Status.ON_TRACK),
    ]

    assert earned_value(milestones, AS_OF).planned_value == pytest.approx(0.5)


def test_work_done_ahead_of_plan_earns_value() -> None:
    milestones = [
        milestone_state("1", planned=day(-3), status=Status.DONE),
        milestone_state("2", planned=day(5), status=Status.DONE),
    ]

    ev = earned_value(milestones, AS_OF)

    assert (ev.planned_value, ev.earned_value) == (pytest.approx(0.5), pytest.approx(1.0))
    assert ev.spi == pytest.approx(2.0)


def test_only_done_milestones_earn_value() -> None:
    statuses = [Status.ON_TRACK, Status.AT_RISK, Status.DELAYED, Status.NOT_STARTED]
    milestones = [
        milestone_state(str(i), planned=day(-1), status=s) for i, s in enumerate(statuses)
    ]

    ev = earned_value(milestones, AS_OF)

    assert ev.planned_value == pytest.approx(1.0)
    assert ev.earned_value == 0
    assert ev.spi == 0


def test_spi_is_null_while_nothing_is_planned_yet_even_if_work_is_done() -> None:
    milestones = [
        milestone_state("1", planned=day(1), status=Status.DONE),
        milestone_state("2", planned=day(30), status=Status.ON_TRACK),
    ]

    ev = earned_value(milestones, AS_OF)

    assert ev.planned_value == 0
    assert ev.earned_value == pytest.approx(0.5)
    assert ev.spi is None


def test_a_client_without_milestones_has_no_spi() -> None:
    ev = earned_value([], AS_OF)

    assert (ev.planned_value, ev.earned_value, ev.spi) == (0, 0, None)


def test_compute_state_reports_earned_value_from_milestone_weights() -> None:
    config = client(
        milestone("1", planned=day(-10), weight=2),
        milestone("2", planned=day(-2), weight=3),
        milestone("3", planned=day(20), weight=5),
    )
    tickets = [
        ticket("ACME-1", progress=Progress.DONE, labels=["m-1"]),
        ticket("ACME-2", progress=Progress.IN_PROGRESS, labels=["m-2"]),
        ticket("ACME-3", progress=Progress.DONE, labels=["m-3"]),
        ticket("ACME-4", progress=Progress.TODO, labels=["m-3"]),
    ]

    state = compute_state(config, tickets, as_of=AS_OF)

    assert state.planned_value == pytest.approx(0.5)
    assert state.earned_value == pytest.approx(0.2)
    assert state.spi == pytest.approx(0.4)
