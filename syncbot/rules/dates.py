"""Date helpers shared by the rules: the client's calendar, not the server's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of `moment` in the client's timezone."""
    return moment.astimezone(tz).date()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)
