"""Digest periods across both clock changes of the year, in three zones, for every shape of
schedule (issue: the repeated autumn hour made the period search loop for ever).

For each moment of the change day (every 7 minutes, in UTC) the period must be found, be at or
before the moment, match the crontab on the wall clock, and never move backwards; each wall
clock fire is one period (the repeated hour's second copy is the same period)."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine

from syncbot.schedule import Cadence, cron_trigger, period_for

CHANGES = {  # zone -> (spring forward, fall back), 2026
    "America/Chicago": (dt.date(2026, 3, 8), dt.date(2026, 11, 1)),
    "Europe/London": (dt.date(2026, 3, 29), dt.date(2026, 10, 25)),
    "Australia/Sydney": (dt.date(2026, 10, 4), dt.date(2026, 4, 5)),
}
SHAPES = [
    "0 1 * * sun",  # weekly, inside the repeated hour
    "30 1 * * *",  # daily, inside the repeated hour
    "30 2 * * *",  # daily, inside the spring gap (Chicago) or the repeated hour (Sydney)
    "0 2 * * sun",
    "0 * * * *",  # hourly
    "*/10 * * * *",
    "* * * * *",  # every minute
    "0 9 * * mon",  # the default
]


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """A search that loops fails the test instead of hanging the suite."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("period search did not end within 20 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def moments(zone: str, day: dt.date) -> Iterator[dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
    for minutes in range(-120, 27 * 60, 7):
        yield start + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("change", ["spring", "autumn"])
@pytest.mark.parametrize("zone", sorted(CHANGES))
def test_periods_across_a_clock_change(zone: str, change: str, shape: str) -> None:
    tz = ZoneInfo(zone)
    day = CHANGES[zone][0 if change == "spring" else 1]
    cadence = Cadence(shape, tz)
    wall_clock = cron_trigger(shape, dt.UTC)
    previous: dt.datetime | None = None
    walls: dict[dt.datetime, dt.datetime] = {}
    for now in moments(zone, day):
        with time_machine.travel(now, tick=False):  # nothing may read the clock
            period = period_for(cadence, now)
        assert period <= now
        local = period.astimezone(tz)
        # The period's wall-clock time is a fire of the crontab (checked on a clock without
        # changes: the next UTC fire from a minute before that wall time is that wall time).
        wall_utc = local.replace(tzinfo=dt.UTC)
        assert wall_clock.get_next_fire_time(None, wall_utc - dt.timedelta(seconds=1)) == wall_utc
        if previous is not None:
            assert period.astimezone(dt.UTC) >= previous.astimezone(dt.UTC)
        wall = local.replace(tzinfo=None, fold=0)
        assert walls.setdefault(wall, period) == period  # one period per wall-clock fire
        previous = period


def test_the_repeated_hour_is_one_period_for_a_fire_inside_it() -> None:
    tz = ZoneInfo("America/Chicago")
    cadence = Cadence("30 1 * * *", tz)
    first = dt.datetime(2026, 11, 1, 6, 45, tzinfo=dt.UTC)  # 01:45 CDT
    second = dt.datetime(2026, 11, 1, 7, 45, tzinfo=dt.UTC)  # 01:45 CST, an hour later
    assert period_for(cadence, first) == period_for(cadence, second)
    assert period_for(cadence, first).astimezone(dt.UTC) == dt.datetime(
        2026, 11, 1, 6, 30, tzinfo=dt.UTC
    )
