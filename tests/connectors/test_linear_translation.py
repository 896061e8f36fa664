"""Linear GraphQL `Issue` nodes -> `Ticket`: `syncbot.connectors.linear.to_ticket`."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from syncbot.connectors.linear import ISSUE_FIELDS, to_ticket
from syncbot.connectors.parsing import MalformedTicket
from syncbot.domain import Progress, StatusChange

# A client dependency as Linear's `issues` query returns it with ISSUE_FIELDS selected.
NODE: dict[str, Any] = {
    "id": "8d1f0e4a-3b9c-4f5e-9a51-2c7d6e0b1a11",
    "identifier": "ENG-42",
    "title": "Client shares the labelled sample set",
    "description": "500 labelled rows from the client's QA team.\n\nSee the data contract.",
    "url": "https://linear.app/globex/issue/ENG-42/client-shares-the-labelled-sample-set",
    "state": {"name": "Blocked", "type": "started"},
    "dueDate": "2026-03-09",
    "createdAt": "2026-02-18T15:04:05.123Z",
    "updatedAt": "2026-03-02T16:00:00.000Z",
    "completedAt": None,
    "canceledAt": None,
    "estimate": 3,
    "assignee": {"name": "Dana Client", "email": "dana@globex.example"},
    "labels": {"nodes": [{"name": "client-dependency"}, {"name": "Data"}]},
    "projectMilestone": {
        "id": "5a0c2f3e-1111-4a2b-8c3d-4e5f6a7b8c9d",
        "name": "Data pipeline operational",
        "targetDate": "2026-03-06",
    },
    "project": {"id": "0b7e3d2c-2222-4c4d-9e8f-0a1b2c3d4e5f", "name": "Globex AI pilot"},
    "relations": {
        "nodes": [
            {"type": "blocks", "relatedIssue": {"id": "r-50", "identifier": "ENG-50"}},
            {"type": "related", "relatedIssue": {"id": "r-51", "identifier": "ENG-51"}},
        ]
    },
    "inverseRelations": {
        "nodes": [
            {"type": "blocks", "issue": {"id": "r-30", "identifier": "ENG-30"}},
            {"type": "duplicate", "issue": {"id": "r-31", "identifier": "ENG-31"}},
        ]
    },
    "history": {
        # Newest first, as Linear returns them; most entries are not state changes.
        "nodes": [
            {
                "createdAt": "2026-03-02T16:00:00.000Z",
                "fromState": {"name": "In Progress"},
                "toState": {"name": "Blocked"},
            },
            {"createdAt": "2026-02-26T09:00:00.000Z", "fromState": None, "toState": None},
            {
                "createdAt": "2026-02-20T10:30:00.000Z",
                "fromState": {"name": "Todo"},
                "toState": {"name": "In Progress"},
            },
        ]
    },
}


def node(**changes: Any) -> dict[str, Any]:
    """A deep copy of NODE with `changes` applied (a value of `...` removes the key)."""
    raw = copy.deepcopy(NODE)
    for key, value in changes.items():
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def test_a_node_translates_every_field_the_rules_need() -> None:
    t = to_ticket(NODE)

    assert (t.key, t.tracker) == ("ENG-42", "linear")
    assert t.title == "Client shares the labelled sample set"
    assert (t.status, t.progress) == ("Blocked", Progress.IN_PROGRESS)
    assert t.created == dt.datetime(2026, 2, 18, 15, 4, 5, 123000, tzinfo=dt.UTC)
    assert t.updated == dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC)
    assert t.completed is None
    assert t.due == dt.date(2026, 3, 9)
    assert t.labels == ("client-dependency", "Data")
    assert t.linear_milestone == "Data pipeline operational"
    assert t.project == "Globex AI pilot"
    assert (t.assignee_name, t.assignee_email) == ("Dana Client", "dana@globex.example")
    assert t.description.startswith("500 labelled rows")
    assert t.url == NODE["url"]
    assert t.parent is None and t.fix_versions == () and t.components == ()


@pytest.mark.parametrize(
    ("state_type", "progress"),
    [
        ("triage", Progress.TODO),
        ("backlog", Progress.TODO),
        ("unstarted", Progress.TODO),
        ("started", Progress.IN_PROGRESS),
        ("completed", Progress.DONE),
        ("canceled", Progress.EXCLUDED),
    ],
)
def test_progress_follows_the_workflow_state_type(state_type: str, progress: Progress) -> None:
    assert to_ticket(node(state={"name": "Whatever", "type": state_type})).progress is progress


def test_a_completed_issue_completes_at_completed_at() -> None:
    t = to_ticket(
        node(state={"name": "Done", "type": "completed"}, completedAt="2026-03-06T03:30:00.000Z")
    )

    assert t.is_done
    assert t.completed == dt.datetime(2026, 3, 6, 3, 30, tzinfo=dt.UTC)


def test_a_canceled_issue_is_neither_open_nor_done() -> None:
    t = to_ticket(
        node(state={"name": "Canceled", "type": "canceled"}, canceledAt="2026-03-03T12:00:00.000Z")
    )

    assert t.progress is Progress.EXCLUDED
    assert not t.is_open and not t.is_done
    assert t.completed is None


def test_blocks_relations_are_read_from_both_sides_and_other_types_ignored() -> None:
    t = to_ticket(NODE)

    assert t.blocks == ("ENG-50",)
    assert t.blocked_by == ("ENG-30",)


def test_state_changes_come_from_history_oldest_first() -> None:
    assert to_ticket(NODE).history == (
        StatusChange(dt.datetime(2026, 2, 20, 10, 30, tzinfo=dt.UTC), "Todo", "In Progress"),
        StatusChange(dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC), "In Progress", "Blocked"),
    )


def test_optional_fields_may_be_absent_or_null() -> None:
    t = to_ticket(
        node(
            description=None,
            url=...,
            dueDate=None,
            assignee=None,
            labels={"nodes": []},
            projectMilestone=None,
            project=None,
            relations=...,
            inverseRelations=...,
            history=...,
        )
    )

    assert (t.due, t.linear_milestone, t.project, t.assignee_name, t.url) == (None,) * 5
    assert (t.labels, t.blocks, t.blocked_by, t.history) == ((),) * 4
    assert t.description == ""


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(node(identifier=...), id="missing-identifier"),
        pytest.param(node(identifier=42), id="identifier-not-a-string"),
        pytest.param(node(state=...), id="missing-state"),
        pytest.param(node(state=None), id="null-state"),
        pytest.param(node(state={"name": "Todo"}), id="state-without-type"),
        pytest.param(node(state={"name": "Todo", "type": "paused"}), id="unknown-state-type"),
        pytest.param(node(createdAt=...), id="missing-createdAt"),
        pytest.param(node(updatedAt="last Tuesday"), id="bad-updatedAt"),
        pytest.param(node(dueDate="2026-02-30"), id="impossible-dueDate"),
        pytest.param(
            node(state={"name": "Done", "type": "completed"}, completedAt="done!"),
            id="bad-completedAt",
        ),
        pytest.param(
            node(history={"nodes": [{"createdAt": "noon", "toState": {"name": "Blocked"}}]}),
            id="bad-history-timestamp",
        ),
        pytest.param(None, id="null"),
        pytest.param(["ENG-42"], id="list"),
    ],
)
def test_an_unusable_node_raises_malformed_ticket(raw: Any) -> None:
    with pytest.raises(MalformedTicket):
        to_ticket(raw)


def test_a_malformed_ticket_message_names_the_issue_and_the_problem() -> None:
    with pytest.raises(MalformedTicket, match=r"ENG-42.*state.*'paused'"):
        to_ticket(node(state={"name": "Paused", "type": "paused"}))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            node(state={"name": "Todo", "type": ["unstarted"]}),
            id="state-type-not-a-string",
        ),
        pytest.param(node(labels={"nodes": "Data"}), id="labels-not-a-list"),
        pytest.param(node(relations={"nodes": [None, {"type": "blocks"}]}), id="junk-relations"),
        pytest.param(node(history=[1, 2]), id="history-not-a-connection"),
    ],
)
def test_type_confused_values_never_raise_anything_but_malformed_ticket(raw: Any) -> None:
    """SPEC §5: a malformed ticket is skipped and counted, never fatal."""
    try:
        to_ticket(raw)
    except MalformedTicket:
        pass


# --- ../shared/linear: the public schema and samples -------------------------------------


@pytest.mark.shared
def test_issue_fields_validate_against_linears_public_schema(shared_dir: Path) -> None:
    """The selection both the live query and the export format rely on (SPEC §5)."""
    from graphql import build_schema, parse, validate

    schema = build_schema((shared_dir / "linear" / "schema.graphql").read_text(encoding="utf-8"))
    query = parse(
        "query Issues($after: String) { issues(first: 50, after: $after) {"
        f" nodes {{ {ISSUE_FIELDS} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )

    assert validate(schema, query) == []


@pytest.mark.shared
def test_every_sample_issue_translates_or_is_reported_malformed(
    shared_dir: Path, linear_sample_issue: Any
) -> None:
    """The public samples are webhook payloads: Issue data without `identifier` (they carry
    `number` and `teamId`), so they are expected to be reported malformed, never to crash."""
    try:
        t = to_ticket(linear_sample_issue)
    except MalformedTicket as exc:
        assert str(exc)
        return
    assert t.key == linear_sample_issue["identifier"]
    assert t.created.tzinfo is not None


@pytest.mark.shared
def test_real_issue_payloads_translate_once_they_carry_an_identifier(
    linear_samples: list[tuple[str, Any]],
) -> None:
    """Real timestamps and workflow states, with the identifier GraphQL would add
    (team key + number)."""
    translated = {}
    for _, raw in linear_samples:
        identified = {**raw, "identifier": f"{raw['team']['key']}-{raw['number']}"}
        t = to_ticket(identified)
        assert t.created.utcoffset() == dt.timedelta(0)
        translated[t.key] = (t.status, t.progress)

    assert translated == {
        "KOR-11": ("Todo", Progress.TODO),
        "KOR-12": ("Backlog", Progress.TODO),
        "KOR-57": ("In Review", Progress.IN_PROGRESS),
        "KOR-70": ("Backlog", Progress.TODO),
    }
