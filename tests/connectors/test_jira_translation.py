"""Jira issues (Cloud REST v3, Data Center v2) -> `Ticket`: `syncbot.connectors.jira.to_ticket`."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from syncbot.connectors.jira import changelog_cut, to_ticket
from syncbot.connectors.parsing import MalformedTicket
from syncbot.domain import Progress, StatusChange

SITE = "https://acme.atlassian.net"
CST = dt.timezone(dt.timedelta(hours=-6))
BLOCKS = {
    "id": "10000",
    "name": "Blocks",
    "inward": "is blocked by",
    "outward": "blocks",
    "self": f"{SITE}/rest/api/3/issueLinkType/10000",
}


def category(key: str, name: str, id: int) -> dict[str, Any]:
    return {
        "self": f"{SITE}/rest/api/3/statuscategory/{id}",
        "id": id,
        "key": key,
        "colorName": {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}[key],
        "name": name,
    }


TODO = {"name": "To Do", "id": "10000", "statusCategory": category("new", "To Do", 2)}
WAITING = {
    "self": f"{SITE}/rest/api/3/status/10007",
    "description": "Waiting on the customer",
    "iconUrl": f"{SITE}/images/icons/statuses/generic.png",
    "name": "Waiting for customer",
    "id": "10007",
    "statusCategory": category("indeterminate", "In Progress", 4),
}
DONE = {"name": "Done", "id": "10001", "statusCategory": category("done", "Done", 3)}


def linked(key: str, summary: str) -> dict[str, Any]:
    return {
        "id": str(10000 + int(key.split("-")[1])),
        "key": key,
        "self": f"{SITE}/rest/api/3/issue/{key}",
        "fields": {
            "summary": summary,
            "status": TODO,
            "priority": {"name": "Medium", "id": "3"},
            "issuetype": {"name": "Task", "id": "10002", "subtask": False},
        },
    }


# A client dependency as GET /rest/api/3/search/jql?expand=changelog returns it.
CLOUD_ISSUE: dict[str, Any] = {
    "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
    "id": "10040",
    "self": f"{SITE}/rest/api/3/issue/10040",
    "key": "ACME-40",
    "fields": {
        "summary": "IT grants API access",
        "status": WAITING,
        "resolution": None,
        "resolutiondate": None,
        "statuscategorychangedate": "2026-02-25T11:00:00.000-0600",
        "created": "2026-02-20T10:00:00.000-0600",
        "updated": "2026-03-02T09:15:00.000-0600",
        "duedate": "2026-03-09",
        "labels": ["client-dependency", "security"],
        "parent": {
            "id": "10012",
            "key": "ACME-12",
            "self": f"{SITE}/rest/api/3/issue/10012",
            "fields": {
                "summary": "Model deployment",
                "status": TODO,
                "issuetype": {"name": "Epic", "id": "10000", "hierarchyLevel": 1},
            },
        },
        "fixVersions": [
            {"self": f"{SITE}/rest/api/3/version/10100", "id": "10100", "name": "Pilot"},
        ],
        "components": [
            {"self": f"{SITE}/rest/api/3/component/10050", "id": "10050", "name": "Data platform"},
            {"self": f"{SITE}/rest/api/3/component/10051", "id": "10051", "name": "Security"},
        ],
        "issuelinks": [
            {
                "id": "10301",
                "self": f"{SITE}/rest/api/3/issueLink/10301",
                "type": BLOCKS,
                "outwardIssue": linked("ACME-44", "Deploy model to staging"),
            },
            {
                "id": "10302",
                "self": f"{SITE}/rest/api/3/issueLink/10302",
                "type": BLOCKS,
                "inwardIssue": linked("ACME-39", "Security review questionnaire"),
            },
            {
                "id": "10303",
                "type": {
                    "id": "10003",
                    "name": "Relates",
                    "inward": "relates to",
                    "outward": "relates to",
                },
                "outwardIssue": linked("ACME-50", "Firewall change"),
            },
            {
                "id": "10304",
                "type": {
                    "id": "10002",
                    "name": "Duplicate",
                    "inward": "is duplicated by",
                    "outward": "duplicates",
                },
                "inwardIssue": linked("ACME-51", "API access request (old)"),
            },
        ],
        "assignee": {
            "self": f"{SITE}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5",
            "accountId": "5b10ac8d82e05b22cc7d4ef5",
            "emailAddress": "dana@acme.example",
            "displayName": "Dana Client",
            "active": True,
            "timeZone": "America/Chicago",
            "accountType": "atlassian",
        },
        "description": {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {"type": "text", "text": "Service account for the "},
                        {"type": "text", "text": "scoring API", "marks": [{"type": "strong"}]},
                    ],
                },
                {"type": "paragraph", "content": [{"type": "text", "text": "Owner: client IT"}]},
            ],
        },
        "project": {"id": "10000", "key": "ACME", "name": "Acme AI", "projectTypeKey": "software"},
        "issuetype": {"name": "Task", "id": "10002"},
        "priority": {"name": "High", "id": "2"},
    },
    "changelog": {
        "startAt": 0,
        "maxResults": 3,
        "total": 3,
        # Newest first, as Jira Cloud returns them.
        "histories": [
            {
                "id": "10210",
                "author": {"displayName": "Priya Shah"},
                "created": "2026-03-02T09:15:00.000-0600",
                "items": [
                    {
                        "field": "assignee",
                        "fieldtype": "jira",
                        "fieldId": "assignee",
                        "fromString": None,
                        "toString": "Dana Client",
                    },
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": "3",
                        "fromString": "In Progress",
                        "to": "10007",
                        "toString": "Waiting for customer",
                    },
                ],
            },
            {
                "id": "10205",
                "created": "2026-02-27T16:40:00.000-0600",
                "items": [
                    {
                        "field": "Rank",
                        "fieldtype": "custom",
                        "fromString": "",
                        "toString": "Ranked higher",
                    },
                ],
            },
            {
                "id": "10201",
                "created": "2026-02-25T11:00:00.000-0600",
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": "10000",
                        "fromString": "To Do",
                        "to": "3",
                        "toString": "In Progress",
                    },
                ],
            },
        ],
    },
}

# A story as GET /rest/api/2/search returns it on Data Center: plain-text description, the epic
# named by the Epic Link custom field, no `parent`.
DATA_CENTER_ISSUE: dict[str, Any] = {
    "expand": "operations,editmeta,changelog,renderedFields",
    "id": "20013",
    "self": "https://jira.acme.example/rest/api/2/issue/20013",
    "key": "ACME-13",
    "fields": {
        "summary": "Nightly ingest job",
        "status": {
            "name": "In Progress",
            "id": "3",
            "statusCategory": {"id": 4, "key": "indeterminate"},
        },
        "resolution": None,
        "created": "2026-01-12T09:00:00.000-0600",
        "updated": "2026-03-01T09:00:00.000-0600",
        "duedate": None,
        "labels": [],
        "customfield_10014": "ACME-12",
        "customfield_10100": None,
        "description": "Ingest the nightly dump.\r\nValidate row counts.",
        "assignee": {
            "name": "priya",
            "displayName": "Priya Shah",
            "emailAddress": "priya@agency.example",
        },
    },
}


def issue(base: dict[str, Any] = CLOUD_ISSUE, **fields: Any) -> dict[str, Any]:
    """A deep copy of `base` with `fields` replaced (a value of `...` removes the field)."""
    raw = copy.deepcopy(base)
    for name, value in fields.items():
        if value is ...:
            raw["fields"].pop(name, None)
        else:
            raw["fields"][name] = value
    return raw


# --- a full translation ------------------------------------------------------------------


def test_a_cloud_issue_translates_every_field_the_rules_need() -> None:
    t = to_ticket(CLOUD_ISSUE, browse_url=f"{SITE}/")

    assert (t.key, t.tracker, t.title) == ("ACME-40", "jira", "IT grants API access")
    assert (t.status, t.progress) == ("Waiting for customer", Progress.IN_PROGRESS)
    assert t.created == dt.datetime(2026, 2, 20, 10, 0, tzinfo=CST)
    assert t.updated == dt.datetime(2026, 3, 2, 9, 15, tzinfo=CST)
    assert t.completed is None
    assert t.due == dt.date(2026, 3, 9)
    assert t.labels == ("client-dependency", "security")
    assert t.parent == "ACME-12"
    assert t.fix_versions == ("Pilot",)
    assert t.components == ("Data platform", "Security")
    assert t.project == "ACME"
    assert (t.assignee_name, t.assignee_email) == ("Dana Client", "dana@acme.example")
    assert t.description == "Service account for the scoring API\nOwner: client IT"
    assert t.url == f"{SITE}/browse/ACME-40"


def test_timestamps_are_timezone_aware() -> None:
    t = to_ticket(issue(created="2026-02-20T16:00:00.000+0000", updated="2026-03-02T15:15:00Z"))

    assert t.created == dt.datetime(2026, 2, 20, 16, 0, tzinfo=dt.UTC)
    assert t.updated.utcoffset() == dt.timedelta(0)
    assert t.created.tzinfo is not None and t.updated.tzinfo is not None


@pytest.mark.parametrize(
    ("status", "progress"),
    [(TODO, Progress.TODO), (WAITING, Progress.IN_PROGRESS), (DONE, Progress.DONE)],
    ids=["new", "indeterminate", "done"],
)
def test_progress_follows_the_status_category(status: dict[str, Any], progress: Progress) -> None:
    assert to_ticket(issue(status=status)).progress is progress


def test_a_done_issue_completes_at_its_resolution_date() -> None:
    t = to_ticket(
        issue(
            status=DONE,
            resolution={"id": "10000", "name": "Done"},
            resolutiondate="2026-03-05T21:30:00.000-0600",
            statuscategorychangedate="2026-03-04T08:00:00.000-0600",
        )
    )

    assert t.progress is Progress.DONE
    assert t.completed == dt.datetime(2026, 3, 6, 3, 30, tzinfo=dt.UTC)


def test_a_done_issue_without_resolution_date_completes_when_its_category_changed() -> None:
    t = to_ticket(issue(status=DONE, statuscategorychangedate="2026-03-04T08:00:00.000-0600"))

    assert t.completed == dt.datetime(2026, 3, 4, 8, 0, tzinfo=CST)


@pytest.mark.parametrize("resolution", ["Won't Do", "Duplicate", "Won\u2019t Do", "won't do"])
def test_wont_do_and_duplicate_resolutions_are_excluded(resolution: str) -> None:
    t = to_ticket(
        issue(
            status=DONE,
            resolution={"name": resolution},
            resolutiondate="2026-03-03T10:00:00.000-0600",
        )
    )

    assert t.progress is Progress.EXCLUDED
    assert not t.is_open and not t.is_done


def test_excluded_resolutions_are_configurable() -> None:
    raw = issue(status=DONE, resolution={"name": "Obsolete"})

    assert to_ticket(raw).progress is Progress.DONE
    assert to_ticket(raw, excluded_resolutions=["Obsolete"]).progress is Progress.EXCLUDED


def test_without_a_status_category_a_resolution_means_done() -> None:
    raw = issue(status={"name": "Closed"}, resolution={"name": "Fixed"})

    assert to_ticket(raw).progress is Progress.DONE


def test_without_a_status_category_or_resolution_the_issue_is_open() -> None:
    raw = issue(status={"name": "Closed"}, resolution=None)

    t = to_ticket(raw)

    assert t.progress is Progress.TODO
    assert t.completed is None


def test_without_a_status_category_a_wont_do_resolution_is_excluded() -> None:
    raw = issue(status={"name": "Closed"}, resolution={"name": "Won't Do"})

    assert to_ticket(raw).progress is Progress.EXCLUDED


# --- links and history -------------------------------------------------------------------


def test_blocks_links_are_read_in_both_directions_and_other_links_ignored() -> None:
    """On ACME-40, `outwardIssue` ACME-44 reads "blocks ACME-44", `inwardIssue` ACME-39 reads
    "is blocked by ACME-39"; Relates and Duplicate links are not dependencies."""
    t = to_ticket(CLOUD_ISSUE)

    assert t.blocks == ("ACME-44",)
    assert t.blocked_by == ("ACME-39",)


def test_an_issue_without_links_blocks_nothing() -> None:
    t = to_ticket(issue(issuelinks=[]))

    assert (t.blocks, t.blocked_by) == ((), ())


def test_status_changes_come_from_the_changelog_oldest_first() -> None:
    t = to_ticket(CLOUD_ISSUE)

    assert t.history == (
        StatusChange(dt.datetime(2026, 2, 25, 11, 0, tzinfo=CST), "To Do", "In Progress"),
        StatusChange(
            dt.datetime(2026, 3, 2, 9, 15, tzinfo=CST), "In Progress", "Waiting for customer"
        ),
    )


def test_an_issue_without_changelog_has_no_history() -> None:
    raw = copy.deepcopy(CLOUD_ISSUE)
    del raw["changelog"]

    assert to_ticket(raw).history == ()


def test_bulk_changelog_histories_with_epoch_millisecond_times_are_read() -> None:
    """The bulkfetch example writes `created` as a number; the schema says date-time."""
    raw = copy.deepcopy(CLOUD_ISSUE)
    raw["changelog"] = {
        "histories": [
            {
                "id": "1",
                "created": 1772464500000,  # 2026-03-02T15:15:00Z
                "items": [{"field": "status", "fromString": "To Do", "toString": "Blocked"}],
            }
        ]
    }

    assert to_ticket(raw).history == (
        StatusChange(dt.datetime(2026, 3, 2, 15, 15, tzinfo=dt.UTC), "To Do", "Blocked"),
    )
    raw["changelog"]["histories"][0]["created"] = 10**30
    with pytest.raises(MalformedTicket, match="not a timestamp"):
        to_ticket(raw)


def test_the_shared_bulk_changelog_sample_reads_as_a_changelog(shared_dir: Path) -> None:
    page = json.loads(
        (
            shared_dir
            / "jira"
            / "samples"
            / "atlassian-openapi-example__changelog_bulkfetch_POST_200.json"
        ).read_text(encoding="utf-8")
    )
    (log,) = page["issueChangeLogs"]
    raw = copy.deepcopy(CLOUD_ISSUE)
    raw["changelog"] = {"histories": log["changeHistories"]}

    assert to_ticket(raw).history == ()  # its changes are to a summary, not the status


def test_a_changelog_is_cut_when_its_total_exceeds_its_histories() -> None:
    raw = copy.deepcopy(CLOUD_ISSUE)
    held = len(raw["changelog"]["histories"])

    raw["changelog"]["total"] = held
    assert not changelog_cut(raw)
    raw["changelog"]["total"] = held + 1
    assert changelog_cut(raw)
    assert not changelog_cut({"key": "X-1"}) and not changelog_cut(None)


# --- epics on Cloud and Data Center ------------------------------------------------------


def test_a_data_center_issue_takes_its_epic_from_the_epic_link_field() -> None:
    t = to_ticket(DATA_CENTER_ISSUE)

    assert t.parent == "ACME-12"
    assert t.description == "Ingest the nightly dump.\r\nValidate row counts."
    assert t.progress is Progress.IN_PROGRESS
    assert t.due is None


def test_the_epic_link_field_id_is_configurable() -> None:
    raw = issue(DATA_CENTER_ISSUE, customfield_10014=None, customfield_10100="ACME-77")

    assert to_ticket(raw).parent is None
    assert to_ticket(raw, epic_link_fields=["customfield_10100"]).parent == "ACME-77"


def test_a_configured_epic_link_field_replaces_the_default_one() -> None:
    t = to_ticket(DATA_CENTER_ISSUE, epic_link_fields=["customfield_10100"])

    assert t.parent is None


def test_the_parent_field_wins_over_an_epic_link_field() -> None:
    raw = issue(customfield_10014="ACME-99")

    assert to_ticket(raw).parent == "ACME-12"


def test_optional_fields_may_be_absent_or_null() -> None:
    raw = issue(
        duedate=None,
        labels=...,
        parent=...,
        fixVersions=...,
        components=...,
        issuelinks=...,
        assignee=None,
        description=None,
        project=...,
        summary=...,
    )

    t = to_ticket(raw)

    assert (t.due, t.parent, t.project, t.assignee_name, t.assignee_email) == (None,) * 5
    assert (t.labels, t.fix_versions, t.components, t.blocks) == ((),) * 4
    assert (t.title, t.description) == ("", "")
    assert t.url == "https://acme.atlassian.net/browse/ACME-40"  # from the REST `self` link


# --- malformed issues --------------------------------------------------------------------


def _drop(raw: dict[str, Any], *path: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    target = raw
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(_drop(CLOUD_ISSUE, "key"), id="missing-key"),
        pytest.param({**CLOUD_ISSUE, "key": 10040}, id="key-not-a-string"),
        pytest.param(_drop(CLOUD_ISSUE, "fields"), id="missing-fields"),
        pytest.param({**CLOUD_ISSUE, "fields": None}, id="null-fields"),
        pytest.param({**CLOUD_ISSUE, "fields": []}, id="fields-not-an-object"),
        pytest.param(issue(status=...), id="missing-status"),
        pytest.param(issue(status={"id": "3"}), id="status-without-name"),
        pytest.param(issue(status="Done"), id="status-not-an-object"),
        pytest.param(issue(created=...), id="missing-created"),
        pytest.param(issue(created="20 Feb 2026"), id="bad-created"),
        pytest.param(issue(updated=1771603200), id="numeric-updated"),
        pytest.param(issue(duedate="next Friday"), id="bad-duedate"),
        pytest.param(issue(status=DONE, resolutiondate="soon"), id="bad-resolutiondate"),
        pytest.param(
            {**CLOUD_ISSUE, "changelog": {"histories": [{"created": "yesterday", "items": []}]}},
            id="bad-changelog-timestamp",
        ),
        pytest.param(None, id="null"),
        pytest.param("ACME-40", id="string"),
        pytest.param([CLOUD_ISSUE], id="list"),
    ],
)
def test_an_unusable_issue_raises_malformed_ticket(raw: Any) -> None:
    with pytest.raises(MalformedTicket):
        to_ticket(raw)


def test_a_malformed_ticket_message_names_the_issue_and_the_field() -> None:
    with pytest.raises(MalformedTicket, match=r"ACME-40.*created.*'20 Feb 2026'"):
        to_ticket(issue(created="20 Feb 2026"))


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(
            {
                **CLOUD_ISSUE,
                "changelog": {"histories": [{"created": "2026-03-01T10:00:00Z", "items": 5}]},
            },
            id="changelog-items-not-a-list",
        ),
        pytest.param(
            issue(status={"name": "Done", "statusCategory": {"key": ["done"]}}),
            id="status-category-key-not-a-string",
        ),
        pytest.param(issue(labels="client-dependency"), id="labels-not-a-list"),
        pytest.param(issue(issuelinks=[None, 5, {"type": None}]), id="junk-links"),
        pytest.param(issue(description={"type": "doc", "content": 5}), id="junk-description"),
        pytest.param(
            issue(description={"type": "doc", "content": [{"type": "mention", "attrs": ["x"]}]}),
            id="adf-attrs-not-an-object",
        ),
    ],
)
def test_type_confused_values_never_raise_anything_but_malformed_ticket(raw: Any) -> None:
    """SPEC §5: a malformed ticket is skipped and counted, never fatal — so translation may
    only fail with MalformedTicket, whatever the payload holds."""
    try:
        to_ticket(raw)
    except MalformedTicket:
        pass


# --- real public samples (../shared/jira/samples) ----------------------------------------


@pytest.mark.shared
def test_every_sample_issue_translates_or_is_reported_malformed(
    shared_dir: Path, jira_sample_issue: Any
) -> None:
    try:
        t = to_ticket(jira_sample_issue)
    except MalformedTicket as exc:
        assert str(exc)  # says what is missing
        return
    assert t.key == jira_sample_issue["key"]
    assert t.created.tzinfo is not None and t.updated.tzinfo is not None
    assert t.progress in set(Progress)


@pytest.mark.shared
def test_the_samples_hold_translatable_issues(jira_samples: list[tuple[str, Any]]) -> None:
    """Pins what the public samples say, so a parametrized run over nothing cannot pass."""
    translated = {}
    for _, raw in jira_samples:
        try:
            t = to_ticket(raw)
        except MalformedTicket:
            continue
        translated[t.key] = t

    # jira-cli's /search/jql page: statuses without a category; TEST-3 is resolved "Done".
    assert translated["TEST-1"].is_open and translated["TEST-2"].is_open
    assert translated["TEST-3"].progress is Progress.DONE
    assert translated["TEST-2"].labels == ("critical", "feature")
    # atlassian-python-api's resolved story (v2, plain-text description): done at resolution.
    story = translated["BAR-111"]
    assert story.progress is Progress.DONE
    assert story.completed == dt.datetime(
        2022, 2, 3, 11, 33, 7, 230000, tzinfo=dt.timezone(dt.timedelta(hours=-5))
    )
    assert story.description == "Some Description"


@pytest.mark.parametrize(
    ("self_url", "base", "expected"),
    [
        (
            "https://acme.atlassian.net/rest/api/3/issue/10002",
            None,
            "https://acme.atlassian.net/browse/ACME-7",
        ),
        (
            "https://jira.corp.example/jira/rest/api/2/issue/10002",
            None,
            "https://jira.corp.example/jira/browse/ACME-7",
        ),
        (
            "https://ignored.example/rest/api/3/issue/1",
            "https://acme.atlassian.net/",
            "https://acme.atlassian.net/browse/ACME-7",
        ),
        ("javascript:alert(1)/rest/x", None, None),
        (None, None, None),
    ],
)
def test_browse_link_comes_from_the_base_url_or_the_rest_self_link(
    self_url: str | None, base: str | None, expected: str | None
) -> None:
    raw = {
        "key": "ACME-7",
        "self": self_url,
        "fields": {
            "summary": "s",
            "status": {"name": "To Do", "statusCategory": {"key": "new"}},
            "created": "2026-01-05T10:00:00.000-0600",
            "updated": "2026-01-05T10:00:00.000-0600",
        },
    }
    assert to_ticket(raw, browse_url=base).url == expected
