"""The live Linear connector against the local Linear GraphQL stand-in."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from graphql import parse
from pydantic import SecretStr
from servers.linear import API_KEY, MAX_COMPLEXITY, FakeLinear, utc

from syncbot.connectors.base import LinearAccess
from syncbot.connectors.linear import PAGE_SIZE, LinearSource
from syncbot.connectors.retry import RetryPolicy
from syncbot.errors import SourceAuthError, SourceError, SourceRateLimited

START = utc(2026, 3, 1, 14)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@contextmanager
def serve(**options: Any) -> Iterator[FakeLinear]:
    with FakeLinear(**options) as server:
        yield server
    assert not server.crashes


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with serve() as server:
        yield server


def seed(server: FakeLinear, count: int, team: str = "ENG", **fields: Any) -> None:
    """ENG-1..count, updated 7 minutes apart from START."""
    for n in range(1, count + 1):
        server.add(f"{team}-{n}", updated=START + dt.timedelta(minutes=7 * n), **fields)


def source(server: FakeLinear, sleeps: list[float], **options: Any) -> LinearSource:
    options.setdefault("team", "ENG")
    options.setdefault("timeout", 10.0)  # generous: a loaded CI machine is slow, not broken
    return LinearSource(
        "globex-linear",
        access=LinearAccess(server.api_url, SecretStr(API_KEY)),
        sleep=sleeps.append,
        **options,
    )


def sent(server: FakeLinear) -> list[dict[str, Any]]:
    """The GraphQL payloads the connector posted."""
    return [r.json() for r in server.log("/graphql")]


# -- paging ---------------------------------------------------------------------------------


def test_pages_through_end_cursors(linear: FakeLinear, sleeps: list[float]) -> None:
    seed(
        linear,
        120,
        labels=["client-dependency"],
        blocks=["ENG-1"],
        history=[(START - dt.timedelta(days=3), "Todo", "Blocked")],
    )
    progress: list[tuple[int, int]] = []

    result = source(linear, sleeps).fetch(
        updated_since=None, progress=lambda *p: progress.append(p)
    )

    assert sorted(t.key for t in result.tickets) == sorted(f"ENG-{n}" for n in range(1, 121))
    assert result.complete and result.pages == 3 and progress == [(50, 1), (100, 2), (120, 3)]
    assert result.requests == linear.count() == math.ceil(120 / PAGE_SIZE)
    payloads = sent(linear)
    assert payloads[0]["variables"]["after"] is None
    assert all(p["variables"]["after"] for p in payloads[1:])
    assert payloads[0]["variables"]["first"] == PAGE_SIZE == 50
    assert payloads[0]["variables"]["filter"] == {"team": {"key": {"eq": "ENG"}}}
    assert all(r.header("Authorization") == API_KEY for r in linear.requests)
    assert linear.complexities and max(linear.complexities) <= MAX_COMPLEXITY
    ticket = next(t for t in result.tickets if t.key == "ENG-7")
    assert ticket.labels == ("client-dependency",) and ticket.blocks == ("ENG-1",)
    assert [c.to_status for c in ticket.history] == ["Blocked"]
    assert result.cursor == "2026-03-02T04:00:00+00:00"  # ENG-120, Linear's own timestamp
    assert sleeps == []


def test_filters_by_team_and_project(linear: FakeLinear, sleeps: list[float]) -> None:
    seed(linear, 3)
    linear.add("ENG-50", updated=START, project="Another project")
    linear.add("OPS-1", updated=START)

    result = source(linear, sleeps, project="Globex Rollout").fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["ENG-1", "ENG-2", "ENG-3"]
    assert sent(linear)[0]["variables"]["filter"] == {
        "team": {"key": {"eq": "ENG"}},
        "project": {"name": {"eq": "Globex Rollout"}},
    }


def test_archived_issues_count_and_trashed_ones_do_not(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    linear.add("ENG-1", updated=START, state=("Done", "completed"), archived=True)
    linear.add("ENG-2", updated=START, trashed=True)
    linear.add("ENG-3", updated=START)

    result = source(linear, sleeps).fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["ENG-1", "ENG-3"]
    assert result.skipped == 0


def test_full_sync_of_n_tickets_costs_one_request_per_page(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 250)

    result = source(linear, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 250
    assert result.requests == linear.count() == math.ceil(250 / PAGE_SIZE)


# -- nested lists are completed, never cut ------------------------------------------------


def long_history(count: int) -> list[tuple[dt.datetime, str | None, str]]:
    """Blocked long ago, then `count - 1` later changes that are not a blocking state."""
    blocked: list[tuple[dt.datetime, str | None, str]] = [
        (START - dt.timedelta(days=40), "Todo", "Blocked")
    ]
    later: list[tuple[dt.datetime, str | None, str]] = [
        (START - dt.timedelta(days=39) + dt.timedelta(hours=n), "Blocked", "Blocked")
        for n in range(count - 1)
    ]
    return blocked + later


def test_long_nested_lists_are_completed_by_follow_up_queries(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    labels = [f"label-{n:02d}" for n in range(23)]
    blocks = [f"ENG-{n}" for n in range(100, 112)]
    blocked_by = [f"OPS-{n}" for n in range(1, 9)]
    linear.add(
        "ENG-1",
        updated=START,
        labels=labels,
        blocks=blocks,
        blocked_by=blocked_by,
        history=long_history(80),
    )
    linear.add("ENG-2", updated=START, labels=["short"])

    result = source(linear, sleeps).fetch(updated_since=None)

    by_key = {t.key: t for t in result.tickets}
    ticket = by_key["ENG-1"]
    assert sorted(ticket.labels) == labels
    assert sorted(ticket.blocks) == sorted(blocks)
    assert sorted(ticket.blocked_by) == sorted(blocked_by)
    assert len(ticket.history) == 80
    assert ticket.history[0].to_status == "Blocked"  # the oldest entry: blocked since then
    assert by_key["ENG-2"].labels == ("short",)
    # The page, one follow-up for all four cut lists, one more for history's last 5.
    payloads = sent(linear)
    assert result.requests == linear.count() == 3 and result.pages == 1
    first, second = (p["variables"] for p in payloads[1:])
    assert sorted(first) == [f"{v}{n}" for v in ("after", "id") for n in range(4)]
    assert {first[f"id{n}"] for n in range(4)} == {"uuid-eng-1"}
    assert "history(first: 50" in payloads[2]["query"] and len(second) == 2
    assert max(linear.complexities) < MAX_COMPLEXITY


def test_follow_ups_are_batched_per_page(linear: FakeLinear, sleeps: list[float]) -> None:
    seed(linear, 60, history=long_history(30))  # every issue's history is cut at 25

    result = source(linear, sleeps).fetch(updated_since=None)

    assert all(len(t.history) == 30 for t in result.tickets)
    # Page 1: 50 issues, follow-ups of 40 + 10; page 2: 10 issues, one follow-up.
    queries = [p["query"] for p in sent(linear)]
    kinds = ["page" if "SyncbotIssues(" in q else q.count("issue(id:") for q in queries]
    assert kinds == ["page", 40, 10, "page", 10]
    assert result.requests == linear.count() == 5
    assert max(linear.complexities) < MAX_COMPLEXITY


def test_an_incremental_fetch_without_long_lists_is_still_one_request(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 20, history=long_history(3))
    linear.add("ENG-99", updated=START - dt.timedelta(days=1), history=long_history(60))
    connector = source(linear, sleeps)
    cursor = connector.fetch(updated_since=None).cursor
    linear.reset_log()

    again = connector.fetch(updated_since=cursor)

    assert again.requests == linear.count() == 1  # ENG-99 is not in the overlap window


def test_a_repeated_list_cursor_stops_the_fetch(linear: FakeLinear, sleeps: list[float]) -> None:
    from servers.base import Request, Response

    linear.add("ENG-1", updated=START, history=long_history(100))

    def same_cursor_again(request: Request) -> Response:
        normal = linear.handle(request)
        answer = json.loads(normal.body)
        if "n0" not in answer["data"]:
            return normal  # the page itself answers as usual
        info = answer["data"]["n0"]["history"]["pageInfo"]
        info["endCursor"] = request.json()["variables"]["after0"]  # no progress
        return Response.json(200, answer)

    linear.fault(same_cursor_again, times=None, path="/graphql")

    with pytest.raises(SourceError, match="ENG-1's history has more entries but gave no new"):
        source(linear, sleeps).fetch(updated_since=None)


# -- incremental ----------------------------------------------------------------------------


def test_incremental_with_nothing_changed_is_one_request(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 120)
    connector = source(linear, sleeps)
    cursor = connector.fetch(updated_since=None).cursor
    linear.reset_log()

    again = connector.fetch(updated_since=cursor)

    assert again.requests == linear.count() == 1
    assert not again.complete and again.cursor == cursor
    assert [t.key for t in again.tickets] == ["ENG-120"]  # within the 5-minute overlap
    assert sent(linear)[0]["variables"]["filter"]["updatedAt"] == {
        "gte": "2026-03-02T03:55:00.000Z"
    }


def test_incremental_fetches_only_what_changed(linear: FakeLinear, sleeps: list[float]) -> None:
    seed(linear, 120)
    connector = source(linear, sleeps, overlap=dt.timedelta(0))
    cursor = connector.fetch(updated_since=None).cursor
    linear.add("ENG-5", updated=START + dt.timedelta(days=1), title="Renamed")
    linear.add(
        "ENG-77", updated=START + dt.timedelta(days=1, minutes=1), state=("Done", "completed")
    )
    linear.reset_log()

    changed = connector.fetch(updated_since=cursor)

    assert sorted(t.key for t in changed.tickets) == ["ENG-120", "ENG-5", "ENG-77"]
    assert changed.requests == 1
    assert changed.cursor == "2026-03-02T14:01:00+00:00"
    assert next(t for t in changed.tickets if t.key == "ENG-5").title == "Renamed"


def test_an_issue_updated_while_we_page_costs_no_other_issue(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 120)

    def update_after_first_page(tickets: int, pages: int) -> None:
        if pages == 1:
            linear.add("ENG-110", updated=START + dt.timedelta(days=1), title="v2")

    connector = source(linear, sleeps)
    full = connector.fetch(updated_since=None, progress=update_after_first_page)

    assert len(full.tickets) == 120
    later = connector.fetch(updated_since=full.cursor)
    assert [t.title for t in later.tickets if t.key == "ENG-110"] == ["v2"]


# -- faults ---------------------------------------------------------------------------------


def test_ratelimited_is_retried_with_backoff_or_its_retry_after(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 60)
    linear.rate_limit(times=1)
    linear.rate_limit(times=1, retry_after=4)

    result = source(linear, sleeps).fetch(updated_since=None)

    assert len(result.tickets) == 60
    assert sleeps == [1.0, 4.0]
    assert result.requests == linear.count() == 4  # 2 refused + 2 pages


def test_a_retry_after_http_date_is_honoured_by_the_injected_clock(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 3)
    linear.rate_limit(times=1, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")
    linear.rate_limit(times=1, retry_after="Tue, 20 Oct 2026 07:28:00 GMT")  # in the past
    linear.rate_limit(times=1, retry_after="next Tuesday")
    now = dt.datetime(2026, 10, 21, 7, 27, 50, tzinfo=dt.UTC)

    result = source(linear, sleeps, clock=lambda: now).fetch(updated_since=None)

    assert len(result.tickets) == 3
    # 10 s to the date; no wait for the past one; the unreadable one falls back to backoff.
    assert sleeps == [10.0, 4.0]
    assert result.requests == linear.count() == 4


def test_ratelimited_that_never_ends_fails_the_source(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    linear.rate_limit(times=None)

    with pytest.raises(SourceRateLimited) as raised:
        source(linear, sleeps).fetch(updated_since=None)

    assert str(raised.value) == (
        "globex-linear: Linear kept rate-limiting issues page 1 (Linear answered 400 "
        "RATELIMITED (Rate limit exceeded)) after 4 attempts over 7 s; the next sync will "
        "try again"
    )
    assert sleeps == [1.0, 2.0, 4.0] and linear.count() == 4


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_key_names_the_setting_and_is_not_retried(
    status: int, sleeps: list[float]
) -> None:
    with serve(auth_status=status) as server:
        connector = LinearSource(
            "globex-linear",
            access=LinearAccess(server.api_url, SecretStr("lin_api_wrong")),
            team="ENG",
            sleep=sleeps.append,
        )

        with pytest.raises(SourceAuthError) as raised:
            connector.fetch(updated_since=None)

        assert str(raised.value) == (
            f"globex-linear: Linear answered {status} AUTHENTICATION_ERROR (Authentication "
            "required, not authenticated): check SYNCBOT_LINEAR_API_KEY"
        )
        assert server.count() == 1 and sleeps == []


def test_an_error_message_never_repeats_the_key(linear: FakeLinear, sleeps: list[float]) -> None:
    from servers.base import Response

    linear.fault(
        Response.json(
            400,
            {
                "errors": [
                    {"message": f"Bad key {API_KEY} given", "extensions": {"code": "FORBIDDEN"}}
                ]
            },
        )
    )

    with pytest.raises(SourceAuthError) as raised:
        source(linear, sleeps).fetch(updated_since=None)

    assert API_KEY not in str(raised.value) and "Bad key *** given" in str(raised.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_fail_the_source(
    linear: FakeLinear, sleeps: list[float], status: int
) -> None:
    seed(linear, 3)
    linear.server_error(status, times=2)
    assert len(source(linear, sleeps).fetch(updated_since=None).tickets) == 3
    assert sleeps == [1.0, 2.0]

    linear.server_error(status, times=None)
    with pytest.raises(SourceError, match=f"issues page 1 failed: .*{status}.*gave up after 4"):
        source(linear, sleeps).fetch(updated_since=None)


def test_a_graphql_internal_error_with_status_500_is_retried(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    from servers.base import Response

    seed(linear, 3)
    linear.fault(
        Response.json(
            500,
            {
                "errors": [
                    {
                        "message": "Internal server error",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ]
            },
        )
    )

    assert len(source(linear, sleeps).fetch(updated_since=None).tickets) == 3
    assert sleeps == [1.0]


def test_a_timeout_is_retried_then_fails(linear: FakeLinear, sleeps: list[float]) -> None:
    seed(linear, 3)
    linear.hang(times=1)
    assert len(source(linear, sleeps, timeout=2.0).fetch(updated_since=None).tickets) == 3

    linear.hang(times=None)
    with pytest.raises(
        SourceError, match=r"issues page 1 failed: no (complete )?answer within 2 s"
    ):
        source(linear, sleeps, timeout=2.0, retry=RetryPolicy(retries=1)).fetch(updated_since=None)


@pytest.mark.parametrize("body_only", [False, True], ids=["whole-answer", "body-only"])
def test_an_answer_trickled_past_the_timeout_fails_in_bounded_time(
    linear: FakeLinear, sleeps: list[float], body_only: bool
) -> None:
    """20 bytes/s never trips a timeout between bytes; the total deadline per request does."""
    seed(linear, 3)
    linear.trickle(rate=20, times=1, body_only=body_only)
    assert len(source(linear, sleeps, timeout=2.0).fetch(updated_since=None).tickets) == 3
    assert sleeps == [1.0]
    linear.trickle(rate=20, times=None, body_only=body_only)
    started = time.monotonic()

    with pytest.raises(SourceError) as raised:
        source(linear, sleeps, timeout=2.0, retry=RetryPolicy(retries=1)).fetch(updated_since=None)

    elapsed = time.monotonic() - started
    assert str(raised.value).startswith(
        "globex-linear: Linear issues page 1 failed: no complete answer within 2 s "
        "(gave up after 2 attempts"
    )
    assert elapsed < 30  # two attempts of 2 s, not the many minutes the answer would take


def test_malformed_json_is_retried_then_fails_the_source(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 3)
    linear.malformed(times=1)
    assert len(source(linear, sleeps).fetch(updated_since=None).tickets) == 3

    linear.malformed(times=None)
    with pytest.raises(SourceError, match="not a GraphQL response"):
        source(linear, sleeps).fetch(updated_since=None)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
        (b'{"data": {"n": ' + b"7" * 5000 + b"}}", "a number with more than 4300 digits"),
    ],
    ids=["nested-100000-deep", "number-of-5000-digits"],
)
def test_odd_json_fails_the_source_at_once_without_a_traceback(
    linear: FakeLinear, sleeps: list[float], body: bytes, why: str
) -> None:
    from servers.base import Response

    linear.fault(Response(200, body, {"Content-Type": "application/json"}))

    with pytest.raises(SourceError) as raised:
        source(linear, sleeps).fetch(updated_since=None)

    assert str(raised.value) == f"globex-linear: Linear's answer cannot be read ({why})"
    assert linear.count() == 1 and sleeps == []


def test_a_query_linear_no_longer_accepts_is_reported_not_retried(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    connector = source(linear, sleeps)
    connector.document = parse("query Q { issues { nodes { identifier noSuchField } } }")

    with pytest.raises(SourceError) as raised:
        connector.fetch(updated_since=None)

    assert "GRAPHQL_VALIDATION_FAILED" in str(raised.value)
    assert "schema changed" in str(raised.value)
    assert linear.count() == 1 and sleeps == []


def test_a_ticket_missing_fields_is_skipped_and_counted(
    linear: FakeLinear, sleeps: list[float]
) -> None:
    seed(linear, 5)
    linear.add("ENG-3", updated=START, state=("Limbo", "someNewType"))
    linear.add("ENG-4", updated=START, createdAt="yesterday")

    result = source(linear, sleeps).fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["ENG-1", "ENG-2", "ENG-5"]
    assert result.skipped == 2
    assert result.notes == [
        (
            "skipped 2 malformed tickets (ENG-4.createdAt: not a timestamp: "
            "'yesterday'; ENG-3.state.type: unknown state type 'someNewType')"
        )
    ]


def test_the_stand_in_refuses_a_query_over_linears_complexity_limit(linear: FakeLinear) -> None:
    import httpx

    from syncbot.connectors.linear import ISSUES_QUERY

    answer = httpx.post(
        linear.api_url,
        headers={"Authorization": API_KEY},
        timeout=5,
        json={"query": ISSUES_QUERY, "variables": {"first": 250}},
    )

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"].startswith("Query too complex")
    assert json.loads(answer.content)["errors"][0]["extensions"]["code"] == "INPUT_ERROR"
