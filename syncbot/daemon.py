"""The scheduler of `syncbot run`: scheduled syncs and digests, retries, staleness alerts.

Jobs (APScheduler 3.x `BackgroundScheduler`), per configured client, in its timezone:

    sync:<client>              every `sync_every_minutes` (the first run at once)
    digest:<client>:internal   on `internal_digest_cron`
    digest:<client>:client     on `client_digest_cron`; posts only in digest weeks
                               (`slack.periods`: every `client_digest_every_weeks`-th week)

plus two jobs that are not persisted: `startup` (once) and `housekeeping` (every
SYNCBOT_OUTBOX_RETRY_SECONDS: queued Slack posts retried, staleness checked).

**Persistence.** Jobs live in the state database (`SQLAlchemyJobStore`, table
`apscheduler_jobs`), so a restart knows when each job should have run. Job functions are
module-level and take client ids; they reach the live `Daemon` through a module-level registry
set by `schedule()`. At each start an existing job whose definition (function, arguments,
trigger, grace) is unchanged is kept as stored, next run time included:
`add_job(replace_existing=True)` would recompute it from now and silently drop a run missed
while the daemon was down. A changed job is replaced; jobs of clients no longer configured go.

**Missed digests.** Digest jobs have coalesce=True, max_instances=1 and misfire_grace_time =
`grace_minutes` (at least one minute): a digest whose fire time passed while the daemon was down
runs once after the restart if it is within the grace, never once per missed fire, and is
dropped after it. The `startup` job also delivers the current period of each stored digest job
when that period began within the grace: that covers a run lost when the process died between
APScheduler advancing the job's next run time and the job queueing its digest. (A job created
by this start, on a first start or after a schedule change, owes nothing from before.) A digest
job always delivers the period it is in (`period_for(now)`), and the outbox posts each
(client, audience, period) once, whatever the number of attempts: it is the final guard against
duplicates, and it keeps what could not be posted until `housekeeping` gets it through.

**Faults.** Every job body runs inside `_job(...)`: an unexpected exception is logged with
`logger.exception` and the job's context (client, source, job) and counted in
`syncbot_job_failures`; the scheduler goes on. A failing source is a report, not an exception
(`service.sync_client` records it and syncs the other sources); a Slack outage leaves digests
queued; one client's failures never touch another's jobs.

**Stopping.** Each running job has a daemon thread of its own (`JobThreads`). `stop()` shuts the
scheduler down, waits up to SYNCBOT_SHUTDOWN_SECONDS for running jobs, then abandons the rest:
every store write is one transaction and every Slack post goes through the outbox, so an
abandoned job leaves nothing or a queued row the next start resumes. The claims this process
holds on outbox rows are released, so the next start need not wait for their lease; a start
also releases claims left by dead processes on the same host (kill -9).

**Staleness alerts.** A source is stale when it has not synced successfully for more than two
sync intervals (`health.source_status`). The internal channel then gets ONE alert per episode,
an episode being identified by (client, source, last success before it went stale); the alert
is an outbox row (audience `stale-<hash>`, period = that last success), so it is posted exactly
once across intervals, restarts and crashes. When the source syncs again a short all-clear is
posted once (audience `fresh-<hash>`, same period), so nobody is left wondering whether the
alert still holds. Digests meanwhile say plainly how old the data is. Alerts for a client wait
for its first sync in this process: after the daemon itself was down every source is old until
it is synced again, and that is no news to page anyone about.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.executors.base import BaseExecutor, run_job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING, STATE_STOPPED
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import obj_to_ref
from sqlalchemy.exc import SQLAlchemyError

from syncbot import messages, service
from syncbot.config import Client, LoadedConfig, Schedule, cron_trigger
from syncbot.errors import SettingsError, StoreError, SyncbotError
from syncbot.health import (
    JobInfo,
    SchedulerInfo,
    SourceStatus,
    client_statuses,
    health_document,
)
from syncbot.metrics import Metrics, error_kind
from syncbot.render.blocks import escape
from syncbot.render.views import Audience
from syncbot.settings import Settings
from syncbot.slack.outbox import Delivery, Outbox
from syncbot.slack.periods import digest_cron, period_for
from syncbot.slack.posting import SlackError, SlackPoster
from syncbot.store import OutboxEntry, OutboxKey, Store

logger = logging.getLogger(__name__)
JOBS_TABLE = "apscheduler_jobs"
AUDIENCES: tuple[Audience, ...] = ("internal", "client")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the episode of a source never synced
MIN_GRACE = dt.timedelta(minutes=1)
MAX_ERROR_CHARS = 500

_registry_lock = threading.Lock()
_current: Daemon | None = None


# -- job functions: module-level, picklable arguments (they are stored in the database) ------


def run_sync(client_id: str) -> None:
    _live().sync(client_id)


def run_digest(client_id: str, audience: str) -> None:
    _live().digest(client_id, audience)


def run_housekeeping() -> None:
    _live().housekeeping()


def run_startup() -> None:
    _live().startup()


def _live() -> Daemon:
    daemon = _current
    if daemon is None:
        raise RuntimeError("no syncbot daemon is scheduled in this process")
    return daemon


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


def grace(schedule: Schedule) -> dt.timedelta:
    """How late a digest may still be posted: `grace_minutes`, at least one minute (a fire
    that starts a few seconds late on a busy machine is not a missed one)."""
    return max(dt.timedelta(minutes=schedule.grace_minutes), MIN_GRACE)


def desired_jobs(loaded: LoadedConfig) -> list[JobSpec]:
    specs = []
    for client in loaded.config.clients:
        schedule = loaded.config.schedule_for(client)
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
                    cron_trigger(digest_cron(schedule, audience), timezone=client.tz),
                    {"client_id": client.id, "audience": audience},
                    int(grace(schedule).total_seconds()),
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


def alert_audiences(source: str) -> tuple[str, str]:
    """Outbox audiences of a source's staleness alert and all-clear (16 characters at most)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    return f"stale-{digest}", f"fresh-{digest}"


