"""What `syncbot run` serves: a WSGI app routed by path, bolt on /slack/events, Socket Mode.

`Router` dispatches by path; with the daemon (`syncbot.daemon.Daemon`) attached, `Runtime` also
mounts GET /healthz and GET /metrics (`syncbot.health`) and starts and stops its scheduler.
`POST /slack/events` goes to slack_bolt's WSGI adapter; bolt verifies every request with
slack_sdk's SignatureVerifier (v0 HMAC of "v0:{timestamp}:{body}", 5-minute window) and
answers 401 to unsigned, mis-signed and stale (replayed) requests. Those are logged here with
their reason but never their bodies (bolt's own log line, which includes the body, is
dropped). `HttpServer` is waitress: a threaded, production WSGI server.

Slash commands are acked within Slack's 3 seconds: the answer is computed from the store in a
worker thread; if it is ready within INLINE_SECONDS it is the ack itself, otherwise the ack
says "working on it" and the answer follows through response_url.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

# waitress ships no type information; only create_server and the server's run/close are used.
import waitress.server  # type: ignore[import-untyped]
import waitress.wasyncore  # type: ignore[import-untyped]
from pydantic import SecretStr
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from syncbot import messages
from syncbot.config import LoadedConfig
from syncbot.daemon import Daemon
from syncbot.errors import SettingsError
from syncbot.health import HealthApp, MetricsApp
from syncbot.settings import Settings
from syncbot.slack.commands import Commands, Reply, SlashRequest
from syncbot.slack.posting import api_base
from syncbot.store import Store

logger = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
INLINE_SECONDS = 2.0
MAX_BODY = 1 << 20  # Slack payloads are a few KB
_BOLT_VERIFICATION_LOGGER = "slack_bolt.RequestVerification"


class _DropBodyLogs(logging.Filter):
    """bolt logs rejected requests with their body; we log them ourselves, without it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != _BOLT_VERIFICATION_LOGGER


class SlackApp:
    """The bolt App answering `/syncbot` with `Commands`."""

    def __init__(
        self,
        commands: Commands,
        *,
        signing_secret: str | None,
        bot_token: str | None,
        client: WebClient,
        inline_seconds: float = INLINE_SECONDS,
        workers: int = 8,
    ) -> None:
        self.commands = commands
        self.inline_seconds = inline_seconds
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="syncbot-slash"
        )
        base = logging.getLogger("syncbot.slack.bolt")
        for quiet in (base, logging.getLogger(_BOLT_VERIFICATION_LOGGER)):
            if not any(isinstance(f, _DropBodyLogs) for f in quiet.filters):
                quiet.addFilter(_DropBodyLogs())

        def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
            # One workspace, one bot token: no per-request auth.test round trip to Slack.
            return AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token
            )

        self.bolt = App(
            name="syncbot",
            # Without a signing secret only Socket Mode is served (its requests are not signed)
            # and /slack/events is not mounted; a random secret keeps bolt from reading
            # SLACK_SIGNING_SECRET from the environment or accepting an empty one.
            signing_secret=signing_secret or secrets.token_hex(32),
            authorize=authorize,
            client=client,
            logger=base,
            process_before_response=False,
        )
        self.bolt.command(re.compile(r"^/"))(self._on_command)

    def _on_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        request = SlashRequest.from_payload(command)
        future = self.pool.submit(self.commands.handle, request)
        try:
            if self.inline_seconds <= 0:  # configured to always answer through response_url
                raise concurrent.futures.TimeoutError
            reply = future.result(timeout=self.inline_seconds)
        except concurrent.futures.TimeoutError:
            ack(response_type="ephemeral", text=messages.SLASH_WORKING)
            future.add_done_callback(lambda done: self._follow_up(done, respond))
            return
        except Exception:
            logger.exception("slash command %r in %s failed", request.text, request.channel_id)
            ack(response_type="ephemeral", text=messages.SLASH_FAILED)
            return
        first, *rest = reply.messages
        ack(response_type=_kind(reply), **first)
        _respond_all(respond, rest, _kind(reply))

    @staticmethod
    def _follow_up(done: concurrent.futures.Future[Reply], respond: Respond) -> None:
        try:
            reply = done.result()
        except Exception:
            logger.exception("slash command failed after the ack")
            _respond_all(respond, [{"text": messages.SLASH_FAILED}], "ephemeral")
            return
        _respond_all(respond, reply.messages, _kind(reply))

    def events_app(self) -> WSGIApplication:
        """WSGI app for POST /slack/events, logging rejected requests without bodies."""
        return _AuditRejections(SlackRequestHandler(self.bolt, path=EVENTS_PATH))

    def socket_mode(self, app_token: str) -> SocketModeHandler:
        """Socket Mode (no public URL): connect() starts it in background threads."""
        return SocketModeHandler(self.bolt, app_token, web_client=self.bolt.client)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _kind(reply: Reply) -> str:
    return "in_channel" if reply.public else "ephemeral"


def _respond_all(respond: Respond, payloads: Iterable[dict[str, Any]], kind: str) -> None:
    """Send follow-ups through response_url, in order; a failure is logged, not raised."""
    for payload in payloads:
        try:
            respond(response_type=kind, **payload)
        except Exception:
            logger.exception("could not send a slash command answer to its response_url")
            return


