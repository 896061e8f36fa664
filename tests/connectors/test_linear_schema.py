"""Every GraphQL document syncbot sends validates against Linear's public schema.

The schema is ../shared/linear/schema.graphql (Linear's SDK, read at run time, never copied
here). Without it these tests skip, or fail under SYNCBOT_TEST_REQUIRE_SHARED=1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, get_variable_values, parse, validate
from pydantic import SecretStr
from servers.linear import MAX_COMPLEXITY, complexity, load_schema
from servers.shared import require_shared

from syncbot.connectors import linear
from syncbot.connectors.base import LinearAccess

# Every document the project sends to Linear, by name. A new query goes here too. The
# follow-ups are built per batch: every list alone, a full batch of each, and a mixed batch.
DOCUMENTS = {
    "ISSUES_QUERY": linear.ISSUES_QUERY,
    **{f"follow_up_query({name})": linear.follow_up_query((name,)) for name in linear.LISTS},
    **{
        f"follow_up_query({name} x {linear.FOLLOW_UPS})": linear.follow_up_query(
            (name,) * linear.FOLLOW_UPS
        )
        for name in linear.LISTS
    },
    "follow_up_query(mixed)": linear.follow_up_query(tuple(linear.LISTS) * 10),
}


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema(require_shared("linear", "schema.graphql"))


def variables_for(**source: Any) -> dict[str, Any]:
    access = LinearAccess("http://127.0.0.1:9/graphql", SecretStr("k"))
    connector = linear.LinearSource("x", access=access, **source)
    since = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)
    return {"first": linear.PAGE_SIZE, "after": "cursor", "filter": connector.issue_filter(since)}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_query_validates_against_linears_schema(schema: GraphQLSchema, name: str) -> None:
    assert validate(schema, parse(DOCUMENTS[name])) == []


@pytest.mark.parametrize(
    "source",
    [{"team": "ENG"}, {"project": "Globex Rollout"}, {"team": "ENG", "project": "Globex Rollout"}],
)
def test_the_variables_we_send_fit_the_schemas_input_types(
    schema: GraphQLSchema, source: dict[str, Any]
) -> None:
    document = parse(linear.ISSUES_QUERY)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)

    good = get_variable_values(
        schema, operation.variable_definitions or (), variables_for(**source)
    )
    bad = get_variable_values(
        schema,
        operation.variable_definitions or (),
        {"first": 50, "filter": {"team": {"keyy": {"eq": "ENG"}}}},
    )

    assert not isinstance(good, list), good  # a list holds the coercion errors
    assert isinstance(bad, list) and "keyy" in bad[0].message


def test_issue_fields_validate_and_keep_the_names_to_ticket_reads(schema: GraphQLSchema) -> None:
    document = parse(f"query {{ issues {{ nodes {{ {linear.ISSUE_FIELDS} }} }} }}")
    assert validate(schema, document) == []
    for name in (
        "pageInfo",
        "identifier",
        "state",
        "updatedAt",
        "labels",
        "projectMilestone",
        "relations",
        "inverseRelations",
        "history",
        "trashed",
    ):
        assert name in linear.ISSUE_FIELDS


def test_a_page_stays_within_linears_complexity_limit(schema: GraphQLSchema) -> None:
    cost = complexity(schema, parse(linear.ISSUES_QUERY), {"first": linear.PAGE_SIZE})

    assert cost < MAX_COMPLEXITY
    # The documented arithmetic: 50 issues of ~179 points (nested page info included).
    assert cost == 8940
    # ... and the documented ceiling: 55 issues fit, 56 do not.
    assert complexity(schema, parse(linear.ISSUES_QUERY), {"first": 55}) < MAX_COMPLEXITY
    assert complexity(schema, parse(linear.ISSUES_QUERY), {"first": 56}) > MAX_COMPLEXITY


@pytest.mark.parametrize("name", sorted(n for n in DOCUMENTS if n.startswith("follow_up")))
def test_every_follow_up_stays_within_linears_complexity_limit(
    schema: GraphQLSchema, name: str
) -> None:
    cost = complexity(schema, parse(DOCUMENTS[name]))

    assert cost < MAX_COMPLEXITY
    if name == f"follow_up_query(history x {linear.FOLLOW_UPS})":
        assert cost == 9040  # the dearest batch, as documented beside FOLLOW_UPS


def test_the_follow_up_variables_fit_the_schema(schema: GraphQLSchema) -> None:
    document = parse(linear.follow_up_query(("history", "labels")))
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)

    coerced = get_variable_values(
        schema,
        operation.variable_definitions or (),
        {"id0": "uuid-eng-1", "after0": "c", "id1": "uuid-eng-2", "after1": "d"},
    )

    assert not isinstance(coerced, list), coerced


def test_the_complexity_rule_matches_linears_documented_examples(schema: GraphQLSchema) -> None:
    # linear.app/developers/rate-limiting: these cost 2 and 14.
    assert complexity(schema, parse('query { user(id: "me") { name } }')) == 2
    assert (
        complexity(
            schema,
            parse(
                'query { user(id: "me") { createdIssues(first: 10) { '
                "nodes { id title createdAt } } } }"
            ),
        )
        == 14
    )


def test_the_stand_in_validates_against_the_shared_schema(schema: GraphQLSchema) -> None:
    import httpx
    from servers.linear import API_KEY, FakeLinear

    with FakeLinear() as server:
        assert server.real_schema
        answer = httpx.post(
            server.api_url,
            headers={"Authorization": API_KEY},
            timeout=5,
            json={"query": "query { issues { nodes { identifier estimat } } }"},
        )
        assert not server.crashes

    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot query field 'estimat' on type 'Issue'" in error["message"]
