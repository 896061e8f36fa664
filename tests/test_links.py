"""Share links and the trend history in the store, on SQLite and PostgreSQL (SPEC §9)."""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import text

from syncbot.store import MilestoneSnapshot, Store
from syncbot.store.links import LAST_USED_EVERY, token_hash

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_a_token_is_random_enough_and_stored_only_as_its_hash(store: Store) -> None:
    tokens = [store.links.create("acme", NOW, 30 * DAY)[0] for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
    with store.db.engine.connect() as conn:
        rows = [" ".join(map(str, row)) for row in conn.execute(text("SELECT * FROM share_links"))]
    assert len(rows) == 20
    dump = "\n".join(rows)
    assert not [t for t in tokens if t in dump]
    assert all(token_hash(t) in dump for t in tokens)


def test_use_opens_a_live_link_only_and_records_when(store: Store) -> None:
    token, link = store.links.create("acme", NOW, 30 * DAY)
    assert link.expires_at == NOW + 30 * DAY and link.last_used_at is None
    opened = store.links.use(token, NOW + DAY)
    assert opened is not None and opened.client_id == "acme"
    [listed] = store.links.list("acme")
    assert listed.last_used_at == NOW + DAY
    # Written at most once a minute per link...
    store.links.use(token, NOW + DAY + dt.timedelta(seconds=10))
    assert store.links.list("acme")[0].last_used_at == NOW + DAY
    later = NOW + DAY + LAST_USED_EVERY + dt.timedelta(seconds=1)
    store.links.use(token, later)
    assert store.links.list("acme")[0].last_used_at == later
    # ...and expired, revoked and unknown tokens open nothing, alike.
    assert store.links.use(token, NOW + 30 * DAY) is None
    assert store.links.use("x" * 32, NOW) is None
    other, _ = store.links.create("acme", NOW, DAY)
    assert store.links.revoke("acme", other, NOW) is not None
    assert store.links.use(other, NOW) is None
    assert store.links.list("globex") == []


def test_revoking_by_token_or_listed_id_never_reaches_another_clients_link(store: Store) -> None:
    acme, _ = store.links.create("acme", NOW, DAY)
    globex, globex_link = store.links.create("globex", NOW, DAY)
    assert store.links.revoke("acme", globex, NOW) is None
    assert store.links.revoke("acme", globex_link.id, NOW) is None
    assert store.links.use(globex, NOW) is not None
    revoked = store.links.revoke("globex", globex_link.id, NOW + DAY / 2)
    assert revoked is not None and revoked.revoked_at == NOW + DAY / 2
    again = store.links.revoke("globex", globex, NOW + DAY)
    assert again is not None and again.revoked_at == NOW + DAY / 2  # the first one stands
    assert store.links.revoke("acme", "short", NOW) is None
    store.links.create("acme", NOW, DAY)
    assert store.links.revoke_all("acme", NOW) == 2
    assert store.links.revoke_all("acme", NOW) == 0
    assert store.links.use(acme, NOW) is None


def test_history_reports_and_the_last_record_of_a_day(store: Store) -> None:
    day = dt.date(2026, 3, 2)

    def snap(mid: str, on: dt.date, forecast: dt.date, status: str) -> MilestoneSnapshot:
        return MilestoneSnapshot(mid, on, forecast, None, status)

    store.history.save("acme", day, [snap("1.1", day, dt.date(2026, 3, 6), "on_track")], NOW)
    store.history.save(
        "acme", day, [snap("1.1", day, dt.date(2026, 3, 9), "at_risk")], NOW + dt.timedelta(hours=1)
    )
    later = day + dt.timedelta(days=7)
    store.history.save("acme", later, [snap("1.1", later, dt.date(2026, 3, 9), "at_risk")], NOW)
    store.history.save("globex", day, [snap("A", day, dt.date(2026, 3, 1), "on_track")], NOW)
    assert store.history.report_days("acme") == [day, later]
    assert store.history.report_days("acme", until=day) == [day]
    loaded = store.history.load("acme")
    assert [s.status for s in loaded[day]] == ["at_risk"]
    assert list(store.history.load("acme", until=day)) == [day]