# -- running jobs -----------------------------------------------------------------------------


class JobThreads(BaseExecutor):  # type: ignore[misc]  # APScheduler 3 ships no types
    """An APScheduler executor running each job in a daemon thread of its own.

    max_instances=1 bounds the threads to one per job. Unlike a thread pool, whose workers
    the interpreter joins at exit, a job stuck in a slow request cannot hold the process up
    after SIGTERM: `Daemon.stop` waits for it a bounded time, then leaves it.
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


class Scheduler(BackgroundScheduler):  # type: ignore[misc]  # APScheduler 3 ships no types
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


class MeteredPoster(SlackPoster):
    """A SlackPoster that counts each failed Slack call in syncbot_api_errors{api="slack"}."""

    def __init__(self, inner: SlackPoster, metrics: Metrics) -> None:
        super().__init__(inner.client, pacer=inner.pacer)
        self.metrics = metrics

    def post(self, channel: str, message: Mapping[str, Any], *, metadata: Mapping[str, Any]) -> str:
        with self._counted():
            return super().post(channel, message, metadata=metadata)

    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        with self._counted():
            super().update(channel, ts, message)

    def find_posted(self, channel: str, key: str, *, oldest: float) -> dict[int, str]:
        with self._counted():
            return super().find_posted(channel, key, oldest=oldest)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        try:
            yield
        except SlackError as exc:
            self.metrics.api_errors.labels("slack", error_kind(exc)).inc()
            raise


@dataclass
class Daemon:
    """Schedules and runs the jobs of `syncbot run`. `now` is injected (the CLI's clock).

    `schedule()` opens the job store and reconciles the jobs with the configuration, leaving
    the scheduler paused; `start()` does that and resumes it; `stop()` ends it. The job bodies
    (`sync`, `digest`, `housekeeping`, `startup`) can also be called directly.
    """

    loaded: LoadedConfig
    settings: Settings
    store: Store
    now: Callable[[], dt.datetime]
    metrics: Metrics = field(default_factory=Metrics)
    poster: SlackPoster | None = None  # default: from settings (None without a bot token)
    scheduler: Any = field(default=None, init=False)
    started_at: dt.datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.metrics.outbox.set_function(self._outbox_size)
        if self.poster is None:
            try:
                self.poster = SlackPoster.from_settings(self.settings)
            except SettingsError:
                self.poster = None  # Runtime warns; digest jobs log that they cannot post
        if self.poster is not None and not isinstance(self.poster, MeteredPoster):
            self.poster = MeteredPoster(self.poster, self.metrics)
        self._executor = JobThreads()
        self._owners: set[str] = set()
        self._owners_lock = threading.Lock()
        self._new_jobs: set[str] = set()  # jobs this start created (not found in the store)
        self._synced: set[str] = set()  # clients whose sync job ran in this process

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.schedule()
        self.scheduler.resume()
        jobs = ", ".join(f"{j.id} at {_when(j.next_run_time)}" for j in self.jobs())
        logger.info("scheduler running: %s", jobs)

    def schedule(self) -> None:
        """Register as this process's daemon, open the job store, reconcile the jobs."""
        global _current
        with _registry_lock:
            if _current is not None and _current is not self:
                raise SyncbotError("another syncbot daemon is already scheduled in this process")
            _current = self
        self.started_at = self.now()
        self.release_dead_claims()
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.store.engine.dialect.name == "sqlite":
            options["connect_args"] = {"timeout": 30}
        self.scheduler = Scheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=self.store.url, tablename=JOBS_TABLE, engine_options=options
                ),
                "memory": MemoryJobStore(),
            },
            executors={"default": self._executor},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=dt.UTC,
        )
        try:
            self.scheduler.start(paused=True)
            self._reconcile()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"scheduler: cannot use the job table {JOBS_TABLE!r} in the state database: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
        self.scheduler.add_job(
            run_startup, "date", id="startup", jobstore="memory", misfire_grace_time=None
        )
        self.scheduler.add_job(
            run_housekeeping,
            IntervalTrigger(seconds=self.settings.outbox_retry_seconds, timezone=dt.UTC),
            id="housekeeping",
            jobstore="memory",
            misfire_grace_time=None,
        )

    def _reconcile(self) -> None:
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        for spec in desired_jobs(self.loaded):
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
                self.scheduler.remove_job(spec.id, jobstore="default")
                logger.info(
                    "job %s changed (%s -> %s): rescheduled",
                    spec.id,
                    trigger_key(job.trigger),
                    trigger_key(spec.trigger),
                    extra={"job": spec.id},
                )
            self._new_jobs.add(spec.id)
            first: dict[str, Any] = {"next_run_time": self.now()} if spec.first_run_now else {}
            self.scheduler.add_job(
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
            self.scheduler.remove_job(job_id, jobstore="default")
            logger.info("job %s removed: not in the configuration any more", job_id)

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling, wait up to `timeout` (SYNCBOT_SHUTDOWN_SECONDS) for running jobs,
        then leave the others (see the module docstring: that is safe)."""
        global _current
        wait = self.settings.shutdown_seconds if timeout is None else timeout
        if self.scheduler is not None and self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + wait
        for thread in self._executor.running():
            thread.join(max(0.0, deadline - time.monotonic()))
        left = self._executor.running()
        if left:
            logger.warning(
                "stopping with %d job(s) still running, abandoned: %s (their store writes are "
                "transactions and their Slack posts stay queued for the next start)",
                len(left),
                ", ".join(t.name.removeprefix("syncbot-job ") for t in left),
            )
            self._release_own_claims()
        with _registry_lock:
            if _current is self:
                _current = None

    # -- state for /healthz -----------------------------------------------------------------

    def jobs(self) -> list[JobInfo]:
        if self.scheduler is None or self.scheduler.state == STATE_STOPPED:
            return []
        return [JobInfo(j.id, j.next_run_time) for j in self.scheduler.get_jobs()]

    def scheduler_info(self) -> SchedulerInfo:
        state = self.scheduler.state if self.scheduler is not None else STATE_STOPPED
        name = {STATE_RUNNING: "running", STATE_PAUSED: "paused"}.get(state, "stopped")
        return SchedulerInfo(name, tuple(self.jobs()))

    def source_statuses(self, now: dt.datetime | None = None) -> list[SourceStatus]:
        now = now or self.now()
        since = self.started_at or now
        return [
            status
            for client in self.loaded.config.clients
            for status in client_statuses(self.loaded, client, self.store, now=now, since=since)
        ]

    def health(self) -> tuple[int, dict[str, Any]]:
        """GET /healthz: 200, or 503 when a source is stale or the scheduler is not running."""
        now = self.now()
        return health_document(self.source_statuses(now), self.scheduler_info(), now)

    # -- job bodies -------------------------------------------------------------------------

    def sync(self, client_id: str) -> list[service.SyncReport]:
        """Sync one client's sources, record its state, check its sources' freshness."""
        job = f"sync:{client_id}"
        reports: list[service.SyncReport] = []
        with self._job(job, client=client_id):
            client = self._client(client_id, job)
            if client is not None:
                reports = service.sync_client(
                    self.loaded,
                    client,
                    self.settings,
                    self.store,
                    now=self.now,
                    metrics=self.metrics,
                )
                for report in reports:
                    extra = {"client": client.id, "source": report.source, "job": job}
                    if report.error:
                        logger.warning("sync failed: %s", report.line(), extra=extra)
                    else:
                        logger.info("%s", report.line(), extra=extra)
                now = self.now()
                state = service.client_state(
                    self.loaded, client, self.store, as_of=service.today(client, now), now=now
                )
                service.record_snapshot(self.store, state, now)
                self._synced.add(client.id)
                self.check_sources(client)
        return reports

    def digest(self, client_id: str, audience: str) -> list[Delivery]:
        """Post the digest of the period `now` is in, when that period began within the
        grace (not so in a client digest's off week); always send what is queued."""
        job = f"digest:{client_id}:{audience}"
        results: list[Delivery] = []
        with self._job(job, client=client_id, audience=audience):
            client = self._client(client_id, job)
            if client is None or audience not in AUDIENCES:
                return results
            who: Audience = "client" if audience == "client" else "internal"
            schedule = self.loaded.config.schedule_for(client)
            now = self.now()
            period = period_for(client, schedule, who, now)
            with self._outbox() as outbox:
                if outbox is None:
                    logger.error(
                        "%s digest of %s not posted: SYNCBOT_SLACK_BOT_TOKEN is not set",
                        audience,
                        client.id,
                        extra={"client": client.id, "job": job},
                    )
                elif now - period > grace(schedule):
                    logger.info(
                        "no %s digest of %s due now: its latest period (%s) began more than %s ago",
                        audience,
                        client.id,
                        messages.period_label(period),
                        grace(schedule),
                        extra={"client": client.id, "job": job},
                    )
                    results = outbox.retry_pending(client, who)
                else:
                    results = outbox.deliver(self.loaded, client, who)
            self._record(results, job)
        return results

    def housekeeping(self) -> None:
        """Retry queued digests and alerts, check every source's freshness (per client)."""
        for client in self.loaded.config.clients:
            with self._job("housekeeping", client=client.id):
                with self._outbox() as outbox:
                    if outbox is not None:
                        for audience in AUDIENCES:
                            if self.store.outbox_unsent(client.id, audience):
                                results = outbox.retry_pending(client, audience)
                                self._record(results, "housekeeping")
                self.check_sources(client)

    def startup(self) -> None:
        """Once at start: the digests owed now (within the grace), then housekeeping.

        A digest job this start created (first start, changed schedule) owes nothing from
        before: its schedule begins now. A stored one may have lost a run to a crash.
        """
        for client in self.loaded.config.clients:
            for audience in AUDIENCES:
                if f"digest:{client.id}:{audience}" not in self._new_jobs:
                    self.digest(client.id, audience)
        self.housekeeping()

    # -- staleness alerts -------------------------------------------------------------------

    def check_sources(self, client: Client) -> None:
        """One alert per staleness episode, one all-clear after it (module docstring).

        Alerts wait for the client's first sync in this process: after the daemon itself was
        down, every source is over two intervals old until it is synced again, and that is
        no news (/healthz says so meanwhile, and digests say how old the data is)."""
        now = self.now()
        statuses = client_statuses(
            self.loaded, client, self.store, now=now, since=self.started_at or now
        )
        with self._outbox() as outbox:
            for status in statuses:
                labels = (client.id, status.source)
                self.metrics.source_stale.labels(*labels).set(1 if status.stale else 0)
                if status.last_success is not None:
                    self.metrics.last_success.labels(*labels).set(status.last_success.timestamp())
                if outbox is not None and client.id in self._synced:
                    self._alert(client, status, outbox, now)

    def _alert(
        self, client: Client, status: SourceStatus, outbox: Outbox, now: dt.datetime
    ) -> None:
        stale_audience, fresh_audience = alert_audiences(status.source)
        extra = {"client": client.id, "source": status.source, "job": "staleness"}
        if status.stale:
            key = OutboxKey(client.id, stale_audience, status.last_success or EPOCH)
            entry = self.store.outbox_get(key)
            if entry is None:
                logger.warning(
                    "%s/%s is stale (last success %s): alerting %s",
                    client.id,
                    status.source,
                    _when(status.last_success),
                    client.internal_channel,
                    extra=extra,
                )
                text = messages.stale_alert(
                    client.name,
                    status.label,
                    status.source,
                    status.last_success,
                    now,
                    self.loaded.config.schedule_for(client).sync_every_minutes,
                    (status.last_error or "")[:MAX_ERROR_CHARS] or None,
                )
                entry = self._message(client, key, text, now)
            if entry.state != "sent":
                self._record([outbox.send_once(entry)], "staleness", kind="stale")
            return
        latest = self.store.outbox_latest(client.id, stale_audience)
        if latest is None:
            return
        if latest.state != "sent":  # an alert still owed goes out before its all-clear
            self._record([outbox.send_once(latest)], "staleness", kind="stale")
        if status.last_success is None or status.last_success <= latest.key.period:
            return
        key = OutboxKey(client.id, fresh_audience, latest.key.period)
        entry = self.store.outbox_get(key)
        if entry is None:
            logger.info(
                "%s/%s is fresh again: posting the all-clear", client.id, status.source, extra=extra
            )
            since = latest.key.period if latest.key.period != EPOCH else None
            text = messages.stale_recovered(
                client.name, status.label, status.source, since, status.last_success
            )
            entry = self._message(client, key, text, now)
        if entry.state != "sent":
            self._record([outbox.send_once(entry)], "staleness", kind="recovered")

    @staticmethod
    def _message(client: Client, key: OutboxKey, text: str, now: dt.datetime) -> OutboxEntry:
        block = {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)}}
        return OutboxEntry(
            key=key,
            channel=client.internal_channel,
            as_of=service.today(client, now),
            state="pending",
            messages=({"text": text, "blocks": [block]},),
            parts=(None,),
            snapshot={},
        )

    # -- claims -----------------------------------------------------------------------------

    def release_dead_claims(self) -> int:
        """Release outbox claims held by processes of this host that are gone (kill -9), so
        their rows need not wait for the lease to lapse. Returns how many were released."""
        host = socket.gethostname()
        released = 0
        for entry in self.store.outbox_claimed():
            owner = entry.claimed_by or ""
            parts = owner.rsplit(":", 2)
            if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
                continue
            pid = int(parts[1])
            with self._owners_lock:
                ours = owner in self._owners
            if ours or not _dead(pid):
                continue
            self.store.outbox_release(entry.key, owner)
            released += 1
            logger.info(
                "%s: released the claim of a dead process (%s)",
                entry.key.text,
                owner,
                extra={"client": entry.key.client_id},
            )
        return released

    def _release_own_claims(self) -> None:
        with self._owners_lock:
            owners = set(self._owners)
        for entry in self.store.outbox_claimed():
            if entry.claimed_by in owners:
                self.store.outbox_release(entry.key, entry.claimed_by)

    # -- helpers ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _job(self, job: str, **context: str) -> Iterator[None]:
        """A job boundary: nothing escapes to the scheduler; failures are logged with context."""
        try:
            yield
        except Exception:
            self.metrics.job_failures.labels(job).inc()
            logger.exception("job %s failed", job, extra={"job": job, **context})

    @contextlib.contextmanager
    def _outbox(self) -> Iterator[Outbox | None]:
        """A fresh Outbox per job run: each has its own claim owner, so two jobs of this
        process never both post one row (an owner may re-claim its own rows)."""
        if self.poster is None:
            yield None
            return
        outbox = Outbox(
            self.store,
            self.poster,
            now=self.now,
            backoff=self.settings.slack_retry_backoff_seconds,
        )
        with self._owners_lock:
            self._owners.add(outbox.owner)
        try:
            yield outbox
        finally:
            with self._owners_lock:
                self._owners.discard(outbox.owner)

    def _client(self, client_id: str, job: str) -> Client | None:
        for client in self.loaded.config.clients:
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

    def _outbox_size(self) -> float:
        try:
            return float(self.store.outbox_backlog())
        except StoreError:
            return float("nan")


def _dead(pid: int) -> bool:
    if pid == os.getpid():
        return True  # our pid, not one of our owners: an earlier incarnation (containers: pid 1)
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


def _when(at: dt.datetime | None) -> str:
    return at.isoformat() if at else "never (paused)"
