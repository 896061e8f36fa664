"""The period a digest belongs to: the latest fire time of its audience's schedule at or before now.

A period is identified by that fire time (an aware datetime). The internal digest fires on
every match of `internal_digest_cron`. The client digest fires on the matches of
`client_digest_cron` that fall in a *digest week*: weeks are Monday-to-Sunday in the client's
timezone and counted from an anchor week, and every `client_digest_every_weeks`-th week
(index 0, N, 2N, ...) is a digest week. The anchor is the week holding the client's
`baseline` (the plan was agreed then, so the first fortnight starts there), or, without a
baseline, the week of Monday 1970-01-05. This is deterministic: every process, restart and
scheduler agrees on which fires count, without remembering anything.

Pure functions of (schedule, client, now); nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from syncbot.config import Client, Schedule, cron_trigger
from syncbot.errors import ConfigError

EPOCH_MONDAY = dt.date(1970, 1, 5)
# How far back to look for the latest fire, widening step by step so that frequent crons
# are walked over a short window and rare ones (monthly, yearly) are still found.
_SPANS = tuple(dt.timedelta(days=d) for d in (1 / 24, 1, 8, 32, 367, 5 * 366))
_ONE_US = dt.timedelta(microseconds=1)
_MAX_WEEKS_BACK = 5 * 53


def digest_cron(schedule: Schedule, audience: str) -> str:
    return schedule.internal_digest_cron if audience == "internal" else schedule.client_digest_cron


def anchor_week(client: Client) -> dt.date:
    """Monday of the week that counts as week 0 of the client digest cadence."""
    return _monday(client.baseline) if client.baseline else EPOCH_MONDAY


def period_for(client: Client, schedule: Schedule, audience: str, now: dt.datetime) -> dt.datetime:
    """The fire time (client timezone) of the period `now` falls in, for `audience`.

    Raises ConfigError when the schedule has not fired in the last five years (a crontab such
    as "0 9 30 2 *" that never matches).
    """
    tz = client.tz
    expr = digest_cron(schedule, audience)
    trigger = cron_trigger(expr, timezone=tz)
    now = now.astimezone(tz)
    if audience == "internal" or schedule.client_digest_every_weeks == 1:
        fire = _latest_fire(trigger, now, floor=None)
    else:
        fire = _latest_in_digest_weeks(trigger, client, schedule, now, tz)
    if fire is None:
        key = "internal_digest_cron" if audience == "internal" else "client_digest_cron"
        problem = (
            f"client {client.id!r}: schedule.{key} {expr!r} has not fired in five years; "
            "fix the crontab"
        )
        raise ConfigError([problem])
    return fire.astimezone(tz)


def _latest_in_digest_weeks(
    trigger: CronTrigger,
    client: Client,
    schedule: Schedule,
    now: dt.datetime,
    tz: ZoneInfo,
) -> dt.datetime | None:
    every = schedule.client_digest_every_weeks
    week = _monday(now.date())
    week -= dt.timedelta(weeks=((week - anchor_week(client)).days // 7) % every)
    for _ in range(_MAX_WEEKS_BACK // every + 1):
        start = dt.datetime.combine(week, dt.time(), tzinfo=tz)
        end = dt.datetime.combine(week + dt.timedelta(days=7), dt.time(), tzinfo=tz) - _ONE_US
        fire = _latest_fire(trigger, min(now, end), floor=start)
        if fire is not None:
            return fire
        week -= dt.timedelta(weeks=every)
    return None


def _latest_fire(
    trigger: CronTrigger, limit: dt.datetime, *, floor: dt.datetime | None
) -> dt.datetime | None:
    """The latest fire time in [floor, limit] (floor None: within the last five years)."""
    for span in _SPANS:
        start = limit - span
        bounded = floor is not None and start <= floor
        if bounded and floor is not None:
            start = floor
        fire: dt.datetime | None = trigger.get_next_fire_time(None, start)
        if fire is not None and fire <= limit:
            while True:
                following: dt.datetime | None = trigger.get_next_fire_time(fire, fire + _ONE_US)
                if following is None or following > limit:
                    return fire
                fire = following
        if bounded:
            return None
    return None


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
