"""A client's state is computed once per change of what it is made of and kept (issue 9): in
memory by the process that computed it, in the store for the others. Answers made from it are
as fresh as the data: another process's sync, a note or a sign-off makes a new one; the
clock-dependent parts (staleness) are never frozen in it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from scenario import jira_issue, write_pages
from sqlalchemy import event, text
from support import configs

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.errors import NoData
from syncbot.settings import Settings
from syncbot.store import Store

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def issues(due: str) -> list[dict[str, object]]:
    return [
        {
            "issues": [
                jira_issue(
                    "ACME-1", summary="a", category="indeterminate", duedate=due, labels=["m-1"]
                ),
                jira_issue("ACME-2", summary="b", category="done", labels=["m-1"]),
            ],
            "isLast": True,
        }
    ]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_pages(tmp_path / "acme", issues("2026-03-12"))
    configs.write_config(
        tmp_path / "syncbot.toml",
        configs.client(
            "acme",
            milestones=[
                configs.milestone("1", planned="2026-03-13", match={"label": "m-1"}),
            ],
        ),
    )
    return tmp_path


@pytest.fixture
def store(folder: Path) -> Iterator[Store]:
    found = Store(f"sqlite:///{folder / 'state.db'}")
    yield found
    found.close()


def app(folder: Path, store: Store, clock: Clock | None = None) -> Syncbot:
    """One process's application object (each has its own memory)."""
    loaded = load_config(folder / "syncbot.toml")
    return Syncbot(loaded, Settings(_env_file=None), store, clock or Clock())  # type: ignore[call-arg]


def forecast(a: Syncbot) -> dt.date | None:
    [m] = a.state("acme").milestones
    return m.forecast


def test_a_sync_keeps_both_audiences_states_for_every_process(folder: Path, store: Store) -> None:
    other = app(folder, store)
    with pytest.raises(NoData):  # nothing synced yet: no state to keep, and it says so
        other.computed_if_kept("acme", "internal")
    app(folder, store).sync("acme")
    for audience in ("internal", "client"):
        kept = other.computed_if_kept("acme", audience)  # type: ignore[arg-type]
        assert kept is not None and kept.state.milestones[0].forecast == dt.date(2026, 3, 12)
    assert other.reply_if_kept("acme", "client", "status") is not None


def test_another_processs_sync_is_seen_at_once(folder: Path, store: Store) -> None:
    reader, syncer = app(folder, store), app(folder, store)
    syncer.sync("acme")
    assert forecast(reader) == dt.date(2026, 3, 12)
    write_pages(folder / "acme", issues("2026-03-20"))
    syncer.sync("acme")  # same clock reading: the generation, not the time, names the data
    assert forecast(reader) == dt.date(2026, 3, 20)


def test_a_note_or_a_sign_off_makes_a_new_state(folder: Path, store: Store) -> None:
    a = app(folder, store)
    a.sync("acme")
    a.note("acme", "1", "Waiting on the client's data", by="U0LEAD")
    assert a.computed_if_kept("acme", "client") is None  # not computed with the note yet
    [m] = a.state("acme", audience="client").milestones
    assert m.note == "Waiting on the client's data"
    a.note("acme", "1", None, by="U0LEAD")
    [m] = a.state("acme", audience="client").milestones
    assert m.note is None


def test_staleness_is_told_at_read_time_not_frozen_in_the_kept_state(
    folder: Path, store: Store
) -> None:
    clock = Clock()
    a = app(folder, store, clock)
    a.sync("acme")
    (folder / "acme" / "page-1.json").write_text("{not json")
    clock.now = NOW + dt.timedelta(minutes=5)
    a.sync("acme")  # fails: the stored tickets (and their state) stay
    clock.now = NOW + dt.timedelta(hours=3)
    state = a.state("acme")
    assert [s.stale for s in state.sources] == [True]
    [warning] = [w for w in state.warnings if w.kind.value == "stale_source"]
    assert "last refreshed 3 h ago" in warning.message
    clock.now = NOW + dt.timedelta(hours=5)
    [warning] = [w for w in a.state("acme").warnings if w.kind.value == "stale_source"]
    assert "last refreshed 5 h ago" in warning.message


