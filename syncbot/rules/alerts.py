"""Same-day alerts (SPEC §8): what worsened since the last alerted state.

Pure: the current `ClientState` and the recorded state in, the alerts to raise and the state
to record out. A milestone alerts when its status is worse (on_track < at_risk < delayed), when
`missed` becomes true, or when its forecast moves later by a day or more; a client dependency
when it becomes overdue, and once more, naming the escalation people, when it has been overdue
for more than `escalation.after_days`. Improvements raise nothing; they are recorded, so a
later slip alerts again. A done milestone whose metric falls below its target (its tickets
still done) raises `metric_regressed` instead of a status change. A subject seen for the first
time is recorded without alerting: on a first evaluation everything would be "new", and that
is the digest's job. A forecast set by work already late moves a day later each day
(`drifting`): that daily move alerts once, when it starts, not every day (the miss is its news).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from syncbot import messages
from syncbot.domain import Alert, Change, ClientState, DependencyState, MilestoneState, Status
from syncbot.rules import warnings

RANK = {
    Status.DONE: 0,
    Status.NOT_STARTED: 1,
    Status.ON_TRACK: 1,
    Status.AT_RISK: 2,
    Status.DELAYED: 3,
}
Recorded = Mapping[str, Mapping[str, Any]]  # subject -> what was last recorded about it


@dataclass(frozen=True)
class Evaluation:
    alerts: tuple[Alert, ...]
    record: dict[str, dict[str, Any]] = field(default_factory=dict)


def evaluate(
    state: ClientState,
    recorded: Recorded,
    *,
    escalate_after: int | None = None,
    notify: Sequence[str] = (),
) -> Evaluation:
    """The alerts `state` raises against `recorded`, and what to record now."""
    by_id = {m.id: m for m in state.milestones}
    alerts: list[Alert] = []
    record: dict[str, dict[str, Any]] = {}
    for m in state.milestones:
        now = {
            "status": m.status.value,
            "forecast": m.forecast.isoformat() if m.forecast else None,
            "missed": m.missed,
            "drifting": m.drifting,
        }
        record[m.id] = now
        before = recorded.get(m.id)
        if before is None:
            continue
        changes = _milestone_changes(m, before)
        if changes:
            alerts.append(Alert(m.id, tuple(changes), milestone=m, pushes=pushed(m, by_id)))
    for d in state.dependencies:
        subject = f"dep:{d.key}"
        late = (state.as_of - d.due).days if d.due is not None and d.overdue else 0
        before = recorded.get(subject)
        escalated = bool(before and before.get("escalated"))
        now_escalated = escalated
        if before is not None:
            if d.overdue and not before.get("overdue"):
                text = messages.dependency_overdue_change(d.summary, d.due)
                change = Change(_first(d), "dependency_overdue", "open", "overdue", text)
                alerts.append(Alert(subject, (change,), dependency=d))
            if escalate_after is not None and late > escalate_after and not escalated:
                text = messages.escalation_change(d.summary, late, escalate_after)
                change = Change(_first(d), "escalation", None, f"{late} days overdue", text)
                alerts.append(Alert(subject, (change,), dependency=d, mention=tuple(notify)))
                now_escalated = True
        record[subject] = {"overdue": d.overdue, "escalated": now_escalated}
    return Evaluation(tuple(alerts), record)


def _milestone_changes(m: MilestoneState, before: Mapping[str, Any]) -> list[Change]:
    changes = []
    old_status = _status(before.get("status"))
    regressed = warnings.metric_regressed([m], {m.id: (None, old_status)}) if old_status else []
    if regressed:  # done, then open again only because its metric fell below the target
        changes.append(Change(m.id, "metric_regressed", "met", "not met", regressed[0].message))
    elif old_status is not None and RANK[m.status] > RANK[old_status] and m.is_open:
        text = messages.status_change(m.name, old_status.value, m.status.value)
        changes.append(Change(m.id, "status", old_status.value, m.status.value, text))
    if m.missed and not before.get("missed"):
        text = messages.missed_change(m.name, m.planned)
        changes.append(Change(m.id, "missed", "false", "true", text))
    old_forecast = _date(before.get("forecast"))
    # A forecast late work sets moves a day later every day: that is the miss (already said),
    # not a new slip. It alerts when it starts drifting, and when it jumps beyond the drift.
    drift = bool(before.get("drifting")) and m.drifting
    if (
        m.forecast is not None
        and old_forecast is not None
        and m.forecast > old_forecast
        and not drift
    ):
        text = messages.forecast_change(m.name, old_forecast, m.forecast)
        changes.append(
            Change(m.id, "forecast", old_forecast.isoformat(), m.forecast.isoformat(), text)
        )
    return changes


def pushed(m: MilestoneState, by_id: Mapping[str, MilestoneState]) -> tuple[MilestoneState, ...]:
    """The milestones whose forecasts `m` sets, directly or down the chain."""
    out: list[MilestoneState] = []
    frontier = [m.id]
    while frontier:
        current = frontier.pop(0)
        for other in by_id.values():
            if other.pushed_by == current and other not in out:
                out.append(other)
                frontier.append(other.id)
    return tuple(out)


def _first(d: DependencyState) -> str | None:
    return d.blocks[0] if d.blocks else None


def _status(value: Any) -> Status | None:
    try:
        return Status(value)
    except ValueError:
        return None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
