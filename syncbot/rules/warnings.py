"""Warnings (SPEC §4): scope creep, the honesty rules that compare runs, and a done
milestone's metric that regressed below its target (SPEC §11).

The cross-run rules take the state reported in the last posted digest as a parameter; they
never look it up themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from syncbot import messages
from syncbot.domain import MilestoneState, Status, Ticket, Warning, WarningKind
from syncbot.rules.dates import local_date


def scope_creep(
    milestone: MilestoneState,
    tickets: Sequence[Ticket],
    *,
    baseline: dt.date | None,
    change_order_labels: Sequence[str],
    tz: ZoneInfo,
) -> Warning | None:
    """Tickets created after the client's baseline without a change-order label."""
    if baseline is None:
        return None
    added = [
        t.key
        for t in tickets
        if local_date(t.created, tz) > baseline and not t.has_label(change_order_labels)
    ]
    if not added:
        return None
    return Warning(
        WarningKind.SCOPE_CREEP,
        milestone.id,
        messages.scope_creep(milestone.name, added, baseline),
        tickets=tuple(added),
    )


def honesty(
    current: Sequence[MilestoneState], reported: Mapping[str, tuple[dt.date | None, str]]
) -> list[Warning]:
    """Forecast moves and skipped at-risk since the last posted digest.

    `reported` maps milestone id -> (forecast, status) as of that digest. Milestones that were
    not in it are new and announce nothing.
    """
    out = []
    for m in current:
        if m.id not in reported:
            continue
        old_forecast, old_status = reported[m.id]
        later = m.forecast is not None and (old_forecast is None or m.forecast > old_forecast)
        # Every date change gives its reason (SPEC §4 v2); an earlier date only its note.
        reason = m.reason if later else (m.note or "")
        if old_status == Status.ON_TRACK and m.status is Status.DELAYED:
            text = messages.skipped_at_risk(m.name, old_forecast, m.forecast, reason)
            out.append(Warning(WarningKind.SKIPPED_AT_RISK, m.id, text, client_message=text))
        if (
            m.status is not Status.DONE
            and old_status != Status.DONE
            and old_forecast != m.forecast
            and m.forecast is not None
        ):
            text = messages.forecast_moved(m.name, old_forecast, m.forecast, reason)
            out.append(Warning(WarningKind.FORECAST_MOVED, m.id, text, client_message=text))
    return out


def phase_gate(
    milestones: Sequence[MilestoneState], phase_order: Sequence[str], signed_off: set[str]
) -> list[Warning]:
    """A phase's milestones started while the phase before it is not signed off."""
    out = []
    for index, phase in enumerate(phase_order[1:], start=1):
        previous = phase_order[index - 1]
        if previous in signed_off:
            continue
        for m in milestones:
            if m.phase == phase and m.started:
                out.append(
                    Warning(
                        WarningKind.PHASE_GATE, m.id, messages.phase_gate(m.name, phase, previous)
                    )
                )
    return out


def metric_regressed(
    current: Sequence[MilestoneState], reported: Mapping[str, tuple[dt.date | None, str]]
) -> list[Warning]:
    """A milestone that was done in `reported` (milestone id -> (forecast, status), e.g. the
    last posted digest's, or the last alerted state) and is open again only because its
    metric no longer meets the target (its tickets are all still done). Internal only.

    This is the one place a metric regression is detected: the alerts of SPEC §8 call it
    with the last alerted state to raise their internal alert.
    """
    out = []
    for m in current:
        if m.metric is None or not m.waits_on_metric or m.id not in reported:
            continue
        if reported[m.id][1] != Status.DONE:
            continue
        shown = messages.metric_value(
            m.metric.label, m.metric.value, m.metric.target, m.metric.higher_is_better, False
        )
        out.append(
            Warning(
                WarningKind.METRIC_REGRESSED,
                m.id,
                messages.metric_regressed(m.name, shown, m.metric.run),
            )
        )
    return out
