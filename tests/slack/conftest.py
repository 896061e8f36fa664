"""Slack test fixtures: a fake Slack on loopback and the `slack_env.Env` synced at NOW."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from scenario import leaky_scenario
from servers.slack import TOKEN, FakeSlack
from slack_env import APPROVER, CHANNELS, Env


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(channels=CHANNELS) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slack: FakeSlack) -> Iterator[Env]:
    """The scenario synced at NOW; SYNCBOT_* set for CLI runs against the fake Slack."""
    config = leaky_scenario(tmp_path / "data")
    config.write_text(
        config.read_text().replace(
            'client_channel = "CMRK"\n', f'client_channel = "CMRK"\napprovers = ["{APPROVER}"]\n'
        )
    )
    db_url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("SYNCBOT_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SYNCBOT_SLACK_API_URL", slack.api_url)
    monkeypatch.setenv("SYNCBOT_CONFIG", str(config))
    # CLI runs must not really wait: pacing and 5xx back-off are tested with injected sleeps.
    monkeypatch.setenv("SYNCBOT_SLACK_POST_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS", "0")
    found = Env(tmp_path, config, db_url, slack)
    found.sync()
    yield found
    found.store().close()
