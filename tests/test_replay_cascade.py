"""A multi-week replay of a plan with finish-to-start dependencies, through `sync`, `status`
and `digest` as a user runs them (SPEC §4 v2): a slip of a predecessor turns its successors at
risk the same week, a miss is called a miss the day after its planned date, and every date
change names its reason.

    A  Data pipeline   planned 03-06                 ticket ACME-1 (due 03-05 -> 03-09 in week 3)
    B  Model trained   planned 03-13, after A        ticket ACME-2 (due 03-12)
    C  Model deployed  planned 03-20, after B        no tickets yet
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenario import jira_issue, write_pages
from support import configs
from support.cli import ok, status_json

CLIENT = configs.client(
    "acme",
    sources=[configs.source(path="export/page-*.json")],
    milestones=[
        configs.milestone("A", name="Data pipeline", planned="2026-03-06", epic="ACME-10"),
        configs.milestone(
            "B", name="Model trained", planned="2026-03-13", epic="ACME-20", after=["A"]
        ),
        configs.milestone(
            "C",
            name="Model deployed",
            planned="2026-03-20",
            epic="ACME-30",
            after=["B"],
            acceptance="Model serving in staging",
        ),
    ],
)


def export(due_a: str) -> list[dict[str, Any]]:
    issues = [
        jira_issue(
            "ACME-1",
            summary="pipeline",
            category="indeterminate",
            duedate=due_a,
            parent={"key": "ACME-10"},
        ),
        jira_issue("ACME-2", summary="training", duedate="2026-03-12", parent={"key": "ACME-20"}),
    ]
    return [{"issues": issues, "isLast": True}]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return configs.write_config(tmp_path / "syncbot.toml", CLIENT)


def week(config: Path, as_of: str, due_a: str) -> dict[str, dict[str, Any]]:
    write_pages(config.parent / "export", export(due_a))
    ok(["sync", "--config", str(config), "--as-of", as_of])
    doc = status_json(config, "acme", as_of=as_of)
    return {m["id"]: m for m in doc["milestones"]}


def digest(config: Path, as_of: str, audience: str) -> dict[str, list[str]]:
    args = ["--client", "acme", "--audience", audience, "--format", "json", "--as-of", as_of]
    out = ok(["digest", "--config", str(config), *args])
    return {s["heading"]: s["lines"] for s in json.loads(out)["sections"]}


def test_a_slip_travels_down_the_plan_the_same_week(config: Path) -> None:
    # Weeks 1 and 2: everything on track; C (no tickets) is not started, held at its plan.
    for as_of in ("2026-02-20", "2026-02-27"):
        ms = week(config, as_of, due_a="2026-03-05")
        assert [ms[m]["status"] for m in "ABC"] == ["on_track", "on_track", "not_started"]
        assert [ms[m]["pushed_by"] for m in "ABC"] == [None, None, None]

    # Week 3 (Wed 03-04): A's work slips to 03-09. The same week B and C are at risk: B cannot
    # finish before A + the week the plan allowed (03-16), C before B + a week (03-23).
    ms = week(config, "2026-03-04", due_a="2026-03-09")
    assert (ms["A"]["status"], ms["A"]["forecast"], ms["A"]["days_late"]) == (
        "at_risk",
        "2026-03-09",
        3,
    )
    assert (ms["B"]["status"], ms["B"]["forecast"], ms["B"]["pushed_by"]) == (
        "at_risk",
        "2026-03-16",
        "A",
    )
    assert (ms["C"]["status"], ms["C"]["forecast"], ms["C"]["pushed_by"]) == (
        "at_risk",
        "2026-03-23",
        "B",
    )
    assert not any(ms[m]["missed"] for m in "ABC")
    for audience in ("internal", "client"):
        changes = digest(config, "2026-03-04", audience)["Date changes"]
        assert len(changes) == 3  # one line per milestone, each with its reason
        assert changes[1] == (
            "'Model trained' now expected 2026-03-16 instead of 2026-03-13 (3 days late): "
            "pushed by 'Data pipeline' (now 2026-03-09)."
        )
        assert changes[2].endswith("pushed by 'Model trained' (now 2026-03-16).")
    client = digest(config, "2026-03-04", "client")
    assert client["Date changes"][0].endswith("remaining work is taking longer than planned.")
    assert "ACME-1 due 2026-03-09" in digest(config, "2026-03-04", "internal")["Date changes"][0]

    # On A's planned day it is not missed yet; the day after, it is, and every text says so.
    assert week(config, "2026-03-06", due_a="2026-03-09")["A"]["missed"] is False
    ms = week(config, "2026-03-07", due_a="2026-03-09")
    assert ms["A"]["missed"] is True and ms["B"]["missed"] is False
    for audience in ("internal", "client"):
        lines = digest(config, "2026-03-07", audience)
        assert any("missed its planned date 2026-03-06" in line for line in lines["Milestones"])
        assert lines["Date changes"][0].startswith(
            "'Data pipeline' missed its planned date 2026-03-06; now expected 2026-03-09"
        )


def test_a_note_is_the_reason_and_stands_beside_the_milestone_until_cleared(
    config: Path,
) -> None:
    week(config, "2026-03-04", due_a="2026-03-09")
    text = "Source data had more duplicates than the sample; second pass, back on plan 03-09"
    assert "note set" in ok(
        ["note", "--config", str(config), "--client", "acme", "--milestone", "A", "--text", text]
    )
    for audience in ("internal", "client"):
        lines = digest(config, "2026-03-04", audience)
        assert lines["Date changes"][0].endswith(f"(3 days late): {text}.")
        assert any(f"note: {text}" in line for line in lines["Milestones"])
        assert (
            status_json(config, "acme", audience=audience, as_of="2026-03-04")["milestones"][0][
                "note"
            ]
            == text
        )
    assert "note cleared" in ok(
        ["note", "--config", str(config), "--client", "acme", "--milestone", "A", "--clear"]
    )
    assert status_json(config, "acme", as_of="2026-03-04")["milestones"][0]["note"] is None
