"""Linear: translation of GraphQL `Issue` nodes into `Ticket`s, and the live `LinearSource`
that pages through them with `gql` over httpx.

`to_ticket` is pure and shared by the `linear-export` source and the live connector.
`ISSUE_FIELDS` is the selection both the live query and the export format rely on; its nested
lists carry `pageInfo`, and `follow_up_query` completes the ones that say more follow.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.client import SyncClientSession
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXTransport
from graphql import DocumentNode

from syncbot.connectors import deadline, live
from syncbot.connectors.base import FetchResult, LinearAccess, ProgressCallback
from syncbot.connectors.parsing import (
    MalformedTicket,
    UnreadableJson,
    loads,
    names,
    need,
    obj,
    optional_date,
    optional_timestamp,
    timestamp,
    tolerant,
)
from syncbot.connectors.retry import (
    Attempts,
    Clock,
    Retryable,
    RetryPolicy,
    Sleep,
    retry_after,
    utc_now,
)
from syncbot.domain import Progress, StatusChange, Ticket
from syncbot.errors import SourceAuthError, SourceError

# The nested lists of an issue, and what syncbot reads of each entry.
LISTS = {
    "labels": "nodes { name }",
    "relations": "nodes { type relatedIssue { id identifier } }",
    "inverseRelations": "nodes { type issue { id identifier } }",
    "history": "nodes { createdAt fromState { name } toState { name } }",
}
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
# Every nested connection names its page size: Linear charges a connection's children (page
# info included) times its `first` (50 when absent), so these set the cost of each issue (see
# PAGE_SIZE). A list longer than its page is never cut: its `pageInfo` says so and
# `follow_up_query` fetches the rest (`FOLLOW_UP_PAGE` entries at a time), so the pages here
# only trade the size of a page query against how often a follow-up is needed. History gets
# the most: every change to an issue is an entry.
NESTED_PAGE = {"labels": 10, "relations": 5, "inverseRelations": 5, "history": 25}
_LIST_FIELDS = "\n    ".join(
    f"{name}(first: {NESTED_PAGE[name]}) {{ {LISTS[name]} {PAGE_INFO} }}" for name in LISTS
)
# `trashed` lets the live connector drop deleted issues that `includeArchived` also returns.
ISSUE_FIELDS = f"""
    id identifier title description url trashed
    state {{ name type }}
    dueDate createdAt updatedAt completedAt canceledAt estimate
    assignee {{ name email }}
    projectMilestone {{ id name targetDate }}
    project {{ id name }}
    {_LIST_FIELDS}
