"""The composition of `syncbot run`: application object, daemon, Slack app, HTTP routes, and
the SIGTERM handling that stops them in order.

`Runtime` is built from the settings: `router` to serve over HTTP (the client pages at
GET /c/<token> always), Socket Mode when SYNCBOT_SLACK_APP_TOKEN is set (at least one of the
two must be possible), the tracker webhooks (`syncbot.webhooks`), and, with a daemon, its
scheduler plus GET /healthz and GET /metrics. With a `Leadership` (`syncbot.daemon.leader`)
the scheduler runs only while this process holds the leader lock; HTTP is served either way.
`serve` runs it until SIGTERM: the HTTP server stops first, then the election, then the
scheduler (waiting up to SYNCBOT_SHUTDOWN_SECONDS for running jobs, safe to abandon: see
`syncbot.daemon`), and last the leader lock is released; the exit code is 0.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from syncbot import messages
from syncbot.app import Syncbot
from syncbot.daemon import Daemon
from syncbot.daemon.leader import Leadership, instance_id, leader_lock
from syncbot.errors import SettingsError, SyncbotError
from syncbot.metrics import Metrics
from syncbot.pages import CHART_NAME, PAGES_PREFIX, ClientPages
from syncbot.settings import Settings
from syncbot.slack.actions import Actions
from syncbot.slack.bolt import EVENTS_PATH, INLINE_SECONDS, SlackApp
from syncbot.slack.commands import Commands
from syncbot.slack.outbox import Outbox
from syncbot.slack.posting import SlackAccess, SlackPoster
from syncbot.web import (
    HEALTH_PATH,
    METRICS_PATH,
    HealthApp,
    HttpServer,
    JobInfo,
    LeaderInfo,
    MetricsApp,
    Router,
    SchedulerInfo,
    health_document,
)
from syncbot.webhooks import JIRA_PATH, LINEAR_PATH, WebhookApp

logger = logging.getLogger("syncbot")
REPLAY_WINDOW = dt.timedelta(minutes=6)  # Slack's 5-minute signature window, and a margin


def slack_access(settings: Settings) -> SlackAccess:
    """The Slack adapters' value object from the settings."""
    return SlackAccess(
        api_url=settings.slack_api_url,
        bot_token=settings.slack_bot_token,
        post_interval=settings.slack_post_interval_seconds,
        max_wait=settings.slack_max_wait_seconds,
        retry_backoff=settings.slack_retry_backoff_seconds,
    )


def daemon_for(app: Syncbot, settings: Settings) -> Daemon:
    access = slack_access(settings)
    try:
        poster = SlackPoster.connect(access)
    except SettingsError:
        poster = None  # Runtime warns; digest jobs log that they cannot post
    return Daemon(
        app,
        poster=poster,
        metrics=app.metrics,
        housekeeping_seconds=settings.outbox_retry_seconds,
        shutdown_seconds=settings.shutdown_seconds,
        backoff=settings.slack_retry_backoff_seconds,
        webhook_poll_seconds=settings.webhook_poll_seconds,
    )


def leadership_for(daemon: Daemon, settings: Settings, instance: str | None = None) -> Leadership:
    """The election of `daemon` on its database (AnotherDaemon: a SQLite file in use)."""
    who = instance or instance_id()
    return Leadership(
        leader_lock(daemon.store.db, who),
        who,
        every=settings.leader_check_seconds,
        on_elected=daemon.start,
        on_deposed=daemon.step_down,
    )


