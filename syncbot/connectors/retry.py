"""Bounded retries with exponential backoff for tracker requests, honouring Retry-After.

The live connectors make every HTTP request through one `Attempts` object, which counts them
(`FetchResult.requests`) and repeats the ones that failed in a passing way: a rate limit, a 5xx,
a timeout, a garbled answer. Each attempt is exactly one request; the tracker libraries' own
retry loops are switched off so that this is the only one, and so that tests can run it with a
recording `sleep` instead of the real one.

The loop itself is tenacity's. Waits: the tracker's Retry-After when it sends one, else
`backoff * 2**n` (1, 2, 4 s by default), each capped by `max_wait`. A Retry-After longer
than `max_wait` ends the sync of that source at once rather than retrying early into the
same refusal: the next scheduled sync tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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
from syncbot.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], None]


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

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            retries=settings.source_retries,
            backoff=settings.source_backoff_seconds,
            max_wait=settings.source_max_wait_seconds,
        )


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header in its delta-seconds form (what Jira sends)."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff rather than read the clock


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
