"""SPEC §4, honesty rules: forecast moves, skipped at-risk, phase gate and scope creep."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rule_factories import AS_OF, UTC, client, day, milestone, milestone_state, moment, ticket

from syncbot import domain
from syncbot.domain import Progress, Status, Ticket, WarningKind
from syncbot.rules import warnings
from syncbot.rules.state import compute_state

BASELINE = dt.date(2026, 1, 9)

# --- scope creep -------------------------------------------------------------------------


def creep(
    tickets: list[Ticket], *, baseline: dt.date | None = BASELINE, **settings: Any
) -> list[domain.Warning]:
    m = milestone(name="Data pipeline operational")
    state = compute_state(client(m, baseline=baseline, **settings), tickets, as_of=AS_OF)
    return [w for w in state.warnings if w.kind is WarningKind.SCOPE_CREEP]


def test_tickets_created_after_the_baseline_are_scope_creep() -> None:
    tickets = [
        ticket("ACME-1", labels=["m-2.1"], created=moment(dt.date(2026, 1, 5))),
        ticket("ACME-7", labels=["m-2.1"], created=moment(dt.date(2026, 1, 10))),
        ticket(
            "ACME-8", labels=["m-2.1"], created=moment(dt.date(2026, 2, 20)), progress=Progress.DONE
        ),
        ticket("ACME-9", labels=["other"], created=moment(dt.date(2026, 2, 20))),
    ]

    [warning] = creep(tickets)

    assert warning.milestone == "2.1"
    assert warning.tickets == ("ACME-7", "ACME-8")
    assert "ACME-7" in warning.message and "ACME-8" in warning.message
    assert "Data pipeline operational" in warning.message
    assert "2026-01-09" in warning.message
    assert warning.client_message is None  # an internal warning


@pytest.mark.parametrize("label", ["change-order", "Change-Order"])
def test_a_change_order_label_makes_an_addition_agreed_scope(label: str) -> None:
    added = ticket("ACME-7", labels=["m-2.1", label], created=moment(dt.date(2026, 2, 1)))

    assert creep([added]) == []


def test_change_order_labels_are_configurable() -> None:
    added = [
        ticket("ACME-7", labels=["m-2.1", "cr-approved"], created=moment(dt.date(2026, 2, 1))),
        ticket("ACME-8", labels=["m-2.1", "change-order"], created=moment(dt.date(2026, 2, 1))),
    ]

    [warning] = creep(added, change_order_labels=["cr-approved"])

    assert warning.tickets == ("ACME-8",)


def test_without_a_baseline_there_is_no_scope_creep() -> None:
    added = ticket("ACME-7", labels=["m-2.1"], created=moment(dt.date(2026, 2, 1)))

    assert creep([added], baseline=None) == []


def test_a_ticket_created_on_the_baseline_day_is_in_scope() -> None:
    added = ticket("ACME-7", labels=["m-2.1"], created=moment(BASELINE, hour=23, minute=59))

    assert creep([added]) == []


def test_the_baseline_day_is_the_client_calendar_day() -> None:
    # 03:00 UTC on 10 January is still 9 January (the baseline day) in Chicago.
    added = ticket("ACME-7", labels=["m-2.1"], created=dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC))

    assert creep([added], timezone="America/Chicago") == []
    assert [w.tickets for w in creep([added])] == [("ACME-7",)]


def test_a_canceled_addition_is_not_scope_creep() -> None:
    added = ticket(
        "ACME-7", labels=["m-2.1"], created=moment(dt.date(2026, 2, 1)), progress=Progress.EXCLUDED
    )

    assert creep([added]) == []


# --- honesty across digests: forecast moved, skipped at-risk -----------------------------


def test_a_forecast_that_moved_is_announced_with_old_and_new_dates() -> None:
    now = milestone_state("2.1", status=Status.AT_RISK, planned=day(5), forecast=day(9))

    [warning] = warnings.honesty([now], {"2.1": (day(5), "on_track")})

    assert warning.kind is WarningKind.FORECAST_MOVED
    assert warning.milestone == "2.1"
    assert "2026-03-15" in warning.message and "2026-03-19" in warning.message
    assert warning.message.index("2026-03-15") < warning.message.index("2026-03-19")
    assert warning.client_message  # clients hear about date changes too


def test_a_forecast_moved_earlier_is_announced_too() -> None:
    now = milestone_state("2.1", status=Status.ON_TRACK, planned=day(9), forecast=day(4))

    [warning] = warnings.honesty([now], {"2.1": (day(9), "on_track")})

    assert warning.kind is WarningKind.FORECAST_MOVED


def test_an_unchanged_forecast_announces_nothing() -> None:
    now = milestone_state("2.1", status=Status.AT_RISK, planned=day(5), forecast=day(9))

    assert warnings.honesty([now], {"2.1": (day(9), "at_risk")}) == []


def test_a_milestone_absent_from_the_last_digest_announces_nothing() -> None:
    now = milestone_state("2.1", status=Status.DELAYED, planned=day(-10), forecast=day(9))

    assert warnings.honesty([now], {"1.1": (day(1), "on_track")}) == []


def test_a_milestone_finished_since_the_last_digest_has_no_forecast_to_move() -> None:
    now = milestone_state("2.1", status=Status.DONE, planned=day(5))

    assert warnings.honesty([now], {"2.1": (day(5), "on_track")}) == []


def test_on_track_straight_to_delayed_is_called_out_as_skipped_at_risk() -> None:
    now = milestone_state("2.1", status=Status.DELAYED, planned=day(1), forecast=day(12))

    found = warnings.honesty([now], {"2.1": (day(1), "on_track")})

    skipped = [w for w in found if w.kind is WarningKind.SKIPPED_AT_RISK]
    assert len(skipped) == 1
    assert skipped[0].milestone == "2.1"
    assert "skipped at-risk" in skipped[0].message
    assert "2026-03-11" in skipped[0].message and "2026-03-22" in skipped[0].message
    assert skipped[0].client_message
    # The date change itself is still announced.
    assert WarningKind.FORECAST_MOVED in {w.kind for w in found}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("at_risk", Status.DELAYED),
        ("on_track", Status.AT_RISK),
        ("delayed", Status.DELAYED),
        ("not_started", Status.ON_TRACK),
    ],
)
def test_no_skipped_at_risk_without_going_on_track_to_delayed(before: str, after: Status) -> None:
    now = milestone_state("2.1", status=after, planned=day(1), forecast=day(12))

    found = warnings.honesty([now], {"2.1": (day(12), before)})

    assert found == []


def test_compute_state_applies_honesty_rules_only_with_a_last_digest() -> None:
    m = milestone(planned=day(1))
    tickets = [ticket("ACME-1", labels=["m-2.1"], due=day(12))]

    without = compute_state(client(m), tickets, as_of=AS_OF)
    with_history = compute_state(
        client(m), tickets, as_of=AS_OF, reported={"2.1": (day(1), "on_track")}
    )

    assert without.warnings == ()
    assert {w.kind for w in with_history.warnings} == {
        WarningKind.SKIPPED_AT_RISK,
        WarningKind.FORECAST_MOVED,
    }


# --- phase gate --------------------------------------------------------------------------

PHASES = ["Discovery", "Data Preparation", "Modelling"]


def test_work_started_before_the_previous_phase_is_signed_off_is_a_phase_gate_warning() -> None:
    milestones = [
        milestone_state("1.1", phase="Discovery", status=Status.ON_TRACK, started=True),
        milestone_state("2.1", phase="Data Preparation", status=Status.ON_TRACK, started=True),
        milestone_state("2.2", phase="Data Preparation", status=Status.ON_TRACK, started=False),
    ]

    [warning] = warnings.phase_gate(milestones, PHASES, signed_off=set())

    assert (warning.kind, warning.milestone) == (WarningKind.PHASE_GATE, "2.1")
    assert "Discovery" in warning.message and "Milestone 2.1" in warning.message
    assert warning.client_message is None  # internal only


def test_no_phase_gate_warning_once_the_previous_phase_is_signed_off() -> None:
    milestones = [
        milestone_state("2.1", phase="Data Preparation", status=Status.ON_TRACK, started=True),
    ]

    assert warnings.phase_gate(milestones, PHASES, signed_off={"Discovery"}) == []


def test_the_first_phase_never_waits_for_a_sign_off() -> None:
    milestones = [milestone_state("1.1", phase="Discovery", status=Status.ON_TRACK, started=True)]

    assert warnings.phase_gate(milestones, PHASES, signed_off=set()) == []


def test_compute_state_phase_gate_uses_started_tickets_and_configured_phase_order() -> None:
    config = client(
        milestone("1.1", phase="Discovery"),
        milestone("2.1", phase="Data Preparation"),
        milestone("3.1", phase="Modelling"),
        phases=PHASES,
    )
    tickets = [
        ticket("ACME-1", labels=["m-1.1"], progress=Progress.IN_PROGRESS),
        ticket("ACME-2", labels=["m-2.1"], progress=Progress.DONE),
        ticket("ACME-3", labels=["m-3.1"], progress=Progress.TODO),  # planned, not started
    ]

    gated = compute_state(config, tickets, as_of=AS_OF, signed_off=set())
    ungated = compute_state(config, tickets, as_of=AS_OF)

    assert [(w.kind, w.milestone) for w in gated.warnings] == [(WarningKind.PHASE_GATE, "2.1")]
    assert ungated.warnings == ()


def test_scope_creep_counts_from_the_first_minute_after_the_baseline_day() -> None:
    m = milestone_state("2.1")
    added = ticket("ACME-7", created=moment(dt.date(2026, 1, 10), hour=0))

    found = warnings.scope_creep(
        m, [added], baseline=BASELINE, change_order_labels=["change-order"], tz=UTC
    )

    assert found is not None and found.tickets == ("ACME-7",)
