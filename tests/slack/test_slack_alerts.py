"""Same-day alerts (SPEC §8) through `syncbot alerts` and the fake Slack, over a multi-week
replay: the exact (milestone, kind) raised each week, one message per change, nothing twice,
escalation once per dependency mentioning `escalation.notify`, owners mentioned from
`[clients.people]`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from scenario import jira_issue, write_pages
from servers.slack import TOKEN, FakeSlack
from support import configs
from support.cli import ok

CLIENT = configs.client(
    "acme",
    name="Acme & Sons <!channel>",
    internal_channel="CINT",
    client_channel="CACME",
    reviewers=["U0LEAD"],
    client_review="required",
    people={"Priya Shah": "U0PRIYA", "Dana Client": "U0DANA"},
    escalation={"after_days": 2, "notify": ["U0ACCOUNT"]},
    sources=[configs.source(path="export/page-*.json")],
    milestones=[
        configs.milestone(
            "A", name="Data pipeline", planned="2026-03-06", epic="ACME-10", owner="Priya Shah"
        ),
        configs.milestone(
            "B", name="Model trained", planned="2026-03-13", epic="ACME-20", after=["A"]
        ),
    ],
)


def export(due_a: str) -> list[dict[str, Any]]:
    issues = [
        jira_issue(
            "ACME-1",
            summary="pipeline <@U0EVIL> & co",
            category="indeterminate",
            duedate=due_a,
            parent={"key": "ACME-10"},
        ),
        jira_issue("ACME-2", summary="training", duedate="2026-03-12", parent={"key": "ACME-20"}),
        jira_issue(
            "ACME-9",
            summary="Client provides labelled data",
            duedate="2026-03-05",
            labels=["client-dependency"],
            assignee={"displayName": "Dana Client"},
            parent={"key": "ACME-20"},
        ),
    ]
    return [{"issues": issues, "isLast": True}]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=("CINT", "CACME")) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("SYNCBOT_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SYNCBOT_SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SYNCBOT_SLACK_POST_INTERVAL_SECONDS", "0")
    return configs.write_config(tmp_path / "syncbot.toml", CLIENT)


def week(config: Path, as_of: str, due_a: str) -> list[tuple[str | None, str]]:
    """Sync that day's export; what `alerts --format json` would raise (a dry run)."""
    write_pages(config.parent / "export", export(due_a))
    with time_machine.travel(f"{as_of}T15:00:00+00:00", tick=False):
        ok(["sync", "--config", str(config), "--as-of", as_of])
        out = ok(["alerts", "--config", str(config), "--client", "acme", "--format", "json"])
        again = ok(["alerts", "--config", str(config), "--client", "acme", "--format", "json"])
    doc = json.loads(out)
    assert doc["client"] == "acme" and doc["as_of"] == as_of
    assert json.loads(again) == doc  # a dry run records nothing
    assert all(set(a) == {"milestone", "kind", "old", "new", "message"} for a in doc["alerts"])
    return [(a["milestone"], a["kind"]) for a in doc["alerts"]]


def post(config: Path, as_of: str) -> str:
    with time_machine.travel(f"{as_of}T15:00:00+00:00", tick=False):
        return ok(["alerts", "--config", str(config), "--client", "acme", "--post"])


def test_alerts_over_weeks_each_change_once(config: Path, slack: FakeSlack) -> None:
    # Week 1: the first evaluation records what it sees: nothing to alert.
    assert week(config, "2026-02-25", due_a="2026-03-05") == []
    assert "no new alerts" in post(config, "2026-02-25")

    # Week 2 (Wed 03-04): A's work slips to 03-09; B, after A, slips with it. The client
    # dependency (due 03-05) is not overdue yet.
    assert week(config, "2026-03-04", due_a="2026-03-09") == [
        ("A", "status"),
        ("A", "forecast"),
        ("B", "status"),
        ("B", "forecast"),
    ]
    first = post(config, "2026-03-04")
    assert first.count("posted 1 message to CINT") == 2  # one message per milestone
    assert "no new alerts" in post(config, "2026-03-04")  # the second --post posts nothing
    assert len(slack.posts("CINT")) == 2

    # Sat 03-07: A missed its planned date (03-06); the dependency became overdue on 03-06
    # and has been for 1 day (escalation after 2).
    assert week(config, "2026-03-07", due_a="2026-03-09") == [
        ("A", "missed"),
        ("B", "dependency_overdue"),
    ]
    post(config, "2026-03-07")
    # Mon 03-09: overdue for 4 days (due 03-05) > 2: escalated, once.
    assert week(config, "2026-03-09", due_a="2026-03-09") == [("B", "escalation")]
    post(config, "2026-03-09")
    # Tue 03-10: A's work (due 03-09) is now late: its forecast starts moving a day a day,
    # said once; on 03-11 it moves again, and nothing is said.
    assert week(config, "2026-03-10", due_a="2026-03-09") == [("A", "forecast"), ("B", "forecast")]
    post(config, "2026-03-10")
    assert week(config, "2026-03-11", due_a="2026-03-09") == []
    assert "no new alerts" in post(config, "2026-03-11")

    # A date someone sets beyond the drift is a new slip: it alerts again.
    assert week(config, "2026-03-12", due_a="2026-03-16") == [
        ("A", "status"),  # 10 days late: delayed
        ("A", "forecast"),
        ("B", "status"),
        ("B", "forecast"),
    ]
    post(config, "2026-03-12")

    texts = [m.text for m in slack.posts("CINT")]
    assert len(texts) == 9
    a_slip = texts[0]
    assert "'Data pipeline' went from on track to at risk" in a_slip
    assert "is now expected 2026-03-09 instead of 2026-03-05 (4 days later)" in a_slip
    assert "It pushes B 'Model trained' (now 2026-03-16)" in a_slip
    assert "Owner: <@U0PRIYA>" in a_slip  # from [clients.people]
    assert "Acme &amp; Sons &lt;!channel&gt;" in a_slip and "<!channel>" not in a_slip
    escalation = texts[4]
    assert "has been overdue for 4 days (escalation after 2 days)" in escalation
    assert "<@U0ACCOUNT>" in escalation and "Owner: <@U0DANA>" in escalation
    assert "<@U0EVIL>" not in "".join(texts)  # tracker text cannot mention anyone
    # Milestone alerts carry "Draft client heads-up" (client_review is required).
    buttons = [
        e["text"]["text"]
        for m in slack.posts("CINT")
        for b in m.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert buttons.count("Draft client heads-up") == 7  # milestone alerts, not dependency ones


def test_the_client_digest_mentions_dependency_owners_from_people_only(
    config: Path, slack: FakeSlack
) -> None:
    write_pages(config.parent / "export", export("2026-03-09"))
    with time_machine.travel("2026-03-04T15:00:00+00:00", tick=False):
        ok(["sync", "--config", str(config), "--as-of", "2026-03-04"])
        ok(["digest", "--config", str(config), "--client", "acme", "--post"])
    [draft] = [m for m in slack.posts("CINT") if "project update" in m.text]
    needed = next(
        b["text"]["text"]
        for b in draft.blocks
        if b["type"] == "section" and "What we need from you" in b["text"]["text"]
    )
    # Dana Client is in [clients.people]: mentioned, by the id from the config.
    assert "Client provides labelled data — <@U0DANA>, due 2026-03-05" in needed
    assert slack.posts("CACME") == []  # a draft: the client sees nothing yet
