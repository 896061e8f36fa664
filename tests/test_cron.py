"""Crontab weekdays mean what crontab says (APScheduler alone counts from Monday = 0)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from syncbot.schedule import cron_trigger

WEDNESDAY_NOON = dt.datetime(2026, 3, 4, 12, tzinfo=ZoneInfo("America/Chicago"))


@pytest.mark.parametrize(
    ("expr", "weekdays"),
    [
        ("0 9 * * 1", {"Mon"}),
        ("0 9 * * mon", {"Mon"}),
        ("0 9 * * 0", {"Sun"}),
        ("0 9 * * 7", {"Sun"}),
        ("0 9 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 9 * * 5,6", {"Fri", "Sat"}),
        ("0 9 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
        ("0 9 * * 1-5/2", {"Mon", "Wed", "Fri"}),
        ("0 9 * * 6-7", {"Sat", "Sun"}),
        ("0 9 * * *", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_weekdays_follow_crontab(expr: str, weekdays: set[str]) -> None:
    trigger = cron_trigger(expr, WEDNESDAY_NOON.tzinfo)
    fires, previous = [], None
    now = WEDNESDAY_NOON
    for _ in range(14):
        fire = trigger.get_next_fire_time(previous, now)
        assert fire is not None
        fires.append(fire)
        previous, now = fire, fire + dt.timedelta(seconds=1)
    assert {f.strftime("%a") for f in fires} == weekdays
    assert all(f.hour == 9 for f in fires)
