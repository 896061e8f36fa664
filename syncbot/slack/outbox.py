"""Exactly-once digest delivery: one Slack post per (client, audience, period), across crashes.

The protocol (states are documented in `syncbot.store`):

1. The digest of a period is rendered once and stored as an outbox row (`pending`) before
   anything is sent; a second run in the same period finds the row and sends nothing new.
2. A run claims the row (a lease in the store), so two processes never post it concurrently.
3. Before each `chat.postMessage` the row is marked `sending`. The message carries Slack
   message metadata `{"event_type": "syncbot_digest", "event_payload": {"key", "part"}}`.
   When Slack answers, its `ts` is recorded and the row is `pending` again (or `sent`).
4. A row found `sending` (the process died between Slack's answer and the store write, or
   Slack answered 5xx, which may or may not have posted) is first looked up in the channel's
   history (`conversations.history`, include_all_metadata) for messages with its key; parts
   found are recorded, only the others are posted.
5. A post that fails is kept: 5xx is retried a few times in-run (after the history check),
   429 waits for Retry-After, and whatever still fails stays in the outbox for the next run
   (`digest --post` or the scheduler), which sends older periods first. Nothing is dropped.

Corrections (`correct`) re-render the period's digest and `chat.update` the posted messages
in place, so a fixed digest never appears twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from syncbot import messages, service
from syncbot.config import Client, LoadedConfig
from syncbot.render.blocks import digest_messages
from syncbot.render.views import Audience
from syncbot.slack.periods import period_for
from syncbot.slack.posting import (
    DIGEST_EVENT,
    SlackError,
    SlackPoster,
    SlackRateLimited,
    SlackRefused,
    SlackUnavailable,
    Sleep,
)
from syncbot.store import OutboxEntry, OutboxKey, Store

logger = logging.getLogger(__name__)
Outcome = Literal["posted", "already_posted", "busy", "pending", "refused", "corrected", "none"]
LEASE = dt.timedelta(minutes=5)
HISTORY_MARGIN = dt.timedelta(minutes=10)  # clock skew between us and Slack, generously


@dataclass(frozen=True)
class Delivery:
    """What happened to one digest in one run; `line()` is what `digest --post` prints."""

    client_id: str
    audience: str
    channel: str
    period: dt.datetime
    outcome: Outcome
    parts: tuple[str, ...] = ()
    count: int = 0  # messages posted or updated in this run
    error: str | None = None
    busy_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("posted", "already_posted", "busy", "corrected", "none")

    def line(self) -> str:
        where = f"{self.client_id}/{self.audience}"
        period = messages.period_label(self.period)
        ts = ", ".join(self.parts) or "-"
        if self.outcome == "posted" and self.count == 0:  # every part was found in Slack
            return messages.delivery_recovered(where, self.channel, period, ts)
        if self.outcome == "posted":
            return messages.delivery_posted(where, self.count, self.channel, period, ts)
        if self.outcome == "already_posted":
            return messages.delivery_already(where, self.channel, period, ts)
        if self.outcome == "busy":
            return messages.delivery_busy(where, period, self.busy_until)
        if self.outcome == "corrected":
            return messages.delivery_corrected(where, self.count, self.channel, period)
        if self.outcome == "none":
            return messages.delivery_nothing_to_correct(where, period)
        return messages.delivery_pending(where, self.channel, period, self.error or "unknown")


def channel_for(client: Client, audience: str) -> str:
    return client.internal_channel if audience == "internal" else client.client_channel


def owner_id() -> str:
    """Who holds a claim: host, process and a random part (unique per Outbox)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Outbox:
    """Delivers digests through the store's outbox. `now` and `sleep` are injected.

    Claims on outbox rows are per `Outbox` instance (its `owner`), and an instance may re-claim
    its own rows: use one instance per thread of work (the daemon makes one per job run), never
    one shared between threads.
    """

    def __init__(
        self,
        store: Store,
        poster: SlackPoster,
        *,
        now: Callable[[], dt.datetime],
        sleep: Sleep = time.sleep,
        attempts: int = 3,
        backoff: float = 2.0,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.store = store
        self.poster = poster
        self.now = now
        self.sleep = sleep
        self.attempts = attempts
        self.backoff = backoff
        self.lease = lease
        self.owner = owner_id()

    # -- posting ------------------------------------------------------------------------

    def deliver(
        self,
        loaded: LoadedConfig,
        client: Client,
        audience: Audience,
        *,
        as_of: dt.date | None = None,
    ) -> list[Delivery]:
        """Send what is owed to `audience` of `client`: earlier periods still queued, then
        this period's digest (rendered and queued first if it is not in the outbox yet)."""
        now = self.now()
        schedule = loaded.config.schedule_for(client)
        period = period_for(client, schedule, audience, now)
        key = OutboxKey(client.id, audience, period)
        results = [
            self._send(entry)
            for entry in self.store.outbox_unsent(client.id, audience)
            if entry.key.period < key.period
        ]
        entry = self.store.outbox_get(key)
        if entry is None:
            doc, state = service.digest_for(
                loaded,
                client,
                self.store,
                audience,
                as_of=as_of or service.today(client, now),
                now=now,
                before=period,
            )
            rendered = tuple(m.as_json() for m in digest_messages(doc))
            entry = self.store.outbox_add(
                OutboxEntry(
                    key=key,
                    channel=channel_for(client, audience),
                    as_of=doc.as_of,
                    state="pending",
                    messages=rendered,
                    parts=(None,) * len(rendered),
                    snapshot=service.reported_snapshot(state),
                ),
                now,
            )
        if entry.state == "sent":
            results.append(self._result(entry, "already_posted"))
        else:
            results.append(self._send(entry))
        return [_local(d, client) for d in results]

    def retry_pending(self, client: Client, audience: str) -> list[Delivery]:
        """Send every queued digest of `client` for `audience` (for the scheduler)."""
        return [
            _local(self._send(e), client) for e in self.store.outbox_unsent(client.id, audience)
        ]

    def send_once(self, entry: OutboxEntry) -> Delivery:
        """Post a message that is not a digest (the daemon's staleness alerts) exactly once:
        it is queued under its key unless that key is already in the outbox, then sent with
        the same protocol as digests. Calling it again with the same key sends nothing new."""
        stored = self.store.outbox_add(entry, self.now())
        if stored.state == "sent":
            return self._result(stored, "already_posted")
        return self._send(stored)

    def _send(self, entry: OutboxEntry) -> Delivery:
        now = self.now()
        claimed = self.store.outbox_claim(entry.key, self.owner, now, self.lease)
        if claimed is None:
            current = self.store.outbox_get(entry.key) or entry
            if current.state == "sent":
                return self._result(current, "already_posted")
            return self._result(current, "busy", busy_until=current.claimed_until)
        try:
            return self._send_claimed(claimed)
        finally:
            self.store.outbox_release(entry.key, self.owner)

    def _send_claimed(self, entry: OutboxEntry) -> Delivery:
        if entry.state == "sent":
            return self._result(entry, "already_posted")
        for attempt in range(1, self.attempts + 1):
            try:
                done, count = self._push(entry)
                return self._result(done, "posted", count=count)
            except SlackUnavailable as exc:
                logger.warning(
                    "%s: attempt %d of %d failed: %s", entry.key.text, attempt, self.attempts, exc
                )
                self.store.outbox_failed(entry.key, str(exc), self.now(), certain=False)
                if attempt == self.attempts:
                    return self._result(entry, "pending", error=str(exc))
                self.sleep(self.backoff * attempt)
                entry = self.store.outbox_get(entry.key) or entry
            except (SlackRateLimited, SlackRefused) as exc:
                logger.error("%s: not posted: %s", entry.key.text, exc)
                # A refused or rate-limited post did not happen; a refused history lookup
                # leaves the row as uncertain as it was.
                certain = exc.method == "chat.postMessage"
                self.store.outbox_failed(entry.key, str(exc), self.now(), certain=certain)
                outcome: Outcome = "refused" if isinstance(exc, SlackRefused) else "pending"
                return self._result(entry, outcome, error=str(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def _push(self, entry: OutboxEntry) -> tuple[OutboxEntry, int]:
        """Post the parts not known to be in Slack; return the row as it ends up and how
        many messages this call posted."""
        key = entry.key
        if entry.state == "sending":
            entry = self._recover(entry)
        count = 0
        for index, message in enumerate(entry.messages):
            if entry.parts[index]:
                continue
            self.store.outbox_claim(key, self.owner, self.now(), self.lease)  # renew the lease
            self.store.outbox_sending(key, self.now())
            ts = self.poster.post(
                entry.channel,
                message,
                metadata={
                    "event_type": DIGEST_EVENT,
                    "event_payload": {
                        "key": key.text,
                        "part": index,
                        "parts": len(entry.messages),
                    },
                },
            )
            entry = self.store.outbox_posted(key, index, ts, self.now())
            count += 1
        return entry, count

    def _recover(self, entry: OutboxEntry) -> OutboxEntry:
        """A previous attempt may have posted without recording it: look in the channel."""
        since = (entry.first_attempt_at or entry.created_at or self.now()) - HISTORY_MARGIN
        found = self.poster.find_posted(entry.channel, entry.key.text, oldest=since.timestamp())
        for index, ts in sorted(found.items()):
            if 0 <= index < len(entry.parts) and not entry.parts[index]:
                logger.warning(
                    "%s: part %d was already in Slack (ts %s); recording it instead of "
                    "posting again",
                    entry.key.text,
                    index,
                    ts,
                )
                entry = self.store.outbox_posted(entry.key, index, ts, self.now())
        return self.store.outbox_settled(entry.key, self.now())

    # -- corrections --------------------------------------------------------------------

    def correct(
        self,
        loaded: LoadedConfig,
        client: Client,
        audience: Audience,
        *,
        as_of: dt.date | None = None,
    ) -> Delivery:
        """Re-render this period's posted digest and update its Slack messages in place."""
        now = self.now()
        period = period_for(client, loaded.config.schedule_for(client), audience, now)
        key = OutboxKey(client.id, audience, period)
        entry = self.store.outbox_get(key)
        if entry is None or not entry.posted:
            return _local(
                Delivery(client.id, audience, channel_for(client, audience), period, "none"),
                client,
            )
        claimed = self.store.outbox_claim(key, self.owner, now, self.lease)
        if claimed is None:
            return _local(self._result(entry, "busy", busy_until=entry.claimed_until), client)
        try:
            return _local(self._correct(loaded, client, claimed, as_of=as_of, now=now), client)
        finally:
            self.store.outbox_release(key, self.owner)

    def _correct(
        self,
        loaded: LoadedConfig,
        client: Client,
        claimed: OutboxEntry,
        *,
        as_of: dt.date | None,
        now: dt.datetime,
    ) -> Delivery:
        key = claimed.key
        audience: Audience = "client" if key.audience == "client" else "internal"
        try:
            if claimed.state == "sending":
                claimed = self._recover(claimed)
            doc, state = service.digest_for(
                loaded,
                client,
                self.store,
                audience,
                as_of=as_of or service.today(client, now),
                now=now,
                before=key.period,
            )
            new = [m.as_json() for m in digest_messages(doc)]
            old = list(claimed.parts)
            updated = 0
            for index, ts in enumerate(old):
                if ts is None:
                    continue
                message = new[index] if index < len(new) else _withdrawn(new[0]["text"])
                self.poster.update(claimed.channel, ts, message)
                updated += 1
            parts = old[: len(new)] + [None] * (len(new) - len(old))
            revised = self.store.outbox_revise(
                key,
                messages=new,
                parts=parts,
                snapshot=service.reported_snapshot(state),
                as_of=doc.as_of,
                at=self.now(),
            )
            if revised.state != "sent":
                revised, _ = self._push(revised)
            return self._result(revised, "corrected", count=updated)
        except SlackError as exc:
            logger.error("%s: correction failed: %s", key.text, exc)
            return self._result(claimed, "refused", error=str(exc))

    @staticmethod
    def _result(
        entry: OutboxEntry,
        outcome: Outcome,
        *,
        count: int = 0,
        error: str | None = None,
        busy_until: dt.datetime | None = None,
    ) -> Delivery:
        return Delivery(
            entry.key.client_id,
            entry.key.audience,
            entry.channel,
            entry.key.period,
            outcome,
            parts=entry.posted,
            count=count,
            error=error,
            busy_until=busy_until,
        )


def _local(delivery: Delivery, client: Client) -> Delivery:
    """Periods are shown in the client's timezone (the store keeps UTC)."""
    return replace(delivery, period=delivery.period.astimezone(client.tz))


def _withdrawn(title: str) -> dict[str, object]:
    return {
        "text": title,
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": messages.PART_WITHDRAWN}]}
        ],
    }
