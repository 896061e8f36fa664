"""Structured logs: one JSON object per line (SYNCBOT_LOG_FORMAT=json), readable text by
default, job context on every line, secrets blanked out."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from syncbot import logs
from syncbot.settings import Settings

SECRET = "xoxb-1234-very-secret"


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, restored afterwards (configure(force=True) replaces its handlers)."""
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    yield logger
    logger.handlers[:] = handlers
    logger.setLevel(level)


def emit(fmt: str, root: logging.Logger) -> str:
    stream = io.StringIO()
    assert logs.configure(fmt=fmt, stream=stream, secrets=[SECRET], force=True)
    log = logging.getLogger("syncbot.daemon")
    log.info("scheduler running: %d jobs", 3)
    log.warning(
        "sync failed: %s",
        "Jira answered 503",
        extra={"client": "acme", "source": "jira:ACME", "job": "sync:acme"},
    )
    try:
        raise RuntimeError(f"token {SECRET} in an error\nacross lines")
    except RuntimeError:
        log.exception(
            "job %s failed", "digest:acme:internal", extra={"job": "digest:acme:internal"}
        )
    logging.getLogger("apscheduler.scheduler").info("library chatter below WARNING is dropped")
    return stream.getvalue()


def test_json_logs_are_one_object_per_line_with_the_job_context(root: logging.Logger) -> None:
    out = emit("json", root)
    lines = out.splitlines()
    assert len(lines) == 3
    records = [json.loads(line) for line in lines]
    assert [r["level"] for r in records] == ["info", "warning", "error"]
    assert records[0]["message"] == "scheduler running: 3 jobs"
    assert records[0]["logger"] == "syncbot.daemon" and records[0]["time"].endswith("+00:00")
    assert {k: records[1][k] for k in ("client", "source", "job")} == {
        "client": "acme",
        "source": "jira:ACME",
        "job": "sync:acme",
    }
    assert records[2]["job"] == "digest:acme:internal"
    assert "RuntimeError" in records[2]["exception"] and "across lines" in records[2]["exception"]
    assert SECRET not in out and logs.REDACTED in records[2]["exception"]


def test_text_logs_are_readable_and_carry_the_context(root: logging.Logger) -> None:
    out = emit("text", root)
    assert (
        "WARNING syncbot.daemon: sync failed: Jira answered 503 "
        "[client=acme source=jira:ACME job=sync:acme]"
    ) in out
    assert "Traceback (most recent call last)" in out
    assert SECRET not in out and "token *** in an error" in out
    assert "library chatter" not in out


def test_configure_leaves_someone_elses_logging_alone(root: logging.Logger) -> None:
    foreign = logging.NullHandler()
    root.handlers[:] = [foreign]
    assert logs.configure(fmt="json") is False
    assert root.handlers == [foreign]
    # Ours is replaced, not stacked, when configured again (main, then `run`).
    root.handlers[:] = []
    assert logs.configure(fmt="text", level=logging.WARNING)
    assert logs.configure(fmt="json", level=logging.INFO)
    [ours] = root.handlers
    assert isinstance(ours.formatter, logging.Formatter) and root.level == logging.INFO
    assert json.loads(_emit_one(ours))["message"] == "hello"


def test_every_secret_setting_is_redacted() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_bot_token=SecretStr(SECRET),
        slack_signing_secret=SecretStr("signing-secret-value"),
        jira_token=SecretStr("jira-api-token"),
        linear_api_key=None,
    )
    assert sorted(logs.secret_values(settings)) == sorted(
        [SECRET, "signing-secret-value", "jira-api-token"]
    )


def _emit_one(handler: logging.Handler) -> str:
    record = logging.makeLogRecord({"msg": "hello", "levelname": "INFO", "name": "syncbot"})
    return handler.format(record)
