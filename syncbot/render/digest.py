"""Digest documents: what each audience's digest says, before any formatting.

`internal_digest` reads the full state; `client_digest` reads only the allow-listed
`ClientView`. Text, Block Kit and JSON are renderings of the same `DigestDoc`.

"Completed since the last digest": a milestone done by the as-of date whose actual date is
after `since`, or (when the last posted digest's snapshot is given as `done_before`) one that
was not done in that digest. `since` is the last posted digest's as-of date, or one cadence
back when nothing was posted yet (see `service.digest_since`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from syncbot import messages
from syncbot.domain import ClientState, MilestoneState, Status, WarningKind
from syncbot.render.views import ClientView


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class DigestDoc:
    client_id: str
    audience: str
    as_of: dt.date
    since: dt.date
    title: str
    summary: str
    sections: tuple[Section, ...]
    links: tuple[tuple[str, str], ...] = ()  # (ticket key, URL): internal digests only

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "client": self.client_id,
            "audience": self.audience,
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "title": self.title,
            "summary": self.summary,
            "sections": [{"heading": s.heading, "lines": list(s.lines)} for s in self.sections],
        }
        if self.links:
            doc["links"] = dict(self.links)
        return doc


def internal_digest(
    state: ClientState,
    since: dt.date,
    now: dt.datetime,
    *,
    links: Mapping[str, str] | None = None,
    done_before: Collection[str] | None = None,
) -> DigestDoc:
    """Everything, for the delivery team: ticket keys (linked when `links` has their URL),
    owners and emails, late tickets, every warning."""
    milestone_lines = []
    for m in state.milestones:
        dates = _dates(m.planned, m.forecast, m.actual)
        line = f"{_badge(m.status)} {m.id} {m.name} ({m.phase}): {dates}"
        line += f", {m.tickets_done}/{m.tickets_total} tickets done"
        if m.owner:
            line += f", owner {m.owner}"
        if m.late_tickets:
            line += f"; past due: {', '.join(m.late_tickets)}"
        if m.blocked_by:
            line += f"; blocked by {', '.join(m.blocked_by)}"
        milestone_lines.append(line)
    needed = []
    for d in state.dependencies:
        owner = d.owner or "unassigned"
        if d.owner_email:
            owner += f" <{d.owner_email}>"
        line = (
            f"{d.key} {d.summary} — owner {owner}, due {_due(d.due, d.overdue)}, "
            f"blocks {', '.join(d.blocks) or 'no milestone'}. {d.impact_statement}"
        )
        if d.url:
            line += f" {d.url}"
        needed.append(line)
    changes = [
        w.message
        for w in state.warnings
        if w.kind in (WarningKind.FORECAST_MOVED, WarningKind.SKIPPED_AT_RISK)
    ]
    changes += [
        _slip(m.name, m.planned, m.forecast, _reasons_internal(m))
        for m in state.milestones
        if _slipping(m.forecast, m.planned, m.status)
    ]
    sections = [
        Section(
            messages.SECTION_MILESTONES,
            tuple(milestone_lines) or (messages.NO_MILESTONES_INTERNAL,),
        ),
        Section(
            messages.completed_since(since),
            _completed(
                [(m.id, m.name, m.actual) for m in state.milestones],
                since,
                state.as_of,
                done_before,
            ),
        ),
        Section(
            messages.SECTION_IN_PROGRESS,
            _in_progress(
                [
                    (m.name, m.status, m.forecast, m.tickets_done, m.tickets_total, m.started)
                    for m in state.milestones
                ]
            ),
        ),
        Section(
            messages.SECTION_NEEDED_INTERNAL,
            tuple(needed) or (messages.NOTHING_NEEDED_INTERNAL,),
        ),
        Section(
            messages.SECTION_DATE_CHANGES, tuple(changes) or (messages.NO_DATE_CHANGES_INTERNAL,)
        ),
        Section(
            messages.SECTION_WARNINGS,
            tuple(
                f"[{w.kind.value}] {w.message}"
                for w in state.warnings
                if w.kind not in (WarningKind.FORECAST_MOVED, WarningKind.SKIPPED_AT_RISK)
            )
            or (messages.NO_WARNINGS,),
        ),
    ]
    return DigestDoc(
        state.client_id,
        "internal",
        state.as_of,
        since,
        messages.internal_digest_title(state.client_name, state.as_of),
        summary_line(
            state.spi,
            [m.status.value for m in state.milestones],
            sum(d.overdue for d in state.dependencies),
            freshness_line(state, now),
        ),
        tuple(sections),
        links=tuple(sorted((links or {}).items())),
    )


def client_digest(
    view: ClientView,
    since: dt.date,
    freshness: str = "",
    *,
    done_before: Collection[str] | None = None,
) -> DigestDoc:
    """The client's digest, from the allow-listed view only (SPEC §7): milestones with
    planned / forecast / actual and status, completed since the last digest, in progress,
    what is needed from the client (due dates, impact), and date changes with reasons."""
    deps = {d.id: d for d in view.dependencies}
    milestone_lines = tuple(
        f"{_badge(m.status)} {m.name} ({m.phase}): {_dates(m.planned, m.forecast, m.actual)}"
        for m in view.milestones
    )
    needed = tuple(
        f"{d.summary} — {d.owner or 'owner to be confirmed'}, due {_due(d.due, d.overdue)}. "
        f"{d.impact_statement}"
        for d in view.dependencies
    )
    changes = [
        w.message
        for w in view.warnings
        if w.kind in (WarningKind.FORECAST_MOVED, WarningKind.SKIPPED_AT_RISK)
    ]
    for m in view.milestones:
        if _slipping(m.forecast, m.planned, Status(m.status)):
            waiting = [deps[i].summary for i in m.waiting_on if i in deps]
            reason = (
                messages.waiting_on(waiting) if waiting else messages.SLIP_REASON_UNKNOWN_CLIENT
            )
            changes.append(_slip(m.name, m.planned, m.forecast, reason))
    sections = (
        Section(messages.SECTION_MILESTONES, milestone_lines or (messages.NO_MILESTONES_CLIENT,)),
        Section(
            messages.completed_since(since),
            _completed(
                [(m.id, m.name, m.actual) for m in view.milestones], since, view.as_of, done_before
            ),
        ),
        Section(
            messages.SECTION_IN_PROGRESS,
            _in_progress(
                [
                    (
                        m.name,
                        Status(m.status),
                        m.forecast,
                        m.tickets_done,
                        m.tickets_total,
                        m.started,
                    )
                    for m in view.milestones
                ]
            ),
        ),
        Section(messages.SECTION_NEEDED_CLIENT, needed or (messages.NOTHING_NEEDED_CLIENT,)),
        Section(
            messages.SECTION_DATE_CHANGES, tuple(changes) or (messages.NO_DATE_CHANGES_CLIENT,)
        ),
    )
    return DigestDoc(
        view.client_id,
        "client",
        view.as_of,
        since,
        messages.client_digest_title(view.client_name, view.as_of),
        summary_line(
            view.spi,
            [m.status for m in view.milestones],
            sum(d.overdue for d in view.dependencies),
            freshness,
        ),
        sections,
    )


def freshness_line(state: ClientState, now: dt.datetime) -> str:
    """Plainly says when data is stale; empty when every source is fresh."""
    stale = [messages.stale_source(s.label, s.last_success, now) for s in state.sources if s.stale]
    return " ".join(stale)


def summary_line(spi: float | None, statuses: Sequence[str], overdue: int, freshness: str) -> str:
    """The one-line summary under a digest's (or a status reply's) title."""
    parts = [f"SPI {spi:.2f}" if spi is not None else "SPI n/a (nothing planned yet)"]
    for status in ("done", "on_track", "at_risk", "delayed"):
        count = sum(s == status for s in statuses)
        if count:
            parts.append(f"{count} {messages.STATUS_LABEL[status].lower()}")
    if overdue:
        parts.append(
            messages.plural(overdue, "overdue client dependency").replace(
                "dependencys", "dependencies"
            )
        )
    text = " · ".join(parts)
    return f"{text}. {freshness}" if freshness else text


def _badge(status: str) -> str:
    return f"[{messages.STATUS_LABEL[status]}]"


def _dates(planned: dt.date, forecast: dt.date | None, actual: dt.date | None) -> str:
    if actual:
        return f"planned {planned.isoformat()}, delivered {actual.isoformat()}"
    return f"planned {planned.isoformat()}, forecast {forecast.isoformat() if forecast else '-'}"


def _due(due: dt.date | None, overdue: bool) -> str:
    if due is None:
        return "no date set"
    return f"{due.isoformat()} (overdue)" if overdue else due.isoformat()


def _slipping(forecast: dt.date | None, planned: dt.date, status: Status) -> bool:
    return status is not Status.DONE and forecast is not None and forecast > planned


def _slip(name: str, planned: dt.date, forecast: dt.date | None, reason: str) -> str:
    assert forecast is not None
    late = (forecast - planned).days
    return (
        f"'{name}' now expected {forecast.isoformat()} instead of {planned.isoformat()} "
        f"({messages.plural(late, 'day')} late): {reason}."
    )


def _reasons_internal(m: MilestoneState) -> str:
    """What sets the forecast: the dependency or tickets whose dates equal it."""
    reasons = []
    if m.forecast_set_by_dependencies:
        reasons.append(f"waiting on client dependency {', '.join(m.forecast_set_by_dependencies)}")
    late = [k for k in m.forecast_set_by_tickets if k in m.late_tickets]
    due = [k for k in m.forecast_set_by_tickets if k not in m.late_tickets]
    if late:
        reasons.append(f"past due: {', '.join(late)}")
    if due and m.forecast:
        reasons.append(f"{', '.join(due)} due {m.forecast.isoformat()}")
    return "; ".join(reasons) or messages.SLIP_REASON_UNKNOWN_INTERNAL


def _completed(
    items: Sequence[tuple[str, str, dt.date | None]],
    since: dt.date,
    as_of: dt.date,
    done_before: Collection[str] | None,
) -> tuple[str, ...]:
    lines = tuple(
        f"{name} — delivered {actual.isoformat()}"
        for mid, name, actual in items
        if actual is not None
        and actual <= as_of
        and (since < actual or (done_before is not None and mid not in done_before))
    )
    return lines or (messages.NOTHING_COMPLETED,)


def _in_progress(
    items: Sequence[tuple[str, Status, dt.date | None, int, int, bool]],
) -> tuple[str, ...]:
    lines = tuple(
        f"{name}: {done} of {total} tasks done, forecast "
        f"{forecast.isoformat() if forecast else '-'} ({messages.STATUS_LABEL[status].lower()})"
        for name, status, forecast, done, total, started in items
        if started and status is not Status.DONE
    )
    return lines or (messages.NOTHING_IN_PROGRESS,)
