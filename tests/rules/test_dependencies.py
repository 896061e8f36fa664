"""SPEC §4: client dependencies, what they block, how long they have blocked, and the impact."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from rule_factories import AS_OF, client, day, milestone, moment, ticket

from syncbot import messages
from syncbot.config import Milestone
from syncbot.connectors import jira, linear
from syncbot.domain import ClientState, DependencyState, Progress, Ticket
from syncbot.rules.state import compute_state

DEP_LABEL = ["client-dependency"]


def state_of(
    tickets: Sequence[Ticket],
    milestones: Sequence[Milestone] = (),
    as_of: dt.date = AS_OF,
    **settings: Any,
) -> ClientState:
    return compute_state(client(*(milestones or [milestone()]), **settings), tickets, as_of=as_of)


def only(deps: Sequence[DependencyState]) -> DependencyState:
    assert len(deps) == 1, [d.key for d in deps]
    return deps[0]


# --- detection ---------------------------------------------------------------------------


def test_an_open_ticket_with_a_dependency_label_is_a_client_dependency() -> None:
    tickets = [
        ticket("ACME-40", labels=["client-dependency"]),
        ticket("ACME-41", progress=Progress.IN_PROGRESS, labels=["security", "Client-Dependency"]),
        ticket("ACME-42", labels=["security"]),
    ]

    assert [d.key for d in state_of(tickets).dependencies] == ["ACME-40", "ACME-41"]


def test_a_linear_label_marks_a_client_dependency_too() -> None:
    dep = ticket("ENG-7", tracker="linear", labels=["client-dependency"])

    assert [d.key for d in state_of([dep]).dependencies] == ["ENG-7"]


def test_client_dependency_labels_are_configurable() -> None:
    tickets = [
        ticket("ACME-40", labels=["waiting-on-acme"]),
        ticket("ACME-41", labels=["client-dependency"]),
    ]

    state = state_of(tickets, client_dependency_labels=["waiting-on-acme"])

    assert [d.key for d in state.dependencies] == ["ACME-40"]


@pytest.mark.parametrize(
    "progress", [Progress.DONE, Progress.EXCLUDED], ids=["resolved", "canceled"]
)
def test_a_closed_ticket_is_no_dependency_and_blocks_nothing(progress: Progress) -> None:
    m = milestone(planned=day(14))
    tickets = [
        ticket("ACME-1", due=day(2), labels=["m-2.1"], blocked_by=("ACME-40",)),
        ticket("ACME-40", progress=progress, due=day(-3), labels=DEP_LABEL),
    ]

    state = state_of(tickets, [m])

    assert state.dependencies == ()
    assert state.milestones[0].blocked_by == ()
    assert state.milestones[0].forecast == day(2)


def test_a_dependency_carries_summary_owner_and_due_date() -> None:
    dep = ticket(
        "ACME-40",
        title="IT grants API access",
        assignee_name="Dana Client",
        assignee_email="dana@acme.example",
        due=day(-1),
        labels=DEP_LABEL,
    )

    got = only(state_of([dep]).dependencies)

    assert (got.summary, got.owner, got.owner_email) == (
        "IT grants API access",
        "Dana Client",
        "dana@acme.example",
    )
    assert got.due == day(-1)
    assert got.overdue is True


def test_a_dependency_due_today_is_not_overdue() -> None:
    got = only(state_of([ticket("ACME-40", due=AS_OF, labels=DEP_LABEL)]).dependencies)

    assert got.overdue is False


# --- blocked since -----------------------------------------------------------------------


def test_blocked_since_is_the_last_entry_into_a_blocked_or_waiting_status() -> None:
    dep = ticket(
        "ACME-40",
        labels=DEP_LABEL,
        history=[
            (moment(dt.date(2026, 2, 20)), "Blocked"),
            (moment(dt.date(2026, 2, 24)), "In Progress"),
            (moment(dt.date(2026, 3, 2)), "Waiting for customer"),
            (moment(dt.date(2026, 3, 4)), "In Review"),
        ],
    )

    got = only(state_of([dep]).dependencies)

    assert got.blocked_since == dt.date(2026, 3, 2)
    assert got.days_blocked == 8


@pytest.mark.parametrize("status", ["BLOCKED", "Blocked by client", "On hold - WAITING"])
def test_blocked_status_names_match_case_insensitively(status: str) -> None:
    dep = ticket("ACME-40", labels=DEP_LABEL, history=[(moment(dt.date(2026, 3, 2)), status)])

    assert only(state_of([dep]).dependencies).blocked_since == dt.date(2026, 3, 2)


def test_without_a_blocked_status_an_open_dependency_is_not_blocking_yet() -> None:
    """SPEC v2: no blocked/waiting status and not overdue: blocked_since is null, 0 days,
    and the text says when it is needed (v1 counted from creation, alarming sponsors)."""
    dep = ticket(
        "ACME-40",
        labels=DEP_LABEL,
        created=moment(dt.date(2026, 2, 27), hour=9),
        due=day(5),
        history=[(moment(dt.date(2026, 3, 3)), "In Progress")],
    )

    got = only(state_of([dep]).dependencies)

    assert got.blocked_since is None and got.days_blocked == 0
    assert got.impact_statement.endswith(f"needed by {day(5).isoformat()}.")


def test_an_overdue_dependency_blocks_from_the_day_after_its_due_date() -> None:
    dep = ticket("ACME-40", labels=DEP_LABEL, due=day(-4), created=moment(dt.date(2026, 1, 2)))

    got = only(state_of([dep]).dependencies)

    assert got.blocked_since == day(-3) and got.days_blocked == 3
    assert "blocked since" in got.impact_statement


def test_once_work_on_a_milestone_is_done_the_dependency_holds_up_its_finish() -> None:
    tickets = [
        ticket("ACME-40", title="IT access", labels=DEP_LABEL, due=day(3)),
        ticket("ACME-41", labels=["m-4.2"], progress=Progress.DONE, completed=moment(day(-2))),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-40",)),
    ]
    got = only(state_of(tickets, [milestone("4.2", name="Staging")]).dependencies)

    assert got.impact_statement.startswith("We cannot finish 'Staging' until 'IT access'")


def test_blocked_status_keywords_are_configurable() -> None:
    dep = ticket(
        "ACME-40",
        labels=DEP_LABEL,
        created=moment(dt.date(2026, 2, 1)),
        history=[
            (moment(dt.date(2026, 2, 25)), "On Hold"),
            (moment(dt.date(2026, 3, 5)), "Blocked"),
        ],
    )

    got = only(state_of([dep], blocked_status_keywords=["on hold"]).dependencies)

    assert got.blocked_since == dt.date(2026, 2, 25)


def test_blocked_since_is_the_client_calendar_day() -> None:
    # 02:00 UTC on 3 March is the evening of 2 March in Chicago.
    entered = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    dep = ticket("ACME-40", labels=DEP_LABEL, history=[(entered, "Blocked")])

    utc = only(state_of([dep]).dependencies)
    chicago = only(state_of([dep], timezone="America/Chicago").dependencies)

    assert (utc.blocked_since, utc.days_blocked) == (dt.date(2026, 3, 3), 7)
    assert (chicago.blocked_since, chicago.days_blocked) == (dt.date(2026, 3, 2), 8)


def test_days_blocked_counts_calendar_days_to_the_as_of_date() -> None:
    dep = ticket("ACME-40", labels=DEP_LABEL, history=[(moment(dt.date(2026, 3, 2)), "Blocked")])

    assert only(state_of([dep], as_of=dt.date(2026, 3, 2)).dependencies).days_blocked == 0
    assert only(state_of([dep], as_of=dt.date(2026, 3, 3)).dependencies).days_blocked == 1
    assert only(state_of([dep], as_of=dt.date(2026, 4, 1)).dependencies).days_blocked == 30


# --- what a dependency blocks ------------------------------------------------------------

MILESTONES = [milestone("2.1"), milestone("3.1"), milestone("4.2")]


def test_it_blocks_milestones_holding_tickets_that_name_it_as_blocker() -> None:
    tickets = [
        ticket("ACME-40", labels=DEP_LABEL),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-40",)),
        ticket("ACME-45", labels=["m-3.1"]),
    ]

    state = state_of(tickets, MILESTONES)

    assert only(state.dependencies).blocks == ("4.2",)
    assert [m.blocked_by for m in state.milestones] == [(), (), ("ACME-40",)]


def test_it_blocks_milestones_holding_tickets_it_names_as_blocked() -> None:
    """The link may be recorded only on the dependency's side ("ACME-40 blocks ACME-44")."""
    tickets = [
        ticket("ACME-40", labels=DEP_LABEL, blocks=("ACME-44",)),
        ticket("ACME-44", labels=["m-4.2"]),
    ]

    state = state_of(tickets, MILESTONES)

    assert only(state.dependencies).blocks == ("4.2",)
    assert state.milestones[2].blocked_by == ("ACME-40",)


