"""The bolt App behind `POST /slack/events` and Socket Mode, and its 3-second ack.

bolt verifies every HTTP request with slack_sdk's SignatureVerifier (v0 HMAC of
"v0:{timestamp}:{body}", 5-minute window). Before bolt sees a request, `SignedRequests` refuses
with 401 what bolt would answer with a 500 and a traceback (a timestamp that is not a number,
a body that is not UTF-8) and logs every refusal with its reason and peer, never its body
(bolt's own log line, which includes the body, is dropped).

Slash commands are acked within Slack's 3 seconds: the answer is computed in a worker thread;
if it is ready within INLINE_SECONDS it is the ack itself, otherwise the ack says "working on
it" and the answer follows through response_url. What is acked but still queued when the
daemon stops (SIGTERM) is answered "restarting: nothing was done".
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import Clock, SignatureVerifier

from syncbot import messages
from syncbot.slack.actions import Actions, Press
from syncbot.slack.commands import Commands, Reply, SlashRequest

logger = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
INLINE_SECONDS = 2.0
MAX_BODY = 1 << 20  # Slack payloads are a few KB
WINDOW_SECONDS = 60 * 5
BODY_KEY = "syncbot.body"  # the raw body, read once and kept in the WSGI environ
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
        self.workers = workers
        # Without a signing secret only Socket Mode is served (its requests are not signed)
        # and /slack/events is not mounted; a random secret keeps bolt from reading
        # SLACK_SIGNING_SECRET from the environment or accepting an empty one.
        self.signing_secret = signing_secret or secrets.token_hex(32)
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
            signing_secret=self.signing_secret,
            authorize=authorize,
            client=client,
            logger=base,
            # The listeners run in the request's thread and return right after ack(): the
            # slow work is in `self.pool`. (With False, bolt runs them in its own executor
            # and polls for the ack every 10 ms, which costs every request up to 10 ms and,
            # with 50 waiting at once, 5,000 GIL wake-ups a second.)
            process_before_response=True,
        )
        self.bolt.command(re.compile(r"^/"))(self._on_command)
        self.bolt.action(re.compile(r"^syncbot_"))(self._on_action)
        self.actions: Actions | None = None

    def _on_action(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """A button: acked at once (Slack's 3 s), acted on in a worker, answered ephemerally."""
        ack()
        press = Press.from_payload(body)
        actions = self.actions
        if press is None or actions is None:
            return
        try:
            future = self.pool.submit(actions.handle, press)
        except RuntimeError:  # shutting down (SIGTERM): nothing was done; say so, after the ack
            threading.Thread(
                target=_respond_all,
                args=(respond, [{"text": messages.SLASH_STOPPING, "replace_original": False}]),
                kwargs={"kind": "ephemeral"},
                name="syncbot-stopping",
                daemon=True,
            ).start()
            return

        def reply(done: concurrent.futures.Future[str]) -> None:
            if done.cancelled():  # queued when SIGTERM came: it was never acted on
                logger.info("button %s not acted on: stopping", press.action)
                text = messages.SLASH_STOPPING
            else:
                try:
                    text = done.result()
                except Exception:
                    logger.exception("button %s failed", press.action)
                    text = messages.SLASH_FAILED
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception:
                logger.exception("could not answer a button press through its response_url")

        future.add_done_callback(reply)

    def _on_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        request = SlashRequest.from_payload(command)
        reply: Reply | None = None
        if self.inline_seconds > 0:  # 0: configured to always answer through response_url
            try:
                reply = self.commands.quick(request)
            except Exception:
                logger.exception("slash command %r in %s failed", request.text, request.channel_id)
                ack(response_type="ephemeral", text=messages.SLASH_FAILED)
                return
        if reply is None:  # it needs computing or writing: acked now, answered after
            try:
                future = self.pool.submit(self.commands.handle, request)
            except RuntimeError:  # shutting down (SIGTERM): say so rather than go quiet
                ack(response_type="ephemeral", text=messages.SLASH_STOPPING)
                return
            ack(response_type="ephemeral", text=messages.SLASH_WORKING)
            future.add_done_callback(lambda done: self._follow_up(done, respond))
            return
        first, *rest = reply.messages
        ack(response_type=_kind(reply), **first)
        if rest:  # a long answer: the rest through response_url, after the ack has gone
            try:
                self.pool.submit(_respond_all, respond, rest, _kind(reply))
            except RuntimeError:  # shutting down: the first part was answered
                logger.info("slash command: %d more part(s) not sent (stopping)", len(rest))

    @staticmethod
    def _follow_up(done: concurrent.futures.Future[Reply], respond: Respond) -> None:
        if done.cancelled():  # acked "working on it", still queued when SIGTERM came
            logger.info("slash command not answered: stopping")
            _respond_all(respond, [{"text": messages.SLASH_STOPPING}], "ephemeral")
            return
        try:
            reply = done.result()
        except Exception:
            logger.exception("slash command failed after the ack")
            _respond_all(respond, [{"text": messages.SLASH_FAILED}], "ephemeral")
            return
        _respond_all(respond, reply.messages, _kind(reply))

    def events_app(self, first_seen: Callable[[str], bool]) -> WSGIApplication:
        """WSGI app for POST /slack/events: pre-checked, replays refused, logged without
        bodies; `first_seen(signature)` remembers the signatures of verified requests."""
        return SignedRequests(
            SlackRequestHandler(self.bolt, path=EVENTS_PATH),
            signing_secret=self.signing_secret,
            first_seen=first_seen,
        )

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


class SignedRequests:
    """Refuses malformed and replayed requests with 401 before bolt sees them, and logs every
    401 (bolt's or ours) with the reason and the peer, never the request body.

    A replay is a correctly signed request whose signature was seen before within Slack's
    5-minute window: `first_seen(signature)` records each in the store, so every daemon
    sharing the database refuses it, whichever one got it first.
    """

    def __init__(
        self,
        app: WSGIApplication,
        *,
        signing_secret: str,
        first_seen: Callable[[str], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.verifier = SignatureVerifier(signing_secret, clock=_Clock(clock))
        self.first_seen = first_seen

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        problem = _malformed(environ)
        if problem is None:
            problem = self._replayed(environ)
        if problem is not None:
            self._log(environ, problem)
            return _unauthorized(start_response)
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        if statuses and statuses[0].startswith("401"):
            self._log(environ, rejection_reason(environ, time.time()))
        return body

    def _replayed(self, environ: WSGIEnvironment) -> str | None:
        """A verified signature seen before: a replay. (Unverified requests are left to bolt,
        which refuses them; only a valid signature is worth remembering.)"""
        signature = str(environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        stamp = str(environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or "")
        body = (
            environ["wsgi.input"].getvalue() if hasattr(environ["wsgi.input"], "getvalue") else b""
        )
        if not signature or not stamp:
            return None
        if not self.verifier.is_valid(body=body, timestamp=stamp, signature=signature):
            return None
        if self.first_seen(signature):
            return None
        return "replayed (this signature was already used)"

    @staticmethod
    def _log(environ: WSGIEnvironment, reason: str) -> None:
        logger.warning(
            "rejected %s %s from %s: %s (body not logged)",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            environ.get("REMOTE_ADDR", "?"),
            reason,
        )


class _Clock(Clock):
    """slack_sdk's verifier asks a clock object for `now()`."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def _malformed(environ: WSGIEnvironment) -> str | None:
    """What bolt cannot verify without failing: read (and put back) the body to check it."""
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    if stamp is not None and not str(stamp).strip().isdigit():
        return "bad X-Slack-Request-Timestamp (not a number)"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "bad Content-Length"
    if length > MAX_BODY:
        return "body too large"
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ[BODY_KEY] = body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    return None


def _unauthorized(start_response: StartResponse) -> list[bytes]:
    body = b'{"error": "invalid request"}'
    start_response(
        "401 Unauthorized",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


def rejection_reason(environ: WSGIEnvironment, now: float) -> str:
    """Why a request was refused, for the log (bolt made the decision; this only names it)."""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    if not signature or not stamp:
        return "unsigned (no X-Slack-Signature / X-Slack-Request-Timestamp)"
    try:
        age = now - int(stamp)
    except ValueError:
        return "bad X-Slack-Request-Timestamp (not a number)"
    if age < -WINDOW_SECONDS:
        return f"timestamp {int(-age)} s in the future: refused"
    if age > WINDOW_SECONDS:
        return f"timestamp {int(age)} s old: stale or replayed"
    return "signature does not match the signing secret"
