"""The leader's watch over sources a webhook marked dirty (`store/dirty.py`): each is synced
incrementally within seconds, a burst of deliveries coalesced.

Every SYNCBOT_WEBHOOK_POLL_SECONDS (1 s) one thread of the leading daemon reads the marks. A
source is due once its mark has stopped changing for one poll (the burst is over), or has
been dirty for MAX_WAIT_SECONDS whatever keeps arriving; its mark is then cleared up to the
generation read, and its client's due sources are synced together (`Jobs.sync`, which never
runs two syncs of one client at once). Marks that arrive while that sync runs stay, and make
at most one more sync: a burst costs at most two. From the first mark to the start of its
sync: under 2 polls when it is alone, at most MAX_WAIT_SECONDS plus a poll in a burst.

This is a thread, not an APScheduler job: a job firing every second would either overlap a
long sync (APScheduler then warns and skips) or wait out its interval after it. The periodic
sync jobs stay: a lost webhook costs at most one sync interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from syncbot.app import Syncbot
from syncbot.errors import SyncbotError

logger = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 5.0
SourceKey = tuple[str, str]


class DirtyWatcher:
    """Syncs dirty sources through `sync(client_id, source_names)` (see the module docstring).

    `poll()` is one round (tests call it directly); `start()`/`stop()` run rounds in a thread.
    """

    def __init__(
        self,
        app: Syncbot,
        sync: Callable[[str, frozenset[str]], object],
        *,
        every: float = 1.0,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.sync = sync
        self.every = every
        self.max_wait = max_wait
        self.clock = clock
        self._seen: dict[SourceKey, tuple[int, float]] = {}  # generation, first seen
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> dict[str, frozenset[str]]:
        """One round: sync what is due; returns client id -> the source names synced."""
        pending = self.app.dirty_sources()
        now = self.clock()
        configured = {(c.id, s.name) for c in self.app.clients for s in c.sources}
        due: dict[SourceKey, int] = {}
        for key, generation in pending.items():
            seen = self._seen.get(key)
            if key not in configured:
                due[key] = generation  # a source no longer configured: clear, sync nothing
            elif seen is None:
                self._seen[key] = (generation, now)  # wait one round for the burst to end
            elif seen[0] == generation or now - seen[1] >= self.max_wait:
                due[key] = generation
            else:
                self._seen[key] = (generation, seen[1])
        for key in [k for k in self._seen if k not in pending]:
            del self._seen[key]  # cleared by someone else (a previous leader)
        by_client: dict[str, set[str]] = {}
        for key, generation in due.items():
            self.app.take_dirty(key, generation)
            self._seen.pop(key, None)
            if key in configured:
                by_client.setdefault(key[0], set()).add(key[1])
        synced = {client: frozenset(names) for client, names in by_client.items()}
        for client_id, names in synced.items():
            logger.info(
                "webhook: syncing %s of %s",
                ", ".join(sorted(names)),
                client_id,
                extra={"client": client_id, "job": f"webhook:{client_id}"},
            )
            self.sync(client_id, names)
        return synced

    def start(self) -> None:
        self.stop()
        self._seen.clear()
        stop = self._stop = threading.Event()  # its own event: a stopped round may still run
        thread = threading.Thread(
            target=self._run, args=(stop,), name="syncbot-webhook-syncs", daemon=True
        )
        self._thread = thread
        thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            try:
                self.poll()
            except SyncbotError as exc:  # the database went away: the next round tries again
                logger.warning("webhook syncs: %s", exc)
            except Exception:
                logger.exception("webhook syncs: a round failed")

    def stop(self) -> None:
        """Stop polling (a sync in progress is left to finish in its thread)."""
        self._stop.set()
