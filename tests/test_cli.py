"""The command line: exit codes, one-line errors, and the commands of SPEC §2."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from scenario import jira_issue, leaky_scenario, write_pages
from support.cli import ok, run, status_json
from support.configs import client, milestone, source, write_config

from syncbot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _err(capsys: pytest.CaptureFixture[str], args: list[str], code: int = 2) -> list[str]:
    capsys.readouterr()
    assert main(args) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err.strip().splitlines()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return leaky_scenario(tmp_path / "data")


def test_missing_config_file_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    [line] = _err(capsys, ["check", "--config", str(tmp_path / "nope.toml")])
    assert "nope.toml" in line and "not found" in line


def test_config_defaults_to_env_variable(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBOT_CONFIG", str(config))
    capsys.readouterr()
    assert main(["check"]) == 0
    assert "OK (2 clients, 3 milestones)" in capsys.readouterr().out


def test_check_reports_every_problem_with_file_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("""
[[clients]]
id = "Acme Corp"
name = "Acme"
internal_channel = "C1"
client_channel = "C2"
timezone = "Mars/Olympus"
colour = "blue"
[[clients.sources]]
kind = "trello"
[[clients.milestones]]
id = "1"
name = "A"
phase = "P"
planned = "2026-02-30"
match = { epik = "X-1" }
[[clients.milestones]]
id = "1"
name = "B"
phase = "P"
planned = 2026-03-01
weight = -1
match = { label = "x" }
""")
    lines = _err(capsys, ["check", "--config", str(bad)])
    text = "\n".join(lines)
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert "clients[0].id: must match" in text
    assert "clients[0].timezone: unknown timezone 'Mars/Olympus'" in text
    assert "clients[0].colour: unknown key" in text
    assert "clients[0].sources[0].kind: must be one of" in text and "'trello'" in text
    assert "clients[0].milestones[0].planned: not a valid date" in text
    assert "clients[0].milestones[0].match.epik: unknown key" in text
    assert "clients[0].milestones[1].weight" in text


def test_impossible_toml_date_names_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("""[[clients]]
id = "a"
[[clients.milestones]]
id = "1"
[[clients.milestones]]
id = "2"
[[clients.milestones]]
id = "3"
planned = 2026-02-30
""")
    [line] = _err(capsys, ["check", "--config", str(bad)])
    assert line == f"{bad}: clients[0].milestones[2].planned: not a valid date: 2026-02-30 (line 9)"


def test_semantic_problems(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    text = config.read_text()
    text = text.replace('id = "glx"', 'id = "mrk"').replace('id = "2.1"', 'id = "1.1"')
    text = text.replace('path = "linear/page-*.json"', 'path = "nowhere/*.json"')
    text += (
        '\n[[clients.milestones]]\nid = "B"\nname = "x"\nphase = "y"\n'
        'planned = 2026-01-01\nmatch = { epic = "GLX-1" }\n'
    )
    config.write_text(text)
    text_out = "\n".join(_err(capsys, ["check", "--config", str(config)]))
    assert "clients[1].id: duplicate client id 'mrk'" in text_out
    assert "clients[0].milestones[1].id: duplicate milestone id '1.1'" in text_out
    assert "clients[1].sources[0].path: no files match 'nowhere/*.json'" in text_out
    assert (
        "clients[1].milestones[1].match.epic: matches Jira tickets but this client has "
        "no Jira source" in text_out
    )


def test_secret_in_config_is_refused_with_a_hint(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(
        config.read_text().replace('kind = "jira-export"', 'kind = "jira-export"\napi_token = "x"')
    )
    [line] = _err(capsys, ["check", "--config", str(config)])
    assert "clients[0].sources[0].api_token: unknown key; secrets never go in the config" in line


def test_check_requires_tracker_secrets_for_live_sources(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text(
        config.read_text().replace(
            'kind = "jira-export"\npath = "jira/page-*.json"', 'kind = "jira"\nproject = "MRK"'
        )
    )
    url, token = _err(capsys, ["check", "--config", str(config)])
    assert url.endswith(
        "clients[0].sources[0]: kind 'jira' needs SYNCBOT_JIRA_URL in the environment or .env"
    )
    assert "SYNCBOT_JIRA_PAT (Data Center)" in token
    monkeypatch.setenv("SYNCBOT_JIRA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SYNCBOT_JIRA_PAT", "secret-pat")
    capsys.readouterr()
    assert main(["check", "--config", str(config)]) == 0


def test_bad_arguments_are_one_line(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["status", "--config", str(config), "--client", "mrk", "--as-of", "2026-13-01"])
    assert exc.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "--as-of" in line and "2026-13-01" in line


def test_unknown_client(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    [line] = _err(capsys, ["status", "--config", str(config), "--client", "nobody"])
    assert "unknown client 'nobody'" in line and "mrk, glx" in line


def test_sync_reports_per_source_and_skips_malformed(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    page = config.parent / "jira" / "page-2.json"
    data = json.loads(page.read_text())
    data["issues"].append({"key": "MRK-77", "fields": {"summary": "no status"}})
    data["issues"].append({"fields": {}})
    page.write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["sync", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("mrk/jira-export:jira/page-*.json: fetched 4 tickets (2 pages")
    assert "skipped 2 malformed tickets in page-2.json (" in out[0]
    assert out[1].startswith("glx/linear-export:linear/page-*.json: fetched 3 tickets")


def test_non_json_export_fails_that_source_and_keeps_the_store(config: Path) -> None:
    ok(["sync", "--config", str(config)])
    (config.parent / "jira" / "page-2.json").write_text("{not json")
    result = run(["sync", "--config", str(config)])
    assert result.code == 2
    out = result.out.splitlines()
    assert "FAILED" in out[0] and "page-2.json: not valid JSON" in out[0]
    assert "FAILED" not in out[1]  # the other client's source still synced
    doc = status_json(config, "mrk", as_of="2026-03-10")
    assert sum(m["tickets_total"] for m in doc["milestones"]) == 3  # nothing lost
    assert doc["stale"] is False  # one failed read is not news yet (`rules.freshness`)
    # Still failing two sync intervals later: the data is stale, and status says so.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=25)
    with time_machine.travel(later, tick=False):
        assert run(["sync", "--config", str(config)]).code == 2
        doc = status_json(config, "mrk", as_of="2026-03-10")
    assert doc["stale"] is True
    assert any(w["kind"] == "stale_source" for w in doc["warnings"])


def test_digest_formats(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    assert main(["sync", "--config", str(config)]) == 0
    base = ["digest", "--config", str(config), "--client", "mrk", "--as-of", "2026-03-10"]
    capsys.readouterr()
    assert main([*base, "--format", "blocks"]) == 0
    payload = json.loads(capsys.readouterr().out)
    [message] = payload["messages"]
    assert message["blocks"][0]["type"] == "header"
    assert main([*base, "--format", "json", "--audience", "client"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["audience"] == "client" and doc["since"] == "2026-02-24"
    assert [s["heading"] for s in doc["sections"]] == [
        "Where we are",  # the current phase and what comes next
        "Milestones",
        "Completed since 2026-02-24",
        "In progress",
        "What we need from you",
        "Date changes",
    ]


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "syncbot", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("syncbot ")


def test_demo_prints_both_digests_for_both_clients(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    capsys.readouterr()
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.count("internal digest") >= 2 and out.count("project update") >= 2
    assert "State stored in" in out


def test_client_channel_must_not_be_an_internal_channel(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    # Both clients use CINT as their internal channel; make it glx's client channel too.
    config.write_text(
        config.read_text().replace('client_channel = "CGLX"', 'client_channel = "CINT"')
    )
    assert _err(capsys, ["check", "--config", str(config)]) == [
        (
            f"{config}: clients[1].client_channel: 'CINT' is also clients[0]'s internal_channel; "
            "internal detail would reach the client"
        ),
        (
            f"{config}: clients[1].client_channel: 'CINT' is also its own internal_channel; "
            "internal detail would reach the client"
        ),
    ]


def test_two_clients_in_one_client_channel(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(
        config.read_text().replace('client_channel = "CGLX"', 'client_channel = "CMRK"')
    )
    [line] = _err(capsys, ["check", "--config", str(config)])
    assert line == (
        f"{config}: clients[1].client_channel: 'CMRK' is also "
        "clients[0].client_channel; one client would see another's project"
    )


def test_bad_environment_settings_are_one_line(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBOT_PORT", "eighty")
    monkeypatch.setenv("SYNCBOT_LOG_FORMAT", "xml")
    [line] = _err(capsys, ["check", "--config", str(config)])
    assert line.startswith("syncbot: error: SYNCBOT_PORT: input should be a valid integer")
    assert (
        "(got 'eighty')" in line and "SYNCBOT_LOG_FORMAT: input should be 'text' or 'json'" in line
    )


def test_counts_in_the_check_line_agree_in_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBOT_JIRA_URL", "https://jira.example.test")
    monkeypatch.setenv("SYNCBOT_JIRA_PAT", "a-token")
    config = write_config(
        tmp_path / "one.toml",
        client("acme", sources=[source("jira", project="ACME")], milestones=[milestone("1")]),
    )
    assert "OK (1 client, 1 milestone)" in ok(["check", "--config", str(config)])


def test_check_reads_the_export_files_so_broken_json_is_caught_there(config: Path) -> None:
    (config.parent / "jira" / "page-2.json").write_text("{not json")
    result = run(["check", "--config", str(config)])
    assert result.code == 2 and "Traceback" not in result.err
    [line] = result.lines
    assert line.startswith(f"{config}: clients[0].sources[0]: ") and "page-2.json" in line
    assert "not valid JSON" in line


def test_sync_names_milestones_that_match_nothing_and_counts_unmatched_tickets(
    config: Path,
) -> None:
    text = config.read_text().replace('epic = "MRK-101"', 'epic = "MRK-999"')
    config.write_text(text)
    out = ok(["sync", "--config", str(config)])
    assert "mrk: 1 milestone matched no ticket: 2.1 'Milestone two'; 2 tickets matched no " in out
    assert "glx: 1 ticket matched no milestone" in out  # the Linear dependency has no milestone


@pytest.mark.parametrize("command", ["status", "digest"])
def test_a_client_that_never_synced_has_no_data_yet(config: Path, command: str) -> None:
    result = run([command, "--config", str(config), "--client", "mrk"])
    assert result.code == 2
    assert result.lines == ["syncbot: error: no data yet for client mrk: run `syncbot sync`"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////etc/hostname/x.db", "/etc/hostname"),
        ("sqlite:////proc/nope/x.db", "/proc/nope"),
        ("postgresql+psycopg://bob:hunter2@127.0.0.1:notaport/db", "port is not a number"),
        ("postgresql+psycopg://bob@127.0.0.1:1/db?password=hunter2", "cannot open"),
        ("postgresql+psycopg://bob:hunter2@127.0.0.1:1/db", "cannot open"),
        ("nonsense", "not a database URL"),
    ],
)
def test_an_unusable_database_is_one_line_without_its_password(
    config: Path, monkeypatch: pytest.MonkeyPatch, url: str, shown: str
) -> None:
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", url)
    result = run(["sync", "--config", str(config)])
    assert "Traceback" not in result.err
    [line] = result.lines
    assert shown in line and "hunter2" not in line
    # Nothing listens on port 1: temporary (exit 1); a path or URL to fix: bad input (exit 2).
    assert result.code == (1 if ":1/" in url else 2)


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,
        "[a" + ".b" * 3000 + "]\nc = 1",
        "x = " + "{ y = " * 2000 + "1" + " }" * 2000,
    ],
    ids=["arrays", "tables", "inline-tables"],
)
def test_deeply_nested_toml_is_one_line(tmp_path: Path, text: str) -> None:
    config = tmp_path / "deep.toml"
    config.write_text(text)
    result = run(["check", "--config", str(config)])
    assert result.code == 2 and "Traceback" not in result.err
    assert result.lines and all(line.startswith(f"{config}: ") for line in result.lines)


def test_extreme_dates_in_tickets_never_break_a_client(tmp_path: Path) -> None:
    """A due date of 9999-12-31 is a "no date" placeholder; a ticket created in the year 1
    is skipped and counted. Neither raises OverflowError in sync, status or digest."""
    issues = [
        jira_issue("MRK-1", summary="someday", parent={"key": "MRK-100"}, duedate="9999-12-31"),
        jira_issue(
            "MRK-2",
            summary="ancient",
            parent={"key": "MRK-100"},
            created="0001-01-01T00:00:00.000+0000",
        ),
        jira_issue(
            "MRK-3",
            summary="dependency",
            labels=["client-dependency"],
            duedate="9999-12-31",
            issuelinks=[],
        ),
    ]
    write_pages(tmp_path / "jira", [{"issues": issues, "isLast": True}])
    config = write_config(
        tmp_path / "syncbot.toml",
        client(
            "mrk",
            sources=[source(path="jira/page-*.json")],
            milestones=[milestone("1", epic="MRK-100")],
        ),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
        out = ok(["sync", "--config", str(config)])
        assert "2 stored" in out and "skipped 1 malformed ticket" in out
        for as_of in ("2026-03-10", "9000-12-31"):
            doc = status_json(config, "mrk", as_of=as_of)
            assert doc["milestones"][0]["tickets_total"] == 1
            ok(["digest", "--config", str(config), "--client", "mrk", "--as-of", as_of])


def test_a_ticket_that_turns_malformed_keeps_its_last_good_version(config: Path) -> None:
    ok(["sync", "--config", str(config)])
    before = status_json(config, "mrk", as_of="2026-03-10")
    page = config.parent / "jira" / "page-1.json"
    data = json.loads(page.read_text())
    del data["issues"][1]["fields"]["status"]  # MRK-2 comes back without its status
    page.write_text(json.dumps(data))
    out = ok(["sync", "--config", str(config), "--full"])
    assert "skipped 1 malformed ticket" in out
    after = status_json(config, "mrk", as_of="2026-03-10")
    assert after["milestones"] == before["milestones"]  # MRK-2 is still counted, as it was


@pytest.mark.parametrize(
    ("milestone_keys", "schedule", "key"),
    [
        ({"planned": "9999-12-30"}, None, "clients[0].milestones[0].planned"),
        ({"planned": "0001-01-01"}, None, "clients[0].milestones[0].planned"),
        ({}, {"grace_minutes": 10**12}, "schedule.grace_minutes"),
    ],
)
def test_extreme_dates_and_durations_in_the_config_are_check_errors(
    tmp_path: Path, milestone_keys: dict[str, str], schedule: dict[str, int] | None, key: str
) -> None:
    config = write_config(
        tmp_path / "syncbot.toml",
        client("mrk", milestones=[milestone("1", **milestone_keys)]),  # type: ignore[arg-type]
        schedule=schedule,
    )
    result = run(["check", "--config", str(config)])
    assert result.code == 2 and "Traceback" not in result.err
    assert any(line.startswith(f"{config}: {key}: ") for line in result.lines), result.err


def test_an_extreme_as_of_is_one_line(config: Path) -> None:
    result = run(["status", "--config", str(config), "--client", "mrk", "--as-of", "0001-01-01"])
    assert result.code == 2 and "outside" in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ({"b": ["zz"]}, "clients[0].milestones[1].after: 'zz' is not a milestone of this client"),
        ({"a": ["a"]}, "clients[0].milestones[0].after: milestone 'a' cannot come after itself"),
        (
            {"a": ["c"], "b": ["a"], "c": ["b"]},
            "clients[0].milestones: 'after' forms a cycle: ",
        ),
    ],
    ids=["unknown", "itself", "cycle"],
)
def test_after_must_name_other_milestones_without_a_cycle(
    tmp_path: Path, after: dict[str, list[str]], expected: str
) -> None:
    milestones = [milestone(m, after=after.get(m, [])) for m in "abc"]
    write_pages(tmp_path / "mrk", [{"issues": [], "isLast": True}])
    config = write_config(tmp_path / "syncbot.toml", client("mrk", milestones=milestones))
    result = run(["check", "--config", str(config)])
    assert result.code == 2 and "Traceback" not in result.err
    [line] = result.lines
    assert line.startswith(f"{config}: {expected}")
    if "cycle" in expected:
        assert all(m in line for m in "abc")  # names the milestones involved


def test_a_note_for_an_unknown_milestone_is_one_line(config: Path) -> None:
    result = run(
        ["note", "--config", str(config), "--client", "mrk", "--milestone", "9.9", "--text", "x"]
    )
    assert result.code == 2 and "Traceback" not in result.err
    assert result.lines == ["client 'mrk' has no milestone '9.9' (milestones: 1.1, 2.1)"]
