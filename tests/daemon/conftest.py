"""Daemon test fixtures: the project of `daemon_support` and a fake Slack on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_support import Project, fake_slack
from servers.slack import FakeSlack

from syncbot.daemon import scheduler


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from fake_slack()


@pytest.fixture
def project(tmp_path: Path, slack: FakeSlack) -> Iterator[Project]:
    found = Project(tmp_path / "project", slack)
    yield found
    found.close()


@pytest.fixture(autouse=True)
def _no_daemon_left_behind() -> Iterator[None]:
    """Each test stops the daemons it starts; a leftover one would run another test's jobs."""
    yield
    leftover = scheduler._current
    if leftover is not None:
        leftover.stop(0)
        pytest.fail("a test left a daemon scheduled")
