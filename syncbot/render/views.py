"""The two audiences' views of a `ClientState`, and the SPEC §6 JSON documents.

`client_view` copies named, client-safe fields into new objects (an allow-list); it never
starts from the internal state and deletes things. Apart from a client dependency's summary
and owner name, nothing that came from a ticket can reach it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from syncbot.domain import (
    CLIENT_VISIBLE_WARNINGS,
    ClientState,
    MetricState,
    Status,
    WarningKind,
)

Audience = Literal["internal", "client"]
OpaqueId = Callable[[str], str]


def opaque_ids(secret: bytes, client_id: str) -> OpaqueId:
    """Stable, unguessable client-facing ids for dependency tickets (keyed by installation)."""

    def opaque(key: str) -> str:
        digest = hmac.new(secret, f"{client_id}:{key}".encode(), hashlib.sha256).hexdigest()
        return f"dep-{digest[:10]}"

    return opaque


@dataclass(frozen=True)
class ViewMetric:
    """A milestone's metric as an audience reads it: `run` is None in the client's view."""

    name: str
    label: str
    value: float | None
    target: float
    higher_is_better: bool
    met: bool
    at: dt.date | None
    met_on: dt.date | None = None  # the day its target was first met
    run: str | None = None


@dataclass(frozen=True)
class ClientMilestone:
    id: str
    name: str
    phase: str
    planned: dt.date
    forecast: dt.date | None
    actual: dt.date | None
    status: Status
    owner: str
    tickets_total: int
    tickets_done: int
    started: bool
    blocked_by: tuple[str, ...]
    waiting_on: tuple[str, ...]  # opaque ids of the dependencies that set the forecast
    acceptance: str = ""
    after: tuple[str, ...] = ()
    pushed_by: str | None = None
    missed: bool = False
    days_late: int | None = None
    note: str | None = None
    reason: str = ""  # why the forecast is where it is (client-safe, from the rules)
    metric: ViewMetric | None = None


@dataclass(frozen=True)
class ClientDependency:
    id: str
    summary: str
    owner: str | None
    due: dt.date | None
    blocked_since: dt.date | None
    days_blocked: int
    blocks: tuple[str, ...]
    impact_statement: str
    overdue: bool


@dataclass(frozen=True)
class ClientWarning:
    kind: WarningKind
    milestone: str | None
    message: str
    tickets: tuple[str, ...] = ()  # keys the message names (internal view only)


@dataclass(frozen=True)
class ViewSource:
    """A source's freshness as either audience may read it."""

    label: str  # "Jira", "Linear"
    last_success: dt.datetime | None
    stale: bool


@dataclass(frozen=True)
class ClientView:
    client_id: str
    client_name: str
    as_of: dt.date
    spi: float | None
    stale: bool
    milestones: tuple[ClientMilestone, ...]
    dependencies: tuple[ClientDependency, ...]
    warnings: tuple[ClientWarning, ...]
    sources: tuple[ViewSource, ...] = ()
    current_phase: str | None = None
    next_milestone: str | None = None


def client_view(state: ClientState, opaque: OpaqueId) -> ClientView:
    """The client's view: dependency ids made opaque, only client-safe warnings."""
    warnings = tuple(
        ClientWarning(kind=w.kind, milestone=w.milestone, message=w.client_message)
        for w in state.warnings
        if w.kind in CLIENT_VISIBLE_WARNINGS and w.client_message is not None
    )
    return _view(state, opaque, warnings, internal=False)


def internal_view(state: ClientState) -> ClientView:
    """The same fields for the delivery team: real ticket keys and every warning."""
    warnings = tuple(
        ClientWarning(kind=w.kind, milestone=w.milestone, message=w.message, tickets=w.tickets)
        for w in state.warnings
    )
    return _view(state, lambda key: key, warnings, internal=True)


def _metric(metric: MetricState | None, *, internal: bool) -> ViewMetric | None:
    """The allow-list of a metric: the run id only for the delivery team, and never the
    experiment (nor anything else MLflow holds)."""
    if metric is None:
        return None
    return ViewMetric(
        name=metric.name,
        label=metric.label,
        value=metric.value,
        target=metric.target,
        higher_is_better=metric.higher_is_better,
        met=metric.met,
        at=metric.at,
        met_on=metric.met_on,
        run=metric.run if internal else None,
    )


