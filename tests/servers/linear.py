"""A stand-in for Linear's GraphQL API (POST /graphql) on loopback.

    with FakeLinear() as linear:
        linear.add("ENG-1", updated=utc(2026, 3, 2, 16), project="Globex Rollout")
        # SYNCBOT_LINEAR_API_URL=linear.url + "/graphql", SYNCBOT_LINEAR_API_KEY=API_KEY

Every query is checked the way Linear checks it: parsed, validated against Linear's public
schema (../shared/linear/schema.graphql; without it, a small stand-in schema of the fields
syncbot uses, and `real_schema` is False), priced with Linear's published complexity rule
(`complexity`; over 10,000 points is refused) and then executed by graphql-core against the
seeded issues, so the answer has exactly the shape that was asked for. `issues` honours
`first`/`after` (opaque keyset cursors), `includeArchived`, `orderBy` (newest first) and the
`filter` keys syncbot sends: team key, project name, `updatedAt` comparisons, and/or.
`viewer` is the key's user. `issue(id:)` finds an issue by id or identifier ("Entity not
found" otherwise). Nested lists
(labels, relations, inverseRelations, history) page like Linear's: `first` (50 when absent),
`after` an opaque cursor, and `pageInfo` saying whether more follow.

Refusals use Linear's shapes: a wrong key gets AUTHENTICATION_ERROR (HTTP `auth_status`, 401
or 400), an invalid query GRAPHQL_VALIDATION_FAILED (400), and the `rate_limit` fault HTTP 400
with `extensions.code == "RATELIMITED"`. FakeServer's `hang`, `server_error` and `malformed`
work here too.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql.error import GraphQLSyntaxError

from servers import wire
from servers.base import FakeServer, Request, Response
from servers.shared import shared_file

API_KEY = "lin_api_fake_key_0123456789"
MAX_COMPLEXITY = 10_000
DEFAULT_PAGE = 50  # Linear's page size when `first` is not given
NOT_AUTHENTICATED = "You need to authenticate to access this operation."
SCHEMA_PATH = shared_file("linear", "schema.graphql")  # None without ../shared

# The fields syncbot asks for, typed as in Linear's schema; used only without ../shared.
STAND_IN_SDL = """
scalar DateTime
scalar TimelessDate
scalar DateTimeOrDuration
enum PaginationOrderBy { createdAt updatedAt }
type Query {
  viewer: User!
  issue(id: String!): Issue!
  issues(after: String, before: String, filter: IssueFilter, first: Int,
         includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
}
type PageInfo { endCursor: String hasNextPage: Boolean! hasPreviousPage: Boolean!
                startCursor: String }
type IssueConnection { nodes: [Issue!]! pageInfo: PageInfo! }
type WorkflowState { id: ID! name: String! type: String! }
type User { id: ID! name: String! email: String! }
type Team { id: ID! key: String! name: String! }
type Project { id: ID! name: String! }
type ProjectMilestone { id: ID! name: String! targetDate: TimelessDate }
type IssueLabel { id: ID! name: String! }
type IssueLabelConnection { nodes: [IssueLabel!]! pageInfo: PageInfo! }
type IssueRelation { id: ID! type: String! issue: Issue! relatedIssue: Issue! }
type IssueRelationConnection { nodes: [IssueRelation!]! pageInfo: PageInfo! }
type IssueHistory { id: ID! createdAt: DateTime! fromState: WorkflowState
                    toState: WorkflowState }
type IssueHistoryConnection { nodes: [IssueHistory!]! pageInfo: PageInfo! }
type Issue {
  id: ID! identifier: String! title: String! description: String url: String!
  trashed: Boolean archivedAt: DateTime createdAt: DateTime! updatedAt: DateTime!
  completedAt: DateTime canceledAt: DateTime dueDate: TimelessDate estimate: Float
  state: WorkflowState! assignee: User team: Team! project: Project
  projectMilestone: ProjectMilestone
  labels(after: String, first: Int, includeArchived: Boolean): IssueLabelConnection!
  relations(after: String, first: Int, includeArchived: Boolean): IssueRelationConnection!
  inverseRelations(after: String, first: Int, includeArchived: Boolean):
    IssueRelationConnection!
  history(after: String, first: Int, includeArchived: Boolean): IssueHistoryConnection!
}
input StringComparator { eq: String eqIgnoreCase: String in: [String!] neq: String }
input DateComparator { eq: DateTimeOrDuration gt: DateTimeOrDuration
                       gte: DateTimeOrDuration lt: DateTimeOrDuration
                       lte: DateTimeOrDuration }
input TeamFilter { key: StringComparator name: StringComparator }
input NullableProjectFilter { name: StringComparator null: Boolean }
input IssueFilter { and: [IssueFilter!] or: [IssueFilter!] team: TeamFilter
                    project: NullableProjectFilter updatedAt: DateComparator }
"""


@functools.lru_cache(maxsize=2)
def load_schema(path: Path | None) -> GraphQLSchema:
    """Linear's schema from `path` (built once per process: about a second), or the stand-in."""
    return build_schema(path.read_text(encoding="utf-8") if path else STAND_IN_SDL)


def complexity(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
) -> int:
    """Linear's published rule: "Each property is 0.1 point, each object is 1 point and any
    connection multiplies its children's points based on the given pagination argument, or
    the default 50. The score is then rounded up" (linear.app/developers/rate-limiting).
    Everything under a connection is multiplied, page info included."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operation = next(
        (o for o in operations if o.name and o.name.value == operation_name), operations[0]
    )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root = schema.query_type
    assert root is not None
    cost = _cost(schema, root, operation.selection_set, variables or {}, fragments)
    return math.ceil(round(cost, 6))


def _cost(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selections: SelectionSetNode | None,
    variables: dict[str, Any],
    fragments: dict[str, FragmentDefinitionNode],
) -> float:
    total = 0.0
    for node in selections.selections if selections else ():
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__"):
                continue
            named = get_named_type(parent.fields[node.name.value].type)
            if is_leaf_type(named):
                total += 0.1
                continue
            assert isinstance(named, GraphQLObjectType)
            children = _cost(schema, named, node.selection_set, variables, fragments)
            if named.name.endswith("Connection"):
                total += _page_size(node, variables) * children
            else:
                total += 1 + children
        elif isinstance(node, InlineFragmentNode):
            kind = (
                schema.get_type(node.type_condition.name.value) if node.type_condition else parent
            )
            assert isinstance(kind, GraphQLObjectType)
            total += _cost(schema, kind, node.selection_set, variables, fragments)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments[node.name.value]
            kind = schema.get_type(fragment.type_condition.name.value)
            assert isinstance(kind, GraphQLObjectType)
            total += _cost(schema, kind, fragment.selection_set, variables, fragments)
    return total


def _page_size(node: FieldNode, variables: dict[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last"):
            value = value_from_ast_untyped(argument.value, variables)
            if isinstance(value, int):
                return value
    return DEFAULT_PAGE


def _error(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code, **extensions}}


class FakeLinear(FakeServer):
    path = "/graphql"

    def __init__(
        self,
        *,
        schema_path: Path | None = SCHEMA_PATH,
        auth_status: int = 401,
        max_complexity: int = MAX_COMPLEXITY,
    ) -> None:
        super().__init__()
        self.schema = load_schema(schema_path)
        self.real_schema = schema_path is not None
        self.auth_status = auth_status
        self.max_complexity = max_complexity
        self.issues: dict[str, dict[str, Any]] = {}
        self.complexities: list[int] = []  # of every executed query, in order
        self.viewer = {"id": "user-syncbot", "name": "syncbot bot", "email": "bot@agency.test"}

    @property
    def api_url(self) -> str:
        return self.url + self.path

    # -- seeding ---------------------------------------------------------------------------

    def add(
        self,
        identifier: str,
        *,
        updated: dt.datetime,
        created: dt.datetime | None = None,
        title: str | None = None,
        state: tuple[str, str] = ("Todo", "unstarted"),
        project: str | None = "Globex Rollout",
        milestone: str | None = None,
        labels: Sequence[str] = (),
        blocks: Sequence[str] = (),
        blocked_by: Sequence[str] = (),
        history: Sequence[tuple[dt.datetime, str | None, str]] = (),
        due: str | None = None,
        archived: bool = False,
        trashed: bool = False,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add or replace an issue; `fields` (raw GraphQL values) override what is built."""
        team = identifier.rsplit("-", 1)[0]
        name, kind = state
        iso = wire.linear_timestamp
        node = wire.linear_issue(
            issue_id=f"uuid-{identifier.lower()}",
            identifier=identifier,
            title=title or f"Issue {identifier}",
            url=f"https://linear.app/globex/issue/{identifier.lower()}",
            created_at=iso(created or updated - dt.timedelta(days=1)),
            updated_at=iso(updated),
            completed_at=iso(updated) if kind == "completed" else None,
            canceled_at=iso(updated) if kind == "canceled" else None,
            due_date=due,
            state={"id": f"state-{kind}", "name": name, "type": kind},
            project={"id": f"project-{project}", "name": project} if project else None,
            project_milestone={"id": f"ms-{milestone}", "name": milestone, "targetDate": None}
            if milestone
            else None,
            labels=[{"id": f"label-{n}", "name": n} for n in labels],
            relations=[
                wire.linear_relation(
                    "blocks",
                    {"id": f"uuid-{other.lower()}", "identifier": other},
                    relation_id=f"rel-{identifier}-{other}",
                )
                for other in blocks
            ],
            inverse_relations=[
                wire.linear_relation(
                    "blocks",
                    {"id": f"uuid-{other.lower()}", "identifier": other},
                    inverse=True,
                    relation_id=f"rel-{other}-{identifier}",
                )
                for other in blocked_by
            ],
            history=[
                wire.linear_history(iso(at), old, new, history_id=f"h-{identifier}-{n}")
                for n, (at, old, new) in enumerate(
                    sorted(history, key=lambda h: h[0], reverse=True)
                )
            ],
            # Raw values of fields the builder leaves out (the demo pages predate them).
            trashed=trashed or None,
            archivedAt=iso(updated) if archived or trashed else None,
            team={"id": f"team-{team}", "key": team, "name": team.title()},
        )
        node.update(fields)
        self.issues[identifier] = node
        return node

    def remove(self, identifier: str) -> None:
        """Delete an issue for good (past the trash: it no longer comes back at all)."""
        del self.issues[identifier]

    # -- faults ----------------------------------------------------------------------------

    def rate_limit(self, *, times: int | None = 1, retry_after: int | str | None = None) -> None:
        """Linear's rate-limit answer: HTTP 400, `extensions.code == "RATELIMITED"`."""
        headers = {
            "X-RateLimit-Requests-Limit": "1500",
            "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(int(time.time() * 1000) + 60_000),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        body = {
            "errors": [
                _error(
                    "Rate limit exceeded",
                    "RATELIMITED",
                    type="ratelimited",
                    statusCode=429,
                    userError=True,
                    userPresentableMessage="Too many requests, please slow down.",
                )
            ]
        }
        self.fault(Response.json(400, body, headers), times=times, path=self.path)

    # -- the API ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path != self.path:
            return Response.text(404, "Not found")
        if request.method != "POST":
            return Response.json(405, {"errors": [_error("Use POST", "BAD_REQUEST")]})
        if request.header("Authorization") != API_KEY:
            return Response.json(
                self.auth_status,
                {
                    "errors": [
                        _error(
                            "Authentication required, not authenticated",
                            "AUTHENTICATION_ERROR",
                            type="authentication error",
                            statusCode=401,
                            userError=True,
                            userPresentableMessage=NOT_AUTHENTICATED,
                        )
                    ]
                },
            )
        try:
            body = request.json()
            query, variables = body["query"], body.get("variables") or {}
            operation_name = body.get("operationName")
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, {"errors": [_error(f"Bad request: {exc}", "BAD_REQUEST")]})
        try:
            document = parse(query)
        except GraphQLSyntaxError as exc:
            return Response.json(
                400, {"errors": [{**exc.formatted, "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]}
            )
        invalid = validate(self.schema, document)
        if invalid:
            return Response.json(
                400,
                {
                    "errors": [
                        {
                            **e.formatted,
                            "extensions": {
                                "code": "GRAPHQL_VALIDATION_FAILED",
                                "type": "graphql error",
                                "userError": True,
                            },
                        }
                        for e in invalid
                    ]
                },
            )
        cost = complexity(self.schema, document, variables, operation_name)
        if cost > self.max_complexity:
            return Response.json(
                400,
                {
                    "errors": [
                        _error(
                            f"Query too complex: complexity {cost} exceeds the maximum of "
                            f"{self.max_complexity}",
                            "INPUT_ERROR",
                            type="invalid input",
                            userError=True,
                        )
                    ]
                },
            )
        self.complexities.append(cost)
        result = execute_sync(
            self.schema,
            document,
            root_value={"issues": self._issues, "issue": self._issue, "viewer": self.viewer},
            variable_values=variables,
            operation_name=operation_name,
            field_resolver=_resolve,
        )
        headers = {
            "X-Complexity": str(cost),
            "X-RateLimit-Requests-Limit": "1500",
            "X-RateLimit-Requests-Remaining": "1499",
        }
        if result.errors:
            status = 200 if result.data else 400
            errors = [{**e.formatted, "extensions": {"code": "INPUT_ERROR"}} for e in result.errors]
            return Response.json(status, {"data": result.data, "errors": errors}, headers)
        return Response.json(200, {"data": result.data}, headers)

    def _issue(self, info: GraphQLResolveInfo, id: str, **_: Any) -> dict[str, Any]:
        for node in self.issues.values():
            if id in (node["id"], node["identifier"]):
                return node
        raise GraphQLError("Entity not found: Issue")

    def _issues(
        self,
        info: GraphQLResolveInfo,
        first: int | None = None,
        after: str | None = None,
        filter: dict[str, Any] | None = None,
        includeArchived: bool | None = None,
        orderBy: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        field = orderBy or "createdAt"
        nodes = [
            n
            for n in self.issues.values()
            if (includeArchived or not n.get("archivedAt")) and _matches(filter, n)
        ]
        nodes.sort(key=lambda n: (n[field], n["id"]), reverse=True)  # newest first
        if after:
            try:
                position = tuple(json.loads(base64.urlsafe_b64decode(after.encode())))
            except ValueError:
                raise GraphQLError("Invalid cursor") from None
            nodes = [n for n in nodes if (n[field], n["id"]) < position]
        size = DEFAULT_PAGE if first is None else first
        page = nodes[:size]

        def cursor(node: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps([node[field], node["id"]]).encode()).decode()

        return wire.linear_connection(
            page,
            {
                "hasNextPage": len(nodes) > size,
                "endCursor": cursor(page[-1]) if page else None,
                "hasPreviousPage": after is not None,
                "startCursor": cursor(page[0]) if page else None,
            },
        )


def _resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    """Dict lookup; callables get the arguments; nested connections honour `first`."""
    value = source.get(info.field_name) if isinstance(source, dict) else None
    if callable(value):
        return value(info, **args)
    if isinstance(value, dict) and "nodes" in value:  # a nested list: page it like Linear
        every = value["nodes"]
        start = 0
        if args.get("after"):
            try:
                start = int(json.loads(base64.urlsafe_b64decode(args["after"].encode()))["i"])
            except (ValueError, KeyError, TypeError):
                raise GraphQLError("Invalid cursor") from None
        size = DEFAULT_PAGE if args.get("first") is None else args["first"]
        nodes = every[start : start + size]

        def cursor(index: int) -> str:
            return base64.urlsafe_b64encode(json.dumps({"i": index}).encode()).decode()

        return wire.linear_connection(
            nodes,
            {
                "hasNextPage": start + len(nodes) < len(every),
                "hasPreviousPage": start > 0,
                "endCursor": cursor(start + len(nodes)) if nodes else None,
                "startCursor": cursor(start) if nodes else None,
            },
        )
    return value


def _matches(where: dict[str, Any] | None, node: dict[str, Any]) -> bool:
    for key, condition in (where or {}).items():
        if key == "and" and not all(_matches(c, node) for c in condition):
            return False
        if key == "or" and not any(_matches(c, node) for c in condition):
            return False
        if key == "team" and not _string_matches(condition, node["team"]):
            return False
        if key == "project":
            project = node["project"]
            if condition.get("null") is not None and (project is None) != condition["null"]:
                return False
            if project is None and set(condition) - {"null"}:
                return False
            if project is not None and not _string_matches(condition, project):
                return False
        if key == "updatedAt" and not _date_matches(condition, node["updatedAt"]):
            return False
        if key not in ("and", "or", "team", "project", "updatedAt"):
            raise GraphQLError(f"The fake Linear does not filter by {key!r}")
    return True


def _string_matches(condition: dict[str, Any], entity: dict[str, Any]) -> bool:
    for attribute, comparator in condition.items():
        if attribute == "null":
            continue
        value = str(entity.get(attribute))
        for op, expected in comparator.items():
            if op == "eq":
                ok = value == expected
            elif op == "neq":
                ok = value != expected
            elif op == "eqIgnoreCase":
                ok = value.casefold() == str(expected).casefold()
            elif op == "in":
                ok = value in expected
            else:
                raise GraphQLError(f"The fake Linear does not compare with {op!r}")
            if not ok:
                return False
    return True


def _date_matches(comparator: dict[str, Any], value: str) -> bool:
    actual = dt.datetime.fromisoformat(value)
    for op, raw in comparator.items():
        try:
            expected = dt.datetime.fromisoformat(str(raw))
        except ValueError:
            raise GraphQLError(f"Invalid DateTimeOrDuration: {raw!r}") from None
        if expected.tzinfo is None:
            expected = expected.replace(tzinfo=dt.UTC)
        ok = {
            "eq": actual == expected,
            "gt": actual > expected,
            "gte": actual >= expected,
            "lt": actual < expected,
            "lte": actual <= expected,
        }.get(op)
        if ok is None:
            raise GraphQLError(f"The fake Linear does not compare dates with {op!r}")
        if not ok:
            return False
    return True


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
