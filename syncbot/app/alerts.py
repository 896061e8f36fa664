"""Same-day alerts and staleness alerts (SPEC §8): queued to the internal channel exactly
once each, as outbox rows keyed by the change they tell.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from syncbot import messages
from syncbot.app.review import Reviewing
from syncbot.config import Client
from syncbot.render.alerts import alert_message
from syncbot.render.blocks import line_message
from syncbot.render.doc import Line
from syncbot.rules.alerts import Evaluation
from syncbot.rules.alerts import evaluate as evaluate_alerts
from syncbot.store import OutboxEntry, OutboxKey, new_entry

logger = logging.getLogger(__name__)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the staleness episode of a source never synced
MAX_ERROR_CHARS = 500


class Alerting(Reviewing):
    """Alerts raised from the state, and staleness alerts and all-clears."""

    def evaluate_alerts(self, client_id: str, *, as_of: dt.date | None = None) -> Evaluation:
        """The alerts the current state raises against the last alerted state (a dry run)."""
        client = self.client(client_id)
        state = self.state(client.id, as_of=as_of)
        escalation = client.escalation
        return evaluate_alerts(
            state,
            self.store.alerts.load(client.id),
            escalate_after=escalation.after_days if escalation else None,
            notify=escalation.notify if escalation else (),
        )

    def raise_alerts(self, client_id: str, *, as_of: dt.date | None = None) -> list[OutboxEntry]:
        """Queue one internal message per alert (exactly once: each is an outbox row keyed
        by the change), then record the state the next evaluation compares with."""
        client = self.client(client_id)
        if not any(h.last_success for h in self.freshness(client.id)):
            return []
        result = self.evaluate_alerts(client.id, as_of=as_of)
        day = dt.datetime.combine(as_of or self.today(client), dt.time(), tzinfo=dt.UTC)
        entries = []
        for alert in result.alerts:
            message = alert_message(
                alert,
                client_name=client.name,
                client_id=client.id,
                people=client.people,
                headsup=client.review_required,
            )
            key = OutboxKey(client.id, f"alert-{alert.identity[:10]}", day)
            entries.append(
                self.store.outbox.add(
                    new_entry(key, client.internal_channel, day.date(), [message]), self.clock()
                )
            )
        self.store.alerts.record(client.id, result.record, self.clock())
        return entries

    def source_alerts(self, client_id: str) -> list[tuple[str, OutboxEntry]]:
        """Staleness alerts and all-clears owed to the client's internal channel, as
        (kind, entry) with kind "stale" or "recovered": one alert per staleness episode
        (client, source, last success before it went stale), one all-clear after it."""
        client = self.client(client_id)
        now = self.clock()
        out: list[tuple[str, OutboxEntry]] = []
        for health in self.freshness(client.id):
            stale_audience, fresh_audience = alert_audiences(health.source)
            if health.stale:
                key = OutboxKey(client.id, stale_audience, health.last_success or EPOCH)
                entry = self.store.outbox.get(key)
                if entry is None:
                    logger.warning(
                        "%s/%s is stale (last success %s): alerting %s",
                        client.id,
                        health.source,
                        _when(health.last_success),
                        client.internal_channel,
                        extra={"client": client.id, "source": health.source, "job": "staleness"},
                    )
                    text = messages.stale_alert(
                        client.name,
                        health.label,
                        health.source,
                        health.last_success,
                        now,
                        self.schedule(client).sync_every_minutes,
                        (health.last_error or "")[:MAX_ERROR_CHARS] or None,
                    )
                    entry = self._alert_entry(client, key, text)
                if entry.state != "sent":
                    out.append(("stale", entry))
                continue
            latest = self.store.outbox.latest(client.id, stale_audience)
            if latest is None:
                continue
            if latest.state != "sent":  # an alert still owed goes out before its all-clear
                out.append(("stale", latest))
            if health.last_success is None or health.last_success <= latest.key.period:
                continue
            key = OutboxKey(client.id, fresh_audience, latest.key.period)
            entry = self.store.outbox.get(key)
            if entry is None:
                logger.info(
                    "%s/%s is fresh again: posting the all-clear",
                    client.id,
                    health.source,
                    extra={"client": client.id, "source": health.source, "job": "staleness"},
                )
                since = latest.key.period if latest.key.period != EPOCH else None
                text = messages.stale_recovered(
                    client.name, health.label, health.source, since, health.last_success
                )
                entry = self._alert_entry(client, key, text)
            if entry.state != "sent":
                out.append(("recovered", entry))
        return out

    def _alert_entry(self, client: Client, key: OutboxKey, text: str) -> OutboxEntry:
        message = line_message(Line.of(text))
        return self.store.outbox.add(
            new_entry(key, client.internal_channel, self.today(client), [message]), self.clock()
        )


def alert_audiences(source: str) -> tuple[str, str]:
    """Outbox audiences of a source's staleness alert and all-clear (16 characters at most)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    return f"stale-{digest}", f"fresh-{digest}"


def _when(at: dt.datetime | None) -> str:
    return at.isoformat() if at else "never"
