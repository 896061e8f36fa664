"""A daemon runs at most `SYNCBOT_SYNC_CONCURRENCY` syncs at once (issue 9): at start every
client's sync is due, and each sync holds its client's tickets while it runs."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from servers.base import Request, Response
from servers.jira import EMAIL, TOKEN, FakeJira
from support import configs
from support.processes import wait_for

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.daemon.jobs import Jobs
from syncbot.metrics import Metrics
from syncbot.settings import Settings
from syncbot.store import Store

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


def test_syncs_beyond_the_concurrency_wait_for_a_slot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clients = ["a", "b", "c"]
    config = configs.write_config(
        tmp_path / "syncbot.toml",
        *(
            configs.client(c, sources=[configs.source("jira", project="ACME")], milestones=[])
            for c in clients
        ),
    )
    with FakeJira() as jira:
        jira.add("ACME-1", updated=NOW - dt.timedelta(days=1))
        release = threading.Event()
        lock = threading.Lock()
        inflight, peak = [0], [0]

        def slow(request: Request) -> Response:
            with lock:
                inflight[0] += 1
                peak[0] = max(peak[0], inflight[0])
            try:
                release.wait(30)
                return jira.handle(request)
            finally:
                with lock:
                    inflight[0] -= 1

        jira.fault(slow, times=None, path="/search")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            jira_url=jira.url,
            jira_email=EMAIL,
            jira_token=SecretStr(TOKEN),
            sync_concurrency=1,
        )
        store = Store(f"sqlite:///{tmp_path / 'state.db'}")
        app = Syncbot(load_config(config), settings, store, lambda: NOW)
        jobs = Jobs(app, poster=None, metrics=Metrics(), backoff=0)
        with caplog.at_level(logging.INFO, logger="syncbot.daemon.jobs"):
            threads = [threading.Thread(target=jobs.sync, args=(c,)) for c in clients]
            for t in threads:
                t.start()

            def waiting() -> int:
                said = [r for r in caplog.records if "waiting for one of the 1 sync" in r.message]
                return len(said) if len(said) == 2 and inflight[0] == 1 else 0

            wait_for("two syncs waiting for the one slot", waiting)
            release.set()
            for t in threads:
                t.join(30)
        assert peak[0] == 1  # never two syncs' requests at once
        assert all(r.last_success for c in clients for r in store.tickets.records(c).values())
        store.close()
