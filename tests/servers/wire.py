"""Jira and Linear JSON as the trackers send it, built once for the fake servers and the demo.

Standard library only: config/demo/generate.py imports it without the test dependencies.
Builders return plain dicts, keys in the order of the recorded demo pages (which must
regenerate byte for byte). Nested objects come in ready-made: the fakes pass the minimal ones
syncbot reads, the demo Jira Cloud's full shapes from `JiraSite`. Keys that only some answers
carry are optional and left out when not given, e.g. the ids below a Linear issue, which the
fake's objects hold and the demo pages (a query selection without them) do not.

Jira: `jira_timestamp`, `jira_fields`, `jira_changelog`, `jira_history`, `jira_change`,
`jira_cloud_page`, `jira_dc_page`, `adf`; `JiraSite` for everything with a `self` link (the
issue itself, user, status, priority, issue type, fix version, component, project,
resolution, issue reference, issue link). Linear: `linear_timestamp`, `linear_issue`,
`linear_relation`, `linear_history`, `linear_connection`, `linear_issues_page`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

JSON = dict[str, Any]

# -- Jira ------------------------------------------------------------------------------------

# Status category key -> (id, colour, name), as Jira Cloud and Data Center define them.
STATUS_CATEGORIES = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}
_STATUS_ICONS = {"new": "open", "indeterminate": "inprogress", "done": "closed"}
ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"
AVATAR_SIZES = ("48x48", "24x24", "16x16", "32x32")


def jira_timestamp(moment: dt.datetime) -> str:
    """An aware datetime as Jira writes it, in its own offset: 2026-03-02T10:00:07.431-0600."""
    millis = f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + millis + moment.strftime("%z")


def jira_fields(
    *,
    summary: str,
    status: JSON,
    statuscategorychangedate: str,
    created: str,
    updated: str,
    project: JSON,
    resolution: JSON | None = None,
    resolutiondate: str | None = None,
    duedate: str | None = None,
    labels: Sequence[str] = (),
    fix_versions: Sequence[JSON] = (),
    components: Sequence[JSON] = (),
    issuelinks: Sequence[JSON] = (),
    assignee: JSON | None = None,
    description: JSON | None = None,
    parent: JSON | None = None,
    **more: Any,
) -> JSON:
    """An issue's `fields`: the system fields syncbot reads, then `parent` (when given) and
    `more` (raw values: other fields, a Data Center Epic Link custom field)."""
    fields: JSON = {
        "summary": summary,
        "status": status,
        "resolution": resolution,
        "resolutiondate": resolutiondate,
        "statuscategorychangedate": statuscategorychangedate,
        "created": created,
        "updated": updated,
        "duedate": duedate,
        "labels": list(labels),
        "fixVersions": list(fix_versions),
        "components": list(components),
        "issuelinks": list(issuelinks),
        "assignee": assignee,
        "description": description,
        "project": project,
    }
    if parent is not None:
        fields["parent"] = parent
    fields.update(more)
    return fields


def jira_changelog(histories: Sequence[JSON], *, limit: int | None = None) -> JSON:
    """The changelog embedded by `expand=changelog`: one page holding every history, or (with
    `limit`, as Jira Cloud embeds at most 40) only the first `limit`, `total` saying more."""
    embedded = list(histories) if limit is None else list(histories[:limit])
    return {
        "startAt": 0,
        "maxResults": len(embedded) if limit is None else limit,
        "total": len(histories),
        "histories": embedded,
    }


def jira_history(history_id: str, author: JSON, created: str, items: Sequence[JSON]) -> JSON:
    return {"id": history_id, "author": author, "created": created, "items": list(items)}


def jira_change(
    field: str,
    from_string: str | None,
    to_string: str | None,
    *,
    ids: tuple[str | None, str | None] | None = None,
    field_id: bool = False,
) -> JSON:
    """One changelog item. With `ids` (the raw `from` and `to`, e.g. status ids), Jira Cloud's
    full item with `fieldId`; without, the keys every deployment sends and syncbot reads
    (plus Cloud's `fieldId` with `field_id`)."""
    if ids is None:
        return {
            "field": field,
            "fieldtype": "jira",
            **({"fieldId": field} if field_id else {}),
            "fromString": from_string,
            "toString": to_string,
        }
    return {
        "field": field,
        "fieldtype": "jira",
        "fieldId": field,
        "from": ids[0],
        "fromString": from_string,
        "to": ids[1],
        "toString": to_string,
    }


def jira_cloud_page(issues: Sequence[JSON], next_page_token: str | None = None) -> JSON:
    """A page of Cloud's enhanced search (`search/jql`): the last one has no token."""
    page: JSON = {"isLast": next_page_token is None, "issues": list(issues)}
    if next_page_token is not None:
        page["nextPageToken"] = next_page_token
    return page


def jira_dc_page(issues: Sequence[JSON], *, start_at: int, max_results: int, total: int) -> JSON:
    """A page of Data Center's `search` (offset paging)."""
    return {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": total,
        "issues": list(issues),
    }


def adf(markdown: str | None) -> JSON | None:
    """Atlassian Document Format for a little markdown: paragraphs separated by a blank line,
    `- ` bullet lists (one item a line), ```lang fenced code blocks and `code` spans."""
    if not markdown:
        return None
    content: list[JSON] = []
    for block in markdown.split("\n\n"):
        if block.startswith("```"):
            first, *code, _ = block.split("\n")
            content.append(
                {
                    "type": "codeBlock",
                    "attrs": {"language": first[3:]},
                    "content": [{"type": "text", "text": "\n".join(code)}],
                }
            )
        elif block.startswith("- "):
            items = [
                {"type": "listItem", "content": [_paragraph(line[2:])]}
                for line in block.split("\n")
            ]
            content.append({"type": "bulletList", "content": items})
        else:
            content.append(_paragraph(block))
    return {"type": "doc", "version": 1, "content": content}


def _paragraph(text: str) -> JSON:
    nodes: list[JSON] = []
    for index, part in enumerate(re.split(r"`([^`]+)`", text)):
        if part:
            node: JSON = {"type": "text", "text": part}
            if index % 2:
                node["marks"] = [{"type": "code"}]
            nodes.append(node)
    return {"type": "paragraph", "content": nodes}


@dataclass(frozen=True)
class JiraSite:
    """Jira objects that link back to their site: `self`, icon and avatar URLs."""

    url: str  # https://example.atlassian.net
    api_version: str = "3"  # of the `self` links: "2" (Data Center), "3" (Cloud), "latest"

    @property
    def api(self) -> str:
        return f"{self.url}/rest/api/{self.api_version}"

    def issue(
        self,
        issue_id: str,
        key: str,
        fields: JSON,
        histories: Sequence[JSON] | None = None,
        *,
        limit: int | None = None,
    ) -> JSON:
        """An issue as search returns it; `histories` (with `expand=changelog`) its changelog,
        cut after `limit` histories when given."""
        issue: JSON = {
            "expand": ISSUE_EXPAND,
            "id": issue_id,
            "self": f"{self.api}/issue/{issue_id}",
            "key": key,
        }
        if histories is not None:
            issue["changelog"] = jira_changelog(histories, limit=limit)
        issue["fields"] = fields
        return issue

    def issue_ref(self, issue_id: str, key: str, fields: JSON) -> JSON:
        """The short form Jira embeds for a parent or linked issue."""
        return {
            "id": issue_id,
            "key": key,
            "self": f"{self.api}/issue/{issue_id}",
            "fields": fields,
        }

    def link_type(self, type_id: str, name: str, inward: str, outward: str) -> JSON:
        return {
            "id": type_id,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": f"{self.api}/issueLinkType/{type_id}",
        }

    def issue_link(
        self,
        link_id: str,
        link_type: JSON,
        *,
        outward: JSON | None = None,
        inward: JSON | None = None,
    ) -> JSON:
        """One entry of `issuelinks`: this issue <outward> `outward`, or `inward` <outward> it."""
        link: JSON = {"id": link_id, "self": f"{self.api}/issueLink/{link_id}", "type": link_type}
        if outward is not None:
            link["outwardIssue"] = outward
        if inward is not None:
            link["inwardIssue"] = inward
        return link

    def user(self, account_id: str, name: str, email: str, avatar: str, time_zone: str) -> JSON:
        """A Cloud user; `avatar` is the image URL before its size parameters."""
        return {
            "self": f"{self.api}/user?accountId={quote(account_id, safe='')}",
            "accountId": account_id,
            "emailAddress": email,
            "avatarUrls": {
                size: f"{avatar}?size={size.split('x')[0]}&s={size.split('x')[0]}"
                for size in AVATAR_SIZES
            },
            "displayName": name,
            "active": True,
            "timeZone": time_zone,
            "accountType": "atlassian",
        }

    def status(self, status_id: str, name: str, category: str) -> JSON:
        cat_id, colour, cat_name = STATUS_CATEGORIES[category]
        return {
            "self": f"{self.api}/status/{status_id}",
            "description": "",
            "iconUrl": f"{self.url}/images/icons/statuses/{_STATUS_ICONS[category]}.png",
            "name": name,
            "id": status_id,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{cat_id}",
                "id": cat_id,
                "key": category,
                "colorName": colour,
                "name": cat_name,
            },
        }

    def priority(self, priority_id: str, name: str) -> JSON:
        return {
            "self": f"{self.api}/priority/{priority_id}",
            "iconUrl": f"{self.url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def issuetype(self, type_id: str, name: str, avatar_id: int, hierarchy_level: int) -> JSON:
        return {
            "self": f"{self.api}/issuetype/{type_id}",
            "id": type_id,
            "name": name,
            "subtask": False,
            "hierarchyLevel": hierarchy_level,
            "iconUrl": f"{self.api}/universal_avatar/view/type/issuetype/avatar/{avatar_id}"
            "?size=medium",
        }

    def fix_version(
        self, version_id: str, name: str, description: str, release_date: str | None
    ) -> JSON:
        return {
            "self": f"{self.api}/version/{version_id}",
            "id": version_id,
            "description": description,
            "name": name,
            "archived": False,
            "released": False,
            "releaseDate": release_date,
        }

    def component(self, component_id: str, name: str) -> JSON:
        return {"self": f"{self.api}/component/{component_id}", "id": component_id, "name": name}

    def project(self, project_id: str, key: str, name: str, avatar_id: int) -> JSON:
        avatar = f"{self.api}/universal_avatar/view/type/project/avatar/{avatar_id}"
        labels = ("large", "small", "xsmall", "medium")
        return {
            "self": f"{self.api}/project/{project_id}",
            "id": project_id,
            "key": key,
            "name": name,
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": {
                size: f"{avatar}?size={label}"
                for size, label in zip(AVATAR_SIZES, labels, strict=True)
            },
        }

    def resolution(self, resolution_id: str, name: str, description: str) -> JSON:
        return {
            "self": f"{self.api}/resolution/{resolution_id}",
            "id": resolution_id,
            "description": description,
            "name": name,
        }


