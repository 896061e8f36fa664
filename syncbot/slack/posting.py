"""Slack Web API calls for digests: the WebClient, 429 Retry-After, pacing, and error classes.

`SlackPoster` is the one seam between syncbot and Slack's Web API. Every failure is one of:

    SlackError(SyncbotError)
    ├── SlackRefused      Slack answered ok:false with a definite error: nothing was posted,
    │                     and retrying will not help until someone fixes something (token,
    │                     channel id, bot not in channel, scopes)
    ├── SlackRateLimited  still HTTP 429 after the Retry-After waits we allow: not posted
    └── SlackUnavailable  5xx, `internal_error`/`fatal_error`, a timeout or a broken connection:
                          the outcome is UNKNOWN (Slack may have posted); look before retrying

Only 429 is retried inside the client (Slack did not process a rate-limited call, so that is
always safe). Server errors are not: `chat.postMessage` is not idempotent, so the outbox
decides (it looks at the channel's history first). Sleeping and the clock are injected so
tests never wait.
"""

from __future__ import annotations

import http.client
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from syncbot import messages
from syncbot.errors import SettingsError, SyncbotError
from syncbot.settings import Settings

logger = logging.getLogger(__name__)
Sleep = Callable[[float], None]
Clock = Callable[[], float]

DIGEST_EVENT = "syncbot_digest"  # Slack message metadata event_type of every digest part
# Slack error codes that do not say whether the call took effect.
UNCERTAIN_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
HISTORY_PAGE = 200
HISTORY_PAGES = 10


class SlackError(SyncbotError):
    """A Slack Web API call failed; `code` is Slack's error code (or a short description)."""

    def __init__(self, method: str, code: str, *, channel: str | None = None) -> None:
        self.method = method
        self.code = code
        self.channel = channel
        where = f" in channel {channel}" if channel else ""
        super().__init__(f"Slack {method}{where}: {code}{messages.slack_error_hint(code)}")


class SlackRefused(SlackError):
    """Slack answered with a definite error: nothing happened."""


class SlackRateLimited(SlackError):
    """Slack kept answering 429 beyond the waits we allow: nothing happened."""


class SlackUnavailable(SlackError):
    """Slack failed in a way that leaves the outcome unknown."""


class RetryAfterHandler(RateLimitErrorRetryHandler):
    """slack_sdk's 429 handler with an injectable sleep and a cap on how long one wait may be.

    A Retry-After longer than `max_wait` is not waited for in-process: the call fails with
    SlackRateLimited and the outbox keeps the digest for a later run.
    """

    def __init__(self, *, sleep: Sleep, max_retry_count: int = 3, max_wait: float = 60.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after(response.headers) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:  # pragma: no cover - _can_retry needs a response
            raise RuntimeError("429 retry without a response") from error
        state.next_attempt_requested = True
        wait = retry_after(response.headers)
        logger.warning("Slack rate limit on %s: waiting %.1f s", request.url, wait)
        self.sleep(wait + random.uniform(0, 0.25))
        state.increment_current_attempt()


def retry_after(headers: Mapping[str, Any]) -> float:
    """Seconds from a Retry-After header (slack_sdk gives header values as lists); 1 if absent."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return 1.0
    return 1.0


class Pacer:
    """About one message per second per channel (Slack's posting limit), across threads."""

    def __init__(self, interval: float = 1.0, *, clock: Clock, sleep: Sleep) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def wait(self, channel: str) -> None:
        with self._guard:
            lock = self._locks.setdefault(channel, threading.Lock())
        with lock:
            last = self._last.get(channel)
            if last is not None:
                gap = self.clock() - last
                if gap < self.interval:
                    self.sleep(self.interval - gap)
            self._last[channel] = self.clock()


def api_base(settings: Settings) -> str:
    """SYNCBOT_SLACK_API_URL with the trailing slash slack_sdk needs."""
    url = settings.slack_api_url
    return url if url.endswith("/") else url + "/"


def web_client(settings: Settings, *, sleep: Sleep = time.sleep, timeout: int = 30) -> WebClient:
    """A WebClient on SYNCBOT_SLACK_API_URL with the bot token, retrying 429 only."""
    if settings.slack_bot_token is None:
        raise SettingsError(
            "SYNCBOT_SLACK_BOT_TOKEN is not set: put the bot token (xoxb-...) in the "
            "environment or .env"
        )
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=api_base(settings),
        timeout=timeout,
        retry_handlers=[RetryAfterHandler(sleep=sleep, max_wait=settings.slack_max_wait_seconds)],
    )


class SlackPoster:
    """Posts, updates and finds digest messages. Safe to share between threads."""

    def __init__(self, client: WebClient, *, pacer: Pacer) -> None:
        self.client = client
        self.pacer = pacer

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> SlackPoster:
        pacer = Pacer(settings.slack_post_interval_seconds, clock=clock, sleep=sleep)
        return cls(web_client(settings, sleep=sleep), pacer=pacer)

    def post(self, channel: str, message: Mapping[str, Any], *, metadata: Mapping[str, Any]) -> str:
        """chat.postMessage; returns the message `ts`."""
        self.pacer.wait(channel)
        response = self._call(
            "chat.postMessage",
            channel,
            self.client.chat_postMessage,
            channel=channel,
            text=message["text"],
            blocks=message.get("blocks"),
            metadata=dict(metadata),
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        """chat.update of a message we posted (a correction replaces it in place)."""
        self.pacer.wait(channel)
        self._call(
            "chat.update",
            channel,
            self.client.chat_update,
            channel=channel,
            ts=ts,
            text=message["text"],
            blocks=message.get("blocks"),
        )

    def find_posted(self, channel: str, key: str, *, oldest: float) -> dict[int, str]:
        """Parts of the digest `key` already in `channel` (part index -> ts), from
        conversations.history with message metadata, newest first, bounded to a few pages."""
        found: dict[int, str] = {}
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            response = self._call(
                "conversations.history",
                channel,
                self.client.conversations_history,
                channel=channel,
                oldest=f"{oldest:.6f}",
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for msg in response.get("messages") or []:
                meta = msg.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == DIGEST_EVENT and payload.get("key") == key:
                    part = payload.get("part")
                    if isinstance(part, int) and part not in found:
                        found[part] = str(msg["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return found

    def auth_test(self) -> dict[str, Any]:
        response = self._call("auth.test", None, self.client.auth_test)
        return dict(response.data) if isinstance(response.data, dict) else {}

    @staticmethod
    def _call(method: str, where: str | None, call: Callable[..., Any], /, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            code = str(data.get("error") or f"HTTP {status}")
            if status == 429:
                raise SlackRateLimited(method, "ratelimited", channel=where) from exc
            if status >= 500 or code in UNCERTAIN_ERRORS:
                raise SlackUnavailable(method, f"{code} (HTTP {status})", channel=where) from exc
            raise SlackRefused(method, code, channel=where) from exc
        except SlackRequestError as exc:
            raise SlackRefused(method, f"bad request ({exc})", channel=where) from exc
        except (URLError, OSError, http.client.HTTPException, SlackClientError) as exc:
            raise SlackUnavailable(
                method, f"no answer ({type(exc).__name__}: {exc})", channel=where
            ) from exc
