"""The daemon's job bodies: each is one call into the application object, whose results the
Slack outbox posts.

**Faults.** Every body runs inside `_job(...)`: an unexpected exception is logged with
`logger.exception` and the job's context (client, source, job) and counted in
`syncbot_job_failures`; the scheduler goes on. A failing source is a report, not an exception;
a Slack outage leaves messages queued; one client's failures never touch another's jobs.

**Digests.** A digest job delivers the period it is in, when that period began within the
grace (not so in a client digest's off week); it always sends what is still queued. The
`startup` job also delivers the current period of each stored digest job: that covers a run
lost when the process died between APScheduler advancing the job's next run time and the job
queueing its digest. (A job created by this start owes nothing from before.) The outbox posts
each (client, audience, period) once, whatever the number of attempts.

**Staleness alerts.** A stale source (`rules.freshness`) gets ONE internal alert per episode
and one all-clear when it recovers (`app.Syncbot.source_alerts`). Alerts for a client wait for
its first sync in this process: after the daemon itself was down every source is old until it
is synced again, and that is no news to page anyone about.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Collection, Iterator, Sequence

from syncbot import messages
from syncbot.app import AUDIENCES, ClientSync, Syncbot
from syncbot.config import Client
from syncbot.errors import NoData, StoreError
from syncbot.metrics import Metrics
from syncbot.render.views import Audience
from syncbot.slack.actions import Actions, mark_superseded
from syncbot.slack.outbox import Delivery, Outbox
from syncbot.slack.posting import Poster

logger = logging.getLogger(__name__)


class Jobs:
    """The bodies of the scheduled jobs (also callable directly, as tests do)."""

    def __init__(
        self,
        app: Syncbot,
        *,
        poster: Poster | None,
        metrics: Metrics,
        backoff: float,
        new_jobs: Callable[[], set[str]] = set,
    ) -> None:
        self.app = app
        self.poster = poster
        self.metrics = metrics
        self.backoff = backoff
        self.new_jobs = new_jobs
        self._synced: set[str] = set()  # clients whose sync job ran in this process
        self._lock = threading.Lock()
        self._syncing: dict[str, threading.Lock] = {}
        # At most this many syncs at once, whatever is due (at start every client is): each
        # holds its client's tickets while it runs, so this bounds the daemon's memory.
        self._syncs = threading.BoundedSemaphore(app.settings.sync_concurrency)

    # -- job bodies -------------------------------------------------------------------------

    def sync(self, client_id: str, sources: Collection[str] | None = None) -> ClientSync | None:
        """Sync one client's sources (only `sources`, by name, when given: a webhook's), record
        its state, then check their freshness."""
        job = f"sync:{client_id}" if sources is None else f"webhook:{client_id}"
        result: ClientSync | None = None
        with self._job(job, client=client_id):
            client = self._client(client_id, job)
            if client is None:
                return None
            with self._sync_lock(client.id), self._sync_slot(client.id, job):
                result = self.app.sync(client.id, sources=sources)
            for report in result.reports:
                extra = {"client": client.id, "source": report.source, "job": job}
                if report.error:
                    logger.warning("sync failed: %s", report.line(), extra=extra)
                else:
                    logger.info("%s", report.line(), extra=extra)
            with self._lock:
                self._synced.add(client.id)
            self.check_sources(client)
            self.alerts(client)
        return result

    def alerts(self, client: Client) -> list[Delivery]:
        """Same-day alerts after a sync: what worsened since the last alerted state."""
        outbox = self._outbox()
        if outbox is None:
            return []
        job = f"alerts:{client.id}"
        results = [d.local(client.tz) for d in outbox.send_all(self.app.raise_alerts(client.id))]
        self._record(results, job, kind="alert")
        if not results:
            logger.info("%s: no new alerts", client.id, extra={"client": client.id, "job": job})
        return results

    def digest(self, client_id: str, audience: str) -> list[Delivery]:
        """Post the digest of the period now is in, when it is due; always send what is
        queued."""
        job = f"digest:{client_id}:{audience}"
        results: list[Delivery] = []
        with self._job(job, client=client_id, audience=audience):
            client = self._client(client_id, job)
            if client is None or audience not in AUDIENCES:
                return results
            who: Audience = "client" if audience == "client" else "internal"
            outbox = self._outbox()
            if outbox is None:
                logger.error(
                    "%s digest of %s not posted: SYNCBOT_SLACK_BOT_TOKEN is not set",
                    audience,
                    client.id,
                    extra={"client": client.id, "job": job},
                )
                return results
            if not self.app.digest_due(client.id, who):
                logger.info(
                    "no %s digest of %s due now: its latest period (%s) began before the grace",
                    audience,
                    client.id,
                    messages.period_label(self.app.period(client, who)),
                    extra={"client": client.id, "job": job},
                )
                entries = self.app.unsent(client.id, who)
            else:
                try:
                    entries = self.app.queue_digest(client.id, who)
                except NoData:
                    # Due before the client's first sync (a digest owed at start-up): sync
                    # now rather than drop it; still nothing: it waits for the next run.
                    logger.info(
                        "%s digest of %s is due before its first sync: syncing first",
                        audience,
                        client.id,
                        extra={"client": client.id, "job": job},
                    )
                    self.sync(client.id)
                    try:
                        entries = self.app.queue_digest(client.id, who)
                    except NoData as exc:
                        logger.warning("%s", exc, extra={"client": client.id, "job": job})
                        return results
            results = [d.local(client.tz) for d in outbox.send_all(entries)]
            self._record(results, job)
            mark_superseded(self.app, client.id, outbox)
        return results

    def housekeeping(self) -> None:
        """Retry queued digests and alerts, check every source's freshness (per client)."""
        for client in self.app.clients:
            with self._job("housekeeping", client=client.id):
                outbox = self._outbox()
                if outbox is not None:
                    entries = self.app.unsent_all(client.id)
                    if entries:
                        results = [d.local(client.tz) for d in outbox.send_all(entries)]
                        self._record(results, "housekeeping")
                    self._finish_releases(client, outbox)
                self.check_sources(client)

    def _finish_releases(self, client: Client, outbox: Outbox) -> None:
        """A release a process began and did not finish (killed between the press and the
        post): post it now, once, and mark its draft."""
        for review in self.app.unfinished_releases():
            if review.client_id == client.id:
                Actions(self.app, lambda: outbox, lambda: None).finish(review, outbox)

    def startup(self) -> None:
        """Once at start: the digests owed now (within the grace), then housekeeping."""
        new = self.new_jobs()
        for client in self.app.clients:
            for audience in AUDIENCES:
                if f"digest:{client.id}:{audience}" not in new:
                    self.digest(client.id, audience)
        self.housekeeping()

    def check_sources(self, client: Client) -> None:
        """Freshness metrics, and the staleness alerts once the client synced here."""
        for health in self.app.freshness(client.id):
            labels = (client.id, health.source)
            self.metrics.source_stale.labels(*labels).set(1 if health.stale else 0)
            if health.last_success is not None:
                self.metrics.last_success.labels(*labels).set(health.last_success.timestamp())
        with self._lock:
            synced = client.id in self._synced
        outbox = self._outbox()
        if outbox is None or not synced:
            return
        for kind, entry in self.app.source_alerts(client.id):
            self._record([outbox.send(entry).local(client.tz)], "staleness", kind=kind)

    # -- helpers ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _sync_slot(self, client_id: str, job: str) -> Iterator[None]:
        """One of `sync_concurrency` slots for the sync's run (waiting, said once, if none)."""
        if not self._syncs.acquire(blocking=False):
            logger.info(
                "%s: waiting for one of the %d sync slots",
                client_id,
                self.app.settings.sync_concurrency,
                extra={"client": client_id, "job": job},
            )
            self._syncs.acquire()
        try:
            yield
        finally:
            self._syncs.release()

    def _sync_lock(self, client_id: str) -> threading.Lock:
        """One sync of a client at a time in this process (the job, or a digest's catch-up)."""
        with self._lock:
            return self._syncing.setdefault(client_id, threading.Lock())

    @contextlib.contextmanager
    def _job(self, job: str, **context: str) -> Iterator[None]:
        """A job boundary: nothing escapes to the scheduler; failures are logged with context."""
        try:
            yield
        except Exception:
            self.metrics.job_failures.labels(job).inc()
            logger.exception("job %s failed", job, extra={"job": job, **context})

    def _outbox(self) -> Outbox | None:
        """A fresh Outbox per job run: each holds its claims under its own owner, so two jobs
        of this process never both post one row."""
        if self.poster is None:
            return None
        return Outbox(
            self.app.store,
            self.poster,
            clock=self.app.clock,
            backoff=self.backoff,
        )

    def _client(self, client_id: str, job: str) -> Client | None:
        for client in self.app.clients:
            if client.id == client_id:
                return client
        logger.warning("job %s: no client %r in the configuration", job, client_id)
        return None

    def _record(self, results: Sequence[Delivery], job: str, *, kind: str | None = None) -> None:
        for result in results:
            extra = {"client": result.client_id, "audience": result.audience, "job": job}
            if result.outcome == "posted" and result.count:
                if kind is None:
                    self.metrics.digests_posted.labels(result.client_id, result.audience).inc()
                else:
                    self.metrics.alerts_posted.labels(result.client_id, kind).inc()
            if result.ok:
                logger.info("%s", result.line(), extra=extra)
            else:
                logger.warning("%s", result.line(), extra=extra)

    def outbox_size(self) -> float:
        try:
            return float(self.app.store.outbox.backlog())
        except StoreError:
            return float("nan")
