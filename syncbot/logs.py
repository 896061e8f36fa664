"""Logging set-up: readable text by default, one JSON object per line for machines.

Selected with SYNCBOT_LOG_FORMAT=json. Context passed as `extra={...}` (client, source, job)
becomes top-level JSON keys, so log pipelines can filter on them; the text format appends it
as `[client=acme source=jira:ACME job=sync:acme]`.

Secrets are never formatted into messages by syncbot; as a second line of defence the handler
installed here replaces the values of every secret setting with `***` in whatever it writes
(a library logging a header or a URL with a token in it, say).

`configure` behaves like `logging.basicConfig`: when someone else (an application embedding
syncbot, pytest) already put handlers on the root logger, it leaves logging alone.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from typing import IO, Any

from pydantic import SecretStr

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_OURS = "_syncbot_handler"
REDACTED = "***"
NOISY = ("apscheduler", "urllib3", "httpx", "gql", "slack_sdk", "slack_bolt", "waitress")


def context(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra={...}` fields of a record (anything not a standard LogRecord attribute)."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in context(record).items():
            payload[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message [key=value ...]`, the traceback below it."""

    def __init__(self, *, timestamps: bool = True) -> None:
        prefix = "%(asctime)s " if timestamps else ""
        super().__init__(prefix + "%(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        extra = context(record)
        if extra:
            text += " [" + " ".join(f"{k}={v}" for k, v in extra.items()) + "]"
        return text


class _Redacting(logging.Formatter):
    """Wraps a formatter and blanks out secret values in its output."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def secret_values(settings: Any) -> list[str]:
    """The values of every SecretStr field of a pydantic settings object."""
    out = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr) and value.get_secret_value():
            out.append(value.get_secret_value())
    return out


def configure(
    *,
    fmt: str = "text",
    debug: bool = False,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
    timestamps: bool = True,
    stream: IO[str] | None = None,
    force: bool = False,
) -> bool:
    """Install one stderr handler on the root logger (replacing one installed here before).

    Returns False, changing nothing, when the root logger has handlers from someone else,
    unless `force`.
    """
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not getattr(h, _OURS, False)]
    if foreign and not force:
        return False
    handler = logging.StreamHandler(stream or sys.stderr)
    inner: logging.Formatter = (
        JsonFormatter() if fmt == "json" else TextFormatter(timestamps=timestamps)
    )
    handler.setFormatter(_Redacting(inner, secrets))
    setattr(handler, _OURS, True)
    root.handlers[:] = [h for h in root.handlers if not getattr(h, _OURS, False)] + [handler]
    if force:
        root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.DEBUG if debug else logging.WARNING)
    return True
