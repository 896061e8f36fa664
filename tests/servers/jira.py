"""A stand-in for Jira Cloud (REST v3) or Jira Data Center (REST v2) on loopback.

    with FakeJira("cloud") as jira:              # or FakeJira("dc")
        jira.add("ACME-1", updated=at(2026, 3, 2, 10), epic="ACME-10")
        # SYNCBOT_JIRA_URL=jira.url, SYNCBOT_JIRA_EMAIL=EMAIL, SYNCBOT_JIRA_TOKEN=TOKEN
        # (Data Center: SYNCBOT_JIRA_PAT=PAT)

It speaks the wire format of the real thing, as described by Atlassian's OpenAPI spec
(../shared/jira/swagger-v3.v3.json) and its samples: `serverInfo` (anonymous), the field list
with the Epic Link custom field, Cloud's enhanced search (GET and POST /rest/api/3/search/jql:
`nextPageToken` absent and `isLast: true` on the last page; `maxResults` capped at `max_page`
unless only ids/keys are asked for; the removed /search answers 410) and Data Center's
/rest/api/2/search (`startAt`, `maxResults` truncated to `max_page`, `total`). Only the
requested `fields` come back; `expand=changelog` adds the histories, newest first, cut to
the newest `changelog_limit` of them (Jira Cloud embeds at most 40; `total` then says how many
there are; Data Center embeds all unless a limit is given).

`GET /rest/api/{2,3}/myself` answers who the credentials sign in as.

The full history: Cloud's `POST /rest/api/3/changelog/bulkfetch` (up to 1000 issue ids or
keys, `fieldIds` filter, oldest first, `maxResults` capped at `bulk_page`, `nextPageToken`
paging) and, on both, `GET /rest/api/{2,3}/issue/{key}` with `fields` and
`expand=changelog`, whose changelog is never cut. Data Center has no `/issue/{key}/changelog`
(that is Cloud's), so it answers 404 like the real one.

JQL: what syncbot sends and a little more: `project = KEY`, `project in (A, B)`,
`updated|created >= | > | <= | < "yyyy/MM/dd HH:mm"` read in the Jira user's `timezone` (as
real Jira does; timestamps are also written in it), `labels = x`, AND, parentheses, and
`ORDER BY field [ASC|DESC]`. Unknown projects and clauses answer 400 like Jira.

Faults (besides FakeServer's `hang`, `server_error`, `malformed`): `rate_limit` (429 with
Retry-After) and `deny` (403). Wrong credentials get Jira's 401 by themselves.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

from servers import wire
from servers.base import FakeServer, Request, Response

EMAIL = "bot@agency.test"
TOKEN = "cloud-api-token"
PAT = "dc-personal-access-token"
CHICAGO_WINTER = dt.timezone(dt.timedelta(hours=-6))
EPIC_LINK = {"cloud": "customfield_10014", "dc": "customfield_10100"}
CLOUD_CHANGELOG_LIMIT = 40  # histories Jira Cloud embeds per issue in a search answer
JQL_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
Deployment = Literal["cloud", "dc"]
REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."

_SYSTEM_FIELDS = [
    ("summary", "Summary", ["summary"], "string"),
    ("status", "Status", ["status"], "status"),
    ("resolution", "Resolution", ["resolution"], "resolution"),
    ("resolutiondate", "Resolved", ["resolutiondate", "resolved"], "datetime"),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        ["statusCategoryChangedDate"],
        "datetime",
    ),
    ("created", "Created", ["created", "createdDate"], "datetime"),
    ("updated", "Updated", ["updated", "updatedDate"], "datetime"),
    ("duedate", "Due date", ["due", "duedate"], "date"),
    ("labels", "Labels", ["labels"], "array"),
    ("parent", "Parent", ["parent"], "issuelink"),
    ("fixVersions", "Fix versions", ["fixVersion"], "array"),
    ("components", "Components", ["component"], "array"),
    ("issuelinks", "Linked Issues", ["issueLink"], "array"),
    ("assignee", "Assignee", ["assignee"], "user"),
    ("description", "Description", ["description"], "string"),
    ("project", "Project", ["project"], "project"),
    ("comment", "Comment", ["comment"], "comments-page"),
    ("issuetype", "Issue Type", ["issuetype", "type"], "issuetype"),
]


class JqlError(ValueError):
    """Jira answers these with 400 and the text in errorMessages."""


class FakeJira(FakeServer):
    def __init__(
        self,
        deployment: Deployment = "cloud",
        *,
        timezone: dt.tzinfo = CHICAGO_WINTER,
        max_page: int | None = None,
        projects: Iterable[str] = ("ACME",),
        changelog_limit: int | Literal["all"] | None = None,
        bulk_page: int = 1000,
    ) -> None:
        super().__init__()
        self.deployment = deployment
        self.timezone = timezone
        self.max_page = max_page or (100 if deployment == "cloud" else 1000)
        # Histories embedded per issue in a search answer (None: the deployment's habit,
        # Cloud 40 and Data Center all of them; "all": never cut).
        if changelog_limit is None:
            changelog_limit = CLOUD_CHANGELOG_LIMIT if deployment == "cloud" else "all"
        self.changelog_limit = None if changelog_limit == "all" else changelog_limit
        self.bulk_page = bulk_page  # the most changelogs one bulkfetch page holds
        self.projects = set(projects)
        self.issues: dict[str, dict[str, Any]] = {}
        self.epic_link = EPIC_LINK[deployment]
        self.serves_field_list = True  # False: a minimal stand-in without /field (404)

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    @property
    def search_path(self) -> str:
        return "/rest/api/3/search/jql" if self.cloud else "/rest/api/2/search"

    # -- seeding ---------------------------------------------------------------------------

    def timestamp(self, at: dt.datetime) -> str:
        """`at` as Jira writes it, in the user's timezone: 2026-03-02T10:00:00.000-0600."""
        return wire.jira_timestamp(at.astimezone(self.timezone))

    def add(
        self,
        key: str,
        *,
        updated: dt.datetime,
        created: dt.datetime | None = None,
        summary: str | None = None,
        category: str = "new",
        status: str | None = None,
        epic: str | None = None,
        labels: Sequence[str] = (),
        history: Sequence[tuple[dt.datetime, str | None, str]] = (),
        **fields: Any,
    ) -> dict[str, Any]:
        """Add or replace an issue; `fields` (raw Jira values) override what is built here."""
        project = key.rsplit("-", 1)[0]
        self.projects.add(project)
        number = int(key.rsplit("-", 1)[1])
        category_id, _, category_name = wire.STATUS_CATEGORIES[category]
        body = wire.jira_fields(
            summary=summary or f"Ticket {key}",
            status={
                "name": status or category_name,
                "statusCategory": {"id": category_id, "key": category, "name": category_name},
            },
            resolution={"name": "Done"} if category == "done" else None,
            resolutiondate=self.timestamp(updated) if category == "done" else None,
            statuscategorychangedate=self.timestamp(created or updated),
            created=self.timestamp(created or updated - dt.timedelta(days=1)),
            updated=self.timestamp(updated),
            labels=labels,
            project={"id": "10000", "key": project, "name": project.title()},
            issuetype={"name": "Task"},
            comment={"comments": [], "total": 0},
        )
        if epic and self.cloud:
            body["parent"] = {"id": "1", "key": epic, "fields": {"summary": f"Epic {epic}"}}
        elif epic:
            body[self.epic_link] = epic
        body.update(fields)
        issue = {
            "id": str(10000 + number),
            "key": key,
            "fields": body,
            "histories": [
                wire.jira_history(
                    str(n),
                    {"displayName": "Someone"},
                    self.timestamp(at),
                    [wire.jira_change("status", old, new, field_id=self.cloud)],
                )
                for n, (at, old, new) in sorted(
                    enumerate(history, 1), key=lambda e: e[1][0], reverse=True
                )
            ],
        }
        self.issues[key] = issue
        return issue

    def remove(self, key: str) -> None:
        del self.issues[key]

    # -- faults ----------------------------------------------------------------------------

    def rate_limit(
        self, *, times: int | None = 1, retry_after: int | str = 5, path: str | None = "/search"
    ) -> None:
        """Jira Cloud's 429 with Retry-After (seconds, or any text such as an HTTP date) and
        its rate-limit headers."""
        headers = {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "RateLimit-Reason": "jira-burst-based",
        }
        self.fault(
            Response.json(429, {"errorMessages": ["Rate limit exceeded."]}, headers),
            times=times,
            path=path,
        )

    def deny(self, *, times: int | None = 1, path: str | None = "/search") -> None:
        self.fault(
            Response.json(
                403,
                {
                    "errorMessages": ["You do not have the permission to see the specified issue."],
                    "errors": {},
                },
            ),
            times=times,
            path=path,
        )

    # -- the API ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(r"/rest/api/(2|3|latest)/(.+)", request.path)
        if match is None or (match.group(1) == "3" and not self.cloud):
            return Response.text(404, "null for uri: " + request.path)
        version, endpoint = match.groups()
        if endpoint == "serverInfo" and request.method == "GET":
            return Response.json(200, self._server_info())
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        if endpoint == "myself" and request.method == "GET":
            return Response.json(200, self.myself())
        if endpoint == "field" and request.method == "GET" and self.serves_field_list:
            return Response.json(200, self.field_list())
        if endpoint == "search/jql" and self.cloud and request.method in ("GET", "POST"):
            return self._search(request, version)
        if endpoint == "search" and request.method in ("GET", "POST"):
            if self.cloud:
                return Response.json(410, {"errorMessages": [REMOVED], "errors": {}})
            return self._search(request, version)
        if endpoint == "changelog/bulkfetch" and self.cloud and request.method == "POST":
            return self._bulk_changelogs(request)
        issue = re.fullmatch(r"issue/([^/]+)", endpoint)
        if issue and request.method == "GET":
            return self._issue(request, issue.group(1), version)
        return Response.json(404, {"errorMessages": [f"No endpoint {request.path}"], "errors": {}})

    def myself(self) -> dict[str, Any]:
        """GET /rest/api/{2,3}/myself: the signed-in user (Cloud: accountId; DC: name/key)."""
        if self.cloud:
            return {
                "self": f"{self.url}/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
                "accountId": "5b10a2844c20165700ede21g",
                "accountType": "atlassian",
                "emailAddress": EMAIL,
                "displayName": "syncbot bot",
                "active": True,
                "timeZone": "America/Chicago",
            }
        return {
            "self": f"{self.url}/rest/api/2/user?username=syncbot",
            "key": "JIRAUSER10100",
            "name": "syncbot",
            "emailAddress": EMAIL,
            "displayName": "syncbot bot",
            "active": True,
        }

    def _server_info(self) -> dict[str, Any]:
        return {
            "baseUrl": self.url,
            "version": "1001.0.0-SNAPSHOT" if self.cloud else "9.12.4",
            "versionNumbers": [1001, 0, 0] if self.cloud else [9, 12, 4],
            "deploymentType": "Cloud" if self.cloud else "Server",
            "buildNumber": 100246 if self.cloud else 9120004,
            "buildDate": "2026-03-01T00:00:00.000+0000",
            "scmInfo": "1f51473f5c7b75c1a69a0090f4832cdc5053702a",
            "serverTitle": "Jira",
        }

    def field_list(self) -> list[dict[str, Any]]:
        fields = [
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": clauses,
                "schema": {"type": kind, "system": fid},
            }
            for fid, name, clauses, kind in _SYSTEM_FIELDS
        ]
        number = int(self.epic_link.rsplit("_", 1)[1])
        fields += [
            {
                "id": self.epic_link,
                "key": self.epic_link,
                "name": "Epic Link",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", "Epic Link"],
                "schema": {
                    "type": "any",
                    "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
                    "customId": number,
                },
            },
            {
                "id": "customfield_10002",
                "key": "customfield_10002",
                "name": "Story Points",
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": ["cf[10002]", "Story Points"],
                "schema": {
                    "type": "number",
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                    "customId": 10002,
                },
            },
        ]
        return fields

    def _check_auth(self, request: Request) -> Response | None:
        given = request.header("Authorization") or ""
        if self.cloud:
            pair = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
            if given == f"Basic {pair}":
                return None
            return Response.text(
                401,
                "Client must be authenticated to access this resource.",
                {"WWW-Authenticate": 'Basic realm="protected-area"'},
            )
        if given == f"Bearer {PAT}":
            return None
        return Response.json(
            401,
            {"errorMessages": [NOT_AUTHENTICATED], "errors": {}},
            {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"},
        )

    def _search(self, request: Request, version: str) -> Response:
        if request.method == "POST":
            body = request.json()
            fields = [f for v in body.get("fields") or [] for f in str(v).split(",")]
            params = {
                k: body.get(k) for k in ("jql", "nextPageToken", "maxResults", "startAt", "expand")
            }
        else:
            fields = request.params("fields")
            params = {
                k: request.param(k)
                for k in ("jql", "nextPageToken", "maxResults", "startAt", "expand")
            }
        jql = str(params["jql"] or "")
        try:
            matches, order, reverse = self.query(jql)
        except JqlError as exc:
            return Response.json(400, {"errorMessages": [str(exc)], "warningMessages": []})
        found = sorted((i for i in self.issues.values() if matches(i)), key=order, reverse=reverse)
        fields = [f.strip() for f in fields if f.strip()]
        only_ids = set(fields) <= {"id", "key"}
        cap = 5000 if self.cloud and only_ids else self.max_page
        size = max(0, min(int(params["maxResults"] or 50), cap))
        expand = {e.strip() for e in str(params["expand"] or "").split(",")}

        def render(issue: dict[str, Any]) -> dict[str, Any]:
            return self._render(issue, fields, expand, version, limit=self.changelog_limit)

        if self.cloud:
            try:
                offset = self._offset(params["nextPageToken"], jql)
            except ValueError:
                return Response.json(400, {"errorMessages": ["Invalid nextPageToken."]})
            page = found[offset : offset + size]
            end = offset + len(page)
            token = self._token(end, jql) if end < len(found) and page else None
            return Response.json(200, wire.jira_cloud_page([render(i) for i in page], token))
        start = int(params["startAt"] or 0)
        page = found[start : start + size]
        issues = [render(i) for i in page]
        return Response.json(
            200, wire.jira_dc_page(issues, start_at=start, max_results=size, total=len(found))
        )

    def _render(
        self,
        issue: dict[str, Any],
        fields: list[str],
        expand: set[str],
        version: str,
        *,
        limit: int | None = None,
    ) -> dict[str, Any]:
        known = [f["id"] for f in self.field_list()]
        wanted: list[str] = []
        everything = {"*all", "*navigable"} & set(fields) or (not fields and not self.cloud)
        for fid in known if everything else fields:
            if fid in known and f"-{fid}" not in fields and fid not in wanted:
                wanted.append(fid)
        return wire.JiraSite(self.url, version).issue(
            issue["id"],
            issue["key"],
            {fid: issue["fields"].get(fid) for fid in wanted},
            issue["histories"] if "changelog" in expand else None,
            limit=limit,
        )

    def _issue(self, request: Request, id_or_key: str, version: str) -> Response:
        """GET /issue/{key}: the issue, its whole changelog with expand=changelog."""
        issue = next((i for i in self.issues.values() if id_or_key in (i["key"], i["id"])), None)
        if issue is None:
            return Response.json(
                404,
                {
                    "errorMessages": [
                        "Issue does not exist or you do not have permission to see it."
                    ],
                    "errors": {},
                },
            )
        fields = request.params("fields")
        expand = set(request.params("expand"))
        return Response.json(200, self._render(issue, fields, expand, version, limit=None))

    def _bulk_changelogs(self, request: Request) -> Response:
        """POST /rest/api/3/changelog/bulkfetch, as the swagger describes it."""
        body = request.json()
        body = body if isinstance(body, dict) else {}
        wanted = body.get("issueIdsOrKeys")
        field_ids = body.get("fieldIds") or []
        if not isinstance(wanted, list) or not 1 <= len(wanted) <= 1000 or len(field_ids) > 10:
            return Response.json(
                400,
                {
                    "errorMessages": [
                        "Between 1 and 1000 issue IDs/keys and up to 10 field IDs are allowed."
                    ],
                    "errors": {},
                },
            )
        size = max(1, min(int(body.get("maxResults") or 1000), 10_000, self.bulk_page))
        found = [i for i in self.issues.values() if i["key"] in wanted or i["id"] in wanted]
        entries = []  # (created, issue id, history): oldest first, then smallest issue id
        for issue in found:
            for history in issue["histories"]:
                items = [
                    item
                    for item in history["items"]
                    if not field_ids or (item.get("fieldId") or item.get("field")) in field_ids
                ]
                if items:
                    entries.append(
                        (_parse(history["created"]), int(issue["id"]), {**history, "items": items})
                    )
        entries.sort(key=lambda e: (e[0], e[1]))
        token_key = json.dumps(sorted(map(str, wanted)))
        try:
            offset = self._offset(body.get("nextPageToken"), token_key)
        except ValueError:
            return Response.json(400, {"errorMessages": ["Invalid nextPageToken."], "errors": {}})
        page = entries[offset : offset + size]
        logs: dict[int, list[dict[str, Any]]] = {}
        for _, issue_id, history in page:
            logs.setdefault(issue_id, []).append(history)
        answer: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": str(issue_id), "changeHistories": histories}
                for issue_id, histories in logs.items()
            ]
        }
        if offset + len(page) < len(entries):
            answer["nextPageToken"] = self._token(offset + len(page), token_key)
        return Response.json(200, answer)

    @staticmethod
    def _token(offset: int, jql: str) -> str:
        raw = json.dumps({"o": offset, "q": hashlib.sha1(jql.encode()).hexdigest()[:12]})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @staticmethod
    def _offset(token: Any, jql: str) -> int:
        if not token:
            return 0
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if data.get("q") != hashlib.sha1(jql.encode()).hexdigest()[:12]:
            raise ValueError("token from another query")
        return int(data["o"])

    # -- JQL -------------------------------------------------------------------------------

    def query(
        self, jql: str
    ) -> tuple[Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], Any], bool]:
        """(predicate, sort key, descending) for a JQL string, or JqlError."""
        order = re.search(r"\border\s+by\s+(\w+)(?:\s+(asc|desc))?\s*\Z", jql, re.IGNORECASE)
        where = jql[: order.start()] if order else jql
        terms = _split_and(where)
        if not terms and self.cloud:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. Please add a search "
                "restriction to your query."
            )
        tests = [self._term(term) for term in terms]
        field = order.group(1) if order else "key"
        descending = bool(order and (order.group(2) or "asc").lower() == "desc")
        if field not in ("updated", "created", "key"):
            raise JqlError(
                f"Field '{field}' does not exist or you do not have permission to view it."
            )

        def sort_key(issue: dict[str, Any]) -> Any:
            number = int(issue["id"])
            if field == "key":
                return (issue["key"].rsplit("-", 1)[0], number)
            return (_parse(issue["fields"][field]), number)

        return (lambda issue: all(t(issue) for t in tests)), sort_key, descending

    def _term(self, term: str) -> Callable[[dict[str, Any]], bool]:
        if term.startswith("(") and _closing(term) == len(term) - 1:
            inner = [self._term(t) for t in _split_and(term[1:-1])]
            return lambda issue: all(t(issue) for t in inner)
        project = re.fullmatch(r"project\s*(=|in)\s*(.+)", term, re.IGNORECASE | re.DOTALL)
        if project:
            values = [_unquote(v) for v in _values(project.group(2))]
            for value in values:
                if value not in self.projects:
                    raise JqlError(f"The value '{value}' does not exist for the field 'project'.")
            return lambda issue: issue["fields"]["project"]["key"] in values
        date = re.fullmatch(
            r"(updated|created)\s*(>=|<=|>|<|=)\s*(.+)", term, re.IGNORECASE | re.DOTALL
        )
        if date:
            field, op, raw = date.group(1).lower(), date.group(2), _unquote(date.group(3))
            at = self._jql_date(raw, field)
            compare: dict[str, Callable[[dt.datetime], bool]] = {
                ">=": lambda v: v >= at,
                ">": lambda v: v > at,
                "<=": lambda v: v <= at,
                "<": lambda v: v < at,
                "=": lambda v: v == at,
            }
            return lambda issue: compare[op](_parse(issue["fields"][field]))
        labels = re.fullmatch(r"labels\s*=\s*(.+)", term, re.IGNORECASE | re.DOTALL)
        if labels:
            label = _unquote(labels.group(1))
            return lambda issue: label in (issue["fields"].get("labels") or [])
        raise JqlError(f"Error in the JQL Query: the fake Jira does not understand {term!r}.")

    def _jql_date(self, raw: str, field: str) -> dt.datetime:
        for fmt in JQL_DATE_FORMATS:
            try:
                naive = dt.datetime.strptime(raw, fmt)
            except ValueError:
                continue
            return naive.replace(tzinfo=self.timezone)  # JQL dates: the user's timezone
        raise JqlError(
            f"Date value '{raw}' for field '{field}' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )


def _parse(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _scan(text: str) -> Iterator[tuple[int, int]]:
    """(index, parenthesis depth after it) of every character outside quoted strings."""
    depth, quote = 0, ""
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote and text[i - 1] != "\\" else quote
        elif c in "\"'":
            quote = c
        else:
            depth += (c == "(") - (c == ")")
            yield i, depth


def _closing(text: str) -> int:
    """Where the parenthesis opening `text` closes."""
    for i, depth in _scan(text):
        if depth == 0:
            return i
    raise JqlError("Error in the JQL Query: unbalanced parentheses.")


def _split_and(text: str) -> list[str]:
    """Top-level AND-separated terms (OR is not supported: syncbot never sends it)."""
    top = {i for i, depth in _scan(text) if depth == 0}
    terms, start = [], 0
    for word in re.finditer(r"\s(and|or)\s", text, re.IGNORECASE):
        if word.start() in top and word.start() >= start:
            if word.group(1).lower() == "or":
                raise JqlError("Error in the JQL Query: the fake Jira does not support OR.")
            terms.append(text[start : word.start()])
            start = word.end()
    terms.append(text[start:])
    return [t.strip() for t in terms if t.strip()]


def _values(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("("):
        return [v.strip() for v in text[1:-1].split(",") if v.strip()]
    return [text]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    tz: dt.tzinfo = CHICAGO_WINTER,
) -> dt.datetime:
    """An aware datetime, in Chicago winter time unless told otherwise."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)
