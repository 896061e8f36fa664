"""Exactly-once delivery of rendered outbox entries: one Slack post per entry, across crashes.

The application queues entries (`app.Syncbot.queue_digest`, `source_alerts`); this adapter
posts them. The protocol (states are documented in `syncbot.store.outbox`):

1. An entry is rendered once and stored (`pending`) before anything is sent; a second run in
   the same period finds the row and sends nothing new.
2. A poster claims the row (a lease in the store), so two posters never post it concurrently.
   While it works, a heartbeat renews the lease every LEASE/3; a poster whose renewal fails
   (its lease lapsed and another poster took the row) stops before its next post. A poster
   that died leaves a claim the next poster takes over at once (`store.claims`: the dead
   holder's lock is free), so a half-posted digest is finished, never left for LEASE.
3. Before each `chat.postMessage` the row is marked `sending`. The message carries Slack
   message metadata `{"event_type": "syncbot_digest", "event_payload": {"key", "part"}}`.
   When Slack answers, its `ts` is recorded and the row is `pending` again (or `sent`).
4. A row found `sending` (the process died between Slack's answer and the store write, or
   Slack answered 5xx, which may or may not have posted) is first looked up in the channel's
   history (`conversations.history`, include_all_metadata) for messages with its key; parts
   found are recorded, only the others are posted.
5. A post that fails is kept: 5xx is retried a few times in-run (after the history check),
   429 waits for Retry-After, and whatever still fails stays in the outbox for the next run,
   which sends older periods first. Nothing is dropped.
6. A file part (the trend chart of a client digest, SPEC §9; always the last part) follows
   the same steps: the row is marked `sending`, the file is shared with files_upload_v2, and
   its file id recorded as the part. Slack message metadata cannot ride on a file, so its
   name identifies it instead: `milestone-trend-<as-of>-<hash of the key>.png`, unique per
   entry; step 4 looks for a message carrying a file of that name. A run that died after the
   upload but before files.completeUploadExternal left an unshared file nobody sees, and the
   next run uploads again. One that died during or after the share: Slack shares files
   asynchronously, so a share may show in the history only a moment later; the next run
   does not share again within CHART_SETTLE of the uncertain attempt unless it finds the
   file (it reports the digest pending), and after that, finds it or shares it once.

Corrections (`correct`) `chat.update` the posted messages in place, so a fixed digest never
appears twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, Literal

from syncbot import messages
from syncbot.slack.errors import SlackError, SlackRateLimited, SlackRefused, SlackUnavailable
from syncbot.slack.posting import (
    DIGEST_EVENT,
    NOT_SHARED_ON_FAILURE,
    REFUSED_MEANS_NOT_POSTED,
    Poster,
    Sleep,
    is_file,
)
from syncbot.store import OutboxEntry, OutboxKey, Store

logger = logging.getLogger(__name__)
Outcome = Literal["posted", "already_posted", "busy", "pending", "refused", "corrected", "none"]
LEASE = dt.timedelta(minutes=5)
HISTORY_MARGIN = dt.timedelta(minutes=10)  # clock skew between us and Slack, generously
CHART_SETTLE = dt.timedelta(seconds=30)  # how long a file share may take to show in history
# One id per process start: what claims are held under (never reused by a later process,
# whatever its pid or hostname: containers restart as pid 1 with the same hostname).
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Delivery:
    """What happened to one entry in one run; `line()` is what `digest --post` prints."""

    client_id: str
    audience: str
    channel: str
    period: dt.datetime
    outcome: Outcome
    parts: tuple[str, ...] = ()
    count: int = 0  # messages posted or updated in this run
    error: str | None = None
    busy_until: dt.datetime | None = None
    charts: int = 0  # files (the trend chart) shared in this run, counted in `count`

    @property
    def ok(self) -> bool:
        return self.outcome in ("posted", "already_posted", "busy", "corrected", "none")

    def local(self, tz: tzinfo) -> Delivery:
        """Periods are shown in the client's timezone (the store keeps UTC)."""
        return replace(self, period=self.period.astimezone(tz))

    def line(self) -> str:
        text = self._line()
        return messages.delivery_chart(text) if self.charts and self.count > self.charts else text

    def _line(self) -> str:
        where = f"{self.client_id}/{self.audience}"
        if self.outcome == "posted" and self.charts and self.count == self.charts:
            return messages.delivery_chart_only(
                where, self.channel, messages.period_label(self.period)
            )
        period = messages.period_label(self.period)
        ts = ", ".join(self.parts) or "-"
        if self.outcome == "posted" and self.count == 0:  # every part was found in Slack
            return messages.delivery_recovered(where, self.channel, period, ts)
        if self.outcome == "posted":
            texts = self.count - self.charts
            return messages.delivery_posted(where, texts, self.channel, period, ts)
        if self.outcome == "already_posted":
            return messages.delivery_already(where, self.channel, period, ts)
        if self.outcome == "busy":
            return messages.delivery_busy(where, period, self.busy_until)
        if self.outcome == "corrected":
            return messages.delivery_corrected(where, self.count, self.channel, period)
        if self.outcome == "none":
            return messages.delivery_nothing_to_correct(where, period)
        return messages.delivery_pending(where, self.channel, period, self.error or "unknown")


