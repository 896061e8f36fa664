"""The live Jira connector against the local Jira Cloud / Data Center stand-ins."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from pydantic import SecretStr
from servers.base import Request, Response
from servers.jira import EMAIL, PAT, TOKEN, FakeJira, at

from syncbot.connectors import export
from syncbot.connectors.base import JiraAccess
from syncbot.connectors.jira import FIELDS, JiraSource
from syncbot.connectors.retry import RetryPolicy
from syncbot.domain import Ticket
from syncbot.errors import SourceAuthError, SourceError, SourceRateLimited
from syncbot.rules.dependencies import blocked_since as rules_blocked_since

START = at(2026, 3, 1, 8)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@contextmanager
def serve(deployment: str, **options: Any) -> Iterator[FakeJira]:
    with FakeJira(deployment, **options) as server:  # type: ignore[arg-type]
        yield server
    assert not server.crashes


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with serve("cloud", max_page=10) as server:
        yield server


@pytest.fixture
def dc() -> Iterator[FakeJira]:
    with serve("dc", max_page=10) as server:
        yield server


def seed(server: FakeJira, count: int, **fields: Any) -> None:
    """ACME-1..count, updated 7 minutes apart from START, all under epic ACME-100."""
    for n in range(1, count + 1):
        server.add(
            f"ACME-{n}", updated=START + dt.timedelta(minutes=7 * n), epic="ACME-100", **fields
        )


def source(server: FakeJira, sleeps: list[float], **options: Any) -> JiraSource:
    access = (
        JiraAccess(server.url, email=EMAIL, token=SecretStr(TOKEN))
        if server.cloud
        else JiraAccess(server.url, pat=SecretStr(PAT))
    )
    options.setdefault("project", "ACME")
    options.setdefault("timeout", 10.0)  # generous: a loaded CI machine is slow, not broken
    return JiraSource("acme-jira", access=access, sleep=sleeps.append, **options)


def searches(server: FakeJira) -> list[Any]:
    return server.log(server.search_path)


# -- paging ---------------------------------------------------------------------------------


def test_cloud_pages_through_next_page_token(cloud: FakeJira, sleeps: list[float]) -> None:
    seed(cloud, 25)
    progress: list[tuple[int, int]] = []

    result = source(cloud, sleeps).fetch(updated_since=None, progress=lambda *p: progress.append(p))

    assert sorted(t.key for t in result.tickets) == sorted(f"ACME-{n}" for n in range(1, 26))
    assert result.complete and result.pages == 3
    assert progress == [(10, 1), (20, 2), (25, 3)]
    # Only the pages: no field list (not needed on Cloud), never serverInfo, never /search.
    assert [r.path for r in cloud.requests] == [cloud.search_path] * 3
    assert result.requests == cloud.count() == 3
    first, second = searches(cloud)[:2]
    assert first.param("nextPageToken") is None and second.param("nextPageToken")
    assert first.param("jql") == 'project = "ACME" ORDER BY key ASC'
    assert first.param("maxResults") == "5000"  # the API's maximum; the server pages at 10
    assert set(first.params("fields")) == set(FIELDS)
    assert first.param("expand") == "changelog"
    assert result.cursor == "2026-03-01T10:55:00-06:00"  # ACME-25, in Jira's own offset
    ticket = next(t for t in result.tickets if t.key == "ACME-3")
    assert ticket.parent == "ACME-100"
    assert ticket.url == f"{cloud.url}/browse/ACME-3"
    assert sleeps == []


def test_a_data_center_without_a_field_list_still_syncs(dc: FakeJira, sleeps: list[float]) -> None:
    """A Jira (or stand-in) answering 404 for /field: the search does not need it."""
    seed(dc, 12)
    dc.serves_field_list = False
    result = source(dc, sleeps).fetch(updated_since=None)
    assert len(result.tickets) == 12 and result.pages == 2
    assert [r.path for r in dc.requests] == ["/rest/api/2/field"] + [dc.search_path] * 2
    assert result.requests == 3
    assert {t.parent for t in result.tickets} == {None}  # no Epic Link field found


def test_data_center_pages_with_start_at_and_finds_the_epic_link(
    dc: FakeJira, sleeps: list[float]
) -> None:
    seed(dc, 25)

    result = source(dc, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 25 and result.pages == 3 and result.complete
    assert [r.path for r in dc.requests] == ["/rest/api/2/field"] + ["/rest/api/2/search"] * 3
    assert result.requests == dc.count() == 4
    pages = searches(dc)
    assert [r.param("startAt") for r in pages] == ["0", "10", "20"]
    assert pages[0].param("maxResults") == "1000"  # Data Center's default maximum
    assert set(pages[0].params("fields")) == {*FIELDS, "customfield_10100"}
    assert all(r.header("Authorization") == f"Bearer {PAT}" for r in dc.requests)
    assert {t.parent for t in result.tickets} == {"ACME-100"}  # from the Epic Link field


def test_data_center_uses_the_configured_epic_link_field(dc: FakeJira, sleeps: list[float]) -> None:
    dc.add("ACME-1", updated=START, customfield_10100=None, customfield_10002="ACME-7")

    result = source(dc, sleeps, epic_link_field="customfield_10002").fetch(updated_since=None)

    assert "customfield_10002" in searches(dc)[0].params("fields")
    assert result.tickets[0].parent == "ACME-7"


def test_data_center_keeps_its_epic_link_field_across_incremental_fetches(
    dc: FakeJira, sleeps: list[float]
) -> None:
    seed(dc, 5)
    first = source(dc, sleeps).fetch(updated_since=None)
    assert first.epic_link_field == "customfield_10100"  # found in the field list
    dc.add("ACME-3", updated=START + dt.timedelta(hours=2), epic="ACME-200")
    dc.reset_log()

    jira = source(dc, sleeps, known_epic_link_field=first.epic_link_field)
    changed = jira.fetch(updated_since=first.cursor)

    # One request, no field list, and the known field still links the epic.
    assert [r.path for r in dc.requests] == [dc.search_path]
    assert changed.requests == dc.count() == 1
    assert "customfield_10100" in searches(dc)[0].params("fields")
    assert {t.key: t.parent for t in changed.tickets}["ACME-3"] == "ACME-200"
    assert changed.epic_link_field == "customfield_10100"


def test_a_full_data_center_fetch_rediscovers_the_epic_link_field(
    dc: FakeJira, sleeps: list[float]
) -> None:
    dc.epic_link = "customfield_10500"  # an admin replaced the field since we last looked
    seed(dc, 5)

    jira = source(dc, sleeps, known_epic_link_field="customfield_10100")
    full = jira.fetch(updated_since="2026-03-01T08:00:00.000-0600", full=True)

    assert [r.path for r in dc.requests] == ["/rest/api/2/field", dc.search_path]
    assert full.epic_link_field == "customfield_10500"
    assert {t.parent for t in full.tickets} == {"ACME-100"}


def test_no_epic_link_field_is_reported_on_cloud_or_when_configured(
    cloud: FakeJira, dc: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 2)
    seed(dc, 2)

    assert source(cloud, sleeps).fetch(updated_since=None).epic_link_field is None
    configured = source(dc, sleeps, epic_link_field="customfield_10100")
    assert configured.fetch(updated_since=None).epic_link_field is None
    assert dc.count("/rest/api/2/field") == 0


@pytest.mark.parametrize("deployment", ["cloud", "dc"])
def test_full_sync_of_n_tickets_costs_one_request_per_page_plus_one(
    deployment: str, sleeps: list[float]
) -> None:
    with serve(deployment, max_page=100) as server:
        seed(server, 250)
        result = source(server, sleeps).fetch(updated_since=None)
        assert len(result.tickets) == 250
        # Data Center adds one field-list request, to find its Epic Link field.
        extra = 0 if deployment == "cloud" else 1
        assert result.requests == server.count() == math.ceil(250 / 100) + extra


def test_a_cloud_search_that_stops_before_its_last_page_is_not_complete(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 25)

    def without_token(request: Request) -> Response:
        page = json.loads(cloud.handle(request).body)
        del page["nextPageToken"]  # isLast stays false
        return Response.json(200, page)

    cloud.fault(without_token, path="/search")

    result = source(cloud, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 10 and result.complete is False
    assert result.notes == [
        (
            "Jira said page 1 is not the last but sent no nextPageToken; not a complete read, "
            "so no stored ticket is dropped"
        )
    ]


def test_a_data_center_search_that_runs_dry_early_is_not_complete(
    dc: FakeJira, sleeps: list[float]
) -> None:
    seed(dc, 25)

    def empty_second_page(tickets: int, pages: int) -> None:
        if pages == 1:
            dc.fault(
                Response.json(200, {"startAt": 10, "maxResults": 10, "total": 25, "issues": []}),
                path="/search",
            )

    result = source(dc, sleeps).fetch(updated_since=None, progress=empty_second_page)

    assert len(result.tickets) == 10 and result.complete is False
    assert result.notes == [
        (
            "Jira answered an empty page at startAt 10 of 25 issues; not a complete read, "
            "so no stored ticket is dropped"
        )
    ]


# -- incremental ----------------------------------------------------------------------------


@pytest.mark.parametrize("deployment", ["cloud", "dc"])
def test_incremental_with_nothing_changed_is_one_search(
    deployment: str, sleeps: list[float]
) -> None:
    with serve(deployment, max_page=10) as server:
        seed(server, 25)
        first = source(server, sleeps).fetch(updated_since=None)
        # What the caller keeps from the first fetch: the cursor and (Data Center) Epic Link.
        jira = source(server, sleeps, known_epic_link_field=first.epic_link_field)
        cursor = first.cursor
        server.reset_log()

        again = jira.fetch(updated_since=cursor)

        assert [r.path for r in server.requests] == [server.search_path]
        assert again.requests == 1
        assert not again.complete and again.pages == 1
        assert again.cursor == cursor
        # Only the overlap window comes back: ACME-25 (the cursor) is within 5 minutes.
        assert [t.key for t in again.tickets] == ["ACME-25"]


def test_incremental_asks_jira_in_its_own_timezone_and_gets_only_changes(
    sleeps: list[float],
) -> None:
    # The Jira user is in India (+05:30): JQL dates are read there, and Jira writes its
    # timestamps there. Asking in UTC or this machine's zone would miss the changes.
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    with serve("cloud", max_page=10, timezone=india) as server:
        seed(server, 25)
        jira = source(server, sleeps, overlap=dt.timedelta(0))
        cursor = jira.fetch(updated_since=None).cursor
        assert cursor == "2026-03-01T22:25:00+05:30"  # 10:55 in Chicago
        server.add("ACME-4", updated=START + dt.timedelta(hours=3), epic="ACME-100")
        server.add("ACME-9", updated=START + dt.timedelta(hours=4), summary="Renamed")
        server.reset_log()

        changed = jira.fetch(updated_since=cursor)

        (search,) = searches(server)
        assert search.param("jql") == (
            'project = "ACME" AND updated >= "2026/03/01 22:25" ORDER BY key ASC'
        )
        assert sorted(t.key for t in changed.tickets) == ["ACME-25", "ACME-4", "ACME-9"]
        # ACME-25 is the cursor ticket itself (minute resolution: >= includes it).
        assert changed.cursor == "2026-03-01T23:30:00+05:30"
        assert next(t for t in changed.tickets if t.key == "ACME-9").title == "Renamed"


def test_the_overlap_window_catches_a_change_jira_indexed_late(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 5)
    jira = source(cloud, sleeps)  # default overlap: 5 minutes
    cursor = jira.fetch(updated_since=None).cursor  # ACME-5 at 08:35
    # Updated at 08:33, two minutes before the cursor, but not searchable until now.
    cloud.add("ACME-77", updated=START + dt.timedelta(minutes=33))

    later = jira.fetch(updated_since=cursor)

    assert "ACME-77" in {t.key for t in later.tickets}
    assert 'updated >= "2026/03/01 08:30"' in searches(cloud)[-1].param("jql")


def test_configured_jql_is_wrapped_and_its_order_replaced(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 3)
    cloud.add("ACME-9", updated=START, labels=["client-dependency"])
    jira = source(
        cloud,
        sleeps,
        project=None,
        jql='project = ACME AND labels = "client-dependency" ORDER BY key DESC',
    )

    result = jira.fetch(updated_since="2026-03-01T07:00:00.000-0600")

    assert [t.key for t in result.tickets] == ["ACME-9"]
    assert searches(cloud)[0].param("jql") == (
        '(project = ACME AND labels = "client-dependency") '
        'AND updated >= "2026/03/01 06:55" ORDER BY key ASC'
    )


@pytest.mark.parametrize("deployment", ["cloud", "dc"])
def test_a_ticket_updated_while_we_page_costs_no_other_ticket(
    deployment: str, sleeps: list[float]
) -> None:
    with serve(deployment, max_page=10) as server:
        seed(server, 15)

        def update_after_first_page(tickets: int, pages: int) -> None:
            if pages == 1:  # ACME-2 was on page 1
                server.add("ACME-2", updated=START + dt.timedelta(hours=3), summary="v2")

        jira = source(server, sleeps)
        full = jira.fetch(updated_since=None, progress=update_after_first_page)

        # Key order: nothing shifted across the page boundary, so nothing was skipped.
        assert sorted(t.key for t in full.tickets) == sorted(f"ACME-{n}" for n in range(1, 16))
        later = jira.fetch(updated_since=full.cursor)
        assert [t.title for t in later.tickets if t.key == "ACME-2"] == ["v2"]


def test_live_and_export_map_tickets_identically(
    cloud: FakeJira, sleeps: list[float], tmp_path: Path
) -> None:
    cloud.add(
        "ACME-1",
        updated=START,
        epic="ACME-100",
        category="done",
        history=[(START - dt.timedelta(days=2), "To Do", "Waiting for customer")],
        duedate="2026-03-09",
        labels=["client-dependency"],
        issuelinks=[
            {
                "type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                "outwardIssue": {"key": "ACME-2"},
            }
        ],
    )
    live = source(cloud, sleeps).fetch(updated_since=None).tickets
    page = requests.get(
        f"{cloud.url}/rest/api/3/search/jql",
        auth=(EMAIL, TOKEN),
        timeout=5,
        params={"jql": "project = ACME", "fields": ",".join(FIELDS), "expand": "changelog"},
    ).json()
    (tmp_path / "page-1.json").write_text(json.dumps(page), encoding="utf-8")

    recorded = (
        export.jira_export(
            "x",
            [tmp_path / "page-1.json"],
            excluded_resolutions=["Won't Do", "Duplicate"],
            epic_link_field=None,
        )
        .fetch(updated_since=None)
        .tickets
    )

    assert live == recorded  # links too: the export derives them from each issue's `self`


# -- cut changelogs -------------------------------------------------------------------------

WAITING = at(2026, 2, 2, 9)  # when ACME-1 entered its blocked status, long ago


def edits(server: FakeJira, key: str, count: int) -> None:
    """`count` summary edits after WAITING, an hour apart: they push the status change out of
    the histories Jira embeds (newest first)."""
    issue = server.issues[key]
    for n in range(count):
        item: dict[str, Any] = {"field": "summary", "fieldtype": "jira"}
        if server.cloud:
            item["fieldId"] = "summary"
        issue["histories"].insert(
            0,
            {
                "id": f"9{n:03d}",
                "created": server.timestamp(WAITING + dt.timedelta(hours=n + 1)),
                "items": [{**item, "fromString": f"v{n}", "toString": f"v{n + 1}"}],
            },
        )


def seed_blocked(server: FakeJira, keys: list[str], edits_each: int) -> None:
    for key in keys:
        server.add(
            key,
            updated=START,
            created=WAITING - dt.timedelta(days=20),
            status="Waiting for customer",
            labels=["client-dependency"],
            history=[
                (WAITING - dt.timedelta(days=5), None, "In Progress"),
                (WAITING, "In Progress", "Waiting for customer"),
            ],
        )
        edits(server, key, edits_each)


def blocked_since(ticket: Ticket) -> dt.date | None:
    return rules_blocked_since(
        ticket, ["blocked", "waiting"], ZoneInfo("America/Chicago"), dt.date(2026, 3, 10)
    )


def test_cloud_completes_cut_changelogs_with_one_bulk_fetch_per_page(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 15)  # ACME-1..15 with short histories (nothing cut)
    seed_blocked(cloud, ["ACME-3", "ACME-12"], edits_each=45)  # 47 histories each: cut at 40

    result = source(cloud, sleeps).fetch(updated_since=None)

    # Each search page with cut changelogs costs one bulk fetch, naming only the cut issues.
    assert [r.path for r in cloud.requests] == [
        cloud.search_path,
        "/rest/api/3/changelog/bulkfetch",
        cloud.search_path,
        "/rest/api/3/changelog/bulkfetch",
    ]
    assert result.requests == 4 and result.pages == 2 and result.complete
    bulk = [r.json() for r in cloud.log("/changelog/bulkfetch")]
    assert bulk == [
        {"issueIdsOrKeys": ["10003"], "fieldIds": ["status"], "maxResults": 10000},
        {"issueIdsOrKeys": ["10012"], "fieldIds": ["status"], "maxResults": 10000},
    ]
    by_key = {t.key: t for t in result.tickets}
    for key in ("ACME-3", "ACME-12"):
        assert [(c.at, c.to_status) for c in by_key[key].history] == [
            (WAITING - dt.timedelta(days=5), "In Progress"),
            (WAITING, "Waiting for customer"),
        ]
        assert blocked_since(by_key[key]) == dt.date(2026, 2, 2)  # not its creation date


def test_a_cut_changelog_without_the_bulk_fetch_would_lose_blocked_since(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    """What the follow-up repairs: the embedded 40 hold no status change at all."""
    seed_blocked(cloud, ["ACME-1"], edits_each=45)
    cloud.fault(Response.json(404, {"errorMessages": ["No bulk fetch here"]}), path="/bulkfetch")

    result = source(cloud, sleeps).fetch(updated_since=None)

    (ticket,) = result.tickets
    assert ticket.history == ()
    assert blocked_since(ticket) is None  # the blocking change is lost: "not blocking yet"
    assert result.notes == [
        (
            "the full history of 1 issue could not be read (ACME-1: not found); judged on the "
            "changes Jira embedded"
        )
    ]


def test_the_bulk_fetch_pages_with_next_page_token(sleeps: list[float]) -> None:
    with serve("cloud", max_page=50, bulk_page=3) as server:
        seed_blocked(server, [f"ACME-{n}" for n in range(1, 6)], edits_each=40)

        result = source(server, sleeps).fetch(updated_since=None)

        bulk = [r.json() for r in server.log("/changelog/bulkfetch")]
        # 5 issues x 2 status changes = 10 histories, 3 a page: 4 pages, the token passed on.
        assert len(bulk) == 4 and "nextPageToken" not in bulk[0]
        assert all(b["nextPageToken"] for b in bulk[1:])
        assert result.requests == server.count() == 1 + 4
        assert all(blocked_since(t) == dt.date(2026, 2, 2) for t in result.tickets)


def test_the_bulk_fetch_names_at_most_1000_issues(sleeps: list[float]) -> None:
    with serve("cloud", max_page=1500, changelog_limit=1, bulk_page=5000) as server:
        for n in range(1, 1203):
            server.add(
                f"ACME-{n}",
                updated=START,
                history=[(WAITING, None, "In Progress"), (WAITING, "In Progress", "Blocked")],
            )

        result = source(server, sleeps).fetch(updated_since=None)

        sizes = [len(r.json()["issueIdsOrKeys"]) for r in server.log("/changelog/bulkfetch")]
        assert sizes == [1000, 202]
        assert all(len(t.history) == 2 for t in result.tickets)


def test_data_center_completes_a_cut_changelog_from_the_issue(sleeps: list[float]) -> None:
    # Data Center embeds every history unless an admin limits it; this one cuts at 40.
    with serve("dc", max_page=10, changelog_limit=40) as server:
        seed(server, 12)
        seed_blocked(server, ["ACME-4"], edits_each=45)
        first = source(server, sleeps).fetch(updated_since=None)
        server.reset_log()

        jira = source(server, sleeps, known_epic_link_field=first.epic_link_field)
        again = jira.fetch(updated_since=None, full=True)

        assert [r.path for r in server.requests] == [
            "/rest/api/2/field",
            "/rest/api/2/search",
            "/rest/api/2/issue/ACME-4",
            "/rest/api/2/search",
        ]
        (issue_get,) = server.log("/rest/api/2/issue/")
        assert issue_get.param("expand") == "changelog"
        assert again.requests == 4
        ticket = next(t for t in again.tickets if t.key == "ACME-4")
        assert blocked_since(ticket) == dt.date(2026, 2, 2)


def test_data_center_with_whole_changelogs_makes_no_extra_request(
    dc: FakeJira, sleeps: list[float]
) -> None:
    seed_blocked(dc, ["ACME-4"], edits_each=300)

    result = source(dc, sleeps).fetch(updated_since=None)

    assert dc.count("/rest/api/2/issue/") == 0 and result.requests == 2
    assert blocked_since(result.tickets[0]) == dt.date(2026, 2, 2)


def test_an_issue_gone_before_its_history_is_read_keeps_what_was_embedded(
    sleeps: list[float],
) -> None:
    with serve("dc", changelog_limit=40) as server:
        seed_blocked(server, ["ACME-4"], edits_each=45)
        server.fault(
            Response.json(404, {"errorMessages": ["Issue does not exist"]}), path="/issue/"
        )

        result = source(server, sleeps).fetch(updated_since=None)

        assert [t.key for t in result.tickets] == ["ACME-4"] and result.complete
        assert "could not be read (ACME-4: not found)" in result.notes[0]


# -- faults ---------------------------------------------------------------------------------


def test_429_is_retried_after_the_retry_after_it_names(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 25)
    cloud.rate_limit(times=2, retry_after=7)

    result = source(cloud, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 25
    assert sleeps == [7.0, 7.0]
    assert result.requests == cloud.count() == 5  # 2 refused + 3 pages


def test_429_that_never_ends_fails_the_source_with_a_clear_line(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 3)
    cloud.rate_limit(times=None, retry_after=5)

    with pytest.raises(SourceRateLimited) as raised:
        source(cloud, sleeps).fetch(updated_since=None)

    assert str(raised.value) == (
        "acme-jira: Jira kept rate-limiting search page 1 (429 Too Many Requests) after "
        "4 attempts over 15 s; the next sync will try again"
    )
    assert sleeps == [5.0, 5.0, 5.0]
    assert len(searches(cloud)) == 4


@pytest.mark.parametrize(
    ("header", "waits"),
    [
        ("Wed, 21 Oct 2026 07:28:00 GMT", [45.0]),  # 45 s after the injected clock's now
        ("Wed, 21 Oct 2026 07:00:00 GMT", []),  # already past: retried at once
        ("in a while", [1.0]),  # unreadable: our own backoff
    ],
)
def test_a_retry_after_http_date_is_honoured_by_the_injected_clock(
    cloud: FakeJira, sleeps: list[float], header: str, waits: list[float]
) -> None:
    seed(cloud, 3)
    cloud.rate_limit(times=1, retry_after=header)
    now = dt.datetime(2026, 10, 21, 7, 27, 15, tzinfo=dt.UTC)

    result = source(cloud, sleeps, clock=lambda: now).fetch(updated_since=None)

    assert len(result.tickets) == 3
    assert sleeps == waits
    assert result.requests == cloud.count() == 2


def test_a_retry_after_date_beyond_the_cap_fails_at_once(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    cloud.rate_limit(retry_after="Wed, 21 Oct 2026 09:00:00 GMT")
    now = dt.datetime(2026, 10, 21, 8, 0, tzinfo=dt.UTC)

    with pytest.raises(SourceRateLimited, match=r"wait 3600 s"):
        source(cloud, sleeps, clock=lambda: now).fetch(updated_since=None)

    assert sleeps == [] and cloud.count() == 1


def test_a_retry_after_beyond_the_cap_fails_at_once(cloud: FakeJira, sleeps: list[float]) -> None:
    cloud.rate_limit(retry_after=3600)

    with pytest.raises(SourceRateLimited, match=r"wait 3600 s .*SYNCBOT_SOURCE_MAX_WAIT_SECONDS"):
        source(cloud, sleeps, retry=RetryPolicy(max_wait=60)).fetch(updated_since=None)

    assert sleeps == [] and len(searches(cloud)) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_with_exponential_backoff(
    cloud: FakeJira, sleeps: list[float], status: int
) -> None:
    seed(cloud, 3)
    cloud.server_error(status, times=2, path="/search")

    result = source(cloud, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 3 and sleeps == [1.0, 2.0]


def test_server_errors_that_persist_fail_the_source(cloud: FakeJira, sleeps: list[float]) -> None:
    cloud.server_error(502, times=None)

    with pytest.raises(SourceError) as raised:
        source(cloud, sleeps).fetch(updated_since=None)

    assert type(raised.value) is SourceError
    assert str(raised.value) == (
        "acme-jira: Jira search page 1 failed: Jira answered 502 Bad Gateway for "
        "/rest/api/3/search/jql (<html><body>Internal error</body></html>) "
        "(gave up after 4 attempts over 7 s)"
    )
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_timeout_is_retried_then_fails(cloud: FakeJira, sleeps: list[float]) -> None:
    seed(cloud, 3)
    cloud.hang(times=1, path="/search")
    assert len(source(cloud, sleeps, timeout=1.0).fetch(updated_since=None).tickets) == 3
    assert sleeps == [1.0]

    cloud.hang(times=None, path="/search")
    with pytest.raises(
        SourceError, match=r"search page 1 failed: no (complete )?answer within 2 s"
    ):
        source(cloud, sleeps, timeout=2.0, retry=RetryPolicy(retries=1)).fetch(updated_since=None)


@pytest.mark.parametrize("body_only", [False, True], ids=["whole-answer", "body-only"])
def test_an_answer_trickled_past_the_timeout_fails_in_bounded_time(
    cloud: FakeJira, sleeps: list[float], body_only: bool
) -> None:
    """20 bytes/s never trips a timeout between bytes; the total deadline per request does."""
    seed(cloud, 3)
    cloud.trickle(rate=20, times=1, path="/search", body_only=body_only)
    assert len(source(cloud, sleeps, timeout=2.0).fetch(updated_since=None).tickets) == 3
    assert sleeps == [1.0]  # the trickled attempt failed as a timeout and was retried
    cloud.trickle(rate=20, times=None, path="/search", body_only=body_only)
    started = time.monotonic()

    with pytest.raises(SourceError) as raised:
        source(cloud, sleeps, timeout=2.0, retry=RetryPolicy(retries=1)).fetch(updated_since=None)

    elapsed = time.monotonic() - started
    assert str(raised.value).startswith(
        "acme-jira: Jira search page 1 failed: no complete answer within 2 s "
        "(gave up after 2 attempts"
    )
    assert elapsed < 30  # two attempts of 2 s, not the many minutes the answer would take


@pytest.mark.parametrize(
    ("deployment", "settings"),
    [("cloud", "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN"), ("dc", "SYNCBOT_JIRA_PAT")],
)
def test_401_names_the_settings_to_fix_and_is_not_retried(
    deployment: str, settings: str, sleeps: list[float]
) -> None:
    with serve(deployment) as server:
        wrong = (
            JiraAccess(server.url, email=EMAIL, token=SecretStr("wrong-token"))
            if server.cloud
            else JiraAccess(server.url, pat=SecretStr("wrong-pat"))
        )
        jira = JiraSource("acme-jira", access=wrong, project="ACME", sleep=sleeps.append)

        with pytest.raises(SourceAuthError) as raised:
            jira.fetch(updated_since=None)

        assert str(raised.value) == f"acme-jira: Jira answered 401 Unauthorized: check {settings}"
        assert server.count() == 1 and sleeps == []


def test_403_names_the_settings_and_the_permission(cloud: FakeJira, sleeps: list[float]) -> None:
    cloud.deny()

    with pytest.raises(SourceAuthError) as raised:
        source(cloud, sleeps).fetch(updated_since=None)

    message = str(raised.value)
    assert message.startswith("acme-jira: Jira answered 403 Forbidden for /rest/api/3/search/jql")
    assert "check SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN" in message
    assert TOKEN not in message and "\n" not in message


def test_malformed_json_is_retried_then_fails_the_source(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 3)
    cloud.malformed(times=1, path="/search")
    assert len(source(cloud, sleeps).fetch(updated_since=None).tickets) == 3

    cloud.malformed(times=None, path="/search")
    with pytest.raises(SourceError, match="search page 1 failed: the answer was not valid JSON"):
        source(cloud, sleeps).fetch(updated_since=None)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
        (b'{"issues": [], "total": ' + b"7" * 5000 + b"}", "a number with more than 4300 digits"),
    ],
    ids=["nested-100000-deep", "number-of-5000-digits"],
)
def test_odd_json_fails_the_source_at_once_without_a_traceback(
    cloud: FakeJira, sleeps: list[float], body: bytes, why: str
) -> None:
    cloud.fault(Response(200, body, {"Content-Type": "application/json"}), path="/search")

    with pytest.raises(SourceError) as raised:
        source(cloud, sleeps).fetch(updated_since=None)

    assert str(raised.value) == f"acme-jira: Jira's answer cannot be read ({why})"
    assert cloud.count() == 1 and sleeps == []  # the same answer again would not help


def test_a_ticket_missing_fields_is_skipped_and_counted(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    seed(cloud, 12)
    del cloud.issues["ACME-4"]["fields"]["status"]
    cloud.issues["ACME-11"]["fields"]["created"] = "last Tuesday"

    result = source(cloud, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 10 and result.skipped == 2
    assert result.notes == [
        (
            "skipped 2 malformed tickets (ACME-4: missing 'status'; "
            "ACME-11.created: not a timestamp: 'last Tuesday')"
        )
    ]


def test_an_unknown_project_fails_with_jiras_own_words(
    cloud: FakeJira, sleeps: list[float]
) -> None:
    with pytest.raises(SourceError) as raised:
        source(cloud, sleeps, project="NOPE").fetch(updated_since=None)

    assert str(raised.value) == (
        "acme-jira: Jira answered 400 Bad Request for /rest/api/3/search/jql (The value 'NOPE' "
        "does not exist for the field 'project'.); check the source's project"
    )


# -- the stand-in itself --------------------------------------------------------------------


def test_the_cloud_stand_in_answers_the_removed_search_with_410(cloud: FakeJira) -> None:
    for version in ("2", "3"):
        answer = requests.get(
            f"{cloud.url}/rest/api/{version}/search",
            auth=(EMAIL, TOKEN),
            params={"jql": "project = ACME"},
            timeout=5,
        )
        assert answer.status_code == 410
        assert "/rest/api/3/search/jql" in answer.json()["errorMessages"][0]


def test_the_cloud_stand_in_pages_post_requests_too(cloud: FakeJira) -> None:
    seed(cloud, 15)
    url = f"{cloud.url}/rest/api/3/search/jql"
    body: dict[str, Any] = {
        "jql": "project = ACME ORDER BY updated DESC",
        "fields": ["summary"],
        "maxResults": 10,
    }
    first = requests.post(url, json=body, auth=(EMAIL, TOKEN), timeout=5).json()
    second = requests.post(
        url, json={**body, "nextPageToken": first["nextPageToken"]}, auth=(EMAIL, TOKEN), timeout=5
    ).json()

    assert first["isLast"] is False and second["isLast"] is True
    assert "nextPageToken" not in second
    assert [i["key"] for i in first["issues"]][:2] == ["ACME-15", "ACME-14"]
    assert set(first["issues"][0]["fields"]) == {"summary"}
    assert len(second["issues"]) == 5
