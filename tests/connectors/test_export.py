"""`jira-export` / `linear-export` sources: recorded response pages read from files (SPEC §5)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from syncbot.connectors import jira, linear
from syncbot.connectors.export import ExportSource, jira_export, linear_export
from syncbot.domain import Progress
from syncbot.errors import DataError


def jira_issue(key: str, updated: str, status: str = "To Do", **fields: Any) -> dict[str, Any]:
    category = {"To Do": "new", "In Progress": "indeterminate", "Done": "done"}[status]
    return {
        "id": str(10000 + int(key.split("-")[1])),
        "key": key,
        "fields": {
            "summary": f"Work {key}",
            "status": {"name": status, "statusCategory": {"key": category}},
            "created": "2026-02-01T09:00:00.000-0600",
            "updated": updated,
            **fields,
        },
    }


def linear_node(identifier: str, updated: str, state_type: str = "unstarted") -> dict[str, Any]:
    return {
        "id": f"id-{identifier}",
        "identifier": identifier,
        "title": f"Work {identifier}",
        "state": {"name": state_type.title(), "type": state_type},
        "createdAt": "2026-02-01T15:00:00.000Z",
        "updatedAt": updated,
        "completedAt": updated if state_type == "completed" else None,
    }


def jira_page(*issues: Any, token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"issues": list(issues), "isLast": token is None}
    if token:
        page["nextPageToken"] = token
    return page


def linear_page(*nodes: Any, cursor: str | None = None) -> dict[str, Any]:
    info = {"hasNextPage": cursor is not None, "endCursor": cursor}
    return {"data": {"issues": {"nodes": list(nodes), "pageInfo": info}}}


def write(folder: Path, name: str, content: Any) -> Path:
    path = folder / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def pages(folder: Path, *contents: Any) -> list[Path]:
    """Write `contents` as page-1.json, page-2.json, ... in `folder`."""
    return [write(folder, f"page-{n}.json", content) for n, content in enumerate(contents, 1)]


def jira_source(files: list[Path], **options: Any) -> ExportSource:
    options.setdefault("excluded_resolutions", ["Won't Do", "Duplicate"])
    options.setdefault("epic_link_field", None)
    return jira_export("acme-jira", files, **options)


# --- jira-export -------------------------------------------------------------------------


def test_every_page_is_read_and_each_ticket_returned_once(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        jira_page(
            jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600"),
            jira_issue("ACME-2", "2026-03-01T11:00:00.000-0600"),
            token="t2",
        ),
        jira_page(jira_issue("ACME-3", "2026-03-02T10:00:00.000-0600")),
    )

    result = jira_source(files).fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["ACME-1", "ACME-2", "ACME-3"]
    assert result.complete is True
    assert (result.skipped, result.notes, result.pages) == (0, [], 2)


def test_a_ticket_on_several_pages_keeps_its_latest_update(tmp_path: Path) -> None:
    """The newest version wins whichever page it is on, not simply the last page read."""
    files = pages(
        tmp_path,
        jira_page(
            jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600", "To Do"),
            jira_issue("ACME-2", "2026-03-05T10:00:00.000-0600", "Done"),
        ),
        jira_page(
            jira_issue("ACME-1", "2026-03-04T10:00:00.000-0600", "In Progress"),
            jira_issue("ACME-2", "2026-03-02T10:00:00.000-0600", "In Progress"),
        ),
    )

    result = jira_source(files).fetch(updated_since=None)

    by_key = {t.key: t for t in result.tickets}
    assert len(result.tickets) == 2
    assert by_key["ACME-1"].status == "In Progress"
    assert by_key["ACME-2"].status == "Done"


def test_a_malformed_ticket_is_skipped_counted_and_noted(tmp_path: Path) -> None:
    broken = {"key": "ACME-9", "fields": {"summary": "no status, no dates"}}
    files = pages(
        tmp_path,
        jira_page(jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600")),
        jira_page(broken, jira_issue("ACME-2", "2026-03-01T10:00:00.000-0600")),
    )

    result = jira_source(files).fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["ACME-1", "ACME-2"]
    assert result.skipped == 1
    [note] = result.notes
    assert note.startswith("skipped 1 malformed ticket in page-2.json (") and "missing" in note


def test_skipped_tickets_are_counted_per_file(tmp_path: Path) -> None:
    files = pages(
        tmp_path, jira_page({"fields": {}}, None), jira_page({"key": "ACME-5"}, "junk", 7)
    )

    result = jira_source(files).fetch(updated_since=None)

    assert result.tickets == []
    assert result.skipped == 5
    assert [n.split(" (")[0] for n in result.notes] == [
        "skipped 2 malformed tickets in page-1.json",
        "skipped 3 malformed tickets in page-2.json",
    ]


def test_exported_tickets_go_through_the_live_translation(tmp_path: Path) -> None:
    raw = jira_issue(
        "ACME-7",
        "2026-03-03T10:00:00.000-0600",
        "Done",
        resolution={"name": "Won't Do"},
        customfield_10100="ACME-12",
        labels=["client-dependency"],
    )
    files = pages(tmp_path, jira_page(raw))

    [default] = jira_source(files).fetch(updated_since=None).tickets
    [custom] = (
        jira_source(files, excluded_resolutions=["Duplicate"], epic_link_field="customfield_10100")
        .fetch(updated_since=None)
        .tickets
    )

    assert default == jira.to_ticket(raw)
    assert (default.progress, default.parent) == (Progress.EXCLUDED, None)
    assert (custom.progress, custom.parent) == (Progress.DONE, "ACME-12")


def test_the_cursor_is_the_latest_tracker_update_seen(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        jira_page(
            jira_issue("ACME-1", "2026-03-04T10:00:00.000-0600"),
            jira_issue("ACME-2", "2026-03-01T10:00:00.000-0600"),
        ),
    )

    cursor = jira_source(files).fetch(updated_since=None).cursor

    assert cursor is not None
    assert cursor.startswith("2026-03-04T10:00:00") and cursor.endswith("-06:00")


def test_a_file_that_is_not_json_is_a_data_error_naming_it(tmp_path: Path) -> None:
    good = write(tmp_path, "page-1.json", jira_page(jira_issue("ACME-1", "2026-03-01T10:00:00Z")))
    bad = write(tmp_path, "page-2.json", '{"issues": [')

    with pytest.raises(DataError, match=re.escape(f"{bad}: not valid JSON")):
        jira_source([good, bad]).fetch(updated_since=None)


def test_a_file_that_is_not_utf8_is_a_data_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "page-1.json"
    bad.write_bytes(b'{"issues": ["\xff\xfe"]}')

    with pytest.raises(DataError, match=re.escape(str(bad))):
        jira_source([bad]).fetch(updated_since=None)


@pytest.mark.parametrize(
    "content",
    [
        {"values": []},
        {"issues": {"ACME-1": {}}},
        [jira_issue("ACME-1", "2026-03-01T10:00:00Z")],
        linear_page(linear_node("ENG-1", "2026-03-01T10:00:00Z")),
        "null",
    ],
    ids=["no-issues", "issues-not-a-list", "bare-list", "linear-page", "null"],
)
def test_a_jira_file_of_the_wrong_shape_is_a_data_error(tmp_path: Path, content: Any) -> None:
    path = write(tmp_path, "page-1.json", content)

    with pytest.raises(DataError, match=re.escape(f"{path}: not a Jira search response")):
        jira_source([path]).fetch(updated_since=None)


def test_a_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "gone.json"))):
        jira_source([tmp_path / "gone.json"]).fetch(updated_since=None)


def test_a_source_without_files_is_a_data_error() -> None:
    with pytest.raises(DataError, match="acme-jira"):
        jira_source([]).fetch(updated_since=None)


# --- linear-export -----------------------------------------------------------------------


def test_linear_pages_are_read_deduplicated_and_translated(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        linear_page(
            linear_node("ENG-1", "2026-03-01T10:00:00.000Z"),
            linear_node("ENG-2", "2026-03-06T10:00:00.000Z", "completed"),
            cursor="c1",
        ),
        linear_page(
            linear_node("ENG-1", "2026-03-03T10:00:00.000Z", "started"),
            linear_node("ENG-2", "2026-03-02T10:00:00.000Z", "started"),
            {"identifier": "ENG-3"},
        ),
    )

    result = linear_export("globex-linear", files).fetch(updated_since=None)

    by_key = {t.key: t for t in result.tickets}
    assert sorted(by_key) == ["ENG-1", "ENG-2"]
    assert by_key["ENG-1"] == linear.to_ticket(
        linear_node("ENG-1", "2026-03-03T10:00:00.000Z", "started")
    )
    assert by_key["ENG-2"].progress is Progress.DONE
    [note] = result.notes
    assert note.startswith("skipped 1 malformed ticket in page-2.json (") and "missing" in note
    assert result.cursor is not None and result.cursor.startswith("2026-03-06T10:00:00")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"data": {"issue": {"id": "x"}}}, id="single-issue-response"),
        pytest.param({"issues": {"nodes": []}}, id="no-data-envelope"),
        pytest.param({"data": {"issues": {"nodes": {}}}}, id="nodes-not-a-list"),
        pytest.param(
            {"data": None, "errors": [{"message": "Authentication required"}]}, id="errors"
        ),
        pytest.param(jira_page(), id="jira-page"),
        pytest.param([], id="bare-list"),
        pytest.param(
            {"data": ["not", "an", "object"]},
            id="data-not-an-object",
        ),
    ],
)
def test_a_linear_file_of_the_wrong_shape_is_a_data_error(tmp_path: Path, content: Any) -> None:
    path = write(tmp_path, "page-1.json", content)

    with pytest.raises(DataError, match=re.escape(f"{path}: not a Linear issues response")):
        linear_export("globex-linear", [path]).fetch(updated_since=None)


def test_a_linear_file_that_is_not_json_is_a_data_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, "page-3.json", "<html>502 Bad Gateway</html>")

    with pytest.raises(DataError, match=re.escape(f"{path}: not valid JSON")):
        linear_export("globex-linear", [path]).fetch(updated_since=None)


# --- the same paging code as the live connectors ----------------------------------------


def test_progress_and_skipped_keys_come_from_the_shared_paging_code(tmp_path: Path) -> None:
    broken = {"key": "ACME-9", "fields": {"summary": "no status"}}
    files = pages(
        tmp_path,
        jira_page(jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600"), broken, token="t2"),
        jira_page(jira_issue("ACME-2", "2026-03-01T10:00:00.000-0600"), {"fields": {}}),
    )
    progress: list[tuple[int, int]] = []

    result = jira_source(files).fetch(updated_since=None, progress=lambda *p: progress.append(p))

    assert progress == [(1, 1), (2, 2)]
    assert result.skipped == 2 and result.skipped_keys == ("ACME-9",)  # the other has no key


# --- missing pages are not a complete read (issue 15 #5) --------------------------------


def test_a_gap_in_the_page_numbering_is_not_a_complete_read(tmp_path: Path) -> None:
    first = write(tmp_path, "page-1.json", jira_page(jira_issue("ACME-1", "2026-03-01T10:00Z")))
    third = write(tmp_path, "page-3.json", jira_page(jira_issue("ACME-3", "2026-03-01T10:00Z")))

    result = jira_source([first, third]).fetch(updated_since=None)

    assert result.complete is False
    assert sorted(t.key for t in result.tickets) == ["ACME-1", "ACME-3"]
    assert result.notes == [
        "page file page-2.json missing; not a complete read, so no stored ticket is dropped"
    ]


def test_missing_leading_and_zero_padded_pages_are_named(tmp_path: Path) -> None:
    files = [
        write(tmp_path, f"acme-{n:03d}.json", linear_page(linear_node(f"ENG-{n}", "2026-03-01Z")))
        for n in (3, 4, 6)
    ]

    result = linear_export("globex-linear", files).fetch(updated_since=None)

    assert result.complete is False
    assert result.notes == [
        (
            "page files acme-001.json, acme-002.json, acme-005.json missing; not a complete "
            "read, so no stored ticket is dropped"
        )
    ]


@pytest.mark.parametrize(
    ("last", "why"),
    [
        (jira_page(jira_issue("ACME-2", "2026-03-01T10:00Z"), token="more"), "nextPageToken"),
        ({"issues": [jira_issue("ACME-2", "2026-03-01T10:00Z")], "isLast": False}, "isLast: false"),
        (
            {"startAt": 1, "maxResults": 1, "total": 3, "issues": [jira_issue("ACME-2", "x")]},
            "startAt 1 + 1 issues < total 3",
        ),
    ],
    ids=["next-page-token", "is-last-false", "data-center-total"],
)
def test_a_last_jira_page_that_says_more_follow_is_not_complete(
    tmp_path: Path, last: dict[str, Any], why: str
) -> None:
    first = {"startAt": 0, "maxResults": 1, "total": 3, "isLast": False, "nextPageToken": "t"}
    files = pages(tmp_path, {**first, "issues": [jira_issue("ACME-1", "2026-03-01T10:00Z")]}, last)

    result = jira_source(files).fetch(updated_since=None)

    assert result.complete is False
    assert result.notes[-1] == (
        f"page-2.json, the last file, says more pages follow ({why}); "
        "not a complete read, so no stored ticket is dropped"
    )


def test_a_last_linear_page_with_a_next_page_is_not_complete(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        linear_page(linear_node("ENG-1", "2026-03-01T10:00:00.000Z"), cursor="c1"),
        linear_page(linear_node("ENG-2", "2026-03-01T10:00:00.000Z"), cursor="c2"),
    )

    result = linear_export("globex-linear", files).fetch(updated_since=None)

    assert result.complete is False
    assert (
        "page-2.json, the last file, says more pages follow (pageInfo.hasNextPage: true)"
        in (result.notes[-1])
    )


def test_data_center_pages_whose_offsets_do_not_join_are_not_complete(tmp_path: Path) -> None:
    def page(start: int, *keys: str) -> dict[str, Any]:
        issues = [jira_issue(k, "2026-03-01T10:00:00.000-0600") for k in keys]
        return {"startAt": start, "maxResults": 2, "total": 6, "issues": issues}

    # Named a.json, b.json, c.json: no numbering to check, the offsets tell.
    files = [
        write(tmp_path, f"{name}.json", content)
        for name, content in (
            ("a", page(0, "ACME-1", "ACME-2")),
            ("c", page(4, "ACME-5", "ACME-6")),
        )
    ]

    result = jira_source(files).fetch(updated_since=None)

    assert result.complete is False
    assert result.notes == [
        (
            "c.json starts at issue 4, but a.json ends at 2: a page is missing; "
            "not a complete read, so no stored ticket is dropped"
        )
    ]


def test_unnumbered_or_mixed_file_names_need_no_numbering(tmp_path: Path) -> None:
    files = [
        write(tmp_path, "monday.json", jira_page(jira_issue("ACME-1", "2026-03-01T10:00Z"))),
        write(tmp_path, "page-7.json", jira_page(jira_issue("ACME-2", "2026-03-01T10:00Z"))),
    ]

    assert jira_source(files).fetch(updated_since=None).complete is True


# --- project (and team) on an export source (SPEC §3 v2) ----------------------------------


def test_project_keeps_the_tickets_of_that_jira_project(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        jira_page(
            jira_issue("DAL-1", "2026-03-01T10:00:00.000-0600", project={"key": "DAL"}),
            jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600", project={"key": "ACME"}),
            # Moved from DAL to ACME: the project field decides, not the key's prefix.
            jira_issue("DAL-7", "2026-03-01T10:00:00.000-0600", project={"key": "ACME"}),
            jira_issue("DAL-9", "2026-03-01T10:00:00.000-0600"),  # no project field: the key
        ),
    )

    result = jira_source(files, project="DAL").fetch(updated_since=None)

    assert sorted(t.key for t in result.tickets) == ["DAL-1", "DAL-9"]
    assert result.complete is True
    assert result.notes == ["ignored 2 tickets outside project 'DAL'"]


def test_the_latest_version_decides_the_project(tmp_path: Path) -> None:
    files = pages(
        tmp_path,
        jira_page(jira_issue("DAL-1", "2026-03-01T10:00:00.000-0600", project={"key": "DAL"})),
        jira_page(jira_issue("DAL-1", "2026-03-04T10:00:00.000-0600", project={"key": "ACME"})),
    )

    assert jira_source(files, project="DAL").fetch(updated_since=None).tickets == []


def test_project_and_team_filter_linear_exports(tmp_path: Path) -> None:
    def node(identifier: str, project: str | None) -> dict[str, Any]:
        raw = linear_node(identifier, "2026-03-01T10:00:00.000Z")
        raw["project"] = {"id": f"p-{project}", "name": project} if project else None
        return raw

    files = pages(
        tmp_path,
        linear_page(
            node("ENG-1", "Globex Rollout"),
            node("ENG-2", "Another"),
            node("OPS-1", "Globex Rollout"),
            node("ENG-3", None),
        ),
    )

    by_project = linear_export("l", files, project="Globex Rollout").fetch(updated_since=None)
    by_both = linear_export("l", files, project="Globex Rollout", team="ENG").fetch(
        updated_since=None
    )
    by_team = linear_export("l", files, team="ENG").fetch(updated_since=None)

    assert sorted(t.key for t in by_project.tickets) == ["ENG-1", "OPS-1"]
    assert [t.key for t in by_both.tickets] == ["ENG-1"]
    assert by_both.notes == ["ignored 3 tickets outside project 'Globex Rollout' and team 'ENG'"]
    assert sorted(t.key for t in by_team.tickets) == ["ENG-1", "ENG-2", "ENG-3"]


# --- odd JSON (issue 15 #10) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
        (b'{"issues": [], "total": ' + b"7" * 5000 + b"}", "a number with more than 4300 digits"),
    ],
    ids=["nested-100000-deep", "number-of-5000-digits"],
)
@pytest.mark.parametrize("kind", ["jira-export", "linear-export"])
def test_odd_json_is_one_data_error_line_naming_the_file(
    tmp_path: Path, content: bytes, why: str, kind: str
) -> None:
    path = tmp_path / "page-1.json"
    path.write_bytes(content)
    source = jira_source([path]) if kind == "jira-export" else linear_export("l", [path])

    with pytest.raises(DataError) as raised:
        source.fetch(updated_since=None)

    assert str(raised.value) == f"{path}: not usable JSON ({why})"


def test_a_recorded_changelog_cut_short_is_noted(tmp_path: Path) -> None:
    cut = jira_issue("ACME-1", "2026-03-01T10:00:00.000-0600")
    cut["changelog"] = {"startAt": 0, "maxResults": 40, "total": 41, "histories": []}
    whole = jira_issue("ACME-2", "2026-03-01T10:00:00.000-0600")
    whole["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}

    result = jira_source(pages(tmp_path, jira_page(cut, whole))).fetch(updated_since=None)

    assert result.complete is True  # every ticket is there; one is judged on part of it
    assert result.notes == [
        "1 ticket recorded with lists cut short (ACME-1: changelog): judged on the part recorded"
    ]


def test_recorded_linear_lists_with_more_pages_are_noted(tmp_path: Path) -> None:
    node = linear_node("ENG-1", "2026-03-01T10:00:00.000Z")
    node["labels"] = {"nodes": [{"name": "a"}], "pageInfo": {"hasNextPage": True}}
    node["history"] = {"nodes": [], "pageInfo": {"hasNextPage": True, "endCursor": "c"}}
    whole = linear_node("ENG-2", "2026-03-01T10:00:00.000Z")
    whole["labels"] = {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}

    result = linear_export("l", pages(tmp_path, linear_page(node, whole))).fetch(updated_since=None)

    assert result.notes == [
        (
            "1 ticket recorded with lists cut short (ENG-1: labels, history): judged on the part "
            "recorded"
        )
    ]
