"""Regenerate the recorded tracker responses behind `syncbot demo` (standard library only).

The demo agency is Northwind AI, with two clients on the five-phase AI engagement arc
(Discovery and Planning, Data Preparation, Model Development, Deployment, Validation and
Handoff), seen as of 2026-03-10:

* Acme Logistics (Jira Cloud, project ACME, America/Chicago, baseline 2026-01-09): a freight
  claims-triage model. Discovery done on time, data access and the claims pipeline done late,
  the feature store at risk (a late ticket and two tickets added after the baseline without a
  change order), the baseline model delayed, staging deployment blocked by an overdue client
  dependency (ACME-42, "IT grants API access to the claims warehouse", waiting since
  2026-03-02), production rollout and handoff not started.
* Globex Health (Linear, team GLX, Europe/London, baseline 2026-01-13): a referral-triage
  assistant. Discovery and the de-identified dataset done, the DPIA done late, gold-standard
  labelling delayed, model v1 at risk, the Azure deployment waiting on Globex IT (GLX-30, not
  overdue yet), one ticket added without a change order, one canceled ticket.

Writes, next to this file:
  acme-jira/page-N.json      one page each of Jira Cloud `GET /rest/api/3/search/jql`
                             (fields = syncbot.connectors.jira.FIELDS, expand=changelog)
  globex-linear/page-N.json  one page each of Linear's GraphQL `issues` query
                             (selection = syncbot.connectors.linear.ISSUE_FIELDS)

ACME-51 is deliberately malformed (its `fields.status` is missing, as when a field
configuration hides it): the export source must skip and count it.

Output is deterministic: ids, tokens and milliseconds derive from hashes of fixed strings.
Run: python config/demo/generate.py
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
JIRA_SITE = "https://northwind-ai.atlassian.net"
API = f"{JIRA_SITE}/rest/api/3"
ACME_TZ = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
NS = uuid.UUID("6f1c2a52-3b9e-4d1a-9a57-0c9e8d1b2f10")
JIRA_PAGE_SIZE = 20
LINEAR_PAGE_SIZE = 15


def _digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _uuid(text: str) -> str:
    return str(uuid.uuid5(NS, text))


def _local(text: str, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=tz)


def jira_time(text: str, salt: str) -> str:
    """'2026-02-03 10:15' in Chicago -> '2026-02-03T10:15:07.431-0600' (Jira's format)."""
    moment = _local(text, ACME_TZ)
    ms = _digest(salt + text) % 60000
    moment = moment.replace(second=ms // 1000, microsecond=(ms % 1000) * 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + moment.strftime("%z")


def linear_time(text: str, salt: str) -> str:
    """'2026-02-03 10:15' in London -> '2026-02-03T10:15:07.431Z' (Linear's format)."""
    moment = _local(text, LONDON).astimezone(dt.UTC)
    ms = _digest(salt + text) % 60000
    moment = moment.replace(second=ms // 1000, microsecond=(ms % 1000) * 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Jira (Acme Logistics)
# --------------------------------------------------------------------------------------------

JIRA_PEOPLE = {
    "priya": ("Priya Shah", "priya.shah@northwind-ai.example"),
    "marcus": ("Marcus Chen", "marcus.chen@northwind-ai.example"),
    "elena": ("Elena Petrova", "elena.petrova@northwind-ai.example"),
    "tomas": ("Tomás Rivera", "tomas.rivera@northwind-ai.example"),
    "aisha": ("Aisha Bello", "aisha.bello@northwind-ai.example"),
    "dana": ("Dana Whitfield", "dana.whitfield@acme-logistics.example"),
}
JIRA_STATUSES = {  # name -> (status id, category key)
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"),
    "Waiting for Client": ("10002", "indeterminate"),
    "Done": ("10003", "done"),
}
JIRA_CATEGORIES = {
    "new": (2, "blue-gray", "To Do"),
    "indeterminate": (4, "yellow", "In Progress"),
    "done": (3, "green", "Done"),
}
JIRA_RESOLUTIONS = {
    "Done": ("10000", "Work has been completed on this issue."),
    "Won't Do": ("10001", "This issue won't be actioned."),
    "Duplicate": ("10002", "The problem is a duplicate of an existing issue."),
}
JIRA_PRIORITIES = {"High": "2", "Medium": "3", "Low": "4"}
JIRA_VERSIONS = {
    "0.9 Staging": ("10101", "2026-04-24", "Model service running in Acme staging"),
    "1.0 GA": ("10102", "2026-05-22", "Production rollout to the Dallas claims desk"),
}
JIRA_COMPONENTS = {
    "Discovery": "10200",
    "Data Platform": "10201",
    "ML": "10202",
    "MLOps": "10203",
    "Triage UI": "10204",
}
LINK_TYPES = {
    "Blocks": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
    "Duplicate": {
        "id": "10002",
        "name": "Duplicate",
        "inward": "is duplicated by",
        "outward": "duplicates",
    },
}
PROJECT = {"id": "10010", "key": "ACME", "name": "Acme Logistics - Claims Triage AI"}


def jira_user(who: str) -> dict[str, Any]:
    name, email = JIRA_PEOPLE[who]
    account = f"712020:{_uuid('jira-user:' + who)}"
    initials = "".join(part[0] for part in name.split()).upper()
    avatar = (
        "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/"
        f"initials/{initials}-{_digest(who) % 6}.png"
    )
    return {
        "self": f"{API}/user?accountId={account.replace(':', '%3A')}",
        "accountId": account,
        "emailAddress": email,
        "avatarUrls": {
            size: f"{avatar}?size={size.split('x')[0]}&s={size.split('x')[0]}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        },
        "displayName": name,
        "active": True,
        "timeZone": "America/Chicago",
        "accountType": "atlassian",
    }


def jira_status(name: str) -> dict[str, Any]:
    status_id, category = JIRA_STATUSES[name]
    cat_id, colour, cat_name = JIRA_CATEGORIES[category]
    icon = {"new": "open", "indeterminate": "inprogress", "done": "closed"}[category]
    return {
        "self": f"{API}/status/{status_id}",
        "description": "",
        "iconUrl": f"{JIRA_SITE}/images/icons/statuses/{icon}.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{API}/statuscategory/{cat_id}",
            "id": cat_id,
            "key": category,
            "colorName": colour,
            "name": cat_name,
        },
    }


def jira_priority(name: str) -> dict[str, Any]:
    pid = JIRA_PRIORITIES[name]
    return {
        "self": f"{API}/priority/{pid}",
        "iconUrl": f"{JIRA_SITE}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": pid,
    }


def jira_issuetype(name: str) -> dict[str, Any]:
    tid = {"Epic": "10000", "Story": "10001", "Task": "10002"}[name]
    return {
        "self": f"{API}/issuetype/{tid}",
        "id": tid,
        "name": name,
        "subtask": False,
        "hierarchyLevel": 1 if name == "Epic" else 0,
        "iconUrl": f"{API}/universal_avatar/view/type/issuetype/avatar/{10300 + int(tid[-1])}"
        "?size=medium",
    }


def adf(blocks: list[Any]) -> dict[str, Any] | None:
    """ADF document from paragraphs (str), bullet lists (list) and code blocks (('code', s))."""
    if not blocks:
        return None
    content: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, str):
            content.append({"type": "paragraph", "content": _inline(block)})
        elif isinstance(block, tuple):
            content.append(
                {
                    "type": "codeBlock",
                    "attrs": {"language": block[1]},
                    "content": [{"type": "text", "text": block[2]}],
                }
            )
        else:
            content.append(
                {
                    "type": "bulletList",
                    "content": [
                        {
                            "type": "listItem",
                            "content": [{"type": "paragraph", "content": _inline(item)}],
                        }
                        for item in block
                    ],
                }
            )
    return {"type": "doc", "version": 1, "content": content}


def _inline(text: str) -> list[dict[str, Any]]:
    """Text nodes; `backticks` become code marks."""
    out: list[dict[str, Any]] = []
    for index, part in enumerate(re.split(r"`([^`]+)`", text)):
        if not part:
            continue
        node: dict[str, Any] = {"type": "text", "text": part}
        if index % 2:
            node["marks"] = [{"type": "code"}]
        out.append(node)
    return out


class JiraIssue:
    """One ACME issue as the demo story needs it; `to_json` renders Jira's wire format."""

    def __init__(
        self,
        n: int,
        summary: str,
        who: str | None,
        created: str,
        *,
        kind: str = "Story",
        epic: int | None = None,
        start: str | None = None,
        review: str | None = None,
        waiting: str | None = None,
        done: str | None = None,
        resolution: str = "Done",
        due: str | None = None,
        labels: tuple[str, ...] = (),
        fix: tuple[str, ...] = (),
        comps: tuple[str, ...] = (),
        desc: list[Any] | None = None,
        blocks: tuple[int, ...] = (),
        duplicates: int | None = None,
        extra: tuple[tuple[str, str, dict[str, Any]], ...] = (),
        updated: str | None = None,
        reporter: str = "priya",
        mover: str | None = None,
        priority: str = "Medium",
        malformed: bool = False,
    ) -> None:
        self.n = n
        self.key = f"ACME-{n}"
        self.id = str(10100 + n)
        self.summary = summary
        self.who = who
        self.created = created
        self.kind = kind
        self.epic = epic
        self.due = due
        self.labels = labels
        self.fix = fix
        self.comps = comps
        self.desc = desc or []
        self.blocks = blocks
        self.duplicates = duplicates
        self.reporter = reporter
        self.priority = priority
        self.malformed = malformed
        self.resolution = resolution if done else None
        mover = mover or who or reporter
        # (when, author, items)
        self.changes: list[tuple[str, str, list[dict[str, Any]]]] = []
        current = "To Do"
        for when, target in (
            (start, "In Progress"),
            (review, "In Review"),
            (waiting, "Waiting for Client"),
            (done, "Done"),
        ):
            if when is None:
                continue
            items = [self._status_item(current, target)]
            if target == "Done":
                res_id = JIRA_RESOLUTIONS[resolution][0]
                items.append(
                    {
                        "field": "resolution",
                        "fieldtype": "jira",
                        "fieldId": "resolution",
                        "from": None,
                        "fromString": None,
                        "to": res_id,
                        "toString": resolution,
                    }
                )
            self.changes.append((when, mover, items))
            current = target
        for when, author, item in extra:
            self.changes.append((when, author, [item]))
        self.changes.sort(key=lambda change: change[0])
        self.status = current
        self.done = done
        category_moves = [
            when for when, _, items in self.changes if any(i["field"] == "status" for i in items)
        ]
        self.category_changed = category_moves[-1] if category_moves else created
        self.updated = updated or max([created] + [when for when, _, _ in self.changes])

    @staticmethod
    def _status_item(old: str, new: str) -> dict[str, Any]:
        return {
            "field": "status",
            "fieldtype": "jira",
            "fieldId": "status",
            "from": JIRA_STATUSES[old][0],
            "fromString": old,
            "to": JIRA_STATUSES[new][0],
            "toString": new,
        }

    def ref(self) -> dict[str, Any]:
        """The short form Jira embeds for a linked or parent issue."""
        return {
            "id": self.id,
            "key": self.key,
            "self": f"{API}/issue/{self.id}",
            "fields": {
                "summary": self.summary,
                "status": jira_status(self.status),
                "priority": jira_priority(self.priority),
                "issuetype": jira_issuetype(self.kind),
            },
        }

    def to_json(
        self,
        issues: dict[int, JiraIssue],
        links: list[dict[str, Any]],
        history_ids: dict[tuple[str, str], str],
    ) -> dict[str, Any]:
        t = self.key
        fields: dict[str, Any] = {
            "summary": self.summary,
            "status": jira_status(self.status),
            "resolution": None,
            "resolutiondate": None,
            "statuscategorychangedate": jira_time(self.category_changed, t + "scc"),
            "created": jira_time(self.created, t + "created"),
            "updated": jira_time(self.updated, t + "updated"),
            "duedate": self.due,
            "labels": list(self.labels),
            "fixVersions": [
                {
                    "self": f"{API}/version/{JIRA_VERSIONS[v][0]}",
                    "id": JIRA_VERSIONS[v][0],
                    "description": JIRA_VERSIONS[v][2],
                    "name": v,
                    "archived": False,
                    "released": False,
                    "releaseDate": JIRA_VERSIONS[v][1],
                }
                for v in self.fix
            ],
            "components": [
                {
                    "self": f"{API}/component/{JIRA_COMPONENTS[c]}",
                    "id": JIRA_COMPONENTS[c],
                    "name": c,
                }
                for c in self.comps
            ],
            "issuelinks": links,
            "assignee": jira_user(self.who) if self.who else None,
            "description": adf(self.desc),
            "project": {
                "self": f"{API}/project/{PROJECT['id']}",
                "id": PROJECT["id"],
                "key": PROJECT["key"],
                "name": PROJECT["name"],
                "projectTypeKey": "software",
                "simplified": False,
                "avatarUrls": {
                    size: f"{API}/universal_avatar/view/type/project/avatar/10411?size={label}"
                    for size, label in (
                        ("48x48", "large"),
                        ("24x24", "small"),
                        ("16x16", "xsmall"),
                        ("32x32", "medium"),
                    )
                },
            },
        }
        if self.epic is not None:
            fields["parent"] = issues[self.epic].ref()
        if self.resolution:
            res_id, res_desc = JIRA_RESOLUTIONS[self.resolution]
            fields["resolution"] = {
                "self": f"{API}/resolution/{res_id}",
                "id": res_id,
                "description": res_desc,
                "name": self.resolution,
            }
            assert self.done is not None
            fields["resolutiondate"] = jira_time(self.done, t + "resolved")
        if self.malformed:
            del fields["status"]  # hidden by a field configuration: unusable for the rules
        histories = [
            {
                "id": history_ids[(t, when)],
                "author": jira_user(author),
                "created": jira_time(when, t + "history"),
                "items": items,
            }
            for when, author, items in self.changes
        ]
        return {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": self.id,
            "self": f"{API}/issue/{self.id}",
            "key": self.key,
            "changelog": {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(histories),
                "histories": histories,
            },
            "fields": fields,
        }


def due_change(when: str, who: str, old: str, new: str) -> tuple[str, str, dict[str, Any]]:
    return (
        when,
        who,
        {
            "field": "duedate",
            "fieldtype": "jira",
            "fieldId": "duedate",
            "from": old,
            "fromString": f"{old} 00:00:00.0",
            "to": new,
            "toString": f"{new} 00:00:00.0",
        },
    )


def label_change(when: str, who: str, old: str, new: str) -> tuple[str, str, dict[str, Any]]:
    return (
        when,
        who,
        {
            "field": "labels",
            "fieldtype": "jira",
            "fieldId": "labels",
            "from": None,
            "fromString": old,
            "to": None,
            "toString": new,
        },
    )


def acme_issues() -> list[JiraIssue]:
    J = JiraIssue
    return [
        # Epics, opened at kickoff (Mon 2026-01-05).
        J(
            1,
            "Discovery & success metrics",
            "priya",
            "2026-01-05 09:10",
            kind="Epic",
            start="2026-01-05 10:00",
            done="2026-01-15 17:05",
            desc=[
                (
                    "Workshops, current-state process map, agreed success metrics for the "
                    "claims-triage pilot."
                )
            ],
        ),
        J(
            2,
            "Data access & target architecture",
            "priya",
            "2026-01-05 09:12",
            kind="Epic",
            start="2026-01-12 09:00",
            done="2026-01-28 17:20",
        ),
        J(
            3,
            "Claims data pipeline",
            "marcus",
            "2026-01-05 09:14",
            kind="Epic",
            start="2026-01-26 09:00",
            done="2026-02-20 16:40",
        ),
        J(4, "Feature store", "marcus", "2026-01-05 09:15", kind="Epic", start="2026-02-16 09:00"),
        J(
            5,
            "Baseline claims-triage model",
            "elena",
            "2026-01-05 09:17",
            kind="Epic",
            start="2026-02-23 09:30",
        ),
        J(
            6,
            "Evaluation harness & model card",
            "aisha",
            "2026-01-05 09:18",
            kind="Epic",
            start="2026-03-02 10:00",
        ),
        J(
            7,
            "Staging deployment",
            "tomas",
            "2026-01-05 09:20",
            kind="Epic",
            start="2026-02-23 09:00",
        ),
        J(8, "Production rollout", "tomas", "2026-01-05 09:21", kind="Epic"),
        J(9, "Pilot validation & handoff", "priya", "2026-01-05 09:23", kind="Epic"),
        # 1.1 Discovery complete (planned 2026-01-16): done 01-15, on time.
        J(
            10,
            "Run discovery workshops with Acme claims operations",
            "priya",
            "2026-01-05 10:30",
            epic=1,
            comps=("Discovery",),
            due="2026-01-09",
            start="2026-01-06 09:00",
            done="2026-01-09 16:10",
            desc=[
                (
                    "Three 90-minute sessions (Dallas claims desk, carrier relations, finance). "
                    "Notes in Confluence NW-ACME/Discovery."
                ),
                [
                    "Capture triage decision points and hand-offs",
                    "Collect 20 example claims per outcome class",
                    "Agree who signs off the success metrics",
                ],
            ],
        ),
        J(
            11,
            "Map current claims triage process and volumes",
            "aisha",
            "2026-01-05 10:41",
            epic=1,
            comps=("Discovery",),
            due="2026-01-14",
            start="2026-01-07 13:00",
            done="2026-01-13 15:25",
            desc=[
                (
                    "BPMN of intake -> adjuster queue -> settlement. Volumes from the 2025 "
                    "claims export: ~11.8k claims/month, 23% manual re-routing."
                )
            ],
        ),
        J(
            12,
            "Define success metrics and acceptance thresholds",
            "priya",
            "2026-01-05 10:55",
            epic=1,
            comps=("Discovery",),
            due="2026-01-16",
            priority="High",
            start="2026-01-12 09:00",
            review="2026-01-14 16:00",
            done="2026-01-15 16:50",
            desc=[
                (
                    "Primary: routing precision@top-1 >= 0.85 on the held-out quarter. "
                    "Secondary: median time-to-first-touch down 30%. Guardrail: no carrier "
                    "segment below 0.75 recall."
                )
            ],
        ),
        J(
            13,
            "Set up RAID log and weekly steering cadence",
            "priya",
            "2026-01-06 08:45",
            epic=1,
            comps=("Discovery",),
            due="2026-01-16",
            start="2026-01-06 09:00",
            done="2026-01-12 11:30",
        ),
        # 1.2 Data access plan and architecture (planned 2026-01-23): done 01-28, late.
        J(
            14,
            "Inventory source systems: claims warehouse, TMS, carrier invoices",
            "marcus",
            "2026-01-06 09:30",
            epic=2,
            comps=("Data Platform",),
            due="2026-01-16",
            start="2026-01-12 09:15",
            done="2026-01-16 14:05",
            desc=[
                (
                    "Claims warehouse is SQL Server 2019 behind the Acme VPN; TMS is "
                    "MercuryGate (REST, rate-limited to 5 rps); carrier invoices land as CSV "
                    "on SFTP nightly."
                )
            ],
        ),
        J(
            15,
            "Target architecture: lakehouse, feature store, model serving",
            "tomas",
            "2026-01-06 09:42",
            epic=2,
            comps=("MLOps",),
            due="2026-01-21",
            start="2026-01-13 10:00",
            review="2026-01-20 15:00",
            done="2026-01-22 11:40",
            desc=[
                (
                    "S3 + Delta on Acme's AWS account (us-east-2), Feast on Redis for online "
                    "features, SageMaker endpoints behind API Gateway. ADR-003 records why not "
                    "Databricks (procurement lead time)."
                )
            ],
        ),
        J(
            16,
            "Acme grants read access to the claims warehouse replica",
            "dana",
            "2026-01-06 10:05",
            epic=2,
            labels=("client-dependency",),
            due="2026-01-23",
            comps=("Data Platform",),
            mover="marcus",
            priority="High",
            start="2026-01-14 09:00",
            waiting="2026-01-16 10:30",
            done="2026-01-28 15:10",
            desc=[
                (
                    "Read-only login on the reporting replica (CLMDW-RPT02) for the Northwind "
                    "service account. Acme ticket RITM0039912."
                )
            ],
        ),
        J(
            17,
            "Security questionnaire for Acme InfoSec",
            "tomas",
            "2026-01-07 14:20",
            epic=2,
            comps=("MLOps",),
            due="2026-01-23",
            start="2026-01-19 09:00",
            done="2026-01-27 16:45",
            desc=["SIG Lite, 212 questions. Data residency answers copied from ADR-003."],
        ),
        # 2.1 Claims data pipeline (planned 2026-02-13): done 02-20, a week late.
        J(
            18,
            "Airbyte connector for the claims warehouse",
            "marcus",
            "2026-01-07 09:10",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-03",
            start="2026-01-28 16:00",
            review="2026-02-03 11:00",
            done="2026-02-04 10:20",
            desc=[
                "Incremental sync on `LastModifiedUtc`; CDC not available on the replica.",
                ("code", "sql", "SELECT * FROM dbo.Claims WHERE LastModifiedUtc > ?"),
            ],
        ),
        J(
            19,
            "Ingest carrier invoice CSV drops from SFTP",
            "marcus",
            "2026-01-07 09:18",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-10",
            start="2026-02-04 11:00",
            done="2026-02-11 15:30",
            desc=[
                (
                    "Nightly 02:00 CT drop, 14 carriers, 3 different column layouts. Schema "
                    "registry entry per carrier."
                )
            ],
        ),
        J(
            20,
            "Data profiling report: claims 2021-2025",
            "aisha",
            "2026-01-07 09:25",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-06",
            start="2026-01-29 09:00",
            done="2026-02-06 14:55",
            desc=[
                (
                    "ydata-profiling over 684k claims. Findings: 9.4% null `damage_code`, "
                    "adjuster notes free text in EN/ES, duplicate claim ids across TMS merges."
                )
            ],
        ),
        J(
            21,
            "Data quality checks with Great Expectations",
            "aisha",
            "2026-01-07 09:31",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-12",
            start="2026-02-09 09:00",
            review="2026-02-16 17:00",
            done="2026-02-18 12:10",
            extra=(due_change("2026-02-11 10:00", "aisha", "2026-02-10", "2026-02-12"),),
            desc=[
                (
                    "Expectation suites for bronze -> silver: claim amount > 0, valid carrier "
                    "SCAC, settlement date after incident date."
                )
            ],
        ),
        J(
            22,
            "Deduplicate claims across TMS and warehouse",
            "marcus",
            "2026-01-07 09:40",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-13",
            priority="High",
            start="2026-02-10 09:00",
            done="2026-02-20 16:05",
            extra=(due_change("2026-02-12 17:30", "marcus", "2026-02-11", "2026-02-13"),),
            desc=[
                (
                    "Fuzzy match on (BOL, shipper, incident date +/- 2 days). 3.1% of claims "
                    "were double-counted in the 2024 data; the profiling estimate was 0.8%."
                )
            ],
        ),
        J(
            23,
            "Ingest legacy AS/400 claims archive (pre-2019)",
            "marcus",
            "2026-01-07 09:52",
            epic=3,
            comps=("Data Platform",),
            done="2026-02-09 11:15",
            resolution="Won't Do",
            desc=[
                (
                    "Dropped at steering 2026-02-09: pre-2019 claims use the retired damage "
                    "taxonomy and would not be used for training."
                )
            ],
        ),
        J(
            24,
            "Hash claimant identifiers in the bronze layer",
            "tomas",
            "2026-01-08 10:10",
            epic=3,
            comps=("Data Platform",),
            due="2026-02-11",
            start="2026-02-05 09:00",
            done="2026-02-10 13:35",
            desc=[
                (
                    "HMAC-SHA256 with a key in AWS Secrets Manager; salt rotation documented "
                    "in the runbook."
                )
            ],
        ),
        # 2.2 Feature store populated (planned 2026-03-06): at risk.
        J(
            25,
            "Feast feature repo and claim-level entity schema",
            "marcus",
            "2026-01-08 10:25",
            epic=4,
            comps=("Data Platform",),
            due="2026-02-20",
            start="2026-02-16 09:00",
            done="2026-02-20 15:45",
        ),
        J(
            26,
            "Claim history features: prior claims per shipper and lane",
            "marcus",
            "2026-01-08 10:31",
            epic=4,
            comps=("Data Platform",),
            due="2026-02-27",
            start="2026-02-20 16:00",
            done="2026-02-27 14:20",
        ),
        J(
            27,
            "Text features from adjuster notes (TF-IDF baseline)",
            "elena",
            "2026-01-08 10:38",
            epic=4,
            comps=("ML",),
            due="2026-03-04",
            start="2026-02-23 09:00",
            review="2026-03-03 16:30",
            done="2026-03-04 11:05",
        ),
        J(
            28,
            "Point-in-time correctness tests for training sets",
            "aisha",
            "2026-01-08 10:44",
            epic=4,
            comps=("Data Platform",),
            due="2026-03-06",
            priority="High",
            start="2026-02-27 09:00",
            updated="2026-03-09 17:10",
            extra=(due_change("2026-03-03 09:40", "aisha", "2026-03-04", "2026-03-06"),),
            desc=[
                (
                    "Leakage found: `settled_amount` joined without an event-time filter. "
                    "Rewriting the join with `get_historical_features` and adding a test per "
                    "feature view."
                )
            ],
        ),
        J(
            29,
            "Feature freshness SLA and nightly backfill job",
            "marcus",
            "2026-01-08 10:50",
            epic=4,
            comps=("Data Platform",),
            due="2026-03-11",
            start="2026-03-02 09:00",
            review="2026-03-09 15:20",
            desc=["Airflow DAG `feast_materialize_claims`, alert if online store lags > 6 h."],
        ),
        # Added after the 2026-01-09 baseline without a change order: scope creep.
        J(
            30,
            "Carrier-level aggregates requested at steering committee",
            "marcus",
            "2026-02-10 14:05",
            epic=4,
            comps=("Data Platform",),
            due="2026-03-12",
            start="2026-03-04 10:00",
            updated="2026-03-09 16:35",
            desc=[
                (
                    "Rolling 90-day claim rate and average settlement per carrier (SCAC). "
                    "Requested by Acme's VP Claims at the 2026-02-09 steering; not in the SOW."
                )
            ],
        ),
        J(
            31,
            "Backfill 2019-2020 claims into the feature store",
            "marcus",
            "2026-02-12 11:20",
            epic=4,
            comps=("Data Platform",),
            due="2026-03-12",
            desc=[
                (
                    "Follows from dropping the AS/400 archive (ACME-23): Acme asked for the "
                    "2019-2020 warehouse data instead."
                )
            ],
        ),
        # 3.1 Baseline model trained (planned 2026-03-20): delayed.
        J(
            32,
            "Time-based train/validation/test split",
            "elena",
            "2026-01-08 11:02",
            epic=5,
            comps=("ML",),
            due="2026-03-04",
            start="2026-02-26 09:00",
            done="2026-03-03 15:50",
            desc=["Train 2021-01..2024-12, validate 2025-01..06, test 2025-07..12."],
        ),
        J(
            33,
            "LightGBM baseline for claim routing",
            "elena",
            "2026-01-08 11:09",
            epic=5,
            comps=("ML",),
            due="2026-03-20",
            priority="High",
            start="2026-03-04 09:00",
            updated="2026-03-09 18:02",
            desc=[
                (
                    "Multiclass (7 queues). First run on the leaky features scored 0.93 "
                    "precision@1, which is why ACME-28 exists."
                )
            ],
        ),
        J(
            34,
            "Hyperparameter sweep on SageMaker",
            "elena",
            "2026-01-08 11:15",
            epic=5,
            comps=("ML", "MLOps"),
            due="2026-03-27",
            extra=(due_change("2026-03-05 10:15", "elena", "2026-03-13", "2026-03-27"),),
        ),
        J(
            35,
            "Calibrate probabilities and pick the operating threshold",
            "elena",
            "2026-01-08 11:21",
            epic=5,
            comps=("ML",),
            due="2026-03-31",
            extra=(due_change("2026-03-05 10:17", "elena", "2026-03-18", "2026-03-31"),),
            desc=[
                (
                    "Isotonic calibration per queue; threshold chosen with the cost matrix "
                    "from ACME-12."
                )
            ],
        ),
        J(
            36,
            "Spanish-language adjuster notes in text features (CO-002)",
            "elena",
            "2026-02-17 09:35",
            epic=5,
            comps=("ML",),
            due="2026-03-27",
            labels=("change-order",),
            extra=(label_change("2026-02-18 11:00", "priya", "", "change-order"),),
            desc=[
                (
                    "Change order CO-002 signed 2026-02-18: 31% of notes are Spanish. "
                    "Multilingual sentence embeddings instead of EN-only TF-IDF."
                )
            ],
        ),
        J(
            37,
            "Error analysis session with claims SMEs",
            "aisha",
            "2026-01-08 11:30",
            epic=5,
            comps=("ML",),
            due="2026-03-31",
        ),
        # 3.2 Evaluation harness and model card (label eval-harness, planned 2026-04-10).
        J(
            38,
            "Offline eval harness: precision@k and cost-weighted recall",
            "aisha",
            "2026-01-08 13:10",
            epic=6,
            comps=("ML",),
            due="2026-03-27",
            labels=("eval-harness",),
            start="2026-03-02 10:00",
            updated="2026-03-09 11:48",
            desc=[
                (
                    "pytest-style suites over frozen parquet snapshots; results pushed to "
                    "MLflow. Runs in CI on every model PR."
                )
            ],
        ),
        J(
            39,
            "Golden test set from 500 adjuster-reviewed claims",
            "aisha",
            "2026-01-08 13:16",
            epic=6,
            comps=("ML",),
            due="2026-04-03",
            labels=("eval-harness",),
        ),
        J(
            40,
            "Fairness and segment analysis by carrier and region",
            "elena",
            "2026-01-08 13:22",
            epic=6,
            comps=("ML",),
            due="2026-04-08",
            labels=("eval-harness",),
        ),
        J(
            41,
            "Model card for Acme review",
            "priya",
            "2026-01-08 13:29",
            epic=6,
            comps=("ML",),
            due="2026-04-10",
            labels=("eval-harness", "docs"),
        ),
        # 4.1 Model deployed to staging (planned 2026-04-24): blocked by ACME-42.
        J(
            42,
            "IT grants API access to the claims warehouse",
            "dana",
            "2026-01-08 14:02",
            epic=7,
            labels=("client-dependency",),
            due="2026-03-06",
            comps=("MLOps",),
            mover="tomas",
            priority="High",
            blocks=(44, 45),
            start="2026-02-23 09:05",
            waiting="2026-03-02 09:30",
            updated="2026-03-09 15:45",
            extra=(due_change("2026-02-26 13:20", "tomas", "2026-02-27", "2026-03-06"),),
            desc=[
                (
                    "The staging model service needs a service account with read access to "
                    "the claims API (`/claims/v2/open`) and write access to the triage "
                    "suggestion table. Requested via Acme ServiceNow RITM0041877 on 2026-02-23."
                ),
                (
                    "2026-03-02: Acme IT says the request is waiting for CAB approval; chased "
                    "Dana on 2026-03-05 and 2026-03-09."
                ),
            ],
        ),
        J(
            43,
            "Containerise the model service (FastAPI + ONNX Runtime)",
            "tomas",
            "2026-01-08 14:10",
            epic=7,
            comps=("MLOps",),
            due="2026-04-10",
            fix=("0.9 Staging",),
            start="2026-03-02 11:00",
            updated="2026-03-06 17:25",
        ),
        J(
            44,
            "Terraform the staging environment in Acme's AWS account",
            "tomas",
            "2026-01-08 14:16",
            epic=7,
            comps=("MLOps",),
            due="2026-04-17",
            fix=("0.9 Staging",),
            desc=[
                (
                    "VPC peering to the claims API subnet; needs the service account from "
                    "ACME-42 before `terraform apply` can pass the connectivity check."
                )
            ],
        ),
        J(
            45,
            "Staging integration test against the live claims feed",
            "tomas",
            "2026-01-08 14:21",
            epic=7,
            comps=("MLOps",),
            due="2026-04-24",
            fix=("0.9 Staging",),
        ),
        J(
            46,
            "CI/CD with model-registry promotion gates",
            "tomas",
            "2026-01-08 14:27",
            epic=7,
            comps=("MLOps",),
            due="2026-04-17",
            fix=("0.9 Staging",),
        ),
        # 4.2 Production rollout (fix version "1.0 GA", planned 2026-05-22): planned, no dates.
        J(
            47,
            "SSO for the triage UI via Acme Okta (SAML)",
            "tomas",
            "2026-01-08 15:02",
            epic=8,
            comps=("Triage UI",),
            fix=("1.0 GA",),
        ),
        J(
            48,
            "Drift monitoring: feature and prediction drift alerts",
            "elena",
            "2026-01-08 15:08",
            epic=8,
            comps=("MLOps",),
            fix=("1.0 GA",),
            desc=[
                ("Evidently reports nightly; PSI > 0.2 on any top-20 feature pages the on-call.")
            ],
        ),
        J(
            49,
            "Production runbook and on-call rota",
            "tomas",
            "2026-01-08 15:13",
            epic=8,
            comps=("MLOps",),
            fix=("1.0 GA",),
        ),
        J(
            50,
            "Shadow-mode rollout plan for the Dallas claims desk",
            "priya",
            "2026-01-08 15:20",
            epic=8,
            fix=("1.0 GA",),
        ),
        # Malformed on purpose (no fields.status); skipped and counted by the export source.
        J(
            51,
            "Feature importance report for claims SMEs",
            "elena",
            "2026-01-08 15:31",
            epic=5,
            comps=("ML",),
            malformed=True,
        ),
        # Housekeeping outside any milestone.
        J(
            52,
            "Pipeline failure alerts to #nw-acme-eng",
            "marcus",
            "2026-02-05 10:20",
            kind="Task",
            comps=("Data Platform",),
            start="2026-02-05 10:30",
            done="2026-02-06 09:40",
        ),
        J(
            53,
            "Dedupe claims between systems",
            "aisha",
            "2026-01-20 11:05",
            epic=3,
            comps=("Data Platform",),
            duplicates=22,
            done="2026-01-20 11:30",
            resolution="Duplicate",
        ),
    ]


def acme_pages() -> list[dict[str, Any]]:
    issues = {i.n: i for i in acme_issues()}
    link_ids = iter(range(10230, 10300))
    links: dict[int, list[dict[str, Any]]] = {n: [] for n in issues}
    for issue in issues.values():
        pairs = [("Blocks", issue.n, other) for other in issue.blocks]
        if issue.duplicates:
            pairs.append(("Duplicate", issue.n, issue.duplicates))
        for kind, source, target in pairs:  # source <kind outward> target
            link_id = str(next(link_ids))
            link_type = dict(LINK_TYPES[kind], self=f"{API}/issueLinkType/{LINK_TYPES[kind]['id']}")
            base = {"id": link_id, "self": f"{API}/issueLink/{link_id}", "type": link_type}
            links[source].append(dict(base, outwardIssue=issues[target].ref()))
            links[target].append(dict(base, inwardIssue=issues[source].ref()))
    moments = sorted(
        {(issue.key, when) for issue in issues.values() for when, _, _ in issue.changes},
        key=lambda pair: (pair[1], pair[0]),
    )
    history_ids = {pair: str(20500 + index) for index, pair in enumerate(moments)}
    ordered = [issues[n].to_json(issues, links[n], history_ids) for n in sorted(issues)]
    pages = []
    chunks = [ordered[i : i + JIRA_PAGE_SIZE] for i in range(0, len(ordered), JIRA_PAGE_SIZE)]
    for index, chunk in enumerate(chunks):
        page: dict[str, Any] = {"isLast": index == len(chunks) - 1, "issues": chunk}
        if index < len(chunks) - 1:
            seed = f"project = ACME ORDER BY key ASC|{(index + 1) * JIRA_PAGE_SIZE}"
            token = base64.urlsafe_b64encode(
                hashlib.sha256(seed.encode()).digest() + seed.encode()
            ).decode()
            page["nextPageToken"] = token.rstrip("=")
        pages.append(page)
    return pages


# --------------------------------------------------------------------------------------------
# Linear (Globex Health)
# --------------------------------------------------------------------------------------------

LINEAR_PEOPLE = {
    "sofia": ("Sofia Lindqvist", "sofia.lindqvist@northwind-ai.example"),
    "wei": ("Wei Zhang", "wei.zhang@northwind-ai.example"),
    "hannah": ("Hannah Brooks", "hannah.brooks@northwind-ai.example"),
    "liam": ("Liam O'Connor", "liam.oconnor@northwind-ai.example"),
    "james": ("Dr James Okafor", "james.okafor@northwind-ai.example"),
    "rhys": ("Rhys Morgan", "rhys.morgan@globex-health.example"),
}
LINEAR_STATES = {
    "Backlog": "backlog",
    "Todo": "unstarted",
    "In Progress": "started",
    "In Review": "started",
    "Waiting on Globex": "started",
    "Done": "completed",
    "Canceled": "canceled",
}
LINEAR_PROJECT = {"id": _uuid("linear-project:globex"), "name": "Globex Referral Triage Assistant"}
LINEAR_MILESTONES = {  # key -> (Linear milestone name, target date)
    "1.1": ("Discovery sign-off", "2026-01-16"),
    "1.2": ("DPIA & data sharing", "2026-01-30"),
    "2.1": ("De-identified dataset", "2026-02-20"),
    "2.2": ("Gold-standard labels", "2026-03-06"),
    "3.1": ("Triage model v1", "2026-03-27"),
    "3.2": ("Clinician review UI", "2026-04-10"),
    "4.1": ("Azure deployment (UK South)", "2026-04-24"),
    "4.2": ("Pilot go-live", "2026-05-15"),
    "5.1": ("Pilot evaluation & handoff", "2026-06-12"),
}


class LinearIssue:
    """One GLX issue as the demo story needs it; `to_json` renders the GraphQL node."""

    def __init__(
        self,
        n: int,
        title: str,
        who: str | None,
        created: str,
        *,
        milestone: str | None = None,
        start: str | None = None,
        review: str | None = None,
        waiting: str | None = None,
        done: str | None = None,
        canceled: str | None = None,
        due: str | None = None,
        labels: tuple[str, ...] = (),
        estimate: float | None = None,
        desc: str = "",
        blocks: tuple[int, ...] = (),
        related: tuple[int, ...] = (),
        notes: tuple[str, ...] = (),
        updated: str | None = None,
        backlog: bool = False,
    ) -> None:
        self.n = n
        self.identifier = f"GLX-{n}"
        self.id = _uuid("linear-issue:" + self.identifier)
        self.title = title
        self.who = who
        self.created = created
        self.milestone = milestone
        self.due = due
        self.labels = labels
        self.estimate = estimate
        self.desc = desc
        self.blocks = blocks
        self.related = related
        self.done = done
        self.canceled = canceled
        current = "Backlog" if backlog else "Todo"
        self.history: list[tuple[str, str | None, str | None]] = []
        for when, target in (
            (start, "In Progress"),
            (review, "In Review"),
            (waiting, "Waiting on Globex"),
            (done, "Done"),
            (canceled, "Canceled"),
        ):
            if when is None:
                continue
            self.history.append((when, current, target))
            current = target
        for when in notes:  # non-state changes (labels, milestone, due date)
            self.history.append((when, None, None))
        self.history.sort(key=lambda change: change[0])
        self.state = current
        self.updated = updated or max([created] + [when for when, _, _ in self.history])

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "identifier": self.identifier}

    def to_json(self, issues: dict[int, LinearIssue]) -> dict[str, Any]:
        t = self.identifier
        slug = re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-")[:60].rstrip("-")
        relations = [{"type": "blocks", "relatedIssue": issues[n].ref()} for n in self.blocks]
        relations += [{"type": "related", "relatedIssue": issues[n].ref()} for n in self.related]
        inverse = [
            {"type": "blocks", "issue": other.ref()}
            for other in issues.values()
            if self.n in other.blocks
        ]
        inverse += [
            {"type": "related", "issue": other.ref()}
            for other in issues.values()
            if self.n in other.related
        ]
        milestone = None
        if self.milestone:
            name, target = LINEAR_MILESTONES[self.milestone]
            milestone = {
                "id": _uuid("linear-milestone:" + self.milestone),
                "name": name,
                "targetDate": target,
            }
        person = LINEAR_PEOPLE.get(self.who or "")
        return {
            "id": self.id,
            "identifier": t,
            "title": self.title,
            "description": self.desc or None,
            "url": f"https://linear.app/northwind-ai/issue/{t}/{slug}",
            "state": {"name": self.state, "type": LINEAR_STATES[self.state]},
            "dueDate": self.due,
            "createdAt": linear_time(self.created, t + "created"),
            "updatedAt": linear_time(self.updated, t + "updated"),
            "completedAt": linear_time(self.done, t + "done") if self.done else None,
            "canceledAt": linear_time(self.canceled, t + "canceled") if self.canceled else None,
            "estimate": self.estimate,
            "assignee": {"name": person[0], "email": person[1]} if person else None,
            "labels": {"nodes": [{"name": label} for label in self.labels]},
            "projectMilestone": milestone,
            "project": dict(LINEAR_PROJECT),
            "relations": {"nodes": relations},
            "inverseRelations": {"nodes": inverse},
            "history": {
                "nodes": [
                    {
                        "createdAt": linear_time(when, t + "history"),
                        "fromState": {"name": old} if old else None,
                        "toState": {"name": new} if new else None,
                    }
                    for when, old, new in reversed(self.history)
                ]
            },  # newest first
        }


def globex_issues() -> list[LinearIssue]:
    L = LinearIssue
    return [
        # 1.1 Discovery sign-off (planned 2026-01-16): done on the day.
        L(
            1,
            "Stakeholder interviews: referral coordinators at three sites",
            "sofia",
            "2026-01-06 09:20",
            milestone="1.1",
            due="2026-01-13",
            estimate=3,
            labels=("discovery",),
            start="2026-01-07 09:00",
            done="2026-01-12 16:40",
            desc="Leeds General, St Mary's and the Harrogate community hub. Recordings in "
            "the Globex SharePoint, not in our drive (DSA pending).",
        ),
        L(
            2,
            "Current-state referral pathway map",
            "sofia",
            "2026-01-06 09:26",
            milestone="1.1",
            due="2026-01-15",
            estimate=2,
            labels=("discovery",),
            start="2026-01-12 09:00",
            done="2026-01-14 15:10",
        ),
        L(
            3,
            "Clinical success criteria and safety thresholds",
            "james",
            "2026-01-06 09:31",
            milestone="1.1",
            due="2026-01-16",
            estimate=3,
            labels=("discovery", "clinical-safety"),
            start="2026-01-12 10:00",
            review="2026-01-15 11:00",
            done="2026-01-16 14:25",
            desc="Agreed with Globex CCIO:\n\n- urgent-referral sensitivity >= 0.98\n"
            "- missed-urgent rate <= 0.5%\n- coordinator time per referral -40%",
        ),
        L(
            4,
            "Project charter and RACI",
            "sofia",
            "2026-01-06 09:40",
            milestone="1.1",
            due="2026-01-09",
            estimate=1,
            start="2026-01-06 10:00",
            done="2026-01-09 12:15",
        ),
        # 1.2 DPIA & data sharing (planned 2026-01-30): done 02-04, late.
        L(
            5,
            "Draft DPIA with Globex Information Governance",
            "sofia",
            "2026-01-07 10:05",
            milestone="1.2",
            due="2026-01-28",
            estimate=3,
            labels=("governance",),
            start="2026-01-14 09:00",
            review="2026-01-26 10:00",
            done="2026-01-29 16:30",
        ),
        L(
            6,
            "Globex signs the data-sharing agreement",
            "rhys",
            "2026-01-07 10:12",
            milestone="1.2",
            due="2026-01-30",
            labels=("client-dependency", "governance"),
            start="2026-01-19 09:00",
            waiting="2026-01-23 11:45",
            done="2026-02-04 10:05",
            desc="Redlines on clause 7 (sub-processors) went back and forth twice with "
            "Globex legal.",
        ),
        L(
            7,
            "Clinical safety case outline (DCB0129)",
            "james",
            "2026-01-07 10:20",
            milestone="1.2",
            due="2026-01-30",
            estimate=2,
            labels=("clinical-safety",),
            start="2026-01-20 09:30",
            done="2026-01-30 15:55",
        ),
        # 2.1 De-identified dataset (planned 2026-02-20): done 02-18, early.
        L(
            8,
            "Extract 24 months of referral letters from the EPR export",
            "wei",
            "2026-01-07 11:00",
            milestone="2.1",
            due="2026-02-06",
            estimate=3,
            labels=("data",),
            start="2026-02-04 10:30",
            done="2026-02-06 17:05",
            desc="41,212 letters (HL7 CDA + RTF). RTF converted with `pandoc`; 312 empty "
            "bodies dropped.",
        ),
        L(
            9,
            "De-identification pipeline (Presidio + NHS number recogniser)",
            "wei",
            "2026-01-07 11:06",
            milestone="2.1",
            due="2026-02-13",
            estimate=5,
            labels=("data",),
            start="2026-02-05 09:00",
            review="2026-02-12 14:00",
            done="2026-02-13 11:50",
            desc="Custom recognisers: NHS number (mod-11 check), UK postcodes, GP practice "
            "codes. Surrogates keep date intervals.",
        ),
        L(
            10,
            "Re-identification risk test on a 200-letter sample",
            "hannah",
            "2026-01-07 11:12",
            milestone="2.1",
            due="2026-02-18",
            estimate=2,
            labels=("data", "governance"),
            start="2026-02-16 09:00",
            done="2026-02-17 16:20",
        ),
        L(
            11,
            "OCR ingestion of scanned PDF referrals",
            "wei",
            "2026-01-07 11:19",
            milestone="2.1",
            estimate=5,
            labels=("data",),
            canceled="2026-02-02 10:40",
            desc="Canceled: scanned referrals are 4% of volume and Globex is retiring fax "
            "intake in April.",
        ),
        L(
            12,
            "Datasheet and lineage for the de-identified dataset",
            "hannah",
            "2026-01-07 11:25",
            milestone="2.1",
            due="2026-02-20",
            estimate=2,
            labels=("data", "docs"),
            start="2026-02-17 09:00",
            done="2026-02-18 14:35",
        ),
        # 2.2 Gold-standard labels (planned 2026-03-06): delayed.
        L(
            13,
            "Labelling guidelines v2 with triage categories",
            "james",
            "2026-01-08 09:10",
            milestone="2.2",
            due="2026-02-13",
            estimate=2,
            labels=("clinical-safety",),
            start="2026-02-09 09:00",
            done="2026-02-13 12:00",
        ),
        L(
            14,
            "Label Studio project in the Globex tenant",
            "wei",
            "2026-01-08 09:15",
            milestone="2.2",
            due="2026-02-16",
            estimate=2,
            labels=("infra",),
            start="2026-02-12 10:00",
            done="2026-02-16 13:30",
        ),
        L(
            15,
            "Round 1 labelling: 1,000 referrals",
            "james",
            "2026-01-08 09:21",
            milestone="2.2",
            due="2026-02-27",
            estimate=5,
            start="2026-02-16 09:00",
            done="2026-02-27 17:45",
        ),
        L(
            16,
            "Inter-annotator agreement analysis",
            "hannah",
            "2026-01-08 09:26",
            milestone="2.2",
            due="2026-03-06",
            estimate=2,
            start="2026-03-02 09:00",
            updated="2026-03-09 16:05",
            notes=("2026-03-05 10:30",),
            desc="Cohen's kappa 0.61 on round 1 (target 0.75). Disagreements cluster on "
            "'routine vs soon' for musculoskeletal referrals.",
        ),
        L(
            17,
            "Round 2 labelling: 1,000 referrals",
            "james",
            "2026-01-08 09:32",
            milestone="2.2",
            due="2026-03-20",
            estimate=5,
            start="2026-03-02 09:30",
            notes=("2026-03-04 11:10",),
            updated="2026-03-09 12:20",
            desc="Clinician availability halved in March (winter pressures); due date moved "
            "from 2026-03-06 to 2026-03-20.",
        ),
        L(
            18,
            "Adjudicate label disagreements with the clinical lead",
            "james",
            "2026-01-08 09:38",
            milestone="2.2",
            due="2026-03-20",
            estimate=3,
            notes=("2026-03-04 11:12",),
        ),
        # 3.1 Triage model v1 (planned 2026-03-27): at risk.
        L(
            19,
            "Prompted LLM baseline on Azure OpenAI",
            "wei",
            "2026-01-09 10:00",
            milestone="3.1",
            due="2026-03-20",
            estimate=5,
            labels=("ml",),
            start="2026-03-02 10:00",
            updated="2026-03-09 17:30",
            related=(20,),
            desc="GPT-4o with the v2 guidelines as few-shot context. Running on synthetic "
            "letters until the private endpoint (GLX-30) exists: real letters may not "
            "leave the Globex tenant.",
        ),
        L(
            20,
            "Fine-tuned ClinicalBERT classifier",
            "wei",
            "2026-01-09 10:06",
            milestone="3.1",
            due="2026-03-27",
            estimate=8,
            labels=("ml",),
            start="2026-03-05 09:00",
            updated="2026-03-09 18:10",
        ),
        L(
            21,
            "Eval harness: urgent sensitivity and per-specialty metrics",
            "hannah",
            "2026-01-09 10:12",
            milestone="3.1",
            due="2026-03-13",
            estimate=3,
            labels=("ml",),
            start="2026-02-26 09:00",
            review="2026-03-09 14:40",
        ),
        L(
            22,
            "Safety threshold analysis: missed-urgent rate",
            "james",
            "2026-01-09 10:18",
            milestone="3.1",
            due="2026-04-01",
            estimate=3,
            labels=("clinical-safety",),
            notes=("2026-03-04 11:20",),
            desc="Needs round 2 labels (GLX-17). Due date moved from 2026-03-25.",
        ),
        L(
            23,
            "Hallucination checks for the summary field",
            "hannah",
            "2026-01-09 10:24",
            milestone="3.1",
            due="2026-03-27",
            estimate=3,
            labels=("ml", "clinical-safety"),
        ),
        # 3.2 Clinician review UI (planned 2026-04-10): on track, one scope addition.
        L(
            24,
            "Review UI wireframes validated with four coordinators",
            "sofia",
            "2026-01-09 11:00",
            milestone="3.2",
            due="2026-02-24",
            estimate=2,
            labels=("frontend",),
            start="2026-02-18 09:00",
            done="2026-02-24 15:30",
        ),
        L(
            25,
            "Review queue with accept / override actions",
            "liam",
            "2026-01-09 11:05",
            milestone="3.2",
            due="2026-03-27",
            estimate=5,
            labels=("frontend",),
            start="2026-02-25 09:00",
            updated="2026-03-09 17:55",
        ),
        L(
            26,
            "Audit log of clinician overrides",
            "liam",
            "2026-01-09 11:11",
            milestone="3.2",
            due="2026-04-03",
            estimate=3,
            labels=("frontend", "clinical-safety"),
        ),
        L(
            27,
            "Entra ID SSO for the review UI",
            "liam",
            "2026-01-09 11:16",
            milestone="3.2",
            due="2026-04-08",
            estimate=3,
            labels=("frontend", "infra"),
        ),
        L(
            28,
            "Welsh-language referral summaries",
            "wei",
            "2026-02-18 15:20",
            milestone="3.2",
            due="2026-04-10",
            estimate=5,
            labels=("ml",),
            desc="Asked for by the Cardiff pilot site on the 2026-02-17 call. Needs a "
            "decision on whether this is in scope.",
        ),
        L(
            29,
            "Export review decisions as FHIR Task resources (CO-003)",
            "liam",
            "2026-02-25 10:40",
            milestone="3.2",
            due="2026-04-10",
            estimate=3,
            labels=("change-order", "frontend"),
            notes=("2026-02-26 09:15",),
            desc="Change order CO-003 signed 2026-02-26: decisions flow back to the EPR "
            "worklist via FHIR R4 `Task`.",
        ),
        # 4.1 Azure deployment (planned 2026-04-24): waiting on Globex IT (not overdue).
        L(
            30,
            "Globex IT provisions the Azure OpenAI private endpoint in UK South",
            "rhys",
            "2026-01-09 11:30",
            milestone="4.1",
            due="2026-03-20",
            labels=("client-dependency", "infra"),
            blocks=(19, 32, 33),
            start="2026-02-24 10:00",
            waiting="2026-03-03 14:20",
            updated="2026-03-09 10:15",
            desc="Private endpoint + DNS zone in the Globex landing zone subscription; "
            "Northwind needs `Cognitive Services OpenAI User` on it. Globex change "
            "CHG-22817 is in their CAB queue.",
        ),
        L(
            31,
            "Bicep templates: AKS, Key Vault, private DNS",
            "liam",
            "2026-01-09 11:36",
            milestone="4.1",
            due="2026-04-03",
            estimate=5,
            labels=("infra",),
            start="2026-03-03 09:00",
            updated="2026-03-09 15:05",
        ),
        L(
            32,
            "Deploy the inference service to the Globex tenant",
            "liam",
            "2026-01-09 11:42",
            milestone="4.1",
            due="2026-04-17",
            estimate=3,
            labels=("infra",),
        ),
        L(
            33,
            "Load and failover test in the Globex tenant",
            "liam",
            "2026-01-09 11:48",
            milestone="4.1",
            due="2026-04-24",
            estimate=3,
            labels=("infra",),
        ),
        L(
            34,
            "DCB0160 deployment safety case with the Globex CSO",
            "james",
            "2026-01-09 11:55",
            milestone="4.1",
            due="2026-04-24",
            estimate=3,
            labels=("clinical-safety",),
        ),
        # Team housekeeping outside the milestones.
        L(
            35,
            "Spike: Azure AI Search for guideline retrieval",
            "wei",
            "2026-02-03 14:00",
            estimate=2,
            labels=("ml",),
            backlog=True,
        ),
        L(
            36,
            "Pin Presidio to 2.2.x after recogniser regression",
            "wei",
            "2026-02-11 09:45",
            labels=("data",),
            start="2026-02-11 10:00",
            done="2026-02-11 16:30",
            estimate=1,
        ),
        L(
            37,
            "Weekly metrics notebook for steering packs",
            "hannah",
            "2026-02-20 10:10",
            labels=("docs",),
            start="2026-02-23 09:00",
            done="2026-02-23 15:00",
            estimate=1,
        ),
        L(
            38,
            "Investigate flaky eval job on the GPU runner",
            "hannah",
            "2026-03-06 16:20",
            labels=("ml", "Bug"),
            start="2026-03-09 09:15",
            estimate=1,
        ),
    ]


def globex_pages() -> list[dict[str, Any]]:
    issues = {i.n: i for i in globex_issues()}
    nodes = [issues[n].to_json(issues) for n in sorted(issues)]
    chunks = [nodes[i : i + LINEAR_PAGE_SIZE] for i in range(0, len(nodes), LINEAR_PAGE_SIZE)]
    return [
        {
            "data": {
                "issues": {
                    "nodes": chunk,
                    "pageInfo": {
                        "hasNextPage": index < len(chunks) - 1,
                        "endCursor": chunk[-1]["id"],
                    },
                }
            }
        }
        for index, chunk in enumerate(chunks)
    ]


def main() -> None:
    for folder, pages in (("acme-jira", acme_pages()), ("globex-linear", globex_pages())):
        for old in (HERE / folder).glob("page-*.json"):
            old.unlink()
        for number, page in enumerate(pages, start=1):
            write_json(HERE / folder / f"page-{number}.json", page)


if __name__ == "__main__":
    main()
