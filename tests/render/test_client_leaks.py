"""Nothing internal reaches a client-facing output: markers planted in every internal field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scenario import CLIENT_SAFE, MARK, leaky_scenario

from syncbot.cli import main

AS_OF = "2026-03-10"


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = leaky_scenario(tmp_path / "data")
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    assert main(["sync", "--config", str(config), "--as-of", AS_OF]) == 0
    return config


def _run(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr()
    return out.out + out.err


@pytest.mark.parametrize("client", ["mrk", "glx"])
@pytest.mark.parametrize(
    "command",
    [
        ["status", "--format", "json"],
        ["status", "--format", "text"],
        ["digest", "--format", "text"],
        ["digest", "--format", "blocks"],
        ["digest", "--format", "json"],
    ],
)
def test_client_outputs_carry_no_internal_detail(
    synced: Path, capsys: pytest.CaptureFixture[str], client: str, command: list[str]
) -> None:
    out = _run(
        capsys,
        [
            *command,
            "--config",
            str(synced),
            "--client",
            client,
            "--audience",
            "client",
            "--as-of",
            AS_OF,
        ],
    )
    assert MARK not in out
    for key in ("MRK-1", "MRK-2", "MRK-3", "MRK-9", "MRK-100", "GLX-1", "GLX-2"):
        assert key not in out
    # The dependency's summary and owner name are written for the client and do show.
    assert CLIENT_SAFE[0] in out
    assert CLIENT_SAFE[1] in out


@pytest.mark.parametrize("client", ["mrk", "glx"])
def test_internal_view_does_show_the_detail(
    synced: Path, capsys: pytest.CaptureFixture[str], client: str
) -> None:
    """Guards the leak test itself: the markers really are in the data the renderers see."""
    out = _run(capsys, ["digest", "--config", str(synced), "--client", client, "--as-of", AS_OF])
    assert MARK in out
    key = "MRK-9" if client == "mrk" else "GLX-2"
    assert key in out


def test_client_dependency_ids_are_opaque_and_stable(
    synced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "status",
        "--config",
        str(synced),
        "--client",
        "mrk",
        "--audience",
        "client",
        "--format",
        "json",
        "--as-of",
        AS_OF,
    ]
    first = json.loads(_run(capsys, args))
    second = json.loads(_run(capsys, args))
    [dep] = first["dependencies"]
    assert dep["id"].startswith("dep-") and "MRK" not in dep["id"]
    assert second["dependencies"][0]["id"] == dep["id"]
    assert first["milestones"][1]["blocked_by"] == [dep["id"]]
