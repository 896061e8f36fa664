"""Slack Web API calls for messages: the WebClient, 429 Retry-After, pacing, and the `Poster`
seam between syncbot and Slack's Web API (failures are `syncbot.slack.errors`).

Files (the trend chart, SPEC §9) are shared with slack_sdk's `files_upload_v2`:
files.getUploadURLExternal, the upload itself, then files.completeUploadExternal with the
channel. A failure in the first two steps certainly shared nothing (`NOT_SHARED_ON_FAILURE`);
only the last one can leave the outcome unknown. A shared file shows in the channel's history
as a message carrying it, found again by its file name (`find_posted`).

Only 429 is retried inside the client (Slack did not process a rate-limited call, so that is
always safe). Server errors are not: `chat.postMessage` is not idempotent, so the outbox
decides (it looks at the channel's history first). Sleeping and the clock are injected so
tests never wait. Every message is posted with `parse=none` and no `link_names`, so Slack
turns nothing in its text into a mention or a link: only syncbot's own `<@U…>` and `<url|…>`
markup (added after escaping, `render.blocks`) is live.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from syncbot.errors import SettingsError
from syncbot.metrics import Metrics, error_kind
from syncbot.slack.errors import SlackError, SlackRateLimited, SlackRefused, SlackUnavailable

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
FILE_STEPS = ("files.getUploadURLExternal", "files.upload", "files.completeUploadExternal")
# Steps whose failure certainly posted or shared nothing, whatever the error.
NOT_SHARED_ON_FAILURE = frozenset(FILE_STEPS[:2])
# Calls whose refusal (ok: false, 429) means they did not take effect.
REFUSED_MEANS_NOT_POSTED = frozenset({"chat.postMessage", *FILE_STEPS})


def is_file(message: Mapping[str, Any]) -> bool:
    """Whether an outbox part is a file to share (`render.chart.file_part`), not a message."""
    return isinstance(message.get("file"), Mapping)


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


@dataclass(frozen=True)
class SlackAccess:
    """What the Slack adapters need of the settings (built by the composition root)."""

    api_url: str = "https://slack.com/api/"
    bot_token: SecretStr | None = None
    post_interval: float = 1.0  # seconds between posts to one channel
    max_wait: float = 60.0  # longest 429 Retry-After waited in-process
    retry_backoff: float = 2.0  # first wait after a 5xx in the outbox, then x2, x3

    @property
    def base_url(self) -> str:
        """The API URL with the trailing slash slack_sdk needs."""
        return self.api_url if self.api_url.endswith("/") else self.api_url + "/"


def web_client(access: SlackAccess, *, sleep: Sleep = time.sleep, timeout: int = 30) -> WebClient:
    """A WebClient on SYNCBOT_SLACK_API_URL with the bot token, retrying 429 only."""
    if access.bot_token is None:
        raise SettingsError(
            "SYNCBOT_SLACK_BOT_TOKEN is not set: put the bot token (xoxb-...) in the "
            "environment or .env"
        )
    return WebClient(
        token=access.bot_token.get_secret_value(),
        base_url=access.base_url,
        timeout=timeout,
        retry_handlers=[RetryAfterHandler(sleep=sleep, max_wait=access.max_wait)],
    )


class Poster(Protocol):
    """The Slack calls the outbox makes."""

    def post(
        self, channel: str, message: Mapping[str, Any], *, metadata: Mapping[str, Any]
    ) -> str: ...

    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None: ...

    def upload(self, channel: str, message: Mapping[str, Any]) -> str:
        """Share the file part `message` in `channel`; returns the file id."""
        ...

    def find_posted(
        self, channel: str, key: str, *, oldest: float, files: Mapping[str, int] | None = None
    ) -> dict[int, str]:
        """Parts already in `channel`: messages by their metadata `key`, files by name
        (`files`: file name -> part index); part index -> ts (messages) or file id (files)."""
        ...


class SlackPoster:
    """Posts, updates and finds syncbot's messages. Safe to share between threads."""

    def __init__(self, client: WebClient, *, pacer: Pacer) -> None:
        self.client = client
        self.pacer = pacer

    @classmethod
    def connect(
        cls,
        access: SlackAccess,
        *,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
    ) -> SlackPoster:
        pacer = Pacer(access.post_interval, clock=clock, sleep=sleep)
        return cls(web_client(access, sleep=sleep), pacer=pacer)

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
            parse="none",
            link_names=False,
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
            parse="none",
            link_names=False,
        )

    def upload(self, channel: str, message: Mapping[str, Any]) -> str:
        """files_upload_v2 of a file part into `channel` (no initial comment: the digest
        before it is the message); returns the file id."""
        spec = message["file"]
        data = base64.b64decode(spec["png"])
        self.pacer.wait(channel)
        try:
            response = self.client.files_upload_v2(
                file=data,
                filename=spec["filename"],
                title=spec["title"],
                alt_txt=spec["alt_txt"],
                channel=channel,
            )
        except SlackApiError as exc:
            url = str(getattr(exc.response, "api_url", "") or "")
            step = next((s for s in FILE_STEPS if url.endswith(s)), "files.completeUploadExternal")
            raise _translated(step, channel, exc) from exc
        except SlackRequestError as exc:  # the upload itself answered other than 200
            raise SlackUnavailable(
                "files.upload", f"upload failed ({exc})", channel=channel
            ) from exc
        except (URLError, OSError, http.client.HTTPException, SlackClientError) as exc:
            raise SlackUnavailable(
                "files.completeUploadExternal",
                f"no answer ({type(exc).__name__}: {exc})",
                channel=channel,
            ) from exc
        shared = response.get("files") or []
        if not shared or not shared[0].get("id"):
            raise SlackUnavailable(
                "files.completeUploadExternal", "no file in the answer", channel=channel
            )
        return str(shared[0]["id"])

    def find_posted(
        self, channel: str, key: str, *, oldest: float, files: Mapping[str, int] | None = None
    ) -> dict[int, str]:
        """Parts of the entry `key` already in `channel`, from conversations.history with
        message metadata, newest first, bounded to a few pages: messages by their metadata
        (part index -> ts), files by their name (`files`: name -> part index; -> file id).
        A cursor Slack repeats ends the walk (it would loop)."""
        found: dict[int, str] = {}
        names = dict(files or {})
        cursor: str | None = None
        seen: set[str] = set()
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
                for shared in msg.get("files") or []:
                    index = names.get(str(shared.get("name") or ""))
                    if index is not None and index not in found and shared.get("id"):
                        found[index] = str(shared["id"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
            if cursor in seen:
                logger.warning(
                    "Slack conversations.history repeated a cursor in %s; stopped paging", channel
                )
                break
            seen.add(cursor)
        return found

    def auth_test(self) -> dict[str, Any]:
        response = self._call("auth.test", None, self.client.auth_test)
        return dict(response.data) if isinstance(response.data, dict) else {}

    @staticmethod
    def _call(method: str, where: str | None, call: Callable[..., Any], /, **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except SlackApiError as exc:
            raise _translated(method, where, exc) from exc
        except SlackRequestError as exc:
            raise SlackRefused(method, f"bad request ({exc})", channel=where) from exc
        except (URLError, OSError, http.client.HTTPException, SlackClientError) as exc:
            raise SlackUnavailable(
                method, f"no answer ({type(exc).__name__}: {exc})", channel=where
            ) from exc


def _translated(method: str, where: str | None, exc: SlackApiError) -> SlackError:
    """A Slack API error as syncbot's: rate limited, unavailable (outcome unknown) or refused."""
    status = exc.response.status_code
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    code = str(data.get("error") or f"HTTP {status}")
    if status == 429:
        return SlackRateLimited(method, "ratelimited", channel=where)
    if status >= 500 or code in UNCERTAIN_ERRORS:
        return SlackUnavailable(method, f"{code} (HTTP {status})", channel=where)
    return SlackRefused(method, code, channel=where)


class MeteredPoster:
    """A Poster that counts each failed Slack call in syncbot_api_errors{api="slack"}."""

    def __init__(self, inner: Poster, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    def post(self, channel: str, message: Mapping[str, Any], *, metadata: Mapping[str, Any]) -> str:
        with self._counted():
            return self.inner.post(channel, message, metadata=metadata)

    def update(self, channel: str, ts: str, message: Mapping[str, Any]) -> None:
        with self._counted():
            self.inner.update(channel, ts, message)

    def upload(self, channel: str, message: Mapping[str, Any]) -> str:
        with self._counted():
            return self.inner.upload(channel, message)

    def find_posted(
        self, channel: str, key: str, *, oldest: float, files: Mapping[str, int] | None = None
    ) -> dict[int, str]:
        with self._counted():
            return self.inner.find_posted(channel, key, oldest=oldest, files=files)

    @contextlib.contextmanager
    def _counted(self) -> Iterator[None]:
        try:
            yield
        except SlackError as exc:
            self.metrics.api_errors.labels("slack", error_kind(exc)).inc()
            raise
