"""`syncbot check --live` against the local Jira, Linear and Slack: one call per tracker and
to Slack's auth.test, one conversations.info per configured channel, and one line naming the
setting or the channel to fix per failure."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers.jira import EMAIL, PAT, TOKEN, FakeJira
from servers.linear import API_KEY, FakeLinear
from servers.slack import TOKEN as SLACK_TOKEN
from servers.slack import FakeSlack
from support import cli, configs

CLIENTS = (
    configs.client(
        "acme",
        internal_channel="CINT",
        client_channel="CACME",
        sources=[configs.source("jira", project="ACME")],
    ),
    configs.client(
        "glx",
        internal_channel="CINT",  # shared with acme: asked about once
        client_channel="CGLX",
        sources=[configs.source("linear", team="ENG")],
    ),
)


@dataclass
class Live:
    config: Path
    jira: FakeJira
    linear: FakeLinear
    slack: FakeSlack

    def check(self) -> cli.Run:
        return cli.run(["check", "--live", "--config", str(self.config)])


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    config = configs.write_config(tmp_path / "syncbot.toml", *CLIENTS)
    with (
        FakeJira("cloud") as jira,
        FakeLinear() as linear,
        FakeSlack(channels=("CINT", "CACME", "CGLX")) as slack,
    ):
        for name, value in {
            "SYNCBOT_JIRA_URL": jira.url,
            "SYNCBOT_JIRA_EMAIL": EMAIL,
            "SYNCBOT_JIRA_TOKEN": TOKEN,
            "SYNCBOT_LINEAR_API_URL": linear.api_url,
            "SYNCBOT_LINEAR_API_KEY": API_KEY,
            "SYNCBOT_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SYNCBOT_SLACK_API_URL": slack.api_url,
            "SYNCBOT_SLACK_SIGNING_SECRET": "secret",
            "SYNCBOT_SOURCE_TIMEOUT_SECONDS": "10",
            "SYNCBOT_SOURCE_RETRIES": "3",  # a check never retries, whatever this says
        }.items():
            monkeypatch.setenv(name, value)
        yield Live(config, jira, linear, slack)


def test_everything_reachable_makes_one_call_each_and_exits_0(live: Live) -> None:
    result = live.check()
    assert result.code == 0, result.err
    assert "live: Jira OK (signed in as syncbot bot)" in result.out
    assert "live: Linear OK (signed in as syncbot bot)" in result.out
    assert "live: Slack OK (@syncbot in Fake, member of 3 channel(s))" in result.out
    assert [r.path for r in live.jira.requests] == ["/rest/api/3/myself"]
    assert live.linear.count() == 1 and "viewer" in live.linear.requests[0].json()["query"]
    calls = [(c.method, c.params.get("channel")) for c in live.slack.api_calls()]
    assert calls == [
        ("auth.test", None),
        ("conversations.info", "CINT"),
        ("conversations.info", "CACME"),
        ("conversations.info", "CGLX"),
    ]
    assert live.slack.posts() == []  # a check posts nothing


def test_jira_data_center_is_asked_through_rest_v2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live: Live
) -> None:
    with FakeJira("dc") as dc:
        monkeypatch.setenv("SYNCBOT_JIRA_URL", dc.url)
        monkeypatch.setenv("SYNCBOT_JIRA_PAT", PAT)
        result = live.check()
        assert result.code == 0, result.err
        assert [r.path for r in dc.requests] == ["/rest/api/2/myself"]


def test_a_refused_jira_token_is_one_line_naming_its_settings(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBOT_JIRA_TOKEN", "wrong")
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert line.startswith("Jira: ") and "401" in line
    assert "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN" in line and "wrong" not in line
    assert live.jira.count() == 1  # not retried


def test_an_unreachable_jira_names_its_url_setting(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeJira("cloud") as gone:
        url = gone.url
    monkeypatch.setenv("SYNCBOT_JIRA_URL", url)
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert "cannot connect" in line and "SYNCBOT_JIRA_URL" in line


def test_a_refused_linear_key_names_its_setting(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBOT_LINEAR_API_KEY", "lin_api_wrong")
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert line.startswith("Linear: ") and "SYNCBOT_LINEAR_API_KEY" in line
    assert "lin_api_wrong" not in result.err


def test_channels_the_bot_is_not_in_archived_or_unknown_are_one_line_each(live: Live) -> None:
    live.slack.not_in_channel.add("CACME")
    live.slack.archived.add("CINT")
    live.slack.channels = {"CINT", "CACME"}  # CGLX does not exist (or is private)
    result = live.check()
    assert result.code == 2
    lines = result.lines
    assert len(lines) == 3
    [internal] = [line for line in lines if "CINT" in line]
    assert "clients[0].internal_channel, clients[1].internal_channel" in internal
    assert "archived" in internal
    [acme] = [line for line in lines if "CACME" in line]
    assert "clients[0].client_channel" in acme and "/invite @syncbot" in acme
    [glx] = [line for line in lines if "CGLX" in line]
    assert "clients[1].client_channel" in glx and "no such channel" in glx
    assert all(line.startswith(f"{live.config}: ") for line in lines)


def test_a_bad_slack_token_or_one_that_may_not_post(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    live.slack.scopes = ["commands", "channels:read", "groups:read"]
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert "no chat:write scope" in line and "SYNCBOT_SLACK_BOT_TOKEN" in line

    monkeypatch.setenv("SYNCBOT_SLACK_BOT_TOKEN", "xoxb-wrong")
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert "invalid_auth" in line and "SYNCBOT_SLACK_BOT_TOKEN" in line
    assert "xoxb-wrong" not in result.err


def test_a_token_that_may_not_read_channels_says_so_once(live: Live) -> None:
    live.slack.scopes = ["chat:write", "commands"]
    result = live.check()
    assert result.code == 2
    [line] = result.lines
    assert "channels:read and groups:read" in line
    assert len(live.slack.api_calls("conversations.info")) == 1


def test_missing_credentials_are_reported_without_calling_anyone(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCBOT_LINEAR_API_KEY")
    monkeypatch.delenv("SYNCBOT_SLACK_BOT_TOKEN")
    result = live.check()
    assert result.code == 2
    assert any("needs SYNCBOT_LINEAR_API_KEY" in line for line in result.lines)
    assert any(
        line.startswith("Slack: SYNCBOT_SLACK_BOT_TOKEN is not set") for line in result.lines
    )
    assert live.linear.count() == 0 and live.slack.api_calls() == []