def test_it_blocks_its_own_milestone_plus_linked_ones_in_milestone_order() -> None:
    tickets = [
        ticket("ACME-40", labels=[*DEP_LABEL, "m-3.1"], blocks=("ACME-44",)),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-40",)),  # both ends recorded
        ticket("ACME-21", labels=["m-2.1"], blocked_by=("ACME-40",)),
    ]

    assert only(state_of(tickets, MILESTONES).dependencies).blocks == ("2.1", "3.1", "4.2")


def test_other_link_directions_and_tickets_do_not_count() -> None:
    tickets = [
        ticket("ACME-40", labels=DEP_LABEL, blocked_by=("ACME-21",)),  # ACME-21 blocks the dep
        ticket("ACME-21", labels=["m-2.1"], blocks=("ACME-40",)),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-99",)),
    ]

    assert only(state_of(tickets, MILESTONES).dependencies).blocks == ()


def test_jira_blocks_links_are_read_from_either_issue() -> None:
    """Jira puts a Blocks link on both issues; a partial export may hold only one side."""
    blocks = {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"}

    def issue(key: str, labels: list[str], links: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "key": key,
            "fields": {
                "summary": "IT grants API access" if key == "ACME-40" else f"Work {key}",
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "created": "2026-02-20T10:00:00.000-0600",
                "updated": "2026-03-02T10:00:00.000-0600",
                "labels": labels,
                "issuelinks": links,
            },
        }

    tickets = [
        jira.to_ticket(issue("ACME-40", DEP_LABEL, [])),
        # "ACME-44 is blocked by ACME-40", recorded only on ACME-44.
        jira.to_ticket(
            issue("ACME-44", ["m-4.2"], [{"type": blocks, "inwardIssue": {"key": "ACME-40"}}])
        ),
        # "ACME-21 blocks ACME-40": the dependency waits on ACME-21, not the other way round.
        jira.to_ticket(
            issue("ACME-21", ["m-2.1"], [{"type": blocks, "outwardIssue": {"key": "ACME-40"}}])
        ),
    ]

    assert only(state_of(tickets, MILESTONES).dependencies).blocks == ("4.2",)


def test_linear_blocks_relations_are_read_from_either_issue() -> None:
    def node(identifier: str, labels: list[str], **relations: Any) -> dict[str, Any]:
        return {
            "id": f"id-{identifier}",
            "identifier": identifier,
            "title": f"Work {identifier}",
            "state": {"name": "Todo", "type": "unstarted"},
            "createdAt": "2026-02-20T16:00:00.000Z",
            "updatedAt": "2026-03-02T16:00:00.000Z",
            "labels": {"nodes": [{"name": name} for name in labels]},
            **relations,
        }

    tickets = [
        # ENG-40 blocks ENG-44 (recorded on ENG-40's relations).
        linear.to_ticket(
            node(
                "ENG-40",
                DEP_LABEL,
                relations={"nodes": [{"type": "blocks", "relatedIssue": {"identifier": "ENG-44"}}]},
            )
        ),
        linear.to_ticket(node("ENG-44", ["m-4.2"])),
        # ENG-21 is blocked by ENG-40 (recorded on ENG-21's inverse relations).
        linear.to_ticket(
            node(
                "ENG-21",
                ["m-2.1"],
                inverseRelations={"nodes": [{"type": "blocks", "issue": {"identifier": "ENG-40"}}]},
            )
        ),
    ]

    assert only(state_of(tickets, MILESTONES).dependencies).blocks == ("2.1", "4.2")


# --- impact statement --------------------------------------------------------------------


def test_impact_statement_matches_the_spec_example() -> None:
    tickets = [
        ticket(
            "ACME-40",
            title="IT grants API access",
            labels=DEP_LABEL,
            history=[(moment(dt.date(2026, 3, 2), hour=10), "Blocked")],
        ),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-40",)),
    ]
    model = milestone("4.2", name="Model deployed to staging")

    got = only(state_of(tickets, [milestone("2.1"), model]).dependencies)

    assert got.impact_statement == (
        "We cannot start 'Model deployed to staging' until 'IT grants API access' is resolved"
        " — blocked since 2026-03-02 (8 days)."
    )
    assert got.impact_statement == messages.impact_statement(
        ["Model deployed to staging"],
        [],
        "IT grants API access",
        since=dt.date(2026, 3, 2),
        days_blocked=8,
        due=None,
    )


def test_impact_statement_names_every_blocked_milestone_and_a_single_day() -> None:
    tickets = [
        ticket(
            "ACME-40",
            title="Share the labelled sample set",
            labels=DEP_LABEL,
            history=[(moment(day(-1)), "Waiting for customer")],
        ),
        ticket("ACME-21", labels=["m-2.1"], blocked_by=("ACME-40",)),
        ticket("ACME-44", labels=["m-4.2"], blocked_by=("ACME-40",)),
    ]
    milestones = [
        milestone("2.1", name="Data pipeline operational"),
        milestone("4.2", name="Model deployed to staging"),
    ]

    got = only(state_of(tickets, milestones).dependencies)

    assert got.impact_statement == (
        "We cannot start 'Data pipeline operational' and 'Model deployed to staging' until"
        " 'Share the labelled sample set' is resolved — blocked since 2026-03-09 (1 day)."
    )
