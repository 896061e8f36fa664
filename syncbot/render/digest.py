"""Digest documents: what each audience's digest says, before any formatting.

`internal_digest` reads the full state; `client_digest` reads only the allow-listed
`ClientView`. Text, Block Kit and JSON are renderings of the same `DigestDoc`.

"Completed since the last digest": a milestone done by the as-of date whose actual date is
after `since`, or (when the last posted digest's snapshot is given as `done_before`) one that
was not done in that digest; and a milestone metric whose target was first met after `since`
(SPEC §11: a completion worth celebrating, even while the milestone's tickets are still
open). `since` is the last posted digest's as-of date, or one cadence back when nothing was
posted yet (see `app.Syncbot.digest`).

A milestone metric is shown beside its milestone in both audiences ("F1 0.78 of target
0.80"); the internal digest also lists the experiments (SPEC §11) that are open or finished
within the period, for a client that has any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from syncbot import messages
from syncbot.domain import ClientState, ExperimentState, MilestoneState, Status, WarningKind
from syncbot.render.doc import DigestDoc, Line, Mention, Section, Span, lines, refs
from syncbot.render.views import ClientView

DATE_CHANGE_KINDS = (WarningKind.FORECAST_MOVED, WarningKind.SKIPPED_AT_RISK)


class _Metric(Protocol):
    """A milestone's metric, as the rules or either view hold it."""

    @property
    def label(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def target(self) -> float: ...
    @property
    def higher_is_better(self) -> bool: ...
    @property
    def met(self) -> bool: ...
    @property
    def met_on(self) -> dt.date | None: ...


class _Milestone(Protocol):
    """What the shared line builders read: a milestone's state or its client view."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def planned(self) -> dt.date: ...
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
    @property
    def acceptance(self) -> str: ...
    @property
    def note(self) -> str | None: ...
    @property
    def missed(self) -> bool: ...
    @property
    def days_late(self) -> int | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def metric(self) -> _Metric | None: ...


class _Warned(Protocol):
    """A warning of either audience's view."""

    @property
    def kind(self) -> WarningKind: ...
    @property
    def milestone(self) -> str | None: ...
    @property
    def message(self) -> str: ...


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
                f"{m.id} {m.name} ({m.phase}): {_dates(m)}; "
                f"{messages.tasks_done(m.tickets_done, m.tickets_total)}{_measured(m)}"
            )
        ]
        if m.owner:
            spans.append(f", owner {m.owner}")
        if m.after:
            spans.append(f"; after {', '.join(m.after)}")
        if m.late_tickets:
            spans += ["; past due: ", *refs(m.late_tickets, links)]
        if m.blocked_by:
            spans += ["; blocked by ", *refs(m.blocked_by, links)]
        spans.append(_described(m))
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
    moved = _moved(state.warnings)
    changes = [
        line
        for m in state.milestones
        if (line := _date_change(m, moved.get(m.id), _internal_reason(m, links)))
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
        *_experiments(state.experiments, since, state.as_of, links),
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
            late=_late(state.milestones),
        ),
        sections,
    )


def _person(name: str, people: Mapping[str, str]) -> Span:
    """A configured person is mentioned (the id comes from syncbot's config, never a ticket);
    anyone else is named in plain text."""
    user_id = people.get(name)
    return Mention(user_id, name) if user_id else name


