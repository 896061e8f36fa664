"""The Slack tests' environment: the marker scenario synced into a store, and a fake Slack.

The scenario is tests/scenario.py's `leaky_scenario` (markers in every internal ticket field),
with an approver for `mrk`. Both clients share the internal channel CINT; their client
channels are CMRK and CGLX. Time is pinned with time-machine: NOW is Tuesday 2026-03-10
15:00 UTC, so mrk's internal period is Monday 2026-03-09 09:00 CDT and its client
(fortnightly, weeks counted from the 2026-01-09 baseline week) period Monday 2026-03-02.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import time_machine
from servers.slack import TOKEN, FakeSlack

from syncbot.app import Syncbot
from syncbot.cli import main
from syncbot.config import LoadedConfig, load_config
from syncbot.settings import Settings
from syncbot.store import Store

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
AS_OF = "2026-03-10"
APPROVER = "U0SPONSOR"
CHANNELS = ("CINT", "CMRK", "CGLX")
SIGNING_SECRET = "test-signing-secret"


@dataclass
class Env:
    root: Path
    config: Path
    db_url: str
    slack: FakeSlack
    _store: Store | None = None

    def loaded(self) -> LoadedConfig:
        return load_config(self.config)

    def store(self) -> Store:
        """The test's own handle on the state database (the code under test opens its own)."""
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.db_url,
            "slack_bot_token": TOKEN,
            "slack_api_url": self.slack.api_url,
            "slack_signing_secret": SIGNING_SECRET,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    def app(self, **overrides: Any) -> Syncbot:
        """The application object on the test's store, its clock pinned at NOW."""
        return Syncbot(self.loaded(), self.settings(**overrides), self.store(), lambda: NOW)

    def sync(self, at: dt.datetime = NOW) -> None:
        with time_machine.travel(at, tick=False):
            assert main(["sync", "--config", str(self.config)]) == 0

    def edit_issue(self, key: str, **fields: Any) -> None:
        """Change a ticket in the recorded Jira pages (then `sync()` to see it)."""
        for page in sorted((self.root / "data" / "jira").glob("page-*.json")):
            data = json.loads(page.read_text())
            for issue in data["issues"]:
                if issue["key"] == key:
                    issue["fields"].update(fields)
                    issue["fields"]["updated"] = "2026-03-11T10:00:00.000-0600"
            page.write_text(json.dumps(data))

    def require_review(self, client_id: str, reviewers: list[str]) -> None:
        """`client_review = "required"` for one client of the scenario, with `reviewers`."""
        text = self.config.read_text()
        start = text.index(f'id = "{client_id}"')
        end = text.index('client_review = "off"', start)
        at = end + len('client_review = "off"')
        review = f'client_review = "required"\nreviewers = {json.dumps(reviewers)}'
        self.config.write_text(text[:end] + review + text[at:])

    def add_milestones(self, count: int, *, name_length: int = 120) -> None:
        """Many milestones for mrk (all on epic MRK-100): a digest long enough to split."""
        extra = "".join(
            f'\n[[clients.milestones]]\nid = "x{i}"\nname = "{_long_name(i, name_length)}"\n'
            f'phase = "Data Preparation"\nplanned = 2026-03-06\nmatch = {{ epic = "MRK-100" }}\n'
            for i in range(count)
        )
        text = self.config.read_text()
        marker = '\n[[clients]]\nid = "glx"'
        self.config.write_text(text.replace(marker, extra + marker))


def _long_name(i: int, length: int) -> str:
    return f"Extra milestone {i:03d} " + "w" * max(0, length - 20)
