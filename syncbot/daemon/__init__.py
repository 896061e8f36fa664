"""The scheduler of `syncbot run`: scheduled syncs and digests, retries, staleness alerts.

`Daemon` composes the APScheduler plumbing (`daemon/scheduler.py`) with the job bodies
(`daemon/jobs.py`), which call the application object and post through the Slack outbox.

**Stopping.** `stop()` shuts the scheduler down, waits up to SYNCBOT_SHUTDOWN_SECONDS for
running jobs, then abandons the rest: every store write is one transaction and every Slack
post goes through the outbox, so an abandoned job leaves nothing or a queued row the next
start resumes; the claims it held are leases that lapse by themselves.

**Leading.** Only the leader of the daemons sharing a database schedules
(`daemon/leader.py`): `start()` when it is elected, `step_down()` the moment it finds it lost
the lock (scheduling stops at once, running jobs are left to finish), `start()` again when it
leads again. Each start reconciles the stored jobs and runs `startup`, which posts a digest
owed within its grace: a digest due while no daemon led is posted by the next leader, once.
Webhook syncs (`daemon/dirty.py`) run only while leading, like the scheduler.
"""

from __future__ import annotations

import logging

from syncbot.app import ClientSync, Clock, Syncbot
from syncbot.daemon.dirty import DirtyWatcher
from syncbot.daemon.jobs import Jobs
from syncbot.daemon.scheduler import JOBS_TABLE, Scheduler, desired_jobs
from syncbot.metrics import Metrics
from syncbot.slack.outbox import Delivery
from syncbot.slack.posting import MeteredPoster, Poster
from syncbot.store import Store

__all__ = ["JOBS_TABLE", "Daemon", "desired_jobs"]
logger = logging.getLogger(__name__)


class Daemon:
    """Schedules and runs the jobs of `syncbot run` for one application object.

    `schedule()` opens the job store and reconciles the jobs with the configuration, leaving
    the scheduler paused; `start()` does that and resumes it; `stop()` ends it. The job bodies
    (`jobs.sync`, `jobs.digest`, ...) can also be called directly.
    """

    def __init__(
        self,
        app: Syncbot,
        *,
        poster: Poster | None,
        metrics: Metrics | None = None,
        housekeeping_seconds: float = 60.0,
        shutdown_seconds: float = 5.0,
        backoff: float = 2.0,
        webhook_poll_seconds: float = 1.0,
    ) -> None:
        self.app = app
        self.metrics = metrics or app.metrics or Metrics()
        self.shutdown_seconds = shutdown_seconds
        self.scheduler = Scheduler(
            app.store, app.loaded.config, housekeeping_seconds=housekeeping_seconds
        )
        self.jobs = Jobs(
            app,
            poster=MeteredPoster(poster, self.metrics) if poster is not None else None,
            metrics=self.metrics,
            backoff=backoff,
            new_jobs=lambda: self.scheduler.new_jobs,
        )
        self.metrics.outbox.set_function(self.jobs.outbox_size)
        self.webhooks = DirtyWatcher(
            app,
            lambda client_id, names: self.jobs.sync(client_id, names),
            every=webhook_poll_seconds,
        )

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def now(self) -> Clock:
        return self.app.clock

    def sync(self, client_id: str) -> ClientSync | None:
        return self.jobs.sync(client_id)

    def digest(self, client_id: str, audience: str) -> list[Delivery]:
        return self.jobs.digest(client_id, audience)

    def housekeeping(self) -> None:
        self.jobs.housekeeping()

    def startup(self) -> None:
        self.jobs.startup()

    def schedule(self) -> None:
        self.scheduler.open(self.jobs, self.app.clock())

    def start(self) -> None:
        self.schedule()
        self.scheduler.resume()
        self.webhooks.start()

    def step_down(self) -> None:
        """Stop scheduling at once, leaving running jobs to finish (this daemon lost the
        leader lock); `start()` resumes."""
        self.webhooks.stop()
        self.scheduler.stop(0)

    def stop(self, timeout: float | None = None) -> None:
        self.webhooks.stop()
        left = self.scheduler.stop(self.shutdown_seconds if timeout is None else timeout)
        if left:
            logger.warning(
                "stopping with %d job(s) still running, abandoned: %s (their store writes are "
                "transactions and their Slack posts stay queued for the next start)",
                len(left),
                ", ".join(t.name.removeprefix("syncbot-job ") for t in left),
            )
