"""The store on SQLite and PostgreSQL: idempotent re-sync, reconcile, failures keep data."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from scenario import jira_issue, write_pages
from support.cli import ok
from support.configs import client, milestone, source, write_config

from syncbot.domain import Progress, StatusChange, Ticket
from syncbot.errors import StoreError
from syncbot.store import MilestoneSnapshot, Store

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[1]


def ticket(key: str, updated: dt.datetime = T0, **kw: object) -> Ticket:
    base = Ticket(
        key=key,
        tracker="jira",
        title=f"title {key}",
        status="To Do",
        progress=Progress.TODO,
        created=T0 - dt.timedelta(days=30),
        updated=updated,
        due=dt.date(2026, 3, 9),
        labels=("a", "b"),
        blocked_by=("X-1",),
        history=(StatusChange(T0, "To Do", "Blocked"),),
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_tickets_round_trip_exactly(store: Store) -> None:
    original = ticket(
        "A-1",
        completed=T0,
        assignee_email="a@b.test",
        created=dt.datetime(2026, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-6))),
    )
    store.tickets.save("acme", "src", [original], complete=True, cursor="c1", at=T0)
    [loaded] = store.tickets.load("acme", ["src"])
    assert loaded == original


def test_resync_of_same_data_is_idempotent(store: Store) -> None:
    tickets = [ticket("A-1"), ticket("A-2")]
    for _ in range(3):
        count = store.tickets.save("acme", "src", tickets, complete=True, cursor="c", at=T0)
    assert count == 2
    assert store.tickets.load("acme", ["src"]) == tickets
    assert store.tickets.records("acme")["src"].tickets == 2


def test_incremental_merge_and_full_reconcile(store: Store) -> None:
    store.tickets.save(
        "acme",
        "src",
        [ticket("A-1"), ticket("A-2")],
        complete=True,
        cursor="2026-03-01T12:00:00+00:00",
        at=T0,
    )
    changed = ticket("A-2", updated=T0 + dt.timedelta(hours=1), title="renamed")
    store.tickets.save(
        "acme",
        "src",
        [changed, ticket("A-3")],
        complete=False,
        cursor="2026-03-01T13:00:00+00:00",
        at=T0,
    )
    assert [t.key for t in store.tickets.load("acme", ["src"])] == ["A-1", "A-2", "A-3"]
    assert store.tickets.load("acme", ["src"])[1].title == "renamed"
    assert store.tickets.records("acme")["src"].cursor == "2026-03-01T13:00:00+00:00"
    store.tickets.save("acme", "src", [ticket("A-3")], complete=True, cursor=None, at=T0)
    assert [t.key for t in store.tickets.load("acme", ["src"])] == ["A-3"]


def test_clients_and_sources_are_isolated(store: Store) -> None:
    store.tickets.save("acme", "src", [ticket("A-1")], complete=True, cursor=None, at=T0)
    store.tickets.save("globex", "src", [ticket("G-1")], complete=True, cursor=None, at=T0)
    assert [t.key for t in store.tickets.load("acme", ["src"])] == ["A-1"]
    assert store.tickets.load("acme", ["other"]) == []


def test_failure_keeps_tickets_and_marks_the_source(store: Store) -> None:
    store.tickets.save("acme", "src", [ticket("A-1")], complete=True, cursor="c", at=T0)
    store.tickets.record_failure("acme", "src", "boom", T0 + dt.timedelta(hours=1))
    record = store.tickets.records("acme")["src"]
    assert record.last_error == "boom" and record.last_success == T0
    assert record.last_attempt == T0 + dt.timedelta(hours=1)
    assert [t.key for t in store.tickets.load("acme", ["src"])] == ["A-1"]


def test_snapshots_keep_history_per_as_of_date(store: Store) -> None:
    day1, day2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
    store.history.save("acme", day1, [MilestoneSnapshot("2.1", day1, day1, None, "on_track")], T0)
    store.history.save("acme", day2, [MilestoneSnapshot("2.1", day2, day2, None, "at_risk")], T0)
    store.history.save("acme", day2, [MilestoneSnapshot("2.1", day2, day2, None, "delayed")], T0)
    history = store.history.load("acme")
    assert list(history) == [day1, day2]
    assert [s.status for s in history[day2]] == ["delayed"]


def test_installation_secret_is_stable(store: Store) -> None:
    assert store.meta.installation_secret() == store.meta.installation_secret()
    assert len(store.meta.installation_secret()) == 32


def test_concurrent_first_requests_agree_on_one_installation_secret(store: Store) -> None:
    """50 first requests at once (each its own Store, as separate daemons would be) all get
    the one secret that was stored; none fails on the unique key."""
    import concurrent.futures
    import threading

    barrier = threading.Barrier(50)

    def first() -> bytes:
        mine = Store(store.url)
        try:
            barrier.wait()
            return mine.meta.installation_secret()
        finally:
            mine.close()

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        secrets = list(pool.map(lambda _: first(), range(50)))
    assert len(set(secrets)) == 1 and secrets[0] == store.meta.installation_secret()


def test_a_request_id_is_first_once_for_every_daemon_and_every_later_run(store: Store) -> None:
    """PostgreSQL: another daemon's Store agrees at once. SQLite (one daemon per file): the
    same Store at once, the next run's after a graceful stop."""
    window = dt.timedelta(minutes=5)
    assert store.seen.first("slack", "v0=abc", T0, window)
    assert not store.seen.first("slack", "v0=abc", T0 + dt.timedelta(minutes=1), window)
    assert store.seen.first("slack", "v0=other", T0, window)
    if store.db.is_sqlite:
        store.seen.close()  # what a graceful stop does: pending ids are written
    later = Store(store.url)
    try:
        assert not later.seen.first("slack", "v0=abc", T0 + dt.timedelta(minutes=2), window)
        assert later.seen.first("slack", "v0=abc", T0 + dt.timedelta(minutes=6), window)
        assert later.seen.first("webhook", "v0=abc", T0, window)  # kinds do not mix
    finally:
        later.close()


