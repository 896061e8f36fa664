"""SPEC §11: tickets labelled as experiments, their timebox (created -> due), overruns and the
"Success: ..." criterion of their description."""

from __future__ import annotations

import pytest
from rule_factories import AS_OF, CHICAGO, UTC, client, day, milestone, moment, ticket

from syncbot.domain import Progress, WarningKind
from syncbot.rules.experiments import experiments, overruns, success_criterion
from syncbot.rules.state import compute_state


def test_an_experiment_runs_from_its_creation_against_its_timebox() -> None:
    running = ticket(
        "ACME-1",
        progress=Progress.IN_PROGRESS,
        labels=["Experiment"],  # labels compare case-insensitively
        created=moment(day(-6)),
        due=day(8),
        title="Embeddings beat TF-IDF",
        assignee_name="Elena",
    )
    [e] = experiments([running], labels=["experiment"], tz=UTC, as_of=AS_OF)
    assert (e.key, e.hypothesis, e.status, e.owner) == (
        "ACME-1",
        "Embeddings beat TF-IDF",
        "In Progress",
        "Elena",
    )
    assert (e.created, e.due, e.days_running, e.timebox_days, e.overrun) == (
        day(-6),
        day(8),
        6,
        14,
        False,
    )
    assert overruns([e]) == []


def test_an_open_experiment_past_its_due_date_overruns() -> None:
    late = ticket("ACME-2", labels=["experiment"], created=moment(day(-20)), due=day(-9))
    [e] = experiments([late], labels=["experiment"], tz=UTC, as_of=AS_OF)
    assert e.overrun and e.days_running == 20 and e.timebox_days == 11
    [warning] = overruns([e])
    assert warning.kind is WarningKind.EXPERIMENT_OVERRUN and warning.tickets == ("ACME-2",)
    assert warning.message.endswith(": ACME-2") and "11-day timebox" in warning.message
    assert "now day 20" in warning.message and warning.client_message is None


def test_a_finished_experiment_counts_the_days_it_ran_and_never_overruns() -> None:
    done = ticket(
        "ACME-3",
        progress=Progress.DONE,
        labels=["experiment"],
        created=moment(day(-30)),
        completed=moment(day(-12)),
        due=day(-15),  # finished three days past its timebox: a fact, no longer a warning
    )
    [e] = experiments([done], labels=["experiment"], tz=UTC, as_of=AS_OF)
    assert (e.completed, e.days_running, e.overrun) == (day(-12), 18, False)


def test_without_a_due_date_there_is_no_timebox_and_no_overrun() -> None:
    open_ended = ticket("ACME-4", labels=["experiment"], created=moment(day(-40)))
    [e] = experiments([open_ended], labels=["experiment"], tz=UTC, as_of=AS_OF)
    assert e.timebox_days is None and not e.overrun and e.days_running == 40


def test_only_labelled_tickets_count_and_excluded_ones_never() -> None:
    tickets = [
        ticket("ACME-5", labels=["spike"]),
        ticket("ACME-6", labels=["hypothesis"]),
        ticket("ACME-7", labels=["experiment"], progress=Progress.EXCLUDED),
    ]
    found = experiments(tickets, labels=["hypothesis"], tz=UTC, as_of=AS_OF)
    assert [e.key for e in found] == ["ACME-6"]


def test_days_are_the_clients_calendar() -> None:
    # Created 03-01 02:00 UTC: still 02-28 in Chicago.
    e = ticket("ACME-8", labels=["experiment"], created=moment(day(-9), hour=2))
    [found] = experiments([e], labels=["experiment"], tz=CHICAGO, as_of=AS_OF)
    assert found.created == day(-10) and found.days_running == 10


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Try it.\nSuccess: Validation F1 >= 0.72", "Validation F1 >= 0.72"),
        ("success criteria: recall up 5%", "recall up 5%"),
        ("- **Success criterion:** kappa >= 0.75 **", "kappa >= 0.75"),
        ("## Success: latency < 200 ms  ", "latency < 200 ms"),
        ("Success\uff1a full-width colon", "full-width colon"),
        ("Unsuccessful so far: nothing", None),
        ("Success is not a line start here: no", None),
        ("", None),
    ],
)
def test_the_success_criterion_is_read_from_the_description(
    description: str, expected: str | None
) -> None:
    assert success_criterion(description) == expected


def test_a_long_success_criterion_is_cut() -> None:
    found = success_criterion("Success: " + "x" * 500)
    assert found is not None and len(found) == 200 and found.endswith("…")


def test_experiments_and_overruns_are_part_of_the_clients_state() -> None:
    inside = ticket(
        "ACME-9",
        labels=["experiment", "m-2.1"],
        created=moment(day(-12)),
        due=day(-2),
        description="Success: mis-routes down 15%",
    )
    state = compute_state(client(milestone()), [inside], as_of=AS_OF)
    [e] = state.experiments
    assert e.milestone == "2.1" and e.success == "mis-routes down 15%"
    [warning] = [w for w in state.warnings if w.kind is WarningKind.EXPERIMENT_OVERRUN]
    assert warning.milestone == "2.1"
    other = compute_state(
        client(milestone(), experiment_labels=["hypothesis"]), [inside], as_of=AS_OF
    )
    assert other.experiments == ()
