"""Bounded retries with exponential backoff for tracker requests, honouring Retry-After.

The live connectors make every HTTP request through one `Attempts` object, which counts them
(`FetchResult.requests`) and repeats the ones that failed in a passing way: a rate limit, a 5xx,
a timeout, a garbled answer. Each attempt is exactly one request; the tracker libraries' own
retry loops are switched off so that this is the only one, and so that tests can run it with a
recording `sleep` instead of the real one.

The loop itself is tenacity's. Waits: the tracker's Retry-After when it sends one (seconds or
an HTTP date, read by `retry_after` against an injected clock), else `backoff * 2**n` (1, 2,
4 s by default), each capped by `max_wait`. A Retry-After longer than `max_wait` ends the
sync of that source at once rather than retrying early into the same refusal: the next
scheduled sync tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
)
from tenacity.stop import stop_base

from syncbot.errors import SourceError, SourceRateLimited

logger = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], dt.datetime]  # returns an aware datetime
_DELTA_SECONDS = re.compile(r"\d+(\.\d+)?")


def utc_now() -> dt.datetime:
    """The default clock of the live connectors (tests inject their own)."""
    return dt.datetime.now(dt.UTC)


class Retryable(Exception):
    """One attempt failed in a way worth repeating; `reason` is shown if we give up."""

    def __init__(self, reason: str, *, rate_limited: bool = False, wait: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.rate_limited = rate_limited
        self.wait = wait  # the tracker's Retry-After, in seconds, when it sent one


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # attempts after the first
    backoff: float = 1.0  # first wait without a Retry-After; doubles each time
    max_wait: float = 60.0  # longest single wait, Retry-After included


def retry_after(value: str | None, *, now: dt.datetime) -> float | None:
    """Seconds to wait, from a Retry-After header value (RFC 9110 §10.2.3).

    Both forms: delta-seconds (`120`, what Jira sends) and an HTTP date (`Wed, 21 Oct 2026
    07:28:00 GMT`), the latter measured from `now` (aware), so a date in the past means no
    wait. None when the value is absent or unreadable: the caller then uses its own backoff.
    """
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        seconds = float(text)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": RFC 5322's "no zone information"; HTTP dates are GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


class Attempts:
    """Runs requests for one source, counting each and retrying `Retryable` failures."""

    def __init__(self, source: str, tracker: str, policy: RetryPolicy, sleep: Sleep) -> None:
        self.source = source
        self.tracker = tracker
        self.policy = policy
        self.sleep = sleep
        self.requests = 0

    def __call__(self, what: str, request: Callable[[], T]) -> T:
        """Return `request()`; it makes one HTTP request and raises Retryable to be repeated."""

        def attempt() -> T:
            self.requests += 1
            return request()

        def wait(state: RetryCallState) -> float:
            failure = _failure(state)
            seconds = failure.wait
            if seconds is None:
                seconds = self.policy.backoff * 2 ** (state.attempt_number - 1)
            return min(seconds, self.policy.max_wait)

        def log(state: RetryCallState) -> None:
            logger.warning(
                "%s: %s %s: %s; retry %d of %d in %.1f s",
                self.source,
                self.tracker,
                what,
                _failure(state).reason,
                state.attempt_number,
                self.policy.retries,
                state.next_action.sleep if state.next_action else 0.0,
            )

        retrying = Retrying(
            retry=retry_if_exception_type(Retryable),
            stop=stop_any(stop_after_attempt(self.policy.retries + 1), _AskedTooLong(self.policy)),
            wait=wait,
            sleep=lambda seconds: self.sleep(seconds) if seconds > 0 else None,
            before_sleep=log,
            reraise=True,
        )
        try:
            return retrying(attempt)
        except Retryable as failure:
            attempts = retrying.statistics.get("attempt_number", 1)
            waited = retrying.statistics.get("idle_for", 0.0)
            raise self._give_up(what, failure, attempts, waited) from failure

    def _give_up(self, what: str, failure: Retryable, attempts: int, waited: float) -> SourceError:
        if failure.wait is not None and failure.wait > self.policy.max_wait:
            return SourceRateLimited(
                self.source,
                f"{self.tracker} asked us to wait {failure.wait:.0f} s before {what} "
                f"({failure.reason}), longer than SYNCBOT_SOURCE_MAX_WAIT_SECONDS="
                f"{self.policy.max_wait:g}; the next sync will try again",
            )
        tried = f"{attempts} attempt{'s' * (attempts != 1)} over {waited:.0f} s"
        if failure.rate_limited:
            return SourceRateLimited(
                self.source,
                f"{self.tracker} kept rate-limiting {what} ({failure.reason}) after {tried}; "
                "the next sync will try again",
            )
        return SourceError(
            self.source, f"{self.tracker} {what} failed: {failure.reason} (gave up after {tried})"
        )


class _AskedTooLong(stop_base):
    """Stop at once when the tracker asks for a longer wait than we are willing to make."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        failure = _failure(retry_state)
        return failure.wait is not None and failure.wait > self.policy.max_wait


def _failure(state: RetryCallState) -> Retryable:
    exc = state.outcome.exception() if state.outcome else None
    assert isinstance(exc, Retryable)  # only Retryable failures are retried
    return exc
