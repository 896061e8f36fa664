"""The Slack failures syncbot tells apart:

SlackError(SyncbotError)
├── SlackRefused      Slack answered ok:false with a definite error: nothing was posted,
│                     and retrying will not help until someone fixes something (token,
│                     channel id, bot not in channel, scopes)
├── SlackRateLimited  still HTTP 429 after the Retry-After waits we allow: not posted
└── SlackUnavailable  5xx, `internal_error`/`fatal_error`, a timeout or a broken connection:
                      the outcome is UNKNOWN (Slack may have posted); look before retrying
"""

from __future__ import annotations

from syncbot import messages
from syncbot.errors import SyncbotError


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