def client_digest(
    view: ClientView,
    since: dt.date,
    freshness: str = "",
    *,
    done_before: Collection[str] | None = None,
    people: Mapping[str, str] | None = None,
) -> DigestDoc:
    """The client's digest, from the allow-listed view only (SPEC §7): where the project
    stands (current phase, what comes next), milestones with planned / forecast / actual,
    status and acceptance, completed since the last digest, in progress, what is needed from
    the client (due dates, impact; its owner mentioned when `people`, the configured display
    name -> Slack user id map, has them), and date changes with their reasons."""
    milestone_lines = tuple(
        Line.of(
            f"{m.name} ({m.phase}): {_dates(m)}{_measured(m)}",
            f", owner {m.owner}" if m.owner else "",
            _described(m),
            status=m.status,
        )
        for m in view.milestones
    )
    people = people or {}
    needed = tuple(
        Line.of(
            f"{d.summary} — ",
            _person(d.owner, people) if d.owner else "owner to be confirmed",
            f", due {_due(d.due, d.overdue)}. {d.impact_statement}",
        )
        for d in view.dependencies
    )
    moved = _moved(view.warnings)
    changes = [
        line for m in view.milestones if (line := _date_change(m, moved.get(m.id), [m.reason]))
    ]
    sections = (
        Section(messages.SECTION_WHERE, _where(view)),
        Section(
            messages.SECTION_MILESTONES, milestone_lines or lines([messages.NO_MILESTONES_CLIENT])
        ),
        Section(
            messages.completed_since(since),
            _completed(view.milestones, since, view.as_of, done_before),
        ),
        Section(messages.SECTION_IN_PROGRESS, _in_progress(view.milestones)),
        Section(messages.SECTION_NEEDED_CLIENT, needed or lines([messages.NOTHING_NEEDED_CLIENT])),
        Section(
            messages.SECTION_DATE_CHANGES,
            tuple(changes) or lines([messages.NO_DATE_CHANGES_CLIENT]),
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
            [m.status.value for m in view.milestones],
            sum(d.overdue for d in view.dependencies),
            freshness,
            late=_late(view.milestones),
            client=True,
        ),
        sections,
    )


def _where(view: ClientView) -> tuple[Line, ...]:
    """The current phase and what comes next, for the client."""
    out = []
    if view.current_phase:
        out.append(messages.current_phase(view.current_phase))
    upcoming = next((m for m in view.milestones if m.id == view.next_milestone), None)
    if upcoming is not None:
        out.append(messages.coming_next(upcoming.name, upcoming.forecast))
    return lines(out or [messages.ALL_DELIVERED])


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


def summary_line(
    spi: float | None,
    statuses: Sequence[str],
    overdue: int,
    freshness: str,
    *,
    late: int = 0,
    client: bool = False,
) -> str:
    """The one-line summary under a digest's (or a status reply's) title. Clients read the
    schedule performance in words, never the bare "SPI"; both audiences read how many
    milestones are late, which a good SPI alone would hide."""
    if client:
        parts = [messages.schedule_performance(spi)]
    else:
        parts = [f"SPI {spi:.2f}" if spi is not None else "SPI n/a (nothing planned yet)"]
    for status in ("done", "on_track", "at_risk", "delayed"):
        count = sum(s == status for s in statuses)
        if count:
            parts.append(f"{count} {messages.STATUS_LABEL[status].lower()}")
    if late:
        parts.append(messages.late_milestones(late))
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


def _dates(m: _Milestone) -> str:
    """Planned, forecast or actual, and how late: "planned 03-06, delivered 03-12 (6 days
    late)", "missed its planned date 02-27, forecast 03-10 (11 days late)"."""
    late = messages.lateness(m.days_late, done=m.actual is not None)
    tail = f" ({late})" if late else ""
    if m.actual:
        return f"planned {m.planned.isoformat()}, delivered {m.actual.isoformat()}{tail}"
    forecast = m.forecast.isoformat() if m.forecast else "-"
    if m.missed:
        return f"{messages.missed_planned(m.planned)}, forecast {forecast}{tail}"
    return f"planned {m.planned.isoformat()}, forecast {forecast}{tail}"


def _measured(m: _Milestone) -> str:
    """The milestone's metric beside it: "; F1 0.78 of target 0.80"."""
    return f"; {metric_text(m.metric)}" if m.metric is not None else ""


def metric_text(metric: _Metric) -> str:
    return messages.metric_value(
        metric.label, metric.value, metric.target, metric.higher_is_better, metric.met
    )


def _experiments(
    found: Sequence[ExperimentState], since: dt.date, as_of: dt.date, links: Mapping[str, str]
) -> tuple[Section, ...]:
    """The experiments section (internal): open ones, and those finished in the period."""
    if not found:
        return ()
    shown = [
        Line.of(
            refs([e.key], {e.key: e.url} if e.url else links),
            f" {e.hypothesis} — ",
            messages.experiment_timebox(
                e.status,
                e.days_running,
                e.timebox_days,
                e.created,
                e.due,
                e.completed,
                e.overrun,
            ),
            f"; success: {e.success}" if e.success else "",
            f"; owner {e.owner}" if e.owner else "",
            f"; milestone {e.milestone}" if e.milestone else "",
        )
        for e in found
        if e.completed is None or since < e.completed <= as_of
    ]
    return (
        Section(
            messages.SECTION_EXPERIMENTS, tuple(shown) or lines([messages.NO_EXPERIMENTS_RUNNING])
        ),
    )


