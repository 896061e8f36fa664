"""A four-week replay in the export formats, run through `sync` and `status` as a user would.

Each week the recorded responses are replaced by that week's export; the expected values are
worked out by hand from SPEC §4 in the comments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenario import jira_issue, write_pages
from support import configs
from support.cli import ok, status_json

BLOCKS = {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
CONFIG = configs.client(
    "acme",
    client_channel="CACME",
    baseline="2026-01-09",
    sources=[configs.source(path="export/page-*.json")],
    milestones=[
        configs.milestone(
            "2.1",
            name="Data pipeline operational",
            phase="Data Preparation",
            planned="2026-03-06",
            epic="ACME-12",
        ),
        configs.milestone(
            "4.2",
            name="Model deployed to staging",
            phase="Deployment",
            planned="2026-03-20",
            weight=3,
            epic="ACME-13",
        ),
    ],
)


def week(as_of: str) -> list[dict[str, Any]]:
    """The Jira export as it stood on `as_of`."""
    wk = {"2026-02-20": 1, "2026-02-27": 2, "2026-03-06": 3, "2026-03-13": 4}[as_of]
    t1: dict[str, Any] = {"duedate": "2026-03-04", "parent": {"key": "ACME-12"}}
    if wk >= 3:
        t1.update(resolution={"name": "Done"}, resolutiondate="2026-03-03T16:00:00.000-0600")
    t2_due = {1: "2026-03-05", 2: "2026-03-10", 3: "2026-03-16", 4: "2026-03-16"}[wk]
    t2: dict[str, Any] = {"duedate": t2_due, "parent": {"key": "ACME-12"}}
    if wk >= 4:
        # 23:30 in Chicago (UTC-5 since 03-08) on the 12th is the 13th in UTC: the client's
        # calendar counts.
        t2.update(resolution={"name": "Done"}, resolutiondate="2026-03-13T04:30:00.000+0000")
    dep_history = (
        []
        if wk < 2
        else [
            {
                "created": "2026-02-25T09:00:00.000-0600",
                "items": [
                    {"field": "status", "fromString": "To Do", "toString": "Waiting for Client"}
                ],
            }
        ]
    )
    issues = [
        jira_issue(
            "ACME-20",
            summary="Ingest claims",
            category="done" if wk >= 3 else "indeterminate",
            **t1,
        ),
        jira_issue(
            "ACME-21",
            summary="Validate output",
            category="done" if wk >= 4 else "indeterminate",
            **t2,
        ),
        jira_issue(
            "ACME-30",
            summary="Deploy model",
            parent={"key": "ACME-13"},
            duedate="2026-03-18",
            issuelinks=[{"type": BLOCKS, "inwardIssue": {"key": "ACME-40"}}],
        ),
        {
            **jira_issue(
                "ACME-40",
                summary="IT grants API access",
                category="indeterminate",
                status="Waiting for Client" if wk >= 2 else "To Do",
                created="2026-02-01T10:00:00.000-0600",
                duedate="2026-03-09",
                labels=["client-dependency"],
                assignee={"displayName": "Dana Ito", "emailAddress": "dana@acme.test"},
            ),
            "changelog": {"histories": dep_history},
        },
    ]
    if wk >= 2:  # work added after the baseline without a change order
        issues.append(
            jira_issue(
                "ACME-22",
                summary="Extra report",
                category="done",
                parent={"key": "ACME-12"},
                resolution={"name": "Done"},
                resolutiondate="2026-02-26T10:00:00.000-0600",
                created="2026-02-23T10:00:00.000-0600",
            )
        )
    if wk >= 3:  # a duplicate, resolved as such: excluded from the counts
        issues.append(
            jira_issue(
                "ACME-23",
                summary="Dup",
                category="done",
                parent={"key": "ACME-12"},
                resolution={"name": "Duplicate"},
                resolutiondate="2026-03-02T10:00:00.000-0600",
            )
        )
    return [{"issues": issues[:2], "nextPageToken": "p2"}, {"issues": issues[2:], "isLast": True}]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return configs.write_config(tmp_path / "syncbot.toml", CONFIG)


def status(
    capsys: pytest.CaptureFixture[str], config: Path, as_of: str, audience: str = "internal"
) -> dict[str, Any]:
    """Sync that week's export, then `status --format json` as of that day."""
    write_pages(config.parent / "export", week(as_of))
    ok(["sync", "--config", str(config), "--as-of", as_of])
    return status_json(config, "acme", audience=audience, as_of=as_of)


