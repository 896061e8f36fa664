"""Digest documents: what each audience's digest says, before any formatting.

`internal_digest` reads the full state; `client_digest` reads only the allow-listed
`ClientView`. Text, Block Kit and JSON are renderings of the same `DigestDoc`.

"Completed since the last digest": a milestone done by the as-of date whose actual date is
after `since`, or (when the last posted digest's snapshot is given as `done_before`) one that
was not done in that digest. `since` is the last posted digest's as-of date, or one cadence
back when nothing was posted yet (see `app.Syncbot.digest`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from syncbot import messages
from syncbot.domain import ClientState, MilestoneState, Status, WarningKind
from syncbot.render.doc import DigestDoc, Line, Section, Span, lines, refs
from syncbot.render.views import ClientView

DATE_CHANGE_KINDS = (WarningKind.FORECAST_MOVED, WarningKind.SKIPPED_AT_RISK)


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
    links = links or {}
    milestone_lines = []
    for m in state.milestones:
        spans: list[Span] = [
            (
                f"{m.id} {m.name} ({m.phase}): {_dates(m.planned, m.forecast, m.actual)}, "
                f"{messages.tasks_done(m.tickets_done, m.tickets_total)}"
            )
        ]
        if m.owner:
            spans.append(f", owner {m.owner}")
        if m.late_tickets:
            spans += ["; past due: ", *refs(m.late_tickets, links)]
        if m.blocked_by:
            spans += ["; blocked by ", *refs(m.blocked_by, links)]
        milestone_lines.append(Line.of(*spans, status=m.status))
    needed = []
    for d in state.dependencies:
        owner = d.owner or "unassigned"
        if d.owner_email:
            owner += f" <{d.owner_email}>"
        needed.append(
            Line.of(
                refs([d.key], {d.key: d.url} if d.url else links),
                f" {d.summary} — owner {owner}, due {_due(d.due, d.overdue)}, "
                f"blocks {', '.join(d.blocks) or 'no milestone'}. {d.impact_statement}",
            )
        )
    changes = [Line.of(w.message) for w in state.warnings if w.kind in DATE_CHANGE_KINDS]
    changes += [
        Line.of(_slip(m.name, m.planned, m.forecast), _reasons_internal(m, links), ".")
        for m in state.milestones
        if _slipping(m.forecast, m.planned, m.status)
    ]
    warnings = [
        Line.of(f"[{w.kind.value}] ", _warning_spans(w.message, w.tickets, links))
        for w in state.warnings
        if w.kind not in DATE_CHANGE_KINDS
    ]
    sections = (
        Section(
            messages.SECTION_MILESTONES,
            tuple(milestone_lines) or lines([messages.NO_MILESTONES_INTERNAL]),
        ),
        Section(
            messages.completed_since(since),
            _completed(state.milestones, since, state.as_of, done_before),
        ),
        Section(messages.SECTION_IN_PROGRESS, _in_progress(state.milestones)),
        Section(
            messages.SECTION_NEEDED_INTERNAL,
            tuple(needed) or lines([messages.NOTHING_NEEDED_INTERNAL]),
        ),
        Section(
            messages.SECTION_DATE_CHANGES,
            tuple(changes) or lines([messages.NO_DATE_CHANGES_INTERNAL]),
        ),
        Section(messages.SECTION_WARNINGS, tuple(warnings) or lines([messages.NO_WARNINGS])),
    )
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
            freshness_line(state.sources, now),
        ),
        sections,
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
        Line.of(
            f"{m.name} ({m.phase}): {_dates(m.planned, m.forecast, m.actual)}",
            status=m.status,
        )
        for m in view.milestones
    )
    needed = lines(
        f"{d.summary} — {d.owner or 'owner to be confirmed'}, due {_due(d.due, d.overdue)}. "
        f"{d.impact_statement}"
        for d in view.dependencies
    )
    changes = [w.message for w in view.warnings if w.kind in DATE_CHANGE_KINDS]
    for m in view.milestones:
        if _slipping(m.forecast, m.planned, m.status):
            waiting = [deps[i].summary for i in m.waiting_on if i in deps]
            reason = (
                messages.waiting_on(waiting) if waiting else messages.SLIP_REASON_UNKNOWN_CLIENT
            )
            changes.append(f"{_slip(m.name, m.planned, m.forecast)}{reason}.")
    sections = (
        Section(
            messages.SECTION_MILESTONES, milestone_lines or lines([messages.NO_MILESTONES_CLIENT])
        ),
        Section(
            messages.completed_since(since),
            _completed(view.milestones, since, view.as_of, done_before),
        ),
        Section(messages.SECTION_IN_PROGRESS, _in_progress(view.milestones)),
        Section(messages.SECTION_NEEDED_CLIENT, needed or lines([messages.NOTHING_NEEDED_CLIENT])),
        Section(messages.SECTION_DATE_CHANGES, lines(changes or [messages.NO_DATE_CHANGES_CLIENT])),
    )
    return DigestDoc(
        view.client_id,
        "client",
        view.as_of,
        since,
        messages.client_digest_title(view.client_name, view.as_of),
        summary_line(
            view.spi,
            [m.status.value for m in view.milestones],
            sum(d.overdue for d in view.dependencies),
            freshness,
        ),
        sections,
    )


class _Fresh(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def last_success(self) -> dt.datetime | None: ...
    @property
    def stale(self) -> bool: ...


def freshness_line(sources: Sequence[_Fresh], now: dt.datetime) -> str:
    """Plainly says when data is stale; empty when every source is fresh."""
    return " ".join(messages.stale_source(s.label, s.last_success, now) for s in sources if s.stale)


def summary_line(spi: float | None, statuses: Sequence[str], overdue: int, freshness: str) -> str:
    """The one-line summary under a digest's (or a status reply's) title."""
    parts = [f"SPI {spi:.2f}" if spi is not None else "SPI n/a (nothing planned yet)"]
    for status in ("done", "on_track", "at_risk", "delayed"):
        count = sum(s == status for s in statuses)
        if count:
            parts.append(f"{count} {messages.STATUS_LABEL[status].lower()}")
    if overdue:
        parts.append(messages.overdue_dependencies(overdue))
    text = " · ".join(parts)
    return f"{text}. {freshness}" if freshness else text


def _warning_spans(message: str, keys: Sequence[str], links: Mapping[str, str]) -> list[Span]:
    """A warning whose text ends with the keys it names: those become linkable refs."""
    tail = ", ".join(keys)
    if keys and message.endswith(tail):
        return [message[: len(message) - len(tail)], *refs(keys, links)]
    return [message]


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


def _slip(name: str, planned: dt.date, forecast: dt.date | None) -> str:
    """The start of a date-change line; the reason follows it."""
    assert forecast is not None
    late = (forecast - planned).days
    return (
        f"'{name}' now expected {forecast.isoformat()} instead of {planned.isoformat()} "
        f"({messages.plural(late, 'day')} late): "
    )


def _reasons_internal(m: MilestoneState, links: Mapping[str, str]) -> list[Span]:
    """What sets the forecast: the dependency or tickets whose dates equal it."""
    reasons: list[list[Span]] = []
    if m.forecast_set_by_dependencies:
        reasons.append(
            ["waiting on client dependency ", *refs(m.forecast_set_by_dependencies, links)]
        )
    late = [k for k in m.forecast_set_by_tickets if k in m.late_tickets]
    due = [k for k in m.forecast_set_by_tickets if k not in m.late_tickets]
    if late:
        reasons.append(["past due: ", *refs(late, links)])
    if due and m.forecast:
        reasons.append([*refs(due, links), f" due {m.forecast.isoformat()}"])
    if not reasons:
        return [messages.SLIP_REASON_UNKNOWN_INTERNAL]
    out: list[Span] = []
    for index, reason in enumerate(reasons):
        out += (["; "] if index else []) + reason
    return out


class _Milestone(Protocol):
    """What `_completed` and `_in_progress` read: a milestone's state or its client view."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def actual(self) -> dt.date | None: ...
    @property
    def forecast(self) -> dt.date | None: ...
    @property
    def tickets_done(self) -> int: ...
    @property
    def tickets_total(self) -> int: ...
    @property
    def started(self) -> bool: ...


def _completed(
    milestones: Sequence[_Milestone],
    since: dt.date,
    as_of: dt.date,
    done_before: Collection[str] | None,
) -> tuple[Line, ...]:
    out = tuple(
        Line.of(f"{m.name} — delivered {m.actual.isoformat()}")
        for m in milestones
        if m.actual is not None
        and m.actual <= as_of
        and (since < m.actual or (done_before is not None and m.id not in done_before))
    )
    return out or lines([messages.NOTHING_COMPLETED])


def _in_progress(milestones: Sequence[_Milestone]) -> tuple[Line, ...]:
    out = tuple(
        Line.of(
            f"{m.name}: {messages.tasks_done(m.tickets_done, m.tickets_total)}, forecast "
            f"{m.forecast.isoformat() if m.forecast else '-'} "
            f"({messages.STATUS_LABEL[m.status.value].lower()})"
        )
        for m in milestones
        if m.started and m.status is not Status.DONE
    )
    return out or lines([messages.NOTHING_IN_PROGRESS])
