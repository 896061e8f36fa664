"""SPEC §4, first bullet: which tickets a milestone holds, and which count as done or excluded."""

from __future__ import annotations

import pytest
from rule_factories import AS_OF, UTC, client, milestone, ticket

from syncbot.connectors import jira
from syncbot.domain import Progress, Status, Ticket
from syncbot.rules.membership import members
from syncbot.rules.milestones import milestone_state
from syncbot.rules.state import compute_state


def keys(tickets: list[Ticket]) -> list[str]:
    return [t.key for t in tickets]


def test_epic_selects_the_tickets_whose_parent_is_the_epic() -> None:
    m = milestone(match={"epic": "ACME-12"})
    tickets = [
        ticket("ACME-13", parent="ACME-12"),
        ticket("ACME-14", parent="ACME-99"),
        ticket("ACME-15"),
    ]

    assert keys(members(m, tickets)) == ["ACME-13"]


def test_epic_selects_data_center_tickets_through_the_epic_link_field() -> None:
    """Data Center has no `parent` for stories: the Epic Link custom field names the epic."""
    raw = {
        "key": "ACME-13",
        "fields": {
            "summary": "Nightly ingest job",
            "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
            "created": "2026-01-12T09:00:00.000-0600",
            "updated": "2026-03-01T09:00:00.000-0600",
            "customfield_10014": "ACME-12",
        },
    }
    m = milestone(match={"epic": "ACME-12"})

    assert keys(members(m, [jira.to_ticket(raw)])) == ["ACME-13"]


def test_label_match_ignores_case_on_both_sides() -> None:
    m = milestone(match={"label": "Data-Pipeline"})
    tickets = [
        ticket("ACME-1", labels=["data-pipeline"]),
        ticket("ACME-2", labels=["DATA-PIPELINE", "other"]),
        ticket("ACME-3", labels=["data-pipeline-v2"]),
        ticket("ENG-4", tracker="linear", labels=["Data-pipeline"]),
    ]

    assert keys(members(m, tickets)) == ["ACME-1", "ACME-2", "ENG-4"]


def test_fix_version_selects_tickets_carrying_that_version_among_others() -> None:
    m = milestone(match={"fix_version": "Pilot"})
    tickets = [
        ticket("ACME-1", fix_versions=("Pilot",)),
        ticket("ACME-2", fix_versions=("MVP", "Pilot")),
        ticket("ACME-3", fix_versions=("MVP",)),
        ticket("ACME-4"),
    ]

    assert keys(members(m, tickets)) == ["ACME-1", "ACME-2"]


def test_component_selects_tickets_carrying_that_component() -> None:
    m = milestone(match={"component": "Data platform"})
    tickets = [
        ticket("ACME-1", components=("Data platform",)),
        ticket("ACME-2", components=("Frontend", "Data platform")),
        ticket("ACME-3", components=("Frontend",)),
    ]

    assert keys(members(m, tickets)) == ["ACME-1", "ACME-2"]


def test_linear_milestone_selects_linear_tickets_in_that_project_milestone() -> None:
    m = milestone(match={"linear_milestone": "Model deployed to staging"})
    tickets = [
        ticket("ENG-1", tracker="linear", linear_milestone="Model deployed to staging"),
        ticket("ENG-2", tracker="linear", linear_milestone="Data pipeline operational"),
        ticket("ENG-3", tracker="linear"),
        # A Jira ticket can never sit in a Linear project milestone.
        ticket("ACME-4", linear_milestone="Model deployed to staging"),
    ]

    assert keys(members(m, tickets)) == ["ENG-1"]


@pytest.mark.parametrize(
    ("key", "tracker", "status"),
    [
        ("ENG-9", "linear", "Canceled"),
        ("ACME-9", "jira", "Won't Do"),
        ("ACME-9", "jira", "Duplicate"),
    ],
    ids=["linear-canceled", "jira-wont-do", "jira-duplicate"],
)
def test_excluded_tickets_are_neither_members_nor_counted(
    key: str, tracker: str, status: str
) -> None:
    m = milestone(match={"label": "m"})
    done = ticket("ACME-1", progress=Progress.DONE, labels=["m"])
    excluded = ticket(key, tracker=tracker, progress=Progress.EXCLUDED, status=status, labels=["m"])

    state = milestone_state(m, members(m, [done, excluded]), [], as_of=AS_OF, tz=UTC)

    assert [t.key for t in members(m, [done, excluded])] == ["ACME-1"]
    assert (state.tickets_total, state.tickets_done) == (1, 1)
    # The excluded ticket neither holds the milestone open nor counts as done work.
    assert state.status is Status.DONE


def test_a_milestone_holding_only_excluded_tickets_is_not_done() -> None:
    m = milestone(planned=AS_OF.replace(day=20))
    canceled = ticket("ENG-9", tracker="linear", progress=Progress.EXCLUDED, labels=["m-2.1"])

    state = compute_state(client(m), [canceled], as_of=AS_OF).milestones[0]

    assert state.status is Status.NOT_STARTED
    assert state.actual is None
    assert state.tickets_total == 0


@pytest.mark.parametrize(
    ("progress", "counts_as_done"),
    [
        (Progress.TODO, False),
        (Progress.IN_PROGRESS, False),
        (Progress.DONE, True),
    ],
)
def test_only_done_tickets_count_as_done(progress: Progress, counts_as_done: bool) -> None:
    m = milestone()
    tickets = [
        ticket("ACME-1", progress=Progress.DONE, labels=["m-2.1"]),
        ticket("ACME-2", progress=progress, labels=["m-2.1"]),
    ]

    state = compute_state(client(m), tickets, as_of=AS_OF).milestones[0]

    assert state.tickets_total == 2
    assert state.tickets_done == (2 if counts_as_done else 1)
    assert (state.status is Status.DONE) is counts_as_done