def test_sqlite_uses_write_ahead_logging_so_readers_never_wait_for_a_sync(store: Store) -> None:
    with store.db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_what_another_process_writes_is_in_the_next_answer(folder: Path, store: Store) -> None:
    """The stored inputs are read again whenever the client's change counter moved: a note,
    a sign-off or a failed sync written by another process (its own Store)
    shows in this process's next answer, with no other read in between."""
    reader = app(folder, store)
    app(folder, store).sync("acme")
    assert reader.computed_if_kept("acme", "client") is not None
    other = Store(store.url)
    try:
        stamp = store.changes.stamp("acme")
        other.notes.set("acme", "1", "Root cause: late data", "U0LEAD", NOW)
        assert store.changes.stamp("acme") > stamp
        [m] = reader.state("acme", audience="client").milestones
        assert m.note == "Root cause: late data"
        [source] = reader.freshness("acme")
        other.tickets.record_failure("acme", source.source, "Jira answered 503", NOW)
        [health] = reader.state("acme").sources
        assert health.last_error == "Jira answered 503"
        other.signoffs.sign_off("acme", "Data Preparation", "U0SPONSOR", NOW)
        inputs = reader._inputs("acme", None, "internal", None)
        assert inputs.signed == frozenset({"Data Preparation"})
        unchanged = store.changes.stamp("acme")
        assert reader._inputs("acme", None, "internal", None).version == inputs.version
        assert store.changes.stamp("acme") == unchanged  # reading counts nothing
    finally:
        other.close()


def statements(store: Store, work: Callable[[], object]) -> tuple[object, list[str]]:
    """What `work` returned, and the SQL statements it sent to the database."""
    sent: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        sent.append(statement)

    event.listen(store.db.engine, "before_cursor_execute", seen)
    try:
        return work(), sent
    finally:
        event.remove(store.db.engine, "before_cursor_execute", seen)


def test_a_restarted_daemon_reads_the_kept_states_ahead_so_its_first_answer_is_one_read(
    folder: Path, store: Store
) -> None:
    """`warm` (run at start-up) reads what a first answer would, computing nothing: the first
    slash answer after it costs one read, the change counter, like every later one."""
    app(folder, store).sync("acme")
    for warmed in (False, True):
        own = Store(store.url)  # a new process: its own connections, nothing in memory
        try:
            restarted = app(folder, own)
            if warmed:
                assert restarted.warm() == 2  # both audiences
            answer, sent = statements(
                own, partial(restarted.answer_if_kept, "acme", "client", "status")
            )
        finally:
            own.close()
        assert isinstance(answer, tuple) and answer[0]["text"] == "Acme — status, 2026-03-10"
        if warmed:
            [read] = sent
            assert "state_changes" in read
        else:
            assert len(sent) > 1  # what warming saves


def test_warming_computes_nothing_and_skips_clients_never_synced(
    folder: Path, store: Store
) -> None:
    fresh = app(folder, store)
    assert fresh.warm() == 0  # nothing synced: nothing to read, and no error
    syncer = app(folder, store)
    syncer.sync("acme")
    syncer.note("acme", "1", "Waiting on the client's data", by="U0LEAD")  # not computed yet
    restarted = app(folder, store)
    assert restarted.warm() == 0
    assert restarted.computed_if_kept("acme", "client") is None  # still not computed


def test_an_answer_is_rendered_once_per_state_and_freshness(folder: Path, store: Store) -> None:
    """The ack's messages are reused while nothing they are made of changed, and rendered
    again when the state (a note) or what the clock says of a stale source changes."""
    clock = Clock()
    a = app(folder, store, clock)
    a.sync("acme")
    first = a.answer_if_kept("acme", "client", "milestones")
    assert first is not None
    assert a.answer_if_kept("acme", "client", "milestones") is first  # nothing changed
    assert a.answer_if_kept("acme", "internal", "milestones") is not first  # each audience its own
    a.note("acme", "1", "Waiting on the client's data", by="U0LEAD")
    a.state("acme", audience="client")  # a sync or a digest computes it; the ack never does
    noted = a.answer_if_kept("acme", "client", "milestones")
    assert noted is not None and noted is not first
    assert "Waiting on the client's data" in json.dumps(noted)
    (folder / "acme" / "page-1.json").write_text("{not json")
    clock.now = NOW + dt.timedelta(minutes=5)
    a.sync("acme")  # fails: the source goes stale as the hours pass
    clock.now = NOW + dt.timedelta(hours=3)
    stale = a.answer_if_kept("acme", "client", "milestones")
    assert stale is not None and "last refreshed 3 h ago" in json.dumps(stale)
    assert a.answer_if_kept("acme", "client", "milestones") is stale
    clock.now = NOW + dt.timedelta(hours=4)
    later = a.answer_if_kept("acme", "client", "milestones")
    assert later is not None and "last refreshed 4 h ago" in json.dumps(later)
