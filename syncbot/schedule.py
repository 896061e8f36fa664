"""Pure calendar math: crontab triggers, the period a digest belongs to, and posting grace.

A period is identified by its fire time (an aware datetime): the latest fire of the audience's
crontab at or before now. The internal digest fires on every match of `internal_digest_cron`.
The client digest fires on the matches of `client_digest_cron` that fall in a *digest week*:
weeks run Monday to Sunday in the client's timezone, counted from an anchor week, and every
`client_digest_every_weeks`-th week (index 0, N, 2N, ...) is a digest week. The anchor is the
week holding the client's `baseline` (the plan was agreed then, so the first fortnight starts
there), or, without one, the week of Monday 1970-01-05. Every process, restart and scheduler
therefore agrees on which fires count, without remembering anything.

Nothing here reads the clock or the configuration: callers pass a `Cadence`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

EPOCH_MONDAY = dt.date(1970, 1, 5)
MIN_GRACE = dt.timedelta(minutes=1)
# How far back to look for the latest fire, widening step by step so that frequent crons
# are walked over a short window and rare ones (monthly, yearly) are still found.
_SPANS = tuple(dt.timedelta(days=d) for d in (1 / 24, 1, 8, 32, 367, 5 * 366))
_ONE_US = dt.timedelta(microseconds=1)
_MAX_WEEKS_BACK = 5 * 53
_MAX_STEPS = 200_000  # fires walked in one search, at most (a minute cron over the span)
# The calendar APScheduler and datetime can both reason about with room to spare.
_EARLIEST = dt.datetime(1971, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(expr: str, timezone: tzinfo | None = None) -> CronTrigger:
    """A trigger for a standard 5-field crontab.

    APScheduler numbers weekdays from Monday = 0, crontab from Sunday = 0 (7 too): "0 9 * * 1"
    would fire on Tuesdays. Numeric weekdays, ranges and steps are turned into names first.
    """
    fields = expr.split()
    if len(fields) == 5:
        fields[4] = ",".join(_weekday_names(part) for part in fields[4].split(","))
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


def _weekday_names(part: str) -> str:
    """One comma-separated part of a crontab day-of-week field, with names for numbers."""
    if not re.fullmatch(r"(\*|[0-7](-[0-7])?)(/\d+)?", part):
        return part  # names, or something the trigger will reject with its own message
    span, _, step = part.partition("/")
    if span == "*" and not step:
        return part
    first, _, last = span.partition("-")
    low = 0 if span == "*" else int(first)
    high = 6 if span == "*" else int(last or (6 if step else first))
    days = range(low, high + 1, int(step) if step else 1)
    return ",".join(dict.fromkeys(_WEEKDAYS[d] for d in days))


@dataclass(frozen=True)
class Cadence:
    """When one audience's digest of one client fires."""

    cron: str
    tz: ZoneInfo
    every_weeks: int = 1  # only the client digest skips weeks
    anchor: dt.date = EPOCH_MONDAY  # Monday of week 0

    @classmethod
    def weekly(
        cls, cron: str, tz: ZoneInfo, *, every_weeks: int = 1, baseline: dt.date | None
    ) -> Cadence:
        """A cadence whose week 0 is the week of `baseline` (or the epoch Monday)."""
        return cls(cron, tz, every_weeks, monday(baseline) if baseline else EPOCH_MONDAY)


class NeverFires(ValueError):
    """The crontab has not fired in the last five years (e.g. "0 9 30 2 *")."""


def period_for(cadence: Cadence, now: dt.datetime) -> dt.datetime:
    """The fire time (in the cadence's timezone) of the period `now` falls in."""
    trigger = cron_trigger(cadence.cron, timezone=cadence.tz)
    now = min(max(now, _EARLIEST), _LATEST).astimezone(cadence.tz)
    if cadence.every_weeks == 1:
        fire = _latest_fire(trigger, now, floor=None)
    else:
        fire = _latest_in_digest_weeks(trigger, cadence, now)
    if fire is None:
        raise NeverFires(cadence.cron)
    # A wall time the autumn change repeats is one period: its first occurrence.
    return fire.astimezone(cadence.tz).replace(fold=0)


def grace(minutes: int) -> dt.timedelta:
    """How late a digest may still be posted: `grace_minutes`, at least one minute (a fire
    that starts a few seconds late on a busy machine is not a missed one)."""
    return max(dt.timedelta(minutes=minutes), MIN_GRACE)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _latest_in_digest_weeks(
    trigger: CronTrigger, cadence: Cadence, now: dt.datetime
) -> dt.datetime | None:
    every = cadence.every_weeks
    tz = cadence.tz
    week = monday(now.date())
    week -= dt.timedelta(weeks=((week - cadence.anchor).days // 7) % every)
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
        bounded = floor is not None and _utc(start) <= _utc(floor)
        if bounded and floor is not None:
            start = floor
        fire: dt.datetime | None = trigger.get_next_fire_time(None, _utc(start))
        if fire is not None and _utc(fire) <= _utc(limit):
            return _walk(trigger, fire, limit)
        if bounded:
            return None
    return None


def _walk(trigger: CronTrigger, fire: dt.datetime, limit: dt.datetime) -> dt.datetime:
    """The last fire in [fire, limit], stepping forward from `fire`.

    Instants are compared in UTC: two aware datetimes of one zone compare by wall clock, and
    the repeated hour of an autumn clock change shows each wall time twice. A fire whose wall
    time was already passed (the repeated hour's second copy) starts no new period: periods
    are wall-clock fires, each once, and never go back. Where APScheduler answers an instant
    that is not later, the search resumes a minute on. Every step moves forward and the number
    of steps is bounded, so the walk always ends.
    """
    end = _utc(limit)
    canonical = current = fire  # the period's fire, and where the walk stands
    probe = _utc(current) + _ONE_US
    for _ in range(_MAX_STEPS):
        following: dt.datetime | None = trigger.get_next_fire_time(current, probe)
        if following is None or _utc(following) > end:
            return canonical
        if _utc(following) <= _utc(current):  # APScheduler went back: resume a minute on
            probe = max(probe, _utc(following)) + dt.timedelta(minutes=1)
            if probe > end:
                return canonical
            continue
        if following.replace(tzinfo=None) > canonical.replace(tzinfo=None):
            canonical = following  # a new wall-clock time: a new period
        current = following  # (else a wall time the repeated hour shows again: no new period)
        probe = _utc(current) + _ONE_US
    return canonical


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC)
