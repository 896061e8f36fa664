"""Every sentence syncbot shows people, in one place (tests import these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

STATUS_LABEL = {
    "done": "Done",
    "on_track": "On track",
    "at_risk": "At risk",
    "delayed": "Delayed",
    "not_started": "Not started",
}
STATUS_EMOJI = {
    "done": ":white_check_mark:",
    "on_track": ":large_green_circle:",
    "at_risk": ":large_yellow_circle:",
    "delayed": ":red_circle:",
    "not_started": ":white_circle:",
}


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def quoted_list(items: Sequence[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def impact_statement(
    milestones: Sequence[str], summary: str, since: dt.date, days_blocked: int
) -> str:
    tail = f"blocked since {since.isoformat()} ({plural(days_blocked, 'day')})."
    if not milestones:
        return f"'{summary}' is still open — {tail}"
    return f"We cannot start {quoted_list(milestones)} until '{summary}' is resolved — {tail}"


def scope_creep(milestone: str, keys: Sequence[str], baseline: dt.date) -> str:
    return (
        f"{plural(len(keys), 'ticket')} added to '{milestone}' after the "
        f"{baseline.isoformat()} baseline without a change-order label: {', '.join(keys)}"
    )


def forecast_moved(milestone: str, old: dt.date | None, new: dt.date | None) -> str:
    return f"Forecast for '{milestone}' moved from {_d(old)} to {_d(new)} since the last digest."


def skipped_at_risk(milestone: str, old: dt.date | None, new: dt.date | None) -> str:
    return (
        f"'{milestone}' went from on track straight to delayed since the last digest "
        f"(skipped at-risk): forecast {_d(old)} -> {_d(new)}."
    )


def phase_gate(milestone: str, phase: str, previous: str) -> str:
    return f"Work on '{milestone}' ({phase}) started before '{previous}' was signed off."


def stale_source(label: str, last_success: dt.datetime | None, now: dt.datetime) -> str:
    if last_success is None:
        return f"{label} data has never been refreshed successfully."
    return f"{label} data last refreshed {ago(now - last_success)} ago."


def ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "none"
