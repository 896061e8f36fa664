"""Jira: translation of REST v3 (Cloud) and v2 (Data Center) issues into `Ticket`s, and the
live `JiraSource` that searches for them with the `jira` library.

`to_ticket` is pure and shared by the `jira-export` source and the live connector, so both
map tickets identically. The live connector first completes any embedded changelog Jira cut
short (`changelog_cut`), so translation always sees an issue's whole status history.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from jira import JIRA, JIRAError

from syncbot.connectors import deadline, live
from syncbot.connectors.adf import adf_to_text
from syncbot.connectors.base import FetchResult, JiraAccess, ProgressCallback
from syncbot.connectors.parsing import (
    MalformedTicket,
    names,
    need,
    obj,
    optional_date,
    optional_timestamp,
    timestamp,
    tolerant,
    unreadable_json,
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
from syncbot.errors import SourceAuthError, SourceError, SourceQueryError

logger = logging.getLogger(__name__)

# Only what the rules and the internal digest need; the live connector asks for exactly these.
FIELDS = (
    "summary",
    "status",
    "resolution",
    "resolutiondate",
    "statuscategorychangedate",
    "created",
    "updated",
    "duedate",
    "labels",
    "parent",
    "fixVersions",
    "components",
    "issuelinks",
    "assignee",
    "description",
    "project",
)
DEFAULT_EPIC_LINK_FIELDS = ("customfield_10014",)
_CATEGORY = {
    "new": Progress.TODO,
    "undefined": Progress.TODO,
    "indeterminate": Progress.IN_PROGRESS,
    "done": Progress.DONE,
}


@tolerant
def to_ticket(
    raw: Any,
    *,
    excluded_resolutions: Iterable[str] = ("Won't Do", "Duplicate"),
    epic_link_fields: Iterable[str] = DEFAULT_EPIC_LINK_FIELDS,
    browse_url: str | None = None,
) -> Ticket:
    """Translate one issue object from a search response; raise MalformedTicket if unusable."""
    key = need(raw, "key", "issue")
    if not isinstance(key, str):
        raise MalformedTicket(f"issue: key is not a string: {key!r}")
    fields = need(raw, "fields", key)
    status = need(fields, "status", key)
    status_name = need(status, "name", f"{key}.status")
    resolution = obj(fields.get("resolution")).get("name")
    progress = _progress(status, resolution, excluded_resolutions)
    history = _status_history(raw, key)
    completed = None
    if progress is Progress.DONE:
        completed = (
            optional_timestamp(fields.get("resolutiondate"), f"{key}.resolutiondate")
            or optional_timestamp(fields.get("statuscategorychangedate"), key)
            or next((c.at for c in reversed(history) if c.to_status == status_name), None)
            or timestamp(need(fields, "updated", key), f"{key}.updated")
        )
    assignee = obj(fields.get("assignee"))
    blocked_by, blocks = _block_links(fields.get("issuelinks"))
    return Ticket(
        key=key,
        tracker="jira",
        title=str(fields.get("summary") or ""),
        status=str(status_name),
        progress=progress,
        created=timestamp(need(fields, "created", key), f"{key}.created"),
        updated=timestamp(need(fields, "updated", key), f"{key}.updated"),
        completed=completed,
        due=optional_date(fields.get("duedate"), f"{key}.duedate"),
        labels=names(fields.get("labels")),
        parent=_parent(fields, epic_link_fields),
        fix_versions=names(fields.get("fixVersions")),
        components=names(fields.get("components")),
        project=obj(fields.get("project")).get("key"),
        assignee_name=assignee.get("displayName"),
        assignee_email=assignee.get("emailAddress"),
        description=adf_to_text(fields.get("description")),
        url=_browse_link(key, browse_url, raw.get("self")),
        blocked_by=blocked_by,
        blocks=blocks,
        history=history,
    )


def _browse_link(key: str, base: str | None, self_url: Any) -> str | None:
    """The issue's page: from the configured base URL, else from the REST `self` link that
    every Jira issue carries (`https://host/ctx/rest/api/3/issue/10002` -> `https://host/ctx`)."""
    if not base and isinstance(self_url, str) and "/rest/" in self_url:
        parts = urlsplit(self_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            base = f"{parts.scheme}://{parts.netloc}{parts.path.split('/rest/', 1)[0]}"
    return f"{base.rstrip('/')}/browse/{key}" if base else None


def _progress(status: dict[str, Any], resolution: Any, excluded: Iterable[str]) -> Progress:
    if isinstance(resolution, str) and _norm(resolution) in {_norm(r) for r in excluded}:
        return Progress.EXCLUDED
    category = obj(status.get("statusCategory")).get("key")
    if category in _CATEGORY:
        return _CATEGORY[category]
    # Some payloads omit the category; a resolution is Jira's other "done" signal.
    return Progress.DONE if resolution else Progress.TODO


def _norm(text: str) -> str:
    return text.replace("\u2019", "'").casefold().strip()


def _parent(fields: dict[str, Any], epic_link_fields: Iterable[str]) -> str | None:
    parent = obj(fields.get("parent")).get("key")
    if isinstance(parent, str):
        return parent
    for field in epic_link_fields:  # Data Center: Epic Link custom field holds the epic key
        value = fields.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _block_links(links: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(keys blocking this issue, keys this issue blocks) from `issuelinks`.

    On issue X, a Blocks link with `inwardIssue: Y` reads "X is blocked by Y"; with
    `outwardIssue: Y` it reads "X blocks Y" (Jira labels each end with the type's text).
    """
    blocked_by: list[str] = []
    blocks: list[str] = []
    for link in links if isinstance(links, list) else []:
        kind = obj(obj(link).get("type"))
        if kind.get("name") != "Blocks" and "blocked by" not in str(kind.get("inward", "")):
            continue
        inward = obj(link.get("inwardIssue")).get("key")
        outward = obj(link.get("outwardIssue")).get("key")
        if isinstance(inward, str):
            blocked_by.append(inward)
        if isinstance(outward, str):
            blocks.append(outward)
    return tuple(blocked_by), tuple(blocks)


