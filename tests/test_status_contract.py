"""`status --format json` matches SPEC §6 field for field, for both audiences."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario import leaky_scenario
from support.cli import status_json

from syncbot.cli import main

TOP = {
    "client",
    "audience",
    "as_of",
    "spi",
    "stale",
    "current_phase",  # v2
    "next_milestone",  # v2
    "milestones",
    "dependencies",
    "warnings",
}
MILESTONE = {
    "id",
    "name",
    "phase",
    "planned",
    "forecast",
    "actual",
    "status",
    "owner",
    "acceptance",  # v2 ...
    "after",
    "pushed_by",
    "missed",
    "days_late",
    "note",  # ... v2
    "tickets_total",
    "tickets_done",
    "blocked_by",
    "metric",  # v2, SPEC §11
}
METRIC_INTERNAL = {"name", "value", "target", "met", "run", "at"}
METRIC_CLIENT = {"name", "value", "target", "met", "at"}  # never the run
DEPENDENCY = {
    "id",
    "summary",
    "owner",
    "due",
    "blocked_since",
    "days_blocked",
    "blocks",
    "impact_statement",
}
WARNING = {"kind", "milestone", "message"}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = leaky_scenario(tmp_path / "data")
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    assert main(["sync", "--config", str(path), "--as-of", "2026-03-10"]) == 0
    return path


@pytest.mark.parametrize("audience", ["internal", "client"])
def test_status_json_has_exactly_the_spec_fields(config: Path, audience: str) -> None:
    doc = status_json(config, "mrk", audience=audience, as_of="2026-03-10")
    assert set(doc) == TOP
    assert doc["client"] == "mrk" and doc["audience"] == audience
    assert doc["as_of"] == "2026-03-10" and doc["stale"] is False
    assert [set(m) for m in doc["milestones"]] == [MILESTONE, MILESTONE]
    assert [set(d) for d in doc["dependencies"]] == [DEPENDENCY]
    assert all(set(w) == WARNING for w in doc["warnings"])
    assert [m["metric"] for m in doc["milestones"]] == [None, None]  # no metric configured
    # glx's milestone carries a metric (SPEC §11): run id for the delivery team only.
    [measured] = status_json(config, "glx", audience=audience, as_of="2026-03-10")["milestones"]
    assert set(measured) == MILESTONE
    assert set(measured["metric"]) == (METRIC_INTERNAL if audience == "internal" else METRIC_CLIENT)


def test_metric_values(config: Path) -> None:
    """The best of the finished runs: the running (0.95) and failed (0.99) runs never count."""
    [internal] = status_json(config, "glx", as_of="2026-03-10")["milestones"]
    assert internal["metric"] == {
        "name": "val_f1",
        "value": 0.78,
        "target": 0.8,
        "met": False,
        "run": "ZZLEAK-run-best",
        "at": "2026-03-05",  # the day that run ended (10:00 UTC + 1 h, in London)
    }
    [client] = status_json(config, "glx", audience="client", as_of="2026-03-10")["milestones"]
    assert client["metric"] == {
        "name": "val_f1",
        "value": 0.78,
        "target": 0.8,
        "met": False,
        "at": "2026-03-05",
    }


def test_internal_status_values(config: Path) -> None:
    doc = status_json(config, "mrk", as_of="2026-03-10")
    one, two = doc["milestones"]
    # 1.1: MRK-2 open and past due (2026-03-01) -> counts as as-of; early warning applies.
    assert one == {
        "id": "1.1",
        "name": "Milestone one",
        "phase": "Data Preparation",
        "planned": "2026-03-06",
        "forecast": "2026-03-10",
        "actual": None,
        "status": "at_risk",
        "owner": "Agency PM",
        "acceptance": "",
        "after": [],
        "pushed_by": None,
        "missed": True,  # planned 03-06, open on 03-10: called a miss the day after
        "days_late": 4,
        "note": None,
        "tickets_total": 2,
        "tickets_done": 1,
        "blocked_by": [],
        "metric": None,
    }
    # 2.1: MRK-3 blocked by the overdue dependency MRK-9 -> at least at_risk, floor as-of+1.
    assert two["status"] == "at_risk" and two["forecast"] == "2026-03-20"
    assert two["blocked_by"] == ["MRK-9"]
    [dep] = doc["dependencies"]
    assert dep["id"] == "MRK-9" and dep["blocks"] == ["2.1"] and dep["due"] == "2026-03-05"
    # "Waiting for customer" is its status, but no history says since when: overdue since
    # its due date 03-05, it blocks from 03-06 (SPEC §4 v2).
    assert dep["blocked_since"] == "2026-03-06" and dep["days_blocked"] == 4
    assert doc["spi"] == 0.0
    [creep] = [w for w in doc["warnings"] if w["kind"] == "scope_creep"]
    assert creep["milestone"] == "1.1" and "MRK-2" in creep["message"]
