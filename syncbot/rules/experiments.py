"""Experiments (SPEC §11): tickets labelled as experiments, with a timebox from creation to
their due date; one open past its timebox is an internal warning (`experiment_overrun`).

"Each experiment is a small, testable hypothesis with a clear metric and a stop/go criterion
... Timebox them." The hypothesis is the ticket's summary; a "Success: ..." line in its
description (also "Success criteria:" / "Success criterion:", any case, optionally a list
item or bold) is its stop/go criterion.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from syncbot import messages
from syncbot.domain import ExperimentState, Ticket, Warning, WarningKind
from syncbot.rules.dates import local_date

SUCCESS = re.compile(
    r"^[\s>*_#-]*success(?:\s+criteri(?:a|on))?[\s*_]*[:\uff1a][\s*_]*(?P<text>.+?)[\s*_]*$",
    re.IGNORECASE | re.MULTILINE,
)
MAX_SUCCESS_CHARS = 200


def success_criterion(description: str) -> str | None:
    """The first "Success: ..." line of a description, or None."""
    found = SUCCESS.search(description or "")
    if found is None:
        return None
    text = " ".join(found.group("text").split())
    if len(text) > MAX_SUCCESS_CHARS:
        text = text[: MAX_SUCCESS_CHARS - 1] + "…"
    return text or None


def experiments(
    tickets: Sequence[Ticket],
    *,
    labels: Sequence[str],
    tz: ZoneInfo,
    as_of: dt.date,
    milestone_of: Mapping[str, str] | None = None,
) -> list[ExperimentState]:
    """Every experiment ticket (excluded ones left out), oldest first. `milestone_of` maps a
    ticket key to the milestone holding it."""
    milestone_of = milestone_of or {}
    out = []
    for t in tickets:
        if not t.has_label(labels) or not (t.is_open or t.is_done):
            continue
        created = local_date(t.created, tz)
        completed = local_date(t.completed or t.updated, tz) if t.is_done else None
        until = completed or as_of
        out.append(
            ExperimentState(
                key=t.key,
                hypothesis=t.title,
                status=t.status,
                progress=t.progress,
                created=created,
                due=t.due,
                completed=completed,
                days_running=max(0, (until - created).days),
                timebox_days=max(0, (t.due - created).days) if t.due else None,
                overrun=t.is_open and t.due is not None and t.due < as_of,
                success=success_criterion(t.description),
                owner=t.assignee_name,
                milestone=milestone_of.get(t.key),
                url=t.url,
            )
        )
    return sorted(out, key=lambda e: (e.created, e.key))


def overruns(found: Sequence[ExperimentState]) -> list[Warning]:
    """An internal warning per open experiment past its timebox."""
    return [
        Warning(
            WarningKind.EXPERIMENT_OVERRUN,
            e.milestone,
            messages.experiment_overrun(e.hypothesis, e.key, e.days_running, e.timebox_days, e.due),
            tickets=(e.key,),
        )
        for e in found
        if e.overrun and e.due is not None and e.timebox_days is not None
    ]