def changelog_cut(raw: Any) -> bool:
    """Whether an issue's embedded changelog holds fewer histories than its `total` says
    there are (Jira Cloud's search embeds at most 40, the newest)."""
    changelog = obj(obj(raw).get("changelog"))
    histories = changelog.get("histories")
    total = changelog.get("total")
    held = len(histories) if isinstance(histories, list) else 0
    return isinstance(total, int) and not isinstance(total, bool) and total > held


def _status_history(raw: dict[str, Any], key: str) -> tuple[StatusChange, ...]:
    changes = []
    histories = obj(raw.get("changelog")).get("histories")
    for entry in histories if isinstance(histories, list) else []:
        entry = obj(entry)
        if not entry.get("created"):
            continue
        at = _history_time(entry["created"], f"{key}.changelog")
        for item in entry.get("items") or []:
            item = obj(item)
            if item.get("field") == "status" and item.get("toString"):
                changes.append(StatusChange(at, item.get("fromString"), str(item["toString"])))
    return tuple(sorted(changes, key=lambda c: c.at))


def _history_time(value: Any, where: str) -> dt.datetime:
    """A history's `created`: a Jira timestamp, or epoch milliseconds (the bulk changelog's
    published example writes a number where its schema says date-time)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedTicket(f"{where}: not a timestamp: {value!r}") from None
    return timestamp(value, where)


# -- the live connector ---------------------------------------------------------------------

# Page sizes: the largest each API documents. Cloud's GET /rest/api/3/search/jql takes
# `maxResults` up to 5000 ("It returns max 5000 issues", swagger-v3 in ../shared/jira) and
# answers fewer per page when many fields are requested, so asking for 5000 gets whatever the
# largest page is today. Data Center's /rest/api/2/search caps `maxResults` at the
# jira.search.views.default.max property, 1000 unless an admin changed it, and truncates larger
# requests. Paging never assumes the page it asked for: Cloud follows `nextPageToken`, Data
# Center advances `startAt` by the issues actually returned.
CLOUD_MAX_RESULTS = 5000
DATA_CENTER_MAX_RESULTS = 1000
BULK_CHANGELOG_ISSUES = 1000  # the most issues one changelog/bulkfetch request may name
BULK_CHANGELOG_RESULTS = 10_000  # and the most histories it may ask for (default 1000)
EPIC_LINK_SCHEMA = "com.pyxis.greenhopper.jira:gh-epic-link"
JQL_DATE = "%Y/%m/%d %H:%M"  # JQL's minute-resolution date format
_ORDER_BY = re.compile(r"\border\s+by\b.*\Z", re.IGNORECASE | re.DOTALL)


class _Client(JIRA):
    """The `jira` client, asking for the field list at most once.

    The library maps field names through the field list before each search, fetching it
    whenever its cache is empty; `JiraSource` fetches it first through its own counted and
    retried attempt, so no search hides an extra request.
    """

    _field_list: list[dict[str, Any]] | None = None

    def bound_in_total(self, seconds: float) -> None:
        """At most `seconds` per request, however slowly the answer trickles in."""
        deadline.mount(self._session, seconds)

    def bulk_changelogs(self, body: dict[str, Any]) -> Any:
        """One page of Cloud's POST /rest/api/3/changelog/bulkfetch (no library method)."""
        return self._get_json("changelog/bulkfetch", params=body, use_post=True)

    def issue_changelog(self, key: str) -> Any:
        """GET /rest/api/2/issue/{key}?expand=changelog: on Data Center, the whole changelog."""
        return self._get_json(
            f"issue/{quote(key, safe='')}", params={"fields": "status", "expand": "changelog"}
        )

    def field_list_is(self, fields: list[dict[str, Any]]) -> None:
        """Use `fields` instead of asking Jira for its field list."""
        self._field_list = fields

    def fields(self) -> list[dict[str, Any]]:
        if self._field_list is None:
            try:
                self._field_list = super().fields()
            except JIRAError as exc:
                if exc.status_code != 404:
                    raise
                # Searching works without it (the library only uses it for field aliases);
                # only Data Center's Epic Link discovery needs it.
                logger.warning(
                    "Jira has no field list at %s (404); set epic_link_field on Data Center "
                    "sources that match by epic",
                    self.server_url,
                )
                self._field_list = []
        return self._field_list