# -- Linear ----------------------------------------------------------------------------------


def linear_timestamp(moment: dt.datetime) -> str:
    """Linear's timestamp format: UTC, milliseconds, Z (2026-03-02T16:00:07.431Z)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def linear_issue(
    *,
    issue_id: str,
    identifier: str,
    title: str,
    url: str,
    state: JSON,
    created_at: str,
    updated_at: str,
    description: str | None = None,
    due_date: str | None = None,
    completed_at: str | None = None,
    canceled_at: str | None = None,
    estimate: float | None = None,
    assignee: JSON | None = None,
    labels: Sequence[JSON] = (),
    project_milestone: JSON | None = None,
    project: JSON | None = None,
    relations: Sequence[JSON] = (),
    inverse_relations: Sequence[JSON] = (),
    history: Sequence[JSON] = (),
    **more: Any,
) -> JSON:
    """An `Issue` node: the fields syncbot selected when the demo pages were recorded, then
    `more` (raw GraphQL values: `trashed`, `team`, ...). `history` is newest first, as Linear
    returns it; the nested lists become connections."""
    return {
        "id": issue_id,
        "identifier": identifier,
        "title": title,
        "description": description,
        "url": url,
        "state": state,
        "dueDate": due_date,
        "createdAt": created_at,
        "updatedAt": updated_at,
        "completedAt": completed_at,
        "canceledAt": canceled_at,
        "estimate": estimate,
        "assignee": assignee,
        "labels": linear_connection(labels),
        "projectMilestone": project_milestone,
        "project": project,
        "relations": linear_connection(relations),
        "inverseRelations": linear_connection(inverse_relations),
        "history": linear_connection(history),
        **more,
    }


def linear_relation(
    kind: str, other: JSON, *, inverse: bool = False, relation_id: str | None = None
) -> JSON:
    """An `IssueRelation` as seen from one issue: in its `relations` the other issue is the
    `relatedIssue`; in its `inverseRelations` (`inverse=True`) it is the `issue`."""
    relation: JSON = {} if relation_id is None else {"id": relation_id}
    relation["type"] = kind
    relation["issue" if inverse else "relatedIssue"] = other
    return relation


def linear_history(
    created_at: str,
    from_state: str | None,
    to_state: str | None,
    *,
    history_id: str | None = None,
) -> JSON:
    """An `IssueHistory` entry; a change that is not a state change has neither state."""
    entry: JSON = {} if history_id is None else {"id": history_id}
    entry["createdAt"] = created_at
    entry["fromState"] = {"name": from_state} if from_state else None
    entry["toState"] = {"name": to_state} if to_state else None
    return entry


def linear_connection(nodes: Sequence[JSON], page_info: JSON | None = None) -> JSON:
    """A relay connection: `nodes`, and `pageInfo` when given."""
    connection: JSON = {"nodes": list(nodes)}
    if page_info is not None:
        connection["pageInfo"] = page_info
    return connection


def linear_issues_page(
    nodes: Sequence[JSON], *, has_next_page: bool, end_cursor: str | None
) -> JSON:
    """One response of an `issues` query, as the `linear-export` format records it."""
    page_info = {"hasNextPage": has_next_page, "endCursor": end_cursor}
    return {"data": {"issues": linear_connection(nodes, page_info)}}
