"""`syncbot sync` against the local Jira and Linear stand-ins, as a user would run it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from servers.jira import EMAIL, PAT, TOKEN, FakeJira, at
from servers.linear import API_KEY, FakeLinear, utc
from support import configs
from support.cli import status_json

from syncbot.cli import main
from syncbot.store import Store

CONFIG = configs.client(
    "acme",
    client_channel="CACME",
    sources=[configs.source("jira", project="ACME"), configs.source("linear", team="ENG")],
    milestones=[
        configs.milestone(
            "2.1",
            name="Data pipeline operational",
            phase="Data Preparation",
            planned="2026-03-06",
            epic="ACME-100",
        ),
        configs.milestone(
            "3.1",
            name="Model in staging",
            phase="Deployment",
            planned="2026-03-20",
            match={"linear_milestone": "Staging"},
        ),
    ],
)
JIRA, LINEAR = "jira:ACME", "linear:ENG"
LINE = re.compile(
    r"acme/(?P<source>\S+): fetched (?P<fetched>\d+) tickets \((?P<pages>\d+) "
    r"pages, (?P<requests>\d+) requests\) in [\d.]+ s; (?P<stored>\d+) stored"
)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("cloud", max_page=10) as server:
        for n in range(1, 26):
            server.add(
                f"ACME-{n}",
                updated=at(2026, 3, 1, 8) + dt.timedelta(minutes=7 * n),
                epic="ACME-100",
            )
        yield server
    assert not server.crashes


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as server:
        for n in range(1, 121):
            server.add(
                f"ENG-{n}",
                updated=utc(2026, 3, 1, 14) + dt.timedelta(minutes=7 * n),
                milestone="Staging" if n <= 30 else None,
            )
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


def sync(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["sync", "--config", str(config), *args])
    return code, capsys.readouterr().out


def summary(out: str) -> dict[str, dict[str, int]]:
    return {
        m["source"]: {k: int(v) for k, v in m.groupdict().items() if k != "source"}
        for m in LINE.finditer(out)
    }


def stored(tmp_path: Path) -> dict[str, list[str]]:
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        return {
            name: sorted(t.key for t in store.tickets.load("acme", [name]))
            for name in (JIRA, LINEAR)
        }
    finally:
        store.close()


def test_a_full_sync_then_an_incremental_one_with_nothing_changed(
    config: Path, jira: FakeJira, linear: FakeLinear, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = sync(config, capsys)

    assert code == 0, out
    assert summary(out) == {
        JIRA: {"fetched": 25, "pages": 3, "requests": 3, "stored": 25},
        LINEAR: {"fetched": 120, "pages": 3, "requests": 3, "stored": 120},
    }
    milestones = {m["id"]: m for m in status_json(config, "acme", as_of="2026-03-10")["milestones"]}
    assert milestones["2.1"]["tickets_total"] == 25
    assert milestones["3.1"]["tickets_total"] == 30
    jira.reset_log()
    linear.reset_log()

    code, out = sync(config, capsys)

    assert code == 0, out
    assert jira.count(jira.search_path) == 1 and linear.count() == 1
    again = summary(out)
    assert again[JIRA] == {"fetched": 1, "pages": 1, "requests": 1, "stored": 25}
    assert again[LINEAR] == {"fetched": 1, "pages": 1, "requests": 1, "stored": 120}


def test_data_center_syncs_through_the_epic_link_field(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeJira("dc", max_page=10) as dc:
        for n in range(1, 26):
            dc.add(
                f"ACME-{n}", updated=at(2026, 3, 1, 8) + dt.timedelta(minutes=n), epic="ACME-100"
            )
        monkeypatch.setenv("SYNCBOT_JIRA_URL", dc.url)
        monkeypatch.setenv("SYNCBOT_JIRA_PAT", PAT)

        code, out = sync(config, capsys)

        assert code == 0, out
        assert summary(out)[JIRA] == {"fetched": 25, "pages": 3, "requests": 4, "stored": 25}
        assert {r.path for r in dc.requests} == {"/rest/api/2/field", "/rest/api/2/search"}
        # The Epic Link field id found then is kept: an unchanged incremental sync is 1 request.
        dc.reset_log()
        code, out = sync(config, capsys)
        assert code == 0 and summary(out)[JIRA]["requests"] == 1
        assert [r.path for r in dc.requests] == ["/rest/api/2/search"]
        code, out = sync(config, capsys, "--full")  # a full reconcile looks the field up again
        assert code == 0 and "/rest/api/2/field" in [r.path for r in dc.requests]
    milestones = {m["id"]: m for m in status_json(config, "acme", as_of="2026-03-10")["milestones"]}
    assert milestones["2.1"]["tickets_total"] == 25


def test_a_failed_sync_keeps_what_the_store_holds_and_marks_the_source_stale(
    config: Path,
    jira: FakeJira,
    linear: FakeLinear,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sync(config, capsys)[0] == 0
    before = stored(tmp_path)
    jira.rate_limit(times=None, retry_after=3600)
    linear.server_error(500, times=None)

    code, out = sync(config, capsys, "--full")

    assert code == 1  # a passing fault, not bad input
    lines = out.splitlines()
    assert (
        f"acme/{JIRA}: FAILED: Jira asked us to wait 3600 s before search page 1 "
        "(429 Too Many Requests), longer than SYNCBOT_SOURCE_MAX_WAIT_SECONDS=60; the next "
        "sync will try again"
    ) in lines
    assert any(
        line.startswith(f"acme/{LINEAR}: FAILED: Linear issues page 1 failed: ")
        and "500" in line
        and "gave up after 4 attempts" in line
        for line in lines
    )
    assert stored(tmp_path) == before
    # One failed sync is a blip; with no success for more than two intervals (2 x 10 min by
    # default) the sources are stale, and status says so.
    assert status_json(config, "acme", as_of="2026-03-10")["stale"] is False
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=21)
    with time_machine.travel(later, tick=False):
        doc = status_json(config, "acme", as_of="2026-03-10")
    assert doc["stale"] is True
    assert sum(w["kind"] == "stale_source" for w in doc["warnings"]) == 2  # type: ignore[attr-defined]


def test_tickets_that_left_go_at_the_next_full_reconcile(
    config: Path,
    jira: FakeJira,
    linear: FakeLinear,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sync(config, capsys)[0] == 0
    jira.remove("ACME-3")
    linear.add("ENG-5", updated=utc(2026, 3, 3), trashed=True)  # deleted in Linear

    assert sync(config, capsys)[0] == 0  # incremental: merges, never drops
    assert "ACME-3" in stored(tmp_path)[JIRA] and "ENG-5" in stored(tmp_path)[LINEAR]

    monkeypatch.setenv("SYNCBOT_FULL_RECONCILE_HOURS", "0")  # every sync reconciles
    code, out = sync(config, capsys)

    assert code == 0, out
    assert "ACME-3" not in stored(tmp_path)[JIRA] and "ENG-5" not in stored(tmp_path)[LINEAR]
    assert summary(out)[JIRA]["stored"] == 24 and summary(out)[LINEAR]["stored"] == 119


def test_sync_full_forces_a_reconcile(
    config: Path, jira: FakeJira, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sync(config, capsys)[0] == 0
    jira.remove("ACME-7")

    code, out = sync(config, capsys, "--full")

    assert code == 0 and summary(out)[JIRA]["fetched"] == 24
    assert "ACME-7" not in stored(tmp_path)[JIRA]


def test_a_refused_credential_fails_only_that_source_and_names_the_setting(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SYNCBOT_JIRA_TOKEN", "a-wrong-token")

    code, out = sync(config, capsys)

    assert code == 2  # the user's to fix
    assert (
        f"acme/{JIRA}: FAILED: Jira answered 401 Unauthorized: check "
        "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN"
    ) in out.splitlines()
    assert "a-wrong-token" not in out
    assert summary(out)[LINEAR]["stored"] == 120
    assert stored(tmp_path)[JIRA] == []


def test_a_reconcile_that_finds_nothing_keeps_the_store(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, linear: FakeLinear
) -> None:
    """A misspelt team or an emptied filter must not wipe what syncbot knows."""
    assert sync(config, capsys)[0] == 0
    for n in range(1, 121):
        linear.remove(f"ENG-{n}")
    code, out = sync(config, capsys, "--full")
    assert code == 2  # the user's to fix
    assert (
        f"acme/{LINEAR}: FAILED: returned no tickets at all; keeping the 120 stored rather "
        "than dropping them (check the source's project, team or jql)"
    ) in out.splitlines()
    assert len(stored(tmp_path)[LINEAR]) == 120


def test_a_rejected_jql_is_bad_input(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jql = configs.source("jira", jql="project = ACME AND (((")
    configs.write_config(config, {**CONFIG, "sources": [jql, CONFIG["sources"][1]]})
    code, out = sync(config, capsys)
    assert code == 2
    [line] = [line for line in out.splitlines() if "FAILED" in line]
    assert "Jira answered 400" in line and "check the source's jql" in line
