"""The application object: the one place that combines store, connectors, rules, renderers
and the clock. The CLI, the daemon's jobs, the slash commands and the HTTP app only call it.

`Syncbot` syncs a client's sources (its trackers, then its milestone metrics from MLflow), gives
its state as of a day for an audience, renders that state (digests, slash answers, alerts) and
queues what is to be posted in the outbox. Posting itself is the Slack adapter's job
(`syncbot.slack.outbox`), which receives rendered entries.

Tickets are read from the store once per sync and kept in memory (per process) until the next
sync of that client, so answers and digests never reload them.

The object is built in layers, one module per capability, each using only the ones below it
(an import-linter contract in `make lint` keeps them so):

- `base`: configuration, settings, store, clock, connections, and the memory they share;
- `states`: a client's state for an audience, computed once per version and kept;
- `syncing`: syncing the sources into the store; webhook marks and replay ids;
- `documents`: digests, slash answers, the trend chart, the client page and its links;
- `review`: the outbox, review before a client sees a digest, heads-ups, corrections;
- `alerts`: same-day alerts and staleness alerts.
"""

from __future__ import annotations

from syncbot.app.alerts import Alerting, alert_audiences
from syncbot.app.base import AUDIENCES, Clock, connections_from_settings
from syncbot.app.review import Correction, channel_for, reported_snapshot
from syncbot.app.states import Computed
from syncbot.app.syncing import ClientSync, Matching, SyncReport

__all__ = [
    "AUDIENCES",
    "ClientSync",
    "Clock",
    "Computed",
    "Correction",
    "Matching",
    "SyncReport",
    "Syncbot",
    "alert_audiences",
    "channel_for",
    "connections_from_settings",
    "reported_snapshot",
]


class Syncbot(Alerting):
    """syncbot for one configuration, settings and store; `clock` gives aware UTC now."""
