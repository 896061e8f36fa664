"""Composition of the rules: one client's tickets in, its `ClientState` out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from graphlib import TopologicalSorter

from syncbot.config import Client
from syncbot.domain import (
    ClientState,
    DependencyState,
    MetricReading,
    MilestoneState,
    SourceHealth,
    Ticket,
    Warning,
)
from syncbot.rules import experiments, membership, warnings
from syncbot.rules.dependencies import dependencies
from syncbot.rules.earned_value import earned_value
from syncbot.rules.metrics import metric_state
from syncbot.rules.milestones import (
    Floor,
    blocker_floor,
    milestone_state,
    moves_daily,
    predecessor_floor,
)


def compute_state(
    client: Client,
    tickets: Sequence[Ticket],
    *,
    as_of: dt.date,
    sources: Sequence[SourceHealth] = (),
    source_warnings: Sequence[Warning] = (),
    reported: Mapping[str, tuple[dt.date | None, str]] | None = None,
    signed_off: set[str] | None = None,
    notes: Mapping[str, str] | None = None,
    metrics: Mapping[str, MetricReading] | None = None,
) -> ClientState:
    """Milestones, dependencies, experiments, earned value and warnings for `client` at
    `as_of`.

    `reported` (forecast and status per milestone in the last posted digest) enables the
    forecast-moved, skipped-at-risk and metric-regressed rules; `signed_off` (phase names)
    the phase gate; `notes` are the client-facing notes by milestone id; `metrics` the last
    known metric readings by milestone id.
    """
    tz = client.tz
    members = membership.membership(client.milestones, tickets)
    names = {m.id: m.name for m in client.milestones}
    deps = dependencies(
        tickets,
        members,
        names,
        labels=client.client_dependency_labels,
        blocked_keywords=client.blocked_status_keywords,
        tz=tz,
        as_of=as_of,
    )
    milestones = _milestones(
        client, tickets, members, deps, as_of=as_of, notes=notes or {}, metrics=metrics or {}
    )
    holder = {t.key: mid for mid, group in reversed(members.items()) for t in group}
    tried = experiments.experiments(
        tickets, labels=client.experiment_labels, tz=tz, as_of=as_of, milestone_of=holder
    )
    found: list[Warning] = []
    if reported is not None:
        found.extend(warnings.honesty(milestones, reported))
        found.extend(warnings.metric_regressed(milestones, reported))
    if signed_off is not None:
        found.extend(warnings.phase_gate(milestones, client.phase_order(), signed_off))
    for m in milestones:
        creep = warnings.scope_creep(
            m,
            members[m.id],
            baseline=client.baseline,
            change_order_labels=client.change_order_labels,
            tz=tz,
        )
        if creep:
            found.append(creep)
    found.extend(experiments.overruns(tried))
    found.extend(source_warnings)
    ev = earned_value(milestones, as_of)
    still_open = [m for m in milestones if m.is_open]
    earliest = min(still_open, key=lambda m: m.planned, default=None)
    upcoming = min(still_open, key=lambda m: m.forecast or m.planned, default=None)
    return ClientState(
        client_id=client.id,
        client_name=client.name,
        as_of=as_of,
        spi=ev.spi,
        planned_value=ev.planned_value,
        earned_value=ev.earned_value,
        milestones=milestones,
        dependencies=tuple(deps),
        warnings=tuple(found),
        sources=tuple(sources),
        current_phase=earliest.phase if earliest else None,
        next_milestone=upcoming.id if upcoming else None,
        experiments=tuple(tried),
    )


def _milestones(
    client: Client,
    tickets: Sequence[Ticket],
    members: Mapping[str, Sequence[Ticket]],
    deps: Sequence[DependencyState],
    *,
    as_of: dt.date,
    notes: Mapping[str, str],
    metrics: Mapping[str, MetricReading],
) -> tuple[MilestoneState, ...]:
    """Every milestone's state, predecessors first (`after`, finish-to-start), so that a slip
    travels down the whole chain; returned in configuration order."""
    tz = client.tz
    by_id = {m.id: m for m in client.milestones}
    blocking: dict[str, list[DependencyState]] = {}
    for d in deps:
        for mid in d.blocks:
            blocking.setdefault(mid, []).append(d)
    internal = _internal_blockers(client, tickets, members, as_of=as_of)
    graph = TopologicalSorter({m.id: [p for p in m.after if p in by_id] for m in client.milestones})
    done: dict[str, MilestoneState] = {}
    for mid in graph.static_order():  # config validation refuses cycles
        m = by_id[mid]
        done[mid] = milestone_state(
            m,
            members[mid],
            blocking.get(mid, []),
            as_of=as_of,
            tz=tz,
            predecessors=[predecessor_floor(m, done[p]) for p in m.after if p in done],
            internal=internal.get(mid, []),
            note=notes.get(mid),
            metric=metric_state(m.metric, metrics.get(mid), tz) if m.metric else None,
        )
    return tuple(done[m.id] for m in client.milestones)


def _internal_blockers(
    client: Client,
    tickets: Sequence[Ticket],
    members: Mapping[str, Sequence[Ticket]],
    *,
    as_of: dt.date,
) -> dict[str, list[Floor]]:
    """Milestone id -> floors set by open non-client tickets that its open tickets are
    "blocked by" (either end of the link), indexed once by key."""
    by_key = {t.key: t for t in tickets}
    blocked_by: dict[str, set[str]] = {}
    for t in tickets:
        for key in t.blocked_by:
            blocked_by.setdefault(t.key, set()).add(key)
        for key in t.blocks:
            blocked_by.setdefault(key, set()).add(t.key)
    labels = client.client_dependency_labels
    out: dict[str, list[Floor]] = {}
    for mid, group in members.items():
        found: dict[str, Floor] = {}
        for t in group:
            if not t.is_open:
                continue
            for key in sorted(blocked_by.get(t.key, ())):
                b = by_key.get(key)
                if b is None or not b.is_open or b.has_label(labels) or key in found:
                    continue
                found[key] = Floor(key, blocker_floor(b, as_of), drifting=moves_daily(b.due, as_of))
        if found:
            out[mid] = list(found.values())
    return out
