"""Small, strict readers for tracker JSON: `loads` for whole answers and files, and value
readers that raise MalformedTicket on bad input."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from typing import Any, ParamSpec

from syncbot.domain import Ticket

P = ParamSpec("P")


class MalformedTicket(ValueError):
    """One ticket cannot be read; the caller skips and counts it."""


class UnreadableJson(ValueError):
    """Syntactically valid JSON that Python will not load: nested deeper than the recursion
    limit, or a number with more digits than `sys.get_int_max_str_digits()`. It does not
    get better by asking again, so callers fail the read instead of retrying it."""


def loads(data: bytes | str) -> Any:
    """`json.loads`, raising UnreadableJson (one line saying why) instead of RecursionError or
    the integer-digits ValueError; other decoding errors (JSONDecodeError, UnicodeDecodeError)
    pass through unchanged."""
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except (RecursionError, ValueError) as exc:
        reason = unreadable_json(exc)
        if reason is None:
            raise
        raise UnreadableJson(reason) from None


def unreadable_json(exc: BaseException) -> str | None:
    """Why Python would not load a JSON document, when `exc` says so (see UnreadableJson)."""
    if isinstance(exc, UnreadableJson):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply to read"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        return f"a number with more than {sys.get_int_max_str_digits()} digits"
    return None


def tolerant(translate: Callable[P, Ticket]) -> Callable[P, Ticket]:
    """Make a translator fail only with MalformedTicket, whatever the payload holds.

    Tracker JSON is untrusted: a list where an object belongs must skip one ticket, not abort
    the sync. Programming errors in the translator surface the same way, so tests pin it.
    """

    @functools.wraps(translate)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Ticket:
        try:
            return translate(*args, **kwargs)
        except MalformedTicket:
            raise
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as exc:
            raise MalformedTicket(f"unreadable ticket: {type(exc).__name__}: {exc}") from exc
        except RecursionError:  # e.g. a description nested thousands of levels deep
            raise MalformedTicket("unreadable ticket: nested too deeply") from None

    return wrapper


def need(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or mapping.get(key) is None:
        raise MalformedTicket(f"{where}: missing {key!r}")
    return mapping[key]


def obj(value: Any) -> dict[str, Any]:
    """A JSON object or an empty one (trackers send null for absent objects)."""
    return value if isinstance(value, dict) else {}


# The calendar syncbot computes in: forecasts add days, and the store holds these years.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(9000, 12, 31)


def timestamp(value: Any, where: str) -> dt.datetime:
    """Parse Jira (`2026-03-02T10:00:00.000-0600`) and Linear (`...Z`) timestamps, aware."""
    if not isinstance(value, str):
        raise MalformedTicket(f"{where}: expected a timestamp, got {value!r}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedTicket(f"{where}: not a timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not EARLIEST <= parsed.date() <= LATEST:
        raise MalformedTicket(
            f"{where}: {value!r} is outside the years {EARLIEST.year}-{LATEST.year}"
        )
    return parsed


def optional_timestamp(value: Any, where: str) -> dt.datetime | None:
    return None if value in (None, "") else timestamp(value, where)


def optional_date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedTicket(f"{where}: expected YYYY-MM-DD, got {value!r}")
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        raise MalformedTicket(f"{where}: not a date: {value!r}") from None
    # 9999-12-31 (or 0001-01-01) is how many teams write "no date": it is none.
    return day if EARLIEST <= day <= LATEST else None


def names(values: Any, key: str = "name") -> tuple[str, ...]:
    """Names from a list of objects (`fixVersions`, `components`) or of strings (`labels`)."""
    if not isinstance(values, list):
        return ()
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, dict) and isinstance(value.get(key), str):
            out.append(value[key])
    return tuple(out)