"""
# Issues per page. Linear refuses any query over 10,000 complexity points, counted as 0.1 per
# property, 1 per object, a connection's children times its page size
# (linear.app/developers/rate-limiting). One issue above costs about 179 points (10 labels 23,
# two relation lists of 5 at 17.5 each, 25 history entries 112.5, the rest 7.1, its share of
# the page info 1.2), so 50 issues come to 8,940; 55 would be the ceiling. `first: 250`, the
# most Linear pages without nested lists, would cost about 44,700 and be refused.
PAGE_SIZE = 50
# A follow-up asks for up to FOLLOW_UPS lists at once, each `issue(id:)` with one list of
# FOLLOW_UP_PAGE entries after the cursor the page gave: at most 40 x (1 + 50 x 4.5) = 9,040
# points, history being the dearest list.
FOLLOW_UP_PAGE = 50
FOLLOW_UPS = 40
# includeArchived: issues auto-archived after completion still count as done; the connector
# drops trashed ones. No orderBy: the default (createdAt) is one that updates cannot change,
# so an issue updated while we page neither skips the page boundary nor vanishes from a full
# fetch; the incremental overlap re-reads it.
ISSUES_QUERY = f"""
query SyncbotIssues($first: Int!, $after: String, $filter: IssueFilter) {{
  issues(first: $first, after: $after, filter: $filter, includeArchived: true) {{
    nodes {{ {ISSUE_FIELDS} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""
VIEWER_QUERY = "query SyncbotViewer { viewer { id name email } }"
_STATE = {
    "triage": Progress.TODO,
    "backlog": Progress.TODO,
    "unstarted": Progress.TODO,
    "started": Progress.IN_PROGRESS,
    "completed": Progress.DONE,
    "canceled": Progress.EXCLUDED,
    "duplicate": Progress.EXCLUDED,
}


@tolerant
def to_ticket(raw: Any) -> Ticket:
    """Translate one `Issue` node; raise MalformedTicket if unusable."""
    key = need(raw, "identifier", "issue")
    if not isinstance(key, str):
        raise MalformedTicket(f"issue: identifier is not a string: {key!r}")
    state = need(raw, "state", key)
    state_type = need(state, "type", f"{key}.state")
    if state_type not in _STATE:
        raise MalformedTicket(f"{key}.state.type: unknown state type {state_type!r}")
    progress = _STATE[state_type]
    if raw.get("canceledAt") and progress is not Progress.DONE:
        progress = Progress.EXCLUDED
    completed = None
    if progress is Progress.DONE:
        completed = optional_timestamp(raw.get("completedAt"), f"{key}.completedAt") or timestamp(
            need(raw, "updatedAt", key), f"{key}.updatedAt"
        )
    assignee = obj(raw.get("assignee"))
    blocks = tuple(
        obj(rel.get("relatedIssue")).get("identifier")
        for rel in _nodes(raw.get("relations"))
        if rel.get("type") == "blocks"
    )
    blocked_by = tuple(
        obj(rel.get("issue")).get("identifier")
        for rel in _nodes(raw.get("inverseRelations"))
        if rel.get("type") == "blocks"
    )
    return Ticket(
        key=key,
        tracker="linear",
        title=str(raw.get("title") or ""),
        status=str(state.get("name") or state_type),
        progress=progress,
        created=timestamp(need(raw, "createdAt", key), f"{key}.createdAt"),
        updated=timestamp(need(raw, "updatedAt", key), f"{key}.updatedAt"),
        completed=completed,
        due=optional_date(raw.get("dueDate"), f"{key}.dueDate"),
        labels=names(_nodes(raw.get("labels"))),
        linear_milestone=obj(raw.get("projectMilestone")).get("name"),
        project=obj(raw.get("project")).get("name"),
        assignee_name=assignee.get("name"),
        assignee_email=assignee.get("email"),
        description=str(raw.get("description") or ""),
        url=raw.get("url") if isinstance(raw.get("url"), str) else None,
        blocked_by=tuple(k for k in blocked_by if isinstance(k, str)),
        blocks=tuple(k for k in blocks if isinstance(k, str)),
        history=_history(raw, key),
    )


def cut_lists(raw: Any) -> list[str]:
    """The nested lists of an issue node that say more entries follow (`hasNextPage`)."""
    return [name for name in LISTS if _more(obj(raw).get(name)) is not None]


def _more(connection: Any) -> str | None:
    """The endCursor after which a nested list continues ('' when Linear gave none), or None
    when the list is whole."""
    info = obj(obj(connection).get("pageInfo"))
    if info.get("hasNextPage") is not True:
        return None
    cursor = info.get("endCursor")
    return cursor if isinstance(cursor, str) else ""


@functools.lru_cache(maxsize=64)
def follow_up_query(lists: tuple[str, ...]) -> str:
    """The query completing one list per entry of `lists` (names from LISTS): alias `nK` is
    `issue(id: $idK)` with that list's next FOLLOW_UP_PAGE entries after `$afterK`."""
    variables = ", ".join(f"$id{n}: String!, $after{n}: String" for n in range(len(lists)))
    fields = "\n".join(
        f"  n{n}: issue(id: $id{n}) {{ {name}(first: {FOLLOW_UP_PAGE}, after: $after{n}) "
        f"{{ {LISTS[name]} {PAGE_INFO} }} }}"
        for n, name in enumerate(lists)
    )
    return f"query SyncbotIssueLists({variables}) {{\n{fields}\n}}"


def _nodes(connection: Any) -> list[dict[str, Any]]:
    nodes = obj(connection).get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _history(raw: dict[str, Any], key: str) -> tuple[StatusChange, ...]:
    changes = []
    for entry in _nodes(raw.get("history")):
        to_state = obj(entry.get("toState")).get("name")
        if to_state and entry.get("createdAt"):
            at = timestamp(entry["createdAt"], f"{key}.history")
            changes.append(StatusChange(at, obj(entry.get("fromState")).get("name"), to_state))
    return tuple(sorted(changes, key=lambda c: c.at))


# -- the live connector ---------------------------------------------------------------------


@dataclass
class _Answer:
    """Status and headers of the latest HTTP answer (gql keeps only the body)."""

    status: int | None = None
    headers: httpx.Headers | None = None

    def record(self, response: httpx.Response) -> None:
        self.status, self.headers = response.status_code, response.headers

    def header(self, name: str) -> str | None:
        return self.headers.get(name) if self.headers is not None else None


class LinearSource:
    """Live Linear: `ISSUES_QUERY` page after page, filtered by team key and/or project name.

    One request per page of `page_size` issues, plus, for the issues of a page whose labels,
    relations or history run past `NESTED_PAGE`, follow-up requests of up to `FOLLOW_UPS`
    lists each until every list is whole (a repeated cursor stops the fetch). Incremental
    fetches add `updatedAt >= cursor - overlap`, the cursor being the latest `updatedAt`
    Linear returned. A query naming an issue that was deleted since its page was read fails
    the fetch (Linear answers it with an error, not a null); the next sync reads it again.
    Rate limits arrive as HTTP 400 with `extensions.code == "RATELIMITED"`, refused keys as
    400 or 401 with `AUTHENTICATION_ERROR`; both are told apart by that code, not the status.
    """

    def __init__(
        self,
        name: str,
        *,
        access: LinearAccess,
        team: str | None = None,
        project: str | None = None,
        page_size: int | None = None,
        overlap: dt.timedelta = dt.timedelta(minutes=5),
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        if not (team or project):
            raise ValueError("LinearSource needs a team or a project")
        self.name = name
        self.url = access.url
        self.api_key = access.api_key
        self.team = team
        self.project = project
        self.page_size = page_size or PAGE_SIZE
        self.overlap = overlap
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.document = GraphQLRequest(ISSUES_QUERY).document

    def issue_filter(self, since: dt.datetime | None) -> dict[str, Any]:
        """The `IssueFilter` variable: team key, project name, updated since."""
        where: dict[str, Any] = {}
        if self.team:
            where["team"] = {"key": {"eq": self.team}}
        if self.project:
            where["project"] = {"name": {"eq": self.project}}
        if since is not None:
            start = (since - self.overlap).astimezone(dt.UTC).isoformat(timespec="milliseconds")
            where["updatedAt"] = {"gte": start.replace("+00:00", "Z")}  # as Linear writes it
        return where

    def fetch(
        self,
        *,
        updated_since: str | None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        since = live.since(updated_since, full, self.name)
        attempts = Attempts(self.name, "Linear", self.retry, self.sleep)
        pages = live.Pages(to_ticket, progress)
        answer = _Answer()
        follow_ups = 0
        transport = self._transport(answer)
        variables: dict[str, Any] = {
            "first": self.page_size,
            "after": None,
            "filter": self.issue_filter(since),
        }
        cursors: set[str] = set()
        with Client(transport=transport) as session:
            while True:
                data = attempts(
                    f"issues page {pages.pages + 1}",
                    partial(self._execute, session, dict(variables), answer),
                )
                nodes, has_next, cursor = self._page(data)
                kept = [n for n in nodes if not (isinstance(n, dict) and n.get("trashed"))]
                follow_ups = self._complete_lists(session, attempts, answer, kept, follow_ups)
                pages.add(kept)
                if not has_next:
                    break
                if not cursor or cursor in cursors:
                    raise SourceError(
                        self.name,
                        "Linear said there is a next page but gave no "
                        "new endCursor; stopped paging",
                    )
                cursors.add(cursor)
                variables["after"] = cursor
        return pages.result(complete=since is None, requests=attempts.requests)

    def viewer(self) -> str:
        """Who the API key belongs to (`syncbot check --live`): one `viewer` query, not
        retried; SourceError says which setting to fix."""
        attempts = Attempts(self.name, "Linear", RetryPolicy(retries=0), self.sleep)
        answer = _Answer()
        document = GraphQLRequest(VIEWER_QUERY).document
        with Client(transport=self._transport(answer)) as session:
            data = attempts("viewer", partial(self._execute, session, {}, answer, document))
        me = obj(obj(data).get("viewer"))
        return str(me.get("name") or me.get("email") or me.get("id") or "?")

    def _transport(self, answer: _Answer) -> HTTPXTransport:
        return HTTPXTransport(
            url=self.url,
            headers={"Authorization": self.api_key.get_secret_value()},
            timeout=self.timeout,
            event_hooks={"response": [answer.record]},
            json_deserialize=loads,
            transport=deadline.HttpxTransport(self.timeout),  # a total limit per request too
        )

    def _complete_lists(
        self,
        session: SyncClientSession,
        attempts: Attempts,
        answer: _Answer,
        nodes: list[Any],
        number: int,
    ) -> int:
        """Fetch the rest of every nested list of `nodes` that says it has more, in place;
        `number` counts the follow-up queries of this fetch (returned updated)."""
        pending = [
            (node, name, cursor)
            for node in nodes
            if isinstance(node, dict) and isinstance(node.get("id"), str)
            for name in LISTS
            if (cursor := _more(node.get(name))) is not None
        ]
        seen: set[tuple[str, str, str]] = set()
        while pending:
            batch, pending = pending[:FOLLOW_UPS], pending[FOLLOW_UPS:]
            for node, name, cursor in batch:
                if not cursor or (node["id"], name, cursor) in seen:
                    raise SourceError(
                        self.name,
                        f"Linear said {node.get('identifier')}'s {name} has more entries but "
                        "gave no new endCursor; stopped paging",
                    )
                seen.add((node["id"], name, cursor))
            number += 1
            document = GraphQLRequest(follow_up_query(tuple(n for _, n, _ in batch))).document
            variables: dict[str, Any] = {}
            for k, (node, _, cursor) in enumerate(batch):
                variables[f"id{k}"], variables[f"after{k}"] = node["id"], cursor
            data = attempts(
                f"issue lists {number}",
                partial(self._execute, session, variables, answer, document),
            )
            for k, (node, name, _) in enumerate(batch):
                connection = obj(obj(obj(data).get(f"n{k}")).get(name))
                more = connection.get("nodes")
                if not isinstance(more, list):
                    raise SourceError(
                        self.name,
                        f"Linear answered the follow-up for {node.get('identifier')}'s "
                        f"{name} without nodes",
                    )
                held = obj(node.get(name))
                node[name] = {
                    "nodes": [*_nodes(held), *more],
                    "pageInfo": connection.get("pageInfo"),
                }
                cursor = _more(node[name])
                if cursor is not None:
                    pending.append((node, name, cursor))
        return number

    def _execute(
        self,
        session: SyncClientSession,
        variables: dict[str, Any],
        answer: _Answer,
        document: DocumentNode | None = None,
    ) -> dict[str, Any]:
        """One POST; failures sorted into Retryable and Source*Error."""
        answer.status = answer.headers = None
        request = GraphQLRequest(document or self.document, variable_values=variables)
        try:
            return session.execute(request)
        except TransportQueryError as exc:  # a GraphQL answer with errors, whatever the status
            raise self._refusal(exc.errors or [], answer) from exc
        except TransportServerError as exc:  # status >= 400 and no GraphQL answer
            raise self._refusal([], answer, exc.code) from exc
        except TransportProtocolError as exc:  # 2xx but not a GraphQL answer
            if isinstance(exc.__context__, UnreadableJson):  # gql raised it reading ours
                # Valid JSON Python will not load: asking again gets the same answer.
                raise SourceError(
                    self.name, f"Linear's answer cannot be read ({exc.__context__})"
                ) from None
            raise Retryable("the answer was not a GraphQL response (malformed JSON)") from exc
        except TransportConnectionFailed as exc:
            if isinstance(exc.__cause__, deadline.HttpxDeadlineExceeded):  # trickled in
                raise Retryable(f"no complete answer within {self.timeout:g} s") from exc
            if isinstance(exc.__cause__, httpx.TimeoutException):
                raise Retryable(f"no answer within {self.timeout:g} s") from exc
            raise Retryable(f"cannot connect to {self.url} (check SYNCBOT_LINEAR_API_URL)") from exc

    def _refusal(self, errors: list[Any], answer: _Answer, status: int | None = None) -> Exception:
        status = status or answer.status
        codes = sorted(
            {c for e in errors if isinstance(c := obj(obj(e).get("extensions")).get("code"), str)}
        )
        message = self._scrub(str(obj(errors[0]).get("message") or "")) if errors else ""
        said = f"Linear answered {status or '?'}{' ' + '/'.join(codes) if codes else ''}"
        said += f" ({message or 'no message'})"
        wait = retry_after(answer.header("Retry-After"), now=self.clock())
        if "RATELIMITED" in codes or status == 429:
            return Retryable(said, rate_limited=True, wait=wait)
        if "AUTHENTICATION_ERROR" in codes or status == 401:
            return SourceAuthError(self.name, f"{said}: check SYNCBOT_LINEAR_API_KEY")
        if "FORBIDDEN" in codes or status == 403:
            return SourceAuthError(
                self.name,
                f"{said}: check SYNCBOT_LINEAR_API_KEY and that its user may read this team",
            )
        if (status or 0) >= 500 or "INTERNAL_SERVER_ERROR" in codes:
            return Retryable(said, wait=wait)
        if "GRAPHQL_VALIDATION_FAILED" in codes:
            return SourceError(
                self.name,
                f"{said}: Linear no longer accepts syncbot's query (its schema changed); "
                "please report this",
            )
        if status == 404:
            return SourceError(self.name, f"{said}: check SYNCBOT_LINEAR_API_URL")
        return SourceError(self.name, said)

    def _scrub(self, text: str) -> str:
        """Never repeat the key, should an error message echo it."""
        key = self.api_key.get_secret_value()
        return " ".join(text.replace(key, "***").split()) if key else text

    def _page(self, data: Any) -> tuple[list[Any], bool, str | None]:
        connection = obj(obj(data).get("issues"))
        nodes = connection.get("nodes")
        info = connection.get("pageInfo")
        if not isinstance(nodes, list) or not isinstance(info, dict):
            raise SourceError(
                self.name,
                "Linear answered without data.issues.nodes and "
                "pageInfo; is SYNCBOT_LINEAR_API_URL Linear's API?",
            )
        cursor = info.get("endCursor")
        return nodes, info.get("hasNextPage") is True, cursor if isinstance(cursor, str) else None