def test_concurrent_copies_of_one_request_let_exactly_one_through(store: Store) -> None:
    barrier = threading.Barrier(20)

    def first(_: int) -> bool:
        barrier.wait()
        return store.seen.first("slack", "v0=same", T0, dt.timedelta(minutes=5))

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        assert sorted(pool.map(first, range(20))) == [False] * 19 + [True]


def test_bad_database_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        Store("not a url")


def test_cursor_advances_by_instant_not_by_string(store: Store) -> None:
    """After the autumn DST change a later instant can sort lower as a string."""
    summer = "2026-11-01T01:50:00-05:00"  # 06:50 UTC
    winter = "2026-11-01T01:10:00-06:00"  # 07:10 UTC: later, yet "01:10" < "01:50"
    store.tickets.save("acme", "src", [], complete=False, cursor=summer, at=T0)
    store.tickets.save("acme", "src", [], complete=False, cursor=winter, at=T0)
    assert store.tickets.records("acme")["src"].cursor == winter
    store.tickets.save("acme", "src", [], complete=False, cursor=summer, at=T0)
    assert store.tickets.records("acme")["src"].cursor == winter


def test_tickets_stored_by_the_first_version_still_load() -> None:
    """0.1 stored each status change as a list [at, from, to]."""
    from syncbot.codec import ticket_from_json, ticket_to_json

    original = ticket("A-1")
    data = ticket_to_json(original)
    data["history"] = [[c["at"], c["from_status"], c["to_status"]] for c in data["history"]]
    assert ticket_from_json(data) == original


def test_tickets_the_store_cannot_hold_are_skipped_and_named(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 200-character key, a NUL, an `updated` in the year 9999: on PostgreSQL each failed
    the whole source on every sync ("...Query-invoked autoflush..."). Now each is skipped,
    counted and named, and the good tickets are stored."""
    good = jira_issue("MRK-1", summary="fine", parent={"key": "MRK-100"})
    long_key = jira_issue("MRK-" + "9" * 200, summary="long key")
    nul = jira_issue("MRK-2", summary="a \x00 in the title")
    future = jira_issue("MRK-3", summary="far", updated="9999-01-01T10:00:00.000-0600")
    write_pages(tmp_path / "jira", [{"issues": [good, long_key, nul, future], "isLast": True}])
    config = write_config(
        tmp_path / "syncbot.toml",
        client("mrk", sources=[source(path="jira/page-*.json")], milestones=[milestone("1")]),
    )
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", store_url)
    for _ in range(2):  # and again: the source keeps working
        out = ok(["sync", "--config", str(config)])
        assert "1 stored" in out
        assert "skipped 2 tickets the store cannot hold" in out
        assert "MRK-9999" in out and "MRK-2: contains a NUL" in out
        assert "skipped 1 malformed ticket in page-1.json (MRK-3.updated:" in out  # year 9999


def test_two_first_syncs_at_once_on_a_fresh_store_both_succeed(
    store_url: str, tmp_path: Path
) -> None:
    """Both create the tables and the source's row at the same moment: one wins each race
    and the other uses what it wrote (no "Query-invoked autoflush" failure)."""
    issues = [jira_issue(f"MRK-{n}", summary=f"t{n}", parent={"key": "MRK-100"}) for n in range(30)]
    write_pages(tmp_path / "jira", [{"issues": issues, "isLast": True}])
    config = write_config(
        tmp_path / "syncbot.toml",
        client("mrk", sources=[source(path="jira/page-*.json")], milestones=[milestone("1")]),
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SYNCBOT_DATABASE_URL": store_url}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "syncbot", "sync", "--config", str(config)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        assert "30 stored" in out and "autoflush" not in err