def test_four_weeks(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    # Week 1: latest open due date 03-05 <= planned 03-06; the dependency (due 03-09) pushes
    # 4.2 to at least 03-10, its own ticket is due 03-18 -> both on track. Not blocking
    # yet (no blocked status, not overdue). Nothing planned yet: SPI null.
    w1 = status(capsys, config, "2026-02-20")
    m21, m42 = w1["milestones"]
    assert (m21["status"], m21["forecast"]) == ("on_track", "2026-03-05")
    assert (m42["status"], m42["forecast"], m42["blocked_by"]) == (
        "on_track",
        "2026-03-18",
        ["ACME-40"],
    )
    [dep] = w1["dependencies"]
    # Not blocking yet (no blocked status, due 03-09 still ahead): v2 says when it is needed.
    assert (dep["blocked_since"], dep["days_blocked"], dep["blocks"]) == (None, 0, ["4.2"])
    assert dep["impact_statement"].endswith("needed by 2026-03-09.")
    assert w1["spi"] is None and w1["warnings"] == []

    # Week 2: ACME-21 slips to 03-10 (+4 days) -> at risk. The dependency entered
    # "Waiting for Client" on 02-25. A ticket created after the baseline -> scope creep.
    w2 = status(capsys, config, "2026-02-27")
    assert (w2["milestones"][0]["status"], w2["milestones"][0]["forecast"]) == (
        "at_risk",
        "2026-03-10",
    )
    assert w2["milestones"][0]["tickets_total"] == 3
    assert (w2["dependencies"][0]["blocked_since"], w2["dependencies"][0]["days_blocked"]) == (
        "2026-02-25",
        2,
    )
    [creep] = w2["warnings"]
    assert creep["kind"] == "scope_creep" and creep["milestone"] == "2.1"
    assert "ACME-22" in creep["message"]

    # Week 3: ACME-21 slips again to 03-16 (+10) -> delayed. The duplicate is not counted.
    # PV = 1/4 (2.1 planned 03-06 <= as-of), EV = 0 -> SPI 0.
    w3 = status(capsys, config, "2026-03-06")
    m21 = w3["milestones"][0]
    assert (m21["status"], m21["forecast"], m21["tickets_done"], m21["tickets_total"]) == (
        "delayed",
        "2026-03-16",
        2,
        3,
    )
    assert w3["spi"] == 0.0

    # Week 4: ACME-21 done on 03-12 Chicago time -> 2.1 done with that actual date. The
    # dependency is now overdue (due 03-09): 4.2 at least at risk although 03-18 <= 03-20.
    w4 = status(capsys, config, "2026-03-13")
    m21, m42 = w4["milestones"]
    assert (m21["status"], m21["actual"], m21["forecast"]) == ("done", "2026-03-12", None)
    assert (m42["status"], m42["forecast"]) == ("at_risk", "2026-03-18")
    assert w4["dependencies"][0]["days_blocked"] == 16
    assert w4["spi"] == 1.0  # EV 1/4, PV 1/4

    # The same week for the client: same numbers, no keys, no internal warnings.
    client = status(capsys, config, "2026-03-13", audience="client")
    assert [m["status"] for m in client["milestones"]] == ["done", "at_risk"]
    assert client["warnings"] == []
    assert "ACME" not in json.dumps(client)


def test_resync_is_idempotent(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    first = status(capsys, config, "2026-02-27")
    again = status(capsys, config, "2026-02-27")
    assert first == again
