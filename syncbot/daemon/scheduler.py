"""APScheduler 3 plumbing: what is scheduled, how jobs run, and how stored jobs are reconciled.

Jobs (`BackgroundScheduler`), per configured client, in its timezone:

    sync:<client>              every `sync_every_minutes` (the first run at once)
    digest:<client>:internal   on `internal_digest_cron`
    digest:<client>:client     on `client_digest_cron`; posts only in digest weeks

plus two jobs that are not persisted: `startup` (once) and `housekeeping` (every
SYNCBOT_OUTBOX_RETRY_SECONDS).

**Persistence.** Jobs live in the state database (`SQLAlchemyJobStore`, table
`apscheduler_jobs`), so a restart knows when each job should have run. Job functions are
module-level and take client ids; they reach the live job bodies through a module-level
registry set by `Scheduler.install`. At each start an existing job whose definition
(function, arguments, trigger, grace) is unchanged is kept as stored, next run time included:
`add_job(replace_existing=True)` would recompute it from now and silently drop a run missed
while the daemon was down. A changed job is replaced; jobs of clients no longer configured go.

**Missed digests.** Digest jobs have coalesce=True, max_instances=1 and misfire_grace_time =
`grace_minutes` (at least one minute): a digest whose fire time passed while the daemon was
down runs once after the restart if it is within the grace, never once per missed fire.

**Stopping.** Each running job has a daemon thread of its own (`JobThreads`): a job stuck in a
slow request cannot hold the process up after SIGTERM.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import obj_to_ref
from sqlalchemy.exc import SQLAlchemyError

from syncbot.config import Config
from syncbot.errors import StoreError, SyncbotError
from syncbot.schedule import cron_trigger, grace
from syncbot.store import Store

logger = logging.getLogger(__name__)
JOBS_TABLE = "apscheduler_jobs"
AUDIENCES = ("internal", "client")


class JobBodies(Protocol):
    """What the scheduled functions call (`syncbot.daemon.jobs.Jobs`)."""

    def sync(self, client_id: str) -> object: ...
    def digest(self, client_id: str, audience: str) -> object: ...
    def housekeeping(self) -> None: ...
    def startup(self) -> None: ...


_registry_lock = threading.Lock()
_current: Scheduler | None = None  # the scheduler whose job bodies the job functions call


# -- job functions: module-level, picklable arguments (they are stored in the database) ------


def run_sync(client_id: str) -> None:
    _live().sync(client_id)


def run_digest(client_id: str, audience: str) -> None:
    _live().digest(client_id, audience)


def run_housekeeping() -> None:
    _live().housekeeping()


def run_startup() -> None:
    _live().startup()


def _live() -> JobBodies:
    current = _current
    if current is None or current.bodies is None:
        raise RuntimeError("no syncbot daemon is scheduled in this process")
    return current.bodies


# -- what is scheduled ------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """One persisted job as the configuration wants it."""

    id: str
    func: Callable[..., None]
    trigger: Any
    kwargs: Mapping[str, str]
    misfire_grace_time: int | None  # seconds; None: run however late (coalesced)
    first_run_now: bool = False


def desired_jobs(config: Config) -> list[JobSpec]:
    specs = []
    for client in config.clients:
        schedule = config.schedule_for(client)
        specs.append(
            JobSpec(
                f"sync:{client.id}",
                run_sync,
                # Sync intervals are durations, not wall-clock times: counted in UTC so that a
                # DST change neither skips nor doubles one.
                IntervalTrigger(minutes=schedule.sync_every_minutes, timezone=dt.UTC),
                {"client_id": client.id},
                None,
                first_run_now=True,
            )
        )
        for audience in AUDIENCES:
            specs.append(
                JobSpec(
                    f"digest:{client.id}:{audience}",
                    run_digest,
                    cron_trigger(config.cadence(client, audience).cron, timezone=client.tz),
                    {"client_id": client.id, "audience": audience},
                    int(grace(schedule.grace_minutes).total_seconds()),
                )
            )
    return specs


def trigger_key(trigger: Any) -> str:
    """What makes two triggers the same schedule (an interval's start date is not part of it)."""
    if isinstance(trigger, IntervalTrigger):
        return f"interval {trigger.interval} {trigger.timezone}"
    return repr(trigger)


def same_job(job: Any, spec: JobSpec) -> bool:
    """Whether a stored job is the job `spec` describes (then it is kept, next run included)."""
    return bool(
        job.func_ref == obj_to_ref(spec.func)
        and tuple(job.args) == ()
        and dict(job.kwargs) == dict(spec.kwargs)
        and trigger_key(job.trigger) == trigger_key(spec.trigger)
        and job.misfire_grace_time == spec.misfire_grace_time
        and job.coalesce
        and job.max_instances == 1
    )


# -- running jobs -----------------------------------------------------------------------------


class JobThreads(BaseExecutor):  # type: ignore[misc]  # APScheduler 3 ships no types
    """An APScheduler executor running each job in a daemon thread of its own.

    max_instances=1 bounds the threads to one per job. Unlike a thread pool, whose workers
    the interpreter joins at exit, a job stuck in a slow request cannot hold the process up
    after SIGTERM: `Scheduler.stop` waits for it a bounded time, then leaves it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()

    def _do_submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        def run() -> None:
            try:
                events = run_job(job, job._jobstore_alias, run_times, self._logger.name)
            except BaseException as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, events)
            finally:
                with self._threads_lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=f"syncbot-job {job.id}", daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    def running(self) -> list[threading.Thread]:
        with self._threads_lock:
            return [t for t in self._threads if t.is_alive()]


class _Background(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 ships no types
    """APScheduler's BackgroundScheduler with a clean shutdown.

    APScheduler 3 sets the state to stopped while its loop may be half-way through a round
    (which then fails removing a finished one-off job), and its loop, woken by `shutdown()`,
    processes one more round although stopped (submitting due jobs and advancing their stored
    next run times). Here `shutdown` first pauses between rounds, and a stopped scheduler
    processes nothing, so a run due at shutdown stays due for the next start.
    """

    def __init__(self, **options: Any) -> None:
        self._round = threading.Lock()
        super().__init__(**options)

    def _process_jobs(self) -> float | None:
        with self._round:
            if self.state == STATE_STOPPED:
                return None
            wait: float | None = super()._process_jobs()
            return wait

    def shutdown(self, wait: bool = True) -> None:
        with self._round:
            if self.state == STATE_RUNNING:
                self.pause()
        super().shutdown(wait)


class Scheduler:
    """The scheduler of one `syncbot run`: opened paused by `open`, started by `resume`."""

    def __init__(self, store: Store, config: Config, *, housekeeping_seconds: float) -> None:
        self.store = store
        self.config = config
        self.housekeeping_seconds = housekeeping_seconds
        self.executor = JobThreads()
        self.new_jobs: set[str] = set()  # jobs this start created (not found in the store)
        self._scheduler: Any = None
        self.bodies: JobBodies | None = None

    def open(self, bodies: JobBodies, now: dt.datetime) -> None:
        """Register `bodies` as this process's jobs, open the job store, reconcile the jobs;
        the scheduler stays paused."""
        global _current
        with _registry_lock:
            if _current is not None and _current is not self:
                raise SyncbotError("another syncbot daemon is already scheduled in this process")
            _current = self
        self.bodies = bodies
        self.new_jobs.clear()  # opened again (leading again): only this start's count
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.store.db.is_sqlite:
            options["connect_args"] = {"timeout": 30}
        self._scheduler = _Background(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=self.store.url, tablename=JOBS_TABLE, engine_options=options
                ),
                "memory": MemoryJobStore(),
            },
            executors={"default": self.executor},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=dt.UTC,
        )
        try:
            self._scheduler.start(paused=True)
            self._reconcile(now)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"scheduler: cannot use the job table {JOBS_TABLE!r} in the state database: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        self._scheduler.add_job(
            run_startup, "date", id="startup", jobstore="memory", misfire_grace_time=None
        )
        self._scheduler.add_job(
            run_housekeeping,
            IntervalTrigger(seconds=self.housekeeping_seconds, timezone=dt.UTC),
            id="housekeeping",
            jobstore="memory",
            misfire_grace_time=None,
        )

    def resume(self) -> None:
        self._scheduler.resume()
        jobs = ", ".join(f"{j_id} at {_when(at)}" for j_id, at in self.jobs())
        logger.info("scheduler running: %s", jobs)

    def _reconcile(self, now: dt.datetime) -> None:
        stored = {job.id: job for job in self._scheduler.get_jobs(jobstore="default")}
        for spec in desired_jobs(self.config):
            job = stored.pop(spec.id, None)
            if job is not None and same_job(job, spec):
                logger.info(
                    "job %s kept as stored (next run %s)",
                    spec.id,
                    _when(job.next_run_time),
                    extra={"job": spec.id},
                )
                continue
            if job is not None:
                self._scheduler.remove_job(spec.id, jobstore="default")
                logger.info(
                    "job %s changed (%s -> %s): rescheduled",
                    spec.id,
                    trigger_key(job.trigger),
                    trigger_key(spec.trigger),
                    extra={"job": spec.id},
                )
            self.new_jobs.add(spec.id)
            first: dict[str, Any] = {"next_run_time": now} if spec.first_run_now else {}
            self._scheduler.add_job(
                spec.func,
                spec.trigger,
                id=spec.id,
                name=spec.id,
                kwargs=dict(spec.kwargs),
                misfire_grace_time=spec.misfire_grace_time,
                coalesce=True,
                max_instances=1,
                jobstore="default",
                **first,
            )
        for job_id in stored:
            self._scheduler.remove_job(job_id, jobstore="default")
            logger.info("job %s removed: not in the configuration any more", job_id)

    def stop(self, wait: float) -> list[threading.Thread]:
        """Stop scheduling, wait up to `wait` seconds for running jobs; return those left."""
        global _current
        if self._scheduler is not None and self._scheduler.state != STATE_STOPPED:
            self._scheduler.shutdown(wait=False)
        deadline = _monotonic() + wait
        for thread in self.executor.running():
            thread.join(max(0.0, deadline - _monotonic()))
        with _registry_lock:
            if _current is self:
                _current = None
        return self.executor.running()

    def add_listener(self, callback: Callable[[Any], None], mask: int) -> None:
        """APScheduler job events (tests wait on them)."""
        self._scheduler.add_listener(callback, mask)

    @property
    def state(self) -> str:
        state = self._scheduler.state if self._scheduler is not None else STATE_STOPPED
        return {STATE_RUNNING: "running", STATE_PAUSED: "paused"}.get(state, "stopped")

    def jobs(self) -> list[tuple[str, dt.datetime | None]]:
        if self._scheduler is None or self._scheduler.state == STATE_STOPPED:
            return []
        return [(j.id, j.next_run_time) for j in self._scheduler.get_jobs()]


def _monotonic() -> float:
    return time.monotonic()


def _when(at: dt.datetime | None) -> str:
    return at.isoformat() if at else "never (paused)"
