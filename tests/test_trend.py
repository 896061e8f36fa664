"""`syncbot trend` (SPEC §9): the history every sync records, its JSON, the PNG chart."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scenario import jira_issue, write_pages
from support.cli import ok, run
from support.configs import client, milestone, source, write_config

ROOT = Path(__file__).resolve().parents[1]


def issue(key: str, epic: str, due: str, **more: Any) -> dict[str, Any]:
    return jira_issue(key, summary=f"Task {key}", parent={"key": epic}, duedate=due, **more)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    write_pages(tmp_path / "acme", [{"issues": [issue("A-1", "E-1", "2026-03-05")]}])
    return write_config(
        tmp_path / "syncbot.toml",
        client(
            "acme",
            name="Acme Corp",
            sources=[source(path="acme/page-*.json")],
            milestones=[
                milestone("1.1", name="Pipeline", planned="2026-03-06", epic="E-1"),
                milestone("2.1", name="Model", planned="2026-03-20", epic="E-2"),
            ],
        ),
    )


def sync(config: Path, as_of: str) -> None:
    ok(["sync", "--config", str(config), "--as-of", as_of])


def trend(config: Path, *more: str) -> dict[str, Any]:
    args = ["trend", "--config", str(config), "--client", "acme", *more]
    doc: dict[str, Any] = json.loads(ok(args))
    return doc


def test_trend_json_has_one_point_per_report_and_the_last_sync_of_a_day_wins(
    project: Path,
) -> None:
    sync(project, "2026-02-27")
    sync(project, "2026-03-02")
    # Same day again, after the ticket's due date moved: this record replaces the first.
    write_pages(project.parent / "acme", [{"issues": [issue("A-1", "E-1", "2026-03-09")]}])
    sync(project, "2026-03-02")
    done = issue(
        "A-1",
        "E-1",
        "2026-03-09",
        category="done",
        resolution={"name": "Done"},
        resolutiondate="2026-03-08T12:00:00.000-0600",
    )
    write_pages(project.parent / "acme", [{"issues": [done]}])
    sync(project, "2026-03-09")
    doc = trend(project)
    assert list(doc) == ["client", "reports", "milestones"]
    assert doc["client"] == "acme"
    assert doc["reports"] == ["2026-02-27", "2026-03-02", "2026-03-09"]
    first, second = doc["milestones"]
    assert list(first) == ["id", "name", "planned", "series"]
    assert (first["id"], first["name"], first["planned"]) == ("1.1", "Pipeline", "2026-03-06")
    assert first["series"] == [
        {"report": "2026-02-27", "date": "2026-03-05", "status": "on_track"},
        {"report": "2026-03-02", "date": "2026-03-09", "status": "at_risk"},
        # Done: the actual date, not the forecast.
        {"report": "2026-03-09", "date": "2026-03-08", "status": "done"},
    ]
    assert [p["report"] for p in second["series"]] == doc["reports"]
    # --as-of: the trend as it stood then.
    assert trend(project, "--as-of", "2026-03-02")["reports"] == ["2026-02-27", "2026-03-02"]
    # The client audience gets the same shape (names and dates are written for the client).
    assert trend(project, "--audience", "client") == doc


def test_a_milestone_added_later_has_points_only_from_then_on(project: Path) -> None:
    sync(project, "2026-03-02")
    text = project.read_text()
    extra = milestone("3.1", name="Rollout", planned="2026-04-03", epic="E-3")
    write_config(
        project,
        client(
            "acme",
            name="Acme Corp",
            sources=[source(path="acme/page-*.json")],
            milestones=[
                milestone("1.1", name="Pipeline", planned="2026-03-06", epic="E-1"),
                milestone("2.1", name="Model", planned="2026-03-20", epic="E-2"),
                extra,
            ],
        ),
    )
    assert project.read_text() != text
    sync(project, "2026-03-09")
    doc = trend(project)
    rollout = next(m for m in doc["milestones"] if m["id"] == "3.1")
    assert [p["report"] for p in rollout["series"]] == ["2026-03-09"]


def test_trend_png_is_the_chart(project: Path, tmp_path: Path) -> None:
    sync(project, "2026-03-02")
    sync(project, "2026-03-09")
    out = tmp_path / "trend.png"
    result = run(
        [
            "trend",
            "--config",
            str(project),
            "--client",
            "acme",
            "--format",
            "png",
            "--out",
            str(out),
        ]
    )
    assert result.code == 0, result.err
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (960, 720)  # 8 in at 120 dpi; one key row for two milestones


def test_trend_refuses_what_it_cannot_do(project: Path) -> None:
    [line] = run(["trend", "--config", str(project), "--client", "acme"]).lines
    assert line == "syncbot: error: no data yet for client acme: run `syncbot sync`"
    sync(project, "2026-03-02")
    result = run(["trend", "--config", str(project), "--client", "acme", "--format", "png"])
    assert result.code == 2 and "--out FILE" in result.err
    result = run(["trend", "--config", str(project), "--client", "nope"])
    assert result.code == 2 and "nope" in result.err


def test_syncbot_help_does_not_import_matplotlib_or_jinja() -> None:
    script = (
        "import sys\n"
        "from syncbot.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip().splitlines()[-1] == "[]"
