"""Composition of the rules: one client's tickets in, its `ClientState` out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from syncbot.config import Client
from syncbot.domain import ClientState, SourceHealth, Ticket, Warning
from syncbot.rules import membership, warnings
from syncbot.rules.dependencies import dependencies
from syncbot.rules.earned_value import earned_value
from syncbot.rules.milestones import milestone_state


def compute_state(
    client: Client,
    tickets: Sequence[Ticket],
    *,
    as_of: dt.date,
    sources: Sequence[SourceHealth] = (),
    source_warnings: Sequence[Warning] = (),
    reported: Mapping[str, tuple[dt.date | None, str]] | None = None,
    signed_off: set[str] | None = None,
) -> ClientState:
    """Milestones, dependencies, earned value and warnings for `client` at `as_of`.

    `reported` (forecast and status per milestone in the last posted digest) enables the
    forecast-moved and skipped-at-risk rules; `signed_off` (phase names) the phase gate.
    """
    tz = client.tz
    members = {m.id: membership.members(m, tickets) for m in client.milestones}
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
    milestones = tuple(
        milestone_state(m, members[m.id], [d for d in deps if m.id in d.blocks], as_of=as_of, tz=tz)
        for m in client.milestones
    )
    found: list[Warning] = []
    if reported is not None:
        found.extend(warnings.honesty(milestones, reported))
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
    )