def nothing_to_correct(
    client_id: str, audience: str, channel: str, period: dt.datetime
) -> Delivery:
    return Delivery(client_id, audience, channel, period, "none")


class LeaseLost(Exception):
    """Another poster holds the row now: stop posting it."""


class ChartSettling(Exception):
    """A file share may have happened moments ago and not show in the history yet."""


class Outbox:
    """Delivers outbox entries. `clock` and `sleep` are injected.

    Claims are held per `Outbox` instance (`owner`, unique per instance and process start),
    and an instance may re-claim its own rows: use one instance per thread of work (the
    daemon makes one per job run), never one shared between threads.
    """

    def __init__(
        self,
        store: Store,
        poster: Poster,
        *,
        clock: Callable[[], dt.datetime],
        sleep: Sleep = time.sleep,
        attempts: int = 3,
        backoff: float = 2.0,
        lease: dt.timedelta = LEASE,
    ) -> None:
        self.store = store
        self.poster = poster
        self.clock = clock
        self.sleep = sleep
        self.attempts = attempts
        self.backoff = backoff
        self.lease = lease
        self.owner = f"{PROCESS}:{uuid.uuid4().hex[:8]}"
        self._lost = threading.Event()

    # -- posting ----------------------------------------------------------------------------

    def send_all(self, entries: Iterable[OutboxEntry]) -> list[Delivery]:
        return [self.send(entry) for entry in entries]

    def send(self, entry: OutboxEntry) -> Delivery:
        """Post `entry` (stored first if it is not yet), exactly once."""
        stored = self.store.outbox.add(entry, self.clock())
        if stored.state == "sent":
            return self._result(stored, "already_posted")
        with self._claimed(stored.key) as claimed:
            if isinstance(claimed, Delivery):
                return claimed
            return self._send_claimed(claimed)

    def correct(
        self,
        entry: OutboxEntry,
        new: tuple[dict[str, Any], ...],
        snapshot: dict[str, tuple[dt.date | None, str]],
        as_of: dt.date,
    ) -> Delivery:
        """Update a posted digest's Slack messages in place with its re-rendered content."""
        with self._claimed(entry.key) as claimed:
            if isinstance(claimed, Delivery):
                return claimed
            try:
                if claimed.state == "sending":
                    claimed = self._recover(claimed)
                # Messages are updated in place; a shared file (the chart) stays as it is.
                texts = [i for i, m in enumerate(claimed.messages) if not is_file(m)]
                kept = [(m, claimed.parts[i]) for i, m in enumerate(claimed.messages) if is_file(m)]
                old = [claimed.parts[i] for i in texts]
                updated = 0
                for index, ts in enumerate(old):
                    if ts is None:
                        continue
                    message = new[index] if index < len(new) else _withdrawn(new[0]["text"])
                    self.poster.update(claimed.channel, ts, message)
                    updated += 1
                revised = self.store.outbox.revise(
                    claimed.key,
                    messages=[*new, *(m for m, _ in kept)],
                    parts=old[: len(new)]
                    + [None] * (len(new) - len(old))
                    + [part for _, part in kept],
                    snapshot=snapshot,
                    as_of=as_of,
                    at=self.clock(),
                )
                if revised.state != "sent":
                    revised, _, _ = self._push(revised)
                return self._result(revised, "corrected", count=updated)
            except ChartSettling:
                return self._result(claimed, "pending", error=messages.CHART_SETTLING)
            except SlackError as exc:
                logger.error("%s: correction failed: %s", entry.key.text, exc)
                return self._result(claimed, "refused", error=str(exc))

    @contextmanager
    def _claimed(self, key: OutboxKey) -> Iterator[OutboxEntry | Delivery]:
        """The row claimed for this poster while the block runs (the lease kept alive by a
        heartbeat), or the Delivery saying why not (sent meanwhile, or busy)."""
        with self.store.claims.held(self.owner):
            claimed = self._claim(key)
            if isinstance(claimed, Delivery):
                yield claimed
                return
            with self._heartbeat_running(key):
                try:
                    yield claimed
                finally:
                    self.store.outbox.release(key, self.owner)

    @contextmanager
    def _heartbeat_running(self, key: OutboxKey) -> Iterator[None]:
        stop = threading.Event()
        self._lost.clear()
        beat = threading.Thread(
            target=self._heartbeat, args=(key, stop), name="syncbot-lease", daemon=True
        )
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join()

    def _claim(self, key: OutboxKey) -> OutboxEntry | Delivery:
        """Claim `key`, taking over the claim of a poster that is gone (`store.claims`);
        a live holder's claim makes the row busy."""
        for _ in range(3):
            claimed = self.store.outbox.claim(key, self.owner, self.clock(), self.lease)
            if claimed is not None:
                return claimed
            current = self.store.outbox.get(key)
            if current is None:
                return self._gone(key)
            if current.state == "sent":
                return self._result(current, "already_posted")
            holder = current.claimed_by
            if holder is None or self.store.claims.alive(holder) is not False:
                return self._result(current, "busy", busy_until=current.claimed_until)
            taken = self.store.outbox.take_over(key, holder, self.owner, self.clock(), self.lease)
            if taken is not None:
                logger.warning(
                    "%s: took over the claim of a poster that is gone (%s)", key.text, holder
                )
                return taken
        current = self.store.outbox.get(key)
        return self._result(current, "busy") if current else self._gone(key)

    def _heartbeat(self, key: OutboxKey, stop: threading.Event) -> None:
        period = self.lease.total_seconds() / 3
        while not stop.wait(period):
            try:
                held = self.store.outbox.renew(key, self.owner, self.clock(), self.lease)
            except Exception:  # a database blip: the next beat tries again
                logger.warning("%s: could not renew the claim", key.text, exc_info=True)
                continue
            if not held:
                logger.error("%s: lost the claim (its lease lapsed); stopping", key.text)
                self._lost.set()
                return

    def _send_claimed(self, entry: OutboxEntry) -> Delivery:
        if entry.state == "sent":
            return self._result(entry, "already_posted")
        for attempt in range(1, self.attempts + 1):
            try:
                done, count, charts = self._push(entry)
                return self._result(done, "posted", count=count, charts=charts)
            except LeaseLost:
                current = self.store.outbox.get(entry.key) or entry
                return self._result(current, "busy", busy_until=current.claimed_until)
            except ChartSettling:
                logger.warning("%s: %s", entry.key.text, messages.CHART_SETTLING)
                current = self.store.outbox.get(entry.key) or entry
                return self._result(current, "pending", error=messages.CHART_SETTLING)
            except SlackUnavailable as exc:
                logger.warning(
                    "%s: attempt %d of %d failed: %s", entry.key.text, attempt, self.attempts, exc
                )
                # A failed upload before the share step shared nothing: no need to look.
                certain = exc.method in NOT_SHARED_ON_FAILURE
                self.store.outbox.failed(entry.key, str(exc), self.clock(), certain=certain)
                if attempt == self.attempts:
                    return self._result(entry, "pending", error=str(exc))
                self.sleep(self.backoff * attempt)
                entry = self.store.outbox.get(entry.key) or entry
            except (SlackRateLimited, SlackRefused) as exc:
                logger.error("%s: not posted: %s", entry.key.text, exc)
                # A refused or rate-limited post did not happen; a refused history lookup
                # leaves the row as uncertain as it was.
                certain = exc.method in REFUSED_MEANS_NOT_POSTED
                self.store.outbox.failed(entry.key, str(exc), self.clock(), certain=certain)
                outcome: Outcome = "refused" if isinstance(exc, SlackRefused) else "pending"
                return self._result(entry, outcome, error=str(exc))
        raise AssertionError("unreachable")  # pragma: no cover

    def _push(self, entry: OutboxEntry) -> tuple[OutboxEntry, int, int]:
        """Post the parts not known to be in Slack; return the row as it ends up, how many
        parts this call posted and how many of those were files."""
        key = entry.key
        if entry.state == "sending":
            entry = self._recover(entry)
        count = charts = 0
        for index, message in enumerate(entry.messages):
            if entry.parts[index]:
                continue
            if self._lost.is_set() or not self.store.outbox.renew(
                key, self.owner, self.clock(), self.lease
            ):
                raise LeaseLost(key.text)
            self.store.outbox.sending(key, self.clock())
            if is_file(message):
                file_id = self.poster.upload(entry.channel, message)
                entry = self.store.outbox.posted(key, index, file_id, self.clock())
                count += 1
                charts += 1
                continue
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
            entry = self.store.outbox.posted(key, index, ts, self.clock())
            count += 1
        return entry, count, charts

    def _recover(self, entry: OutboxEntry) -> OutboxEntry:
        """A previous attempt may have posted without recording it: look in the channel."""
        attempted = entry.updated_at or entry.first_attempt_at
        since = (entry.first_attempt_at or entry.created_at or self.clock()) - HISTORY_MARGIN
        files = {str(m["file"]["filename"]): i for i, m in enumerate(entry.messages) if is_file(m)}
        found = self.poster.find_posted(
            entry.channel, entry.key.text, oldest=since.timestamp(), files=files
        )
        for index, ts in sorted(found.items()):
            if 0 <= index < len(entry.parts) and not entry.parts[index]:
                logger.warning(
                    "%s: part %d was already in Slack (ts %s); recording it instead of "
                    "posting again",
                    entry.key.text,
                    index,
                    ts,
                )
                entry = self.store.outbox.posted(entry.key, index, ts, self.clock())
        missing = [i for i, ts in enumerate(entry.parts) if not ts]
        if (
            entry.state == "sending"
            and missing
            and is_file(entry.messages[missing[0]])  # the uncertain attempt was the share
            and attempted is not None
            and self.clock() - attempted < CHART_SETTLE
        ):
            raise ChartSettling(entry.key.text)
        return self.store.outbox.settled(entry.key, self.clock())

    @staticmethod
    def _result(
        entry: OutboxEntry,
        outcome: Outcome,
        *,
        count: int = 0,
        error: str | None = None,
        busy_until: dt.datetime | None = None,
        charts: int = 0,
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
            charts=charts,
        )

    @staticmethod
    def _gone(key: OutboxKey) -> Delivery:
        return Delivery(key.client_id, key.audience, "-", key.period, "pending", error="row gone")


def _withdrawn(title: str) -> dict[str, object]:
    return {
        "text": title,
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": messages.PART_WITHDRAWN, "verbatim": True}],
            }
        ],
    }
