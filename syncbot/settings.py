"""Secrets, URLs and deployment knobs from the environment or `.env` (prefix SYNCBOT_).

One `Settings` object is built by the CLI and passed down; nothing else reads os.environ.
Precedence: real environment variables, then `.env`, then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from syncbot.errors import SettingsError

DEFAULT_LINEAR_API_URL = "https://api.linear.app/graphql"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def state_dir() -> Path:
    """Where the default SQLite file lives: $XDG_STATE_HOME/syncbot or ~/.local/state/syncbot."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "syncbot"


def default_database_url() -> str:
    return f"sqlite:///{state_dir() / 'syncbot.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SYNCBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    config: Path | None = None
    database_url: str = ""

    jira_url: str | None = None
    jira_email: str | None = None
    jira_token: SecretStr | None = None
    jira_pat: SecretStr | None = None
    linear_api_url: str = DEFAULT_LINEAR_API_URL
    linear_api_key: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None  # POST /webhooks/jira (X-Hub-Signature)
    linear_webhook_secret: SecretStr | None = None  # POST /webhooks/linear (Linear-Signature)
    # MLflow tracking server of milestone metrics (connectors/mlflow.py): its base URL (with
    # user:password@ for HTTP basic auth), and a bearer token when it wants one.
    mlflow_url: str | None = None
    mlflow_token: SecretStr | None = None

    host: str = "0.0.0.0"
    port: int = 8080
    public_url: str | None = None  # base URL of client page links (`syncbot share`, SPEC §9)
    log_format: Literal["text", "json"] = "text"
    full_reconcile_hours: float = 24.0
    sync_concurrency: int = Field(default=4, ge=1, le=64)  # syncs a daemon runs at once

    # Live tracker sources (connectors/jira.py, connectors/linear.py, connectors/retry.py).
    jira_page_size: int | None = Field(default=None, ge=1)  # None: the API's largest page
    linear_page_size: int = Field(default=50, ge=1, le=250)  # >55: too complex, linear.PAGE_SIZE
    mlflow_page_size: int = Field(default=100, ge=1, le=50000)  # runs per runs/search page
    sync_overlap_minutes: float = Field(default=5.0, ge=0)  # incremental look-back
    source_timeout_seconds: float = Field(default=30.0, gt=0)  # per HTTP request
    source_retries: int = Field(default=3, ge=0)  # after the first attempt
    source_backoff_seconds: float = Field(default=1.0, ge=0)  # first wait, then doubled
    source_max_wait_seconds: float = Field(default=60.0, ge=0)  # longest wait, Retry-After too

    # Slack posting (slack/posting.py, slack/outbox.py).
    slack_post_interval_seconds: float = Field(default=1.0, ge=0)  # per channel (Slack: ~1/s)
    slack_retry_backoff_seconds: float = Field(default=2.0, ge=0)  # after a 5xx, then x2, x3
    slack_max_wait_seconds: float = Field(default=60.0, ge=0)  # longest 429 Retry-After waited

    # The daemon (daemon.py).
    shutdown_seconds: float = Field(default=5.0, ge=0)  # SIGTERM: wait this long for jobs
    outbox_retry_seconds: float = Field(default=60.0, gt=0)  # retry queued posts, check staleness
    # Several daemons on PostgreSQL (daemon/leader.py, daemon/dirty.py).
    leader_check_seconds: float = Field(default=5.0, gt=0, le=10)  # re-check the leader lock
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=2)  # leader reads dirty sources

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def missing_for(self, tracker: str) -> list[str]:
        """Which SYNCBOT_* variables a live source of `tracker` still needs."""
        if tracker == "jira":
            missing = [] if self.jira_url else ["SYNCBOT_JIRA_URL"]
            if not self.jira_pat and not (self.jira_email and self.jira_token):
                missing.append(
                    "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN (Cloud) or "
                    "SYNCBOT_JIRA_PAT (Data Center)"
                )
            return missing
        if tracker == "linear":
            return [] if self.linear_api_key else ["SYNCBOT_LINEAR_API_KEY"]
        if tracker == "mlflow":
            return [] if self.mlflow_url else ["SYNCBOT_MLFLOW_URL"]
        if tracker == "slack":
            return [
                name
                for name, value in (
                    ("SYNCBOT_SLACK_BOT_TOKEN", self.slack_bot_token),
                    ("SYNCBOT_SLACK_SIGNING_SECRET", self.slack_signing_secret),
                )
                if value is None
            ]
        raise ValueError(f"unknown tracker {tracker!r}")


def load_settings() -> Settings:
    """Settings from the environment and .env, with bad values as one line per problem.

    Values of secret settings are never repeated in the message.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "SYNCBOT_" + "_".join(str(p) for p in error["loc"]).upper()
            field = Settings.model_fields.get(str(error["loc"][0]))
            secret = field is not None and "SecretStr" in str(field.annotation)
            got = "" if secret else f" (got {error.get('input')!r})"
            problems.append(f"{name}: {error['msg'].lower()}{got}")
        raise SettingsError("; ".join(problems)) from exc
