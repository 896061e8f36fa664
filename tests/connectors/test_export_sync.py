"""Export sources through `syncbot check` / `syncbot sync`, as a user runs them: `project` on an
export (SPEC §3 v2) and missing page files that must not delete stored tickets (issue 15 #5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenario import jira_issue, write_pages
from support import configs

from syncbot.cli import main
from syncbot.store import Store


def dallas(**source_keys: str) -> configs.Table:
    """A client whose export source was copied from a live one (`project`), `path` added."""
    return configs.client(
        "dal",
        name="Dallas",
        client_channel="CDAL",
        sources=[configs.source(project="DAL", path="jira/page-*.json", **source_keys)],
        milestones=[configs.milestone("1", name="Pilot", epic="DAL-100")],
    )


SOURCE = "jira-export:jira/page-*.json"


def issue(key: str, project: str) -> dict[str, object]:
    return jira_issue(
        key, summary=f"Work {key}", parent={"key": "DAL-100"}, project={"key": project}
    )


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    write_pages(
        tmp_path / "jira",
        [
            {"issues": [issue("DAL-1", "DAL"), issue("OPS-1", "OPS")], "nextPageToken": "t2"},
            {"issues": [issue("DAL-2", "DAL"), issue("DAL-3", "DAL")], "nextPageToken": "t3"},
            {"issues": [issue("DAL-4", "DAL")], "isLast": True},
        ],
    )
    return configs.write_config(tmp_path / "syncbot.toml", dallas())


def stored(config: Path) -> list[str]:
    store = Store(f"sqlite:///{config.parent / 'state.db'}")
    try:
        return sorted(t.key for t in store.tickets.load("dal", [SOURCE]))
    finally:
        store.close()


def test_check_accepts_project_on_an_export_and_refuses_jql(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(config)]) == 0

    configs.write_config(config, dallas(jql="project = DAL"))
    capsys.readouterr()
    assert main(["check", "--config", str(config)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{config}: clients[0].sources[0].jql: not used by kind 'jira-export' "
        "(filter with project); remove it"
    )


def test_project_filters_the_recorded_tickets(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--config", str(config)]) == 0

    assert stored(config) == ["DAL-1", "DAL-2", "DAL-3", "DAL-4"]
    assert "ignored 1 ticket outside project 'DAL'" in capsys.readouterr().out


def test_a_missing_page_file_never_deletes_stored_tickets(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "--config", str(config)]) == 0
    (config.parent / "jira" / "page-2.json").unlink()
    capsys.readouterr()

    assert main(["sync", "--config", str(config), "--full"]) == 0

    out = capsys.readouterr().out
    assert "page file page-2.json missing; not a complete read" in out
    assert stored(config) == ["DAL-1", "DAL-2", "DAL-3", "DAL-4"]  # DAL-2/3 kept

    # Only page-1 left, and it says another page follows: still not a complete read.
    (config.parent / "jira" / "page-3.json").unlink()
    write_pages(
        config.parent / "jira", [{"issues": [issue("DAL-1", "DAL")], "nextPageToken": "t2"}]
    )
    assert main(["sync", "--config", str(config), "--full"]) == 0
    assert stored(config) == ["DAL-1", "DAL-2", "DAL-3", "DAL-4"]


def test_odd_json_in_an_export_fails_that_source_in_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (config.parent / "jira" / "page-2.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)

    assert main(["sync", "--config", str(config)]) == 2

    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    [line] = [line for line in captured.out.splitlines() if "FAILED" in line]
    assert line.endswith("page-2.json: not usable JSON (JSON nested too deeply to read)")