def _described(m: _Milestone) -> str:
    """What the milestone proves (acceptance) and its note, written for the client."""
    out = ""
    if m.acceptance:
        out += f" — acceptance: {m.acceptance}"
    if m.note:
        out += f" — note: {m.note}"
    return out


def _late(milestones: Sequence[_Milestone]) -> int:
    return sum(1 for m in milestones if m.actual is None and (m.days_late or 0) > 0)


def _moved(warnings: Sequence[_Warned]) -> dict[str, _Warned]:
    """The date-change warning of each milestone: skipped at-risk says the most."""
    out: dict[str, _Warned] = {}
    for w in warnings:
        if w.milestone is None or w.kind not in DATE_CHANGE_KINDS:
            continue
        if w.milestone not in out or w.kind is WarningKind.SKIPPED_AT_RISK:
            out[w.milestone] = w
    return out


def _date_change(m: _Milestone, moved: _Warned | None, reason: Sequence[Span]) -> Line | None:
    """At most one line per milestone: its move since the last digest (with the reason the
    rules gave), else its slip against the plan (or the miss) with `reason`."""
    if moved is not None:
        return Line.of(moved.message)
    if m.actual is not None or m.forecast is None or not (m.missed or m.forecast > m.planned):
        return None
    late = (m.forecast - m.planned).days
    if m.missed:
        head = (
            f"'{m.name}' {messages.missed_planned(m.planned)}; now expected "
            f"{m.forecast.isoformat()} ({messages.plural(late, 'day')} late): "
        )
    else:
        head = (
            f"'{m.name}' now expected {m.forecast.isoformat()} instead of "
            f"{m.planned.isoformat()} ({messages.plural(late, 'day')} late): "
        )
    return Line.of(head, reason, ".")


def _due(due: dt.date | None, overdue: bool) -> str:
    if due is None:
        return "no date set"
    return f"{due.isoformat()} (overdue)" if overdue else due.isoformat()


def _internal_reason(m: MilestoneState, links: Mapping[str, str]) -> list[Span]:
    """The reason the delivery team reads: the note or the driver as the client reads it,
    else the tickets, blockers or dependencies whose dates set the forecast."""
    if m.note or m.pushed_by or m.waits_on_metric:
        return [m.reason]
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
    if m.forecast_set_by_blockers:
        reasons.append(["blocked by ", *refs(m.forecast_set_by_blockers, links)])
    if not reasons:
        return [messages.SLIP_REASON_UNKNOWN_INTERNAL]
    out: list[Span] = []
    for index, reason in enumerate(reasons):
        out += (["; "] if index else []) + reason
    return out


def _completed(
    milestones: Sequence[_Milestone],
    since: dt.date,
    as_of: dt.date,
    done_before: Collection[str] | None,
) -> tuple[Line, ...]:
    completed = [
        m
        for m in milestones
        if m.actual is not None
        and m.actual <= as_of
        and (since < m.actual or (done_before is not None and m.id not in done_before))
    ]
    delivered = {m.id for m in completed}
    out = [
        Line.of(
            f"{m.name} — delivered {m.actual.isoformat()}",
            f" ({late})" if (late := messages.lateness(m.days_late, done=True)) else "",
            f": {m.acceptance}" if m.acceptance else "",
            f"; {metric_text(m.metric)}" if m.metric is not None else "",
        )
        for m in completed
        if m.actual is not None
    ]
    # A metric's target first met in the period, its milestone not delivered in it.
    out += [
        Line.of(messages.metric_target_met(m.name, metric_text(m.metric), m.metric.met_on))
        for m in milestones
        if m.metric is not None
        and m.metric.met
        and m.metric.met_on is not None
        and since < m.metric.met_on <= as_of
        and m.id not in delivered
    ]
    return tuple(out) or lines([messages.NOTHING_COMPLETED])


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