class Runtime:
    """What `syncbot run` runs (see the module docstring)."""

    def __init__(
        self,
        app: Syncbot,
        settings: Settings,
        *,
        inline_seconds: float = INLINE_SECONDS,
        daemon: Daemon | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        secret = _secret(settings.slack_signing_secret)
        app_token = _secret(settings.slack_app_token)
        if not secret and not app_token:
            raise SettingsError(
                "run: set SYNCBOT_SLACK_SIGNING_SECRET (slash commands over HTTP at "
                f"{EVENTS_PATH}) or SYNCBOT_SLACK_APP_TOKEN (Socket Mode), in the environment "
                "or .env"
            )
        token = _secret(settings.slack_bot_token)
        if not token:
            logger.warning("SYNCBOT_SLACK_BOT_TOKEN is not set: digests cannot be posted")
        self.app = app
        self.commands = Commands(app)
        self.slack = SlackApp(
            self.commands,
            signing_secret=secret,
            bot_token=token,
            # No token on the shared client: bolt takes the bot token from `authorize`.
            client=WebClient(base_url=slack_access(settings).base_url),
            inline_seconds=inline_seconds,
        )
        self.access = slack_access(settings)
        self._team: str | None = None
        self.slack.actions = Actions(app, self._outbox, self.team)
        self.router = Router()
        self.routes: list[str] = []  # "METHOD /path", for the line `syncbot run` prints
        if secret:
            self.router.mount(EVENTS_PATH, self.slack.events_app(self._first_seen))
            self.routes.append(f"POST {EVENTS_PATH}")
        self.router.mount_prefix(PAGES_PREFIX, ClientPages(app))
        self.routes += [f"GET {PAGES_PREFIX}<token>", f"GET {PAGES_PREFIX}<token>/{CHART_NAME}"]
        self.webhooks = [
            WebhookApp(app, "jira", _secret(settings.jira_webhook_secret)),
            WebhookApp(app, "linear", _secret(settings.linear_webhook_secret)),
        ]
        for path, hook in zip((JIRA_PATH, LINEAR_PATH), self.webhooks, strict=True):
            self.router.mount(path, hook)  # without its secret: 404, and a hint in the log
            if hook.secret:
                self.routes.append(f"POST {path}")
        self.daemon = daemon
        self.leadership = leadership
        if daemon is not None:
            self.router.mount(HEALTH_PATH, HealthApp(self.health))
            self.router.mount(METRICS_PATH, MetricsApp(daemon.metrics))
            self.routes += [f"GET {HEALTH_PATH}", f"GET {METRICS_PATH}"]
        self._app_token = app_token
        self._socket: object | None = None

    def _outbox(self) -> Outbox | None:
        try:
            poster = SlackPoster.connect(self.access)
        except SettingsError:
            return None
        return Outbox(
            self.app.store, poster, clock=self.app.clock, backoff=self.access.retry_backoff
        )

    def team(self) -> str | None:
        """The workspace the app is installed in (auth.test), asked once; None if unknown."""
        if self._team is None:
            try:
                self._team = str(SlackPoster.connect(self.access).auth_test().get("team_id") or "")
            except Exception:
                logger.warning(
                    "auth.test failed: cannot tell the app's workspace yet", exc_info=True
                )
                return None
        return self._team or None

    def _first_seen(self, signature: str) -> bool:
        return self.app.first_request("slack", signature, REPLAY_WINDOW)

    def health(self) -> tuple[int, dict[str, Any]]:
        """GET /healthz: 200, or 503 when a source is stale, the leader's scheduler is not
        running, or the leader lock cannot be reached."""
        sources = [(c.id, h) for c in self.app.clients for h in self.app.freshness(c.id)]
        scheduler = SchedulerInfo("stopped")
        if self.daemon is not None:
            jobs = tuple(JobInfo(j, at) for j, at in self.daemon.scheduler.jobs())
            scheduler = SchedulerInfo(self.daemon.scheduler.state, jobs)
        leader = None
        if self.leadership is not None:
            elected = self.leadership
            leader = LeaderInfo(elected.leading, elected.holder, elected.instance, elected.error)
        return health_document(sources, scheduler, self.app.clock(), leader=leader)

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def start_scheduler(self) -> None:
        """Start contending for the leader lock (the scheduler starts once this process
        leads), or, without a `Leadership`, the daemon's scheduler itself."""
        if self.leadership is not None:
            self.leadership.start()
        elif self.daemon is not None:
            self.daemon.start()

    def start(self) -> None:
        """Connect Socket Mode (when configured); HTTP is served by whoever runs `router`."""
        if self._app_token is None:
            return
        socket = self.slack.socket_mode(self._app_token)
        self._socket = socket
        try:
            socket.connect()  # type: ignore[no-untyped-call]  # untyped in bolt
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            raise SettingsError(
                f"Socket Mode: Slack refused apps.connections.open ({code or exc}): set "
                "SYNCBOT_SLACK_APP_TOKEN to an app-level token (xapp-...) with connections:write"
            ) from exc
        except (SlackClientError, OSError) as exc:
            raise SettingsError(f"Socket Mode: cannot connect to Slack ({exc})") from exc

    def close(self) -> None:
        """Stop the election, the scheduler (waiting a bounded time for running jobs), then
        release the leader lock; close Slack and the webhooks."""
        try:
            if self.leadership is not None:
                self.leadership.stop()
            if self.daemon is not None:
                self.daemon.stop()
        finally:
            if self.leadership is not None:
                self.leadership.close()
            socket = self._socket
            if socket is not None:
                socket.close()  # type: ignore[attr-defined]  # SocketModeHandler, untyped
            self.slack.close()
            for hook in self.webhooks:
                hook.close()


def serve(app: Syncbot, settings: Settings) -> int:
    """Run the daemon and its HTTP endpoint until SIGTERM."""
    if app.metrics is None:
        app.metrics = Metrics()
    daemon = daemon_for(app, settings)
    leadership = leadership_for(daemon, settings)  # a second daemon on SQLite stops here
    try:
        runtime = Runtime(app, settings, daemon=daemon, leadership=leadership)
    except BaseException:
        leadership.close()
        raise
    try:
        server = HttpServer(runtime.router, settings.host, settings.port)
    except OSError as exc:
        runtime.close()
        raise SyncbotError(
            f"run: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "set SYNCBOT_HOST / SYNCBOT_PORT"
        ) from exc
    stopping = threading.Event()

    def stop_serving() -> None:
        logger.info("SIGTERM: stopping")
        server.close(drain=settings.shutdown_seconds)  # requests received get their answers

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # Raising here would be caught by whatever the main thread runs (waitress's loop
        # swallows exceptions from its handlers): close the server from another thread, so
        # that serve_forever() returns and the clean-up below runs.
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=stop_serving, name="syncbot-sigterm", daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        runtime.start()
        print(
            messages.serving(
                settings.host, server.port, runtime.routes, socket_mode=runtime.socket_mode
            ),
            file=sys.stderr,
            flush=True,
        )
        # Answers read kept states as they go; reading them all now (no computing) makes
        # the first ones after a restart as quick as the rest.
        threading.Thread(target=app.warm, name="syncbot-warm", daemon=True).start()
        runtime.start_scheduler()
        if not stopping.is_set():
            server.serve_forever()
    finally:
        try:
            server.close()
            runtime.close()
        finally:
            signal.signal(signal.SIGTERM, previous)
    logger.info("stopped")
    return 0


def _secret(value: SecretStr | None) -> str | None:
    return (value.get_secret_value() or None) if value is not None else None