def _view(
    state: ClientState,
    ids: OpaqueId,
    warnings: tuple[ClientWarning, ...],
    *,
    internal: bool,
) -> ClientView:
    """The allow-list: each field copied by name. Nothing else of a ticket gets through."""
    return ClientView(
        client_id=state.client_id,
        client_name=state.client_name,
        as_of=state.as_of,
        spi=state.spi,
        stale=state.stale,
        milestones=tuple(
            ClientMilestone(
                id=m.id,
                name=m.name,
                phase=m.phase,
                planned=m.planned,
                forecast=m.forecast,
                actual=m.actual,
                status=m.status,
                owner=m.owner,
                tickets_total=m.tickets_total,
                tickets_done=m.tickets_done,
                started=m.started,
                blocked_by=tuple(ids(k) for k in m.blocked_by),
                waiting_on=tuple(ids(k) for k in m.forecast_set_by_dependencies),
                acceptance=m.acceptance,
                after=m.after,
                pushed_by=m.pushed_by,
                missed=m.missed,
                days_late=m.days_late,
                note=m.note,
                reason=m.reason,
                metric=_metric(m.metric, internal=internal),
            )
            for m in state.milestones
        ),
        dependencies=tuple(
            ClientDependency(
                id=ids(d.key),
                summary=d.summary,
                owner=d.owner,
                due=d.due,
                blocked_since=d.blocked_since,
                days_blocked=d.days_blocked,
                blocks=d.blocks,
                impact_statement=d.impact_statement,
                overdue=d.overdue,
            )
            for d in state.dependencies
        ),
        warnings=warnings,
        sources=tuple(ViewSource(s.label, s.last_success, s.stale) for s in state.sources),
        current_phase=state.current_phase,
        next_milestone=state.next_milestone,
    )


def audience_view(state: ClientState, audience: Audience, opaque: OpaqueId) -> ClientView:
    """The one view builder for both audiences."""
    return client_view(state, opaque) if audience == "client" else internal_view(state)


def status_document(view: ClientView, audience: Audience) -> dict[str, Any]:
    """The `status --format json` document of SPEC §6, field for field."""
    return {
        "client": view.client_id,
        "audience": audience,
        "as_of": _d(view.as_of),
        "spi": view.spi,
        "stale": view.stale,
        "current_phase": view.current_phase,
        "next_milestone": view.next_milestone,
        "milestones": [
            {
                "id": m.id,
                "name": m.name,
                "phase": m.phase,
                "planned": _d(m.planned),
                "forecast": _d(m.forecast),
                "actual": _d(m.actual),
                "status": m.status.value,
                "owner": m.owner,
                "acceptance": m.acceptance,
                "after": list(m.after),
                "pushed_by": m.pushed_by,
                "missed": m.missed,
                "days_late": m.days_late,
                "note": m.note,
                "tickets_total": m.tickets_total,
                "tickets_done": m.tickets_done,
                "blocked_by": list(m.blocked_by),
                "metric": metric_document(m.metric, audience),
            }
            for m in view.milestones
        ],
        "dependencies": [
            {
                "id": d.id,
                "summary": d.summary,
                "owner": d.owner,
                "due": _d(d.due),
                "blocked_since": _d(d.blocked_since),
                "days_blocked": d.days_blocked,
                "blocks": list(d.blocks),
                "impact_statement": d.impact_statement,
            }
            for d in view.dependencies
        ],
        "warnings": [
            {"kind": w.kind.value, "milestone": w.milestone, "message": w.message}
            for w in view.warnings
        ],
    }


def metric_document(metric: ViewMetric | None, audience: Audience) -> dict[str, Any] | None:
    """SPEC §11's `metric` object: `run` for the internal audience only."""
    if metric is None:
        return None
    doc: dict[str, Any] = {
        "name": metric.name,
        "value": metric.value,
        "target": metric.target,
        "met": metric.met,
    }
    if audience == "internal":
        doc["run"] = metric.run
    doc["at"] = _d(metric.at)
    return doc


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None
