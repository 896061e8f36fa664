"""Tracker answers that must fail one source cleanly through `syncbot sync`, the other sources
syncing: odd JSON (issue 15 #10) and answers trickled past the source timeout (issue 15 #8)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.base import Response
from servers.jira import EMAIL, TOKEN, FakeJira, at
from servers.linear import API_KEY, FakeLinear, utc
from support import configs

from syncbot.cli import main
from syncbot.store import Store

CONFIG = configs.client(
    "acme",
    client_channel="CACME",
    sources=[configs.source("jira", project="ACME"), configs.source("linear", team="ENG")],
    milestones=[configs.milestone("1", name="Pilot", epic="ACME-100")],
)
JIRA, LINEAR = "jira:ACME", "linear:ENG"


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud") as server:
        for n in range(1, 4):
            server.add(f"ACME-{n}", updated=at(2026, 3, 1, 8, n), epic="ACME-100")
        yield server
    assert not server.crashes


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as server:
        for n in range(1, 4):
            server.add(f"ENG-{n}", updated=utc(2026, 3, 1, 14, n))
        yield server
    assert not server.crashes


@pytest.fixture
def config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jira: FakeJira, linear: FakeLinear
) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "SYNCBOT_JIRA_URL": jira.url,
        "SYNCBOT_JIRA_EMAIL": EMAIL,
        "SYNCBOT_JIRA_TOKEN": TOKEN,
        "SYNCBOT_LINEAR_API_URL": linear.api_url,
        "SYNCBOT_LINEAR_API_KEY": API_KEY,
        "SYNCBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
        "SYNCBOT_SOURCE_BACKOFF_SECONDS": "0",  # retries without waiting: tests never sleep
        "SYNCBOT_SOURCE_TIMEOUT_SECONDS": "2",
    }.items():
        monkeypatch.setenv(name, value)
    return configs.write_config(tmp_path / "syncbot.toml", CONFIG)


def sync(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], str]:
    code = main(["sync", "--config", str(config)])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def stored(config: Path) -> dict[str, list[str]]:
    store = Store(f"sqlite:///{config.parent / 'state.db'}")
    try:
        return {s: sorted(t.key for t in store.tickets.load("acme", [s])) for s in (JIRA, LINEAR)}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
        (b'{"issues": [], "x": ' + b"7" * 5000 + b"}", "a number with more than 4300 digits"),
    ],
    ids=["nested-100000-deep", "number-of-5000-digits"],
)
def test_odd_json_from_a_tracker_fails_that_source_and_the_others_sync(
    config: Path,
    jira: FakeJira,
    capsys: pytest.CaptureFixture[str],
    body: bytes,
    why: str,
) -> None:
    jira.fault(Response(200, body, {"Content-Type": "application/json"}), times=None)

    code, lines, err = sync(config, capsys)

    assert code == 1 and "Traceback" not in err
    assert lines[0] == f"acme/{JIRA}: FAILED: Jira's answer cannot be read ({why})"
    assert lines[1].startswith(f"acme/{LINEAR}: fetched 3 tickets")
    assert stored(config) == {JIRA: [], LINEAR: ["ENG-1", "ENG-2", "ENG-3"]}


def test_a_trickled_answer_fails_that_source_within_the_timeout(
    config: Path,
    jira: FakeJira,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 15 #8: 2 bytes/s kept `sync` hung past the source timeout."""
    monkeypatch.setenv("SYNCBOT_SOURCE_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("SYNCBOT_SOURCE_RETRIES", "0")
    jira.trickle(rate=20, times=None, path="/search")
    started = time.monotonic()

    code, lines, err = sync(config, capsys)

    assert time.monotonic() - started < 30  # the answer would take many minutes
    assert code == 1 and "Traceback" not in err
    assert lines[0] == (
        f"acme/{JIRA}: FAILED: Jira search page 1 failed: no complete answer within 0.5 s "
        "(gave up after 1 attempt over 0 s)"
    )
    assert lines[1].startswith(f"acme/{LINEAR}: fetched 3 tickets")
