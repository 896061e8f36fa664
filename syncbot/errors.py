"""The one error tree of syncbot; the CLI maps every branch to exit code 2.

    SyncbotError
    ├── ConfigError          bad configuration file, key or value (one line per problem)
    ├── SettingsError        missing/invalid environment settings (secrets, URLs)
    ├── DataError            input data that cannot be read at all (file not JSON, wrong shape)
    ├── NoData               a client none of whose sources has synced yet
    ├── ReviewDecided        a reviewed client post was decided: it is no longer changed
    ├── SourceError(source)  a tracker could not be synced
    │   ├── SourceAuthError      401/403: a credential setting is wrong
    │   ├── SourceQueryError     the tracker rejected what we asked (bad project, team, JQL)
    │   └── SourceRateLimited    the tracker kept answering "slow down"
    ├── StoreError           the state database cannot be opened or written
    │   └── StoreUnavailable     the database server is down or busy: try again (exit 1)
    └── SlackError           (syncbot/slack/errors.py) Slack refused or failed a call
        ├── SlackRefused         ok:false that retrying will not fix (e.g. not_in_channel)
        ├── SlackRateLimited     429 beyond what we are willing to wait
        └── SlackUnavailable     5xx / network: the post may or may not have happened

Library code raises these; only the CLI turns them into exit codes (2, except the passing
failures: StoreUnavailable and SourceError that is not the user's to fix, which exit 1).
"""

from __future__ import annotations


class SyncbotError(Exception):
    """Base class: every message is one line saying what failed, where, and the fix."""


class ConfigError(SyncbotError):
    """Configuration problems, each already formatted as `file: key: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class SettingsError(SyncbotError):
    """An environment setting (SYNCBOT_*) is missing or invalid."""


class DataError(SyncbotError):
    """Recorded or fetched data that cannot be read at all (as opposed to one bad ticket)."""


class NoData(SyncbotError):
    """Nothing is known about a client yet: its state would be invented, not computed."""


class ReviewDecided(SyncbotError):
    """A reviewer already sent, skipped or replaced the draft: changing what the client
    reads now would bypass the review."""


class SourceError(SyncbotError):
    """A source could not be synced; `source` names it for the one-line report."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.detail = message
        super().__init__(f"{source}: {message}")


class SourceAuthError(SourceError):
    """The tracker refused our credentials (401/403)."""


class SourceQueryError(SourceError):
    """The tracker rejected the query itself: the source's configuration needs fixing."""


class SourceRateLimited(SourceError):
    """The tracker kept rate-limiting us after bounded retries."""


class StoreError(SyncbotError):
    """The state database cannot be opened or written."""


class StoreUnavailable(StoreError):
    """The database server did not answer (down, restarting, locked): a passing failure."""