class JiraSource:
    """Live Jira: Cloud through REST v3 enhanced search, Data Center through REST v2 search.

    One fetch makes one request per page of `jql()`, asking only for `FIELDS` (plus the Epic
    Link field) and the changelog, for blocked-since. Data Center without a configured
    `epic_link_field` finds the Epic Link field in the field list (one request) and reports
    its id in `FetchResult.epic_link_field`; given it back as `known_epic_link_field`, an
    incremental fetch skips that request (an unchanged project then costs one search), while
    a full fetch reads the field list again, in case an admin replaced the field.

    Incremental fetches ask for `updated >= cursor - overlap`. The cursor is the latest
    `updated` Jira returned, kept in the offset Jira wrote it in: the Jira user's timezone,
    which is also the one JQL dates are read in. The overlap covers the minute resolution of
    JQL dates, Jira's search index lagging behind writes, and updates made while we paged.

    Pages come in key order, not `updated` order: an update cannot move a ticket across the
    page boundaries, which with Data Center's `startAt` offsets would make another ticket
    slip past unseen (and a full reconcile would then drop it from the store).

    An issue whose embedded changelog is cut (`total` > histories returned; Jira Cloud embeds
    the newest 40) gets its whole status history before it is translated, so blocked-since is
    never judged on part of it. Cloud: one `POST /rest/api/3/changelog/bulkfetch` per search
    page (up to 1000 issues, status changes only, `nextPageToken` paging). Data Center's REST
    v2 has no changelog endpoint of its own (`/issue/{key}/changelog` is Cloud's): one
    `GET /rest/api/2/issue/{key}?expand=changelog`, which is never cut, per such issue. A 404
    there (the issue went away meanwhile) keeps the embedded part and says so in the notes.
    """

    def __init__(
        self,
        name: str,
        *,
        access: JiraAccess,
        project: str | None = None,
        jql: str | None = None,
        epic_link_field: str | None = None,
        known_epic_link_field: str | None = None,
        excluded_resolutions: Sequence[str] = ("Won't Do", "Duplicate"),
        page_size: int | None = None,
        overlap: dt.timedelta = dt.timedelta(minutes=5),
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        if not (project or jql):
            raise ValueError("JiraSource needs a project or a jql")
        self.name = name
        self.access = access
        self.url = access.url.rstrip("/")
        self.project = project
        self.custom_jql = jql
        self.epic_link_field = epic_link_field
        self.known_epic_link_field = known_epic_link_field
        self.excluded_resolutions = tuple(excluded_resolutions)
        self.page_size = page_size or (
            CLOUD_MAX_RESULTS if access.cloud else DATA_CENTER_MAX_RESULTS
        )
        self.overlap = overlap
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.clock = clock

    def jql(self, since: dt.datetime | None) -> str:
        """The search: the project (or configured JQL), changes since `since`, in key order."""
        if self.custom_jql:
            where = f"({_ORDER_BY.sub('', self.custom_jql).strip()})"
        else:
            where = f'project = "{_jql_escape(self.project or "")}"'
        if since is not None:
            where += f' AND updated >= "{(since - self.overlap).strftime(JQL_DATE)}"'
        return f"{where} ORDER BY key ASC"

    def fetch(
        self,
        *,
        updated_since: str | None,
        full: bool = False,
        progress: ProgressCallback | None = None,
    ) -> FetchResult:
        since = live.since(updated_since, full, self.name)
        attempts = Attempts(self.name, "Jira", self.retry, self.sleep)
        client = self._connect()
        try:
            epic = self.epic_link_field
            found = None  # the Epic Link field id to report, for the caller to keep
            if epic or self.access.cloud:
                # Cloud links epics through `parent`, and we ask for fields by id: the list
                # would only serve the library's name aliases. Skip the request.
                client.field_list_is([])
            elif since is not None and self.known_epic_link_field:
                epic = found = self.known_epic_link_field  # what an earlier fetch found
                client.field_list_is([])
            else:
                field_list = attempts("field list", partial(self._call, client.fields))
                epic = found = _epic_link_field(field_list, self.name)
            fields = [*FIELDS, epic] if epic else list(FIELDS)
            pages = live.Pages(
                partial(
                    to_ticket,
                    excluded_resolutions=self.excluded_resolutions,
                    epic_link_fields=(epic,) if epic else (),
                    browse_url=self.url,
                ),
                progress,
            )
            search = self._cloud_pages if self.access.cloud else self._data_center_pages
            early = search(client, attempts, self.jql(since), fields, pages)
        finally:
            client.close()  # type: ignore[no-untyped-call]  # jira leaves close() unannotated
        if early:
            pages.note(f"{early}; not a complete read, so no stored ticket is dropped")
        return pages.result(
            complete=since is None and not early,
            requests=attempts.requests,
            epic_link_field=found,
        )

    def myself(self) -> str:
        """Who the credentials sign in as (`syncbot check --live`): one GET
        /rest/api/{3|2}/myself, not retried; SourceError says which setting to fix."""
        attempts = Attempts(self.name, "Jira", RetryPolicy(retries=0), self.sleep)
        client = self._connect()
        try:
            me = obj(attempts("GET myself", partial(self._call, client.myself)))
        finally:
            client.close()  # type: ignore[no-untyped-call]  # jira leaves close() unannotated
        return str(me.get("displayName") or me.get("name") or me.get("accountId") or "?")

    def _connect(self) -> _Client:
        creds = self.access
        auth: dict[str, Any]
        if creds.cloud:
            assert creds.email is not None and creds.token is not None
            auth = {"basic_auth": (creds.email, creds.token.get_secret_value())}
        else:
            assert creds.pat is not None
            auth = {"token_auth": creds.pat.get_secret_value()}
        client = _Client(
            server=self.url,
            options={"rest_api_version": "3" if creds.cloud else "2"},
            get_server_info=False,  # the credentials already told us the deployment
            max_retries=0,  # retries are ours (Attempts), so they are bounded and testable
            timeout=self.timeout,
            logging=False,  # the library would log whole response bodies at ERROR
            **auth,
        )
        if creds.cloud:
            client.deploymentType = "Cloud"  # what serverInfo says; enables the v3 search
        client.bound_in_total(self.timeout)
        return client

    def _cloud_pages(
        self,
        client: _Client,
        attempts: Attempts,
        jql: str,
        fields: list[str],
        pages: live.Pages,
    ) -> str | None:
        """Every page into `pages`; why paging stopped before the last page, if it did."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = attempts(
                f"search page {len(seen) + 1}",
                partial(
                    self._call,
                    client.enhanced_search_issues,
                    jql,
                    nextPageToken=token,
                    maxResults=self.page_size,
                    fields=list(fields),  # the library rewrites the list in place
                    expand="changelog",
                    json_result=True,
                ),
            )
            self._add(client, attempts, pages, self._issues(page, "/rest/api/3/search/jql"))
            token = page.get("nextPageToken")
            if page.get("isLast") is True:
                return None
            if not isinstance(token, str) or not token:
                if page.get("isLast") is False:
                    return (
                        f"Jira said page {len(seen) + 1} is not the last but sent no nextPageToken"
                    )
                return None
            if token in seen:
                raise SourceError(
                    self.name,
                    "Jira sent the same nextPageToken twice; stopped paging to avoid a loop",
                )
            seen.add(token)

    def _data_center_pages(
        self,
        client: _Client,
        attempts: Attempts,
        jql: str,
        fields: list[str],
        pages: live.Pages,
    ) -> str | None:
        """Every page into `pages`; why paging stopped before the last page, if it did."""
        start = 0
        number = 0
        while True:
            number += 1
            page = attempts(
                f"search page {number}",
                partial(
                    self._call,
                    client.search_issues,
                    jql,
                    startAt=start,
                    maxResults=self.page_size,
                    fields=list(fields),
                    expand="changelog",
                    json_result=True,
                ),
            )
            issues = self._issues(page, "/rest/api/2/search")
            self._add(client, attempts, pages, issues)
            start += len(issues)
            total = page.get("total")
            if isinstance(total, int) and start >= total:
                return None
            if not issues:
                if isinstance(total, int):
                    return f"Jira answered an empty page at startAt {start} of {total} issues"
                return None

    def _add(
        self, client: _Client, attempts: Attempts, pages: live.Pages, issues: list[Any]
    ) -> None:
        """Complete the cut changelogs of one search page, then translate it."""
        cut = [i for i in issues if isinstance(i, dict) and changelog_cut(i)]
        if cut:
            if self.access.cloud:
                found = self._bulk_changelogs(client, attempts, cut)
            else:
                found = self._issue_changelogs(client, attempts, cut)
            missed = [i for i in cut if not _complete_changelog(i, found)]
            if missed:
                n = len(missed)
                pages.note(
                    f"the full history of {n} issue{'s' * (n != 1)} could not be read "
                    f"({', '.join(str(i.get('key')) for i in missed[:3])}"
                    f"{', ...' if n > 3 else ''}: not found); judged on the changes Jira embedded"
                )
        pages.add(issues)

    def _bulk_changelogs(
        self, client: _Client, attempts: Attempts, cut: list[dict[str, Any]]
    ) -> dict[str, list[Any]]:
        """Issue id -> its status histories, from Cloud's changelog bulk fetch. An issue is
        in the answer only once its request was read to the end."""
        found: dict[str, list[Any]] = {}
        ids = [str(i.get("id") or i.get("key")) for i in cut]
        number = 0
        for start in range(0, len(ids), BULK_CHANGELOG_ISSUES):
            chunk = ids[start : start + BULK_CHANGELOG_ISSUES]
            body: dict[str, Any] = {
                "issueIdsOrKeys": chunk,
                "fieldIds": ["status"],  # all blocked-since needs
                "maxResults": BULK_CHANGELOG_RESULTS,
            }
            read: dict[str, list[Any]] = {issue_id: [] for issue_id in chunk}
            seen: set[str] = set()
            while True:
                number += 1
                try:
                    page = attempts(
                        f"changelog bulk fetch {number}",
                        partial(self._call, client.bulk_changelogs, dict(body)),
                    )
                except _NotFound:
                    return found  # no bulk fetch here: the embedded histories stand
                logs = page.get("issueChangeLogs") if isinstance(page, dict) else None
                if not isinstance(logs, list):
                    raise SourceError(
                        self.name,
                        "Jira answered /rest/api/3/changelog/bulkfetch without an "
                        "'issueChangeLogs' list",
                    )
                for log in logs:
                    issue_id, histories = obj(log).get("issueId"), obj(log).get("changeHistories")
                    if isinstance(issue_id, str | int) and isinstance(histories, list):
                        read.setdefault(str(issue_id), []).extend(histories)
                token = page.get("nextPageToken")
                if not isinstance(token, str) or not token:
                    break  # read to the end: an issue not listed has no status change at all
                if token in seen:
                    raise SourceError(
                        self.name,
                        "Jira sent the same changelog nextPageToken twice; stopped paging "
                        "to avoid a loop",
                    )
                seen.add(token)
                body["nextPageToken"] = token
            found.update(read)
        return found

    def _issue_changelogs(
        self, client: _Client, attempts: Attempts, cut: list[dict[str, Any]]
    ) -> dict[str, list[Any]]:
        """Issue key -> its histories, one GET /issue/{key}?expand=changelog each (DC)."""
        found: dict[str, list[Any]] = {}
        for issue in cut:
            key = str(issue.get("key"))
            try:
                answer = attempts(
                    f"changelog of {key}", partial(self._call, client.issue_changelog, key)
                )
            except _NotFound:
                continue  # gone since the search: its embedded histories stand
            histories = obj(obj(answer).get("changelog")).get("histories")
            if isinstance(histories, list):
                found[key] = histories
        return found

    def _issues(self, page: Any, path: str) -> list[Any]:
        issues = page.get("issues") if isinstance(page, dict) else None
        if not isinstance(issues, list):
            raise SourceError(
                self.name,
                f"Jira answered {path} without an 'issues' list; is SYNCBOT_JIRA_URL a Jira site?",
            )
        return issues

    def _call(self, request: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make one request through the library, sorting its failures into ours."""
        try:
            return request(*args, **kwargs)
        except JIRAError as exc:
            raise self._refusal(exc) from exc
        except deadline.DeadlineExceeded as exc:  # an answer trickled in too slowly
            raise Retryable(f"no complete answer within {self.timeout:g} s") from exc
        except requests.Timeout as exc:
            raise Retryable(f"no answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise Retryable(f"cannot connect to {self.url} (check SYNCBOT_JIRA_URL)") from exc
        except (RecursionError, ValueError) as exc:
            reason = unreadable_json(exc)
            if reason is None:  # requests.JSONDecodeError: a truncated or non-JSON body
                raise Retryable("the answer was not valid JSON") from exc
            # Valid JSON Python will not load: asking again gets the same answer.
            raise SourceError(self.name, f"Jira's answer cannot be read ({reason})") from None
        except requests.RequestException as exc:  # e.g. the connection dropped mid-answer
            raise Retryable(f"the request failed ({type(exc).__name__})") from exc

    def _refusal(self, exc: JIRAError) -> Exception:
        """The error for a non-2xx answer. Never str(exc): it carries request details."""
        status = exc.status_code
        response = exc.response if isinstance(exc.response, requests.Response) else None
        reason = f"{status} {response.reason}" if response is not None else f"{status}"
        path = urlsplit(exc.url or "").path or "?"
        detail = _one_line(exc.text)
        if status == 401:
            return SourceAuthError(
                self.name, f"Jira answered {reason}: check {self.access.settings}"
            )
        if status == 403:
            return SourceAuthError(
                self.name,
                f"Jira answered {reason} for {path}{detail}: check "
                f"{self.access.settings} and that this account may browse the project",
            )
        # Not `if response`: a requests.Response is falsy when its status is an error.
        wait = (
            retry_after(response.headers.get("Retry-After"), now=self.clock())
            if response is not None
            else None
        )
        if status == 429:
            return Retryable(reason, rate_limited=True, wait=wait)
        if status is None or status >= 500:
            return Retryable(f"Jira answered {reason} for {path}{detail}", wait=wait)
        hint = ""
        if status == 410:
            hint = (
                "; this Jira removed the API (Jira Cloud needs SYNCBOT_JIRA_EMAIL and "
                "SYNCBOT_JIRA_TOKEN, not SYNCBOT_JIRA_PAT)"
            )
        elif status == 404:
            hint = "; check SYNCBOT_JIRA_URL" + (
                " (Jira Data Center needs SYNCBOT_JIRA_PAT)" if self.access.cloud else ""
            )
            return _NotFound(self.name, f"Jira answered {reason} for {path}{detail}{hint}")
        elif status == 400:
            hint = f"; check the source's {'jql' if self.custom_jql else 'project'}"
            return SourceQueryError(self.name, f"Jira answered {reason} for {path}{detail}{hint}")
        return SourceError(self.name, f"Jira answered {reason} for {path}{detail}{hint}")


class _NotFound(SourceError):
    """Jira answered 404: for a search, a wrong URL; for one issue's history, a gone issue."""


def _complete_changelog(issue: dict[str, Any], found: dict[str, list[Any]]) -> bool:
    """Give `issue` the histories fetched for it (merged with the embedded ones, so nothing
    seen is lost); False when none were fetched for it."""
    fetched = found.get(str(issue.get("id")))
    if fetched is None:
        fetched = found.get(str(issue.get("key")))
    if fetched is None:
        return False
    changelog = obj(issue.get("changelog"))
    embedded = changelog.get("histories")
    merged: dict[str, Any] = {}
    for history in [*(embedded if isinstance(embedded, list) else []), *fetched]:
        entry = obj(history)
        merged[str(entry.get("id") or json.dumps(entry, sort_keys=True, default=str))] = entry
    histories = list(merged.values())
    issue["changelog"] = {
        "startAt": 0,
        "maxResults": len(histories),
        "total": len(histories),
        "histories": histories,
    }
    return True


def _jql_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _one_line(text: Any) -> str:
    """Jira's own error text (errorMessages), shortened to one line, or ''."""
    if not isinstance(text, str) or not text.strip():
        return ""
    line = " ".join(text.split())
    return f" ({line[:197] + '...' if len(line) > 200 else line})"


def _epic_link_field(field_list: Any, source: str) -> str | None:
    """The id of Data Center's Epic Link custom field (by its type, else by its name)."""
    if not isinstance(field_list, list):
        raise SourceError(source, "Jira answered the field list with something else than a list")
    fields = [f for f in field_list if isinstance(f, dict) and isinstance(f.get("id"), str)]
    for f in fields:
        if obj(f.get("schema")).get("custom") == EPIC_LINK_SCHEMA:
            return str(f["id"])
    for f in fields:
        if f.get("name") == "Epic Link":
            return str(f["id"])
    return None