class _AuditRejections:
    """Logs each 401 from bolt with the reason and the peer, never the request body."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if statuses and statuses[0].startswith("401"):
            logger.warning(
                "rejected %s %s from %s: %s (body not logged)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("REMOTE_ADDR", "?"),
                rejection_reason(environ, time.time()),
            )
        return body


def rejection_reason(environ: WSGIEnvironment, now: float) -> str:
    """Why a request was refused, for the log (bolt made the decision; this only names it)."""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    if not signature or not stamp:
        return "unsigned (no X-Slack-Signature / X-Slack-Request-Timestamp)"
    try:
        age = now - int(stamp)
    except ValueError:
        return "bad X-Slack-Request-Timestamp"
    if abs(age) > 60 * 5:
        return f"timestamp {int(age)} s old: stale or replayed"
    return "signature does not match the signing secret"


class Router:
    """A WSGI app that dispatches on the exact path; 404 (JSON) for anything else."""

    def __init__(self) -> None:
        self._routes: dict[str, WSGIApplication] = {}

    def mount(self, path: str, app: WSGIApplication) -> None:
        self._routes[path] = app

    @property
    def paths(self) -> list[str]:
        return sorted(self._routes)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        app = self._routes.get(environ.get("PATH_INFO") or "/")
        if app is not None:
            return app(environ, start_response)
        body = json.dumps({"error": "not found"}).encode()
        start_response(
            "404 Not Found",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]


class HttpServer:
    """waitress serving a WSGI app on host:port (port 0: any free port, see `.port`)."""

    def __init__(self, app: WSGIApplication, host: str, port: int, *, threads: int = 8) -> None:
        self._server: Any = waitress.server.create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="syncbot",
            max_request_body_size=MAX_BODY,
            clear_untrusted_proxy_headers=True,
        )
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        port = getattr(self._server, "effective_port", None)
        if port is None:  # several sockets (a host name resolving to IPv4 and IPv6)
            port = self._server.effective_listen[0][1]
        return int(port)

    def serve_forever(self) -> None:
        self._stopped.clear()
        self._running.set()
        try:
            self._server.run()
        finally:
            self._running.clear()
            self._stopped.set()

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving. From another thread the serving loop is woken to close everything
        itself (closing its sockets under it would leave it waiting out its poll timeout)."""
        if self._running.is_set():
            self._server.trigger.pull_trigger(self._close_all)
            self._stopped.wait(timeout)
        else:
            self._close_all()

    def _close_all(self) -> None:
        self._server.close()
        # Open client connections live in the same socket map; close them too so the loop ends.
        waitress.wasyncore.close_all(getattr(self._server, "_map", None) or {})


class Runtime:
    """What `syncbot run` runs, built from settings: `router` to serve over HTTP, Socket Mode
    when SYNCBOT_SLACK_APP_TOKEN is set (at least one of the two must be possible), and, when
    a `daemon` is given, its scheduler plus GET /healthz and GET /metrics on the router.
    """

    def __init__(
        self,
        loaded: LoadedConfig,
        settings: Settings,
        store: Store,
        *,
        now: Callable[[], dt.datetime],
        inline_seconds: float = INLINE_SECONDS,
        daemon: Daemon | None = None,
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
        self.commands = Commands(loaded, store, now=now)
        self.slack = SlackApp(
            self.commands,
            signing_secret=secret,
            bot_token=token,
            # No token on the shared client: bolt takes the bot token from `authorize`.
            client=WebClient(base_url=api_base(settings)),
            inline_seconds=inline_seconds,
        )
        self.router = Router()
        self.routes: list[str] = []  # "METHOD /path", for the line `syncbot run` prints
        if secret:
            self.router.mount(EVENTS_PATH, self.slack.events_app())
            self.routes.append(f"POST {EVENTS_PATH}")
        self.daemon = daemon
        if daemon is not None:
            self.router.mount(HEALTH_PATH, HealthApp(daemon.health))
            self.router.mount(METRICS_PATH, MetricsApp(daemon.metrics))
            self.routes += [f"GET {HEALTH_PATH}", f"GET {METRICS_PATH}"]
        self._app_token = app_token
        self._socket: SocketModeHandler | None = None

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    def start_scheduler(self) -> None:
        """Start the daemon's scheduler (jobs run in background threads)."""
        if self.daemon is not None:
            self.daemon.start()

    def start(self) -> None:
        """Connect Socket Mode (when configured); HTTP is served by whoever runs `router`."""
        if self._app_token is None:
            return
        self._socket = self.slack.socket_mode(self._app_token)
        try:
            self._socket.connect()  # type: ignore[no-untyped-call]  # untyped in bolt
        except SlackApiError as exc:
            code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            raise SettingsError(
                f"Socket Mode: Slack refused apps.connections.open ({code or exc}): set "
                "SYNCBOT_SLACK_APP_TOKEN to an app-level token (xapp-...) with connections:write"
            ) from exc
        except (SlackClientError, OSError) as exc:
            raise SettingsError(f"Socket Mode: cannot connect to Slack ({exc})") from exc

    def close(self) -> None:
        """Stop the scheduler (waiting a bounded time for running jobs) and Slack."""
        try:
            if self.daemon is not None:
                self.daemon.stop()
        finally:
            if self._socket is not None:
                self._socket.close()  # type: ignore[no-untyped-call]  # untyped in bolt
            self.slack.close()


def _secret(value: SecretStr | None) -> str | None:
    return (value.get_secret_value() or None) if value is not None else None
