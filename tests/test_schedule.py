"""The period a digest belongs to (`syncbot.schedule`): latest fire at or before now, the
client cadence in weeks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from syncbot.config import Client, Config, Schedule, Source
from syncbot.schedule import NeverFires
from syncbot.schedule import period_for as _period_for

CHICAGO = ZoneInfo("America/Chicago")


def client(baseline: dt.date | None = dt.date(2026, 1, 9), tz: str = "America/Chicago") -> Client:
    return Client(
        id="acme",
        name="Acme",
        internal_channel="CI",
        client_channel="CC",
        timezone=tz,
        baseline=baseline,
        sources=[Source(kind="jira", project="ACME")],
    )


def period_for(c: Client, s: Schedule, audience: str, now: dt.datetime) -> dt.datetime:
    """The period of `audience`'s digest of `c` at `now`, as the application computes it."""
    return _period_for(Config(clients=[c], schedule=s).cadence(c, audience), now)


def anchor_week(c: Client) -> dt.date:
    return Config(clients=[c]).cadence(c, "client").anchor


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    tz: ZoneInfo = CHICAGO,
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=tz)


def test_internal_weekly_period_is_the_last_monday_nine_local() -> None:
    c, s = client(), Schedule()
    assert period_for(c, s, "internal", at(2026, 3, 10, 10)) == at(2026, 3, 9, 9)
    # Exactly at the fire time the new period starts; a second before, the old one holds.
    assert period_for(c, s, "internal", at(2026, 3, 16, 9)) == at(2026, 3, 16, 9)
    assert period_for(c, s, "internal", at(2026, 3, 16, 8, 59, 59)) == at(2026, 3, 9, 9)


def test_period_is_computed_in_the_client_timezone_across_dst() -> None:
    c, s = client(), Schedule()
    # 2026-03-08 is the US DST switch: Monday 09:00 is 15:00 UTC before, 14:00 UTC after.
    period = period_for(c, s, "internal", dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC))
    assert period == at(2026, 3, 9, 9)
    assert period.utcoffset() == dt.timedelta(hours=-5)
    before = period_for(c, s, "internal", dt.datetime(2026, 3, 9, 13, 59, tzinfo=dt.UTC))
    assert before == at(2026, 3, 2, 9) and before.utcoffset() == dt.timedelta(hours=-6)


def test_fortnightly_client_digest_counts_weeks_from_the_baseline_week() -> None:
    c, s = client(), Schedule()  # every 2 weeks; baseline Fri 2026-01-09 -> week of Mon 01-05
    assert anchor_week(c) == dt.date(2026, 1, 5)
    # Digest weeks: 01-05, 01-19, ... 03-02, 03-16; the weeks between are off weeks.
    assert period_for(c, s, "client", at(2026, 1, 5, 10)) == at(2026, 1, 5, 9)
    assert period_for(c, s, "client", at(2026, 1, 12, 10)) == at(2026, 1, 5, 9)
    assert period_for(c, s, "client", at(2026, 1, 19, 10)) == at(2026, 1, 19, 9)
    # In an off week the period is still the previous fortnight's Monday.
    assert period_for(c, s, "client", at(2026, 3, 10, 10)) == at(2026, 3, 2, 9)
    assert period_for(c, s, "client", at(2026, 3, 15, 23)) == at(2026, 3, 2, 9)
    assert period_for(c, s, "client", at(2026, 3, 16, 9, 0)) == at(2026, 3, 16, 9)


def test_without_a_baseline_weeks_count_from_a_fixed_epoch_monday() -> None:
    c, s = client(baseline=None), Schedule()
    assert anchor_week(c) == dt.date(1970, 1, 5)
    # Week of 2026-03-09 is week 2931 after 1970-01-05: odd, an off week; 03-02 and 03-16 are
    # digest weeks.
    assert period_for(c, s, "client", at(2026, 3, 10, 10)) == at(2026, 3, 2, 9)
    assert period_for(c, s, "client", at(2026, 3, 16, 10)) == at(2026, 3, 16, 9)


def test_every_minute_schedule_gives_each_minute_its_own_period() -> None:
    c = client()
    s = Schedule(
        internal_digest_cron="* * * * *",
        client_digest_cron="* * * * *",
        client_digest_every_weeks=1,
    )
    assert period_for(c, s, "internal", at(2026, 3, 10, 10, 5, 30)) == at(2026, 3, 10, 10, 5)
    assert period_for(c, s, "client", at(2026, 3, 10, 10, 6, 0)) == at(2026, 3, 10, 10, 6)


def test_every_minute_with_a_fortnight_cadence_stays_in_digest_weeks() -> None:
    c = client()
    s = Schedule(client_digest_cron="* * * * *", client_digest_every_weeks=2)
    # Off week: the last minute of the previous digest week (Sunday 23:59).
    assert period_for(c, s, "client", at(2026, 3, 10, 10)) == at(2026, 3, 8, 23, 59)
    assert period_for(c, s, "client", at(2026, 3, 3, 10, 0, 30)) == at(2026, 3, 3, 10, 0)


def test_rare_schedules_are_found_and_impossible_ones_are_refused() -> None:
    c = client()
    yearly = Schedule(internal_digest_cron="0 9 1 1 *")
    assert period_for(c, yearly, "internal", at(2026, 3, 10, 10)) == at(2026, 1, 1, 9)
    never = Schedule(internal_digest_cron="0 9 30 2 *")
    with pytest.raises(NeverFires):
        period_for(c, never, "internal", at(2026, 3, 10, 10))
