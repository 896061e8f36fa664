"""The one staleness rule, for /healthz, `status` and digests alike.

A source is stale when nothing is known about it (it never synced successfully), or when its
last successful sync is older than two sync intervals (one missed sync is a blip; two are
news). Recorded exports do not age by themselves: one is stale only once reading it has been
failing for that long.
"""

from __future__ import annotations

import datetime as dt

from syncbot.domain import SourceHealth

INTERVALS = 2
TRACKER_LABEL = {"jira": "Jira", "linear": "Linear", "mlflow": "MLflow"}


def stale_after(sync_every_minutes: int) -> dt.timedelta:
    return dt.timedelta(minutes=INTERVALS * sync_every_minutes)


def source_health(
    source: str,
    kind: str,
    *,
    last_success: dt.datetime | None,
    last_attempt: dt.datetime | None,
    last_error: str | None,
    now: dt.datetime,
    sync_every_minutes: int,
) -> SourceHealth:
    limit = stale_after(sync_every_minutes)
    if last_success is None:
        stale = True
    elif kind.endswith("-export"):
        stale = last_error is not None and now - last_success > limit
    else:
        stale = now - last_success > limit
    tracker = kind.removesuffix("-export")
    return SourceHealth(
        source=source,
        label=TRACKER_LABEL.get(tracker, kind),
        last_success=last_success,
        stale=stale,
        last_error=last_error,
        kind=kind,
        last_attempt=last_attempt,
        stale_after=limit,
    )
