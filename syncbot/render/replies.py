"""Slash command answers, built from the typed views (never from the SPEC §6 JSON).

Each function returns a `Document` that `render.blocks` turns into Slack messages. The
internal audience sees milestone ids, owners and dependency keys (linked); the client audience
sees its allow-listed view only.
"""

from __future__ import annotations

from collections.abc import Mapping

from syncbot import messages
from syncbot.domain import Status
from syncbot.render.digest import metric_text, summary_line
from syncbot.render.doc import DigestDoc, Document, Line, Section, Span, lines, refs
from syncbot.render.views import ClientDependency, ClientMilestone, ClientView

ATTENTION = (Status.AT_RISK, Status.DELAYED)


def summary(view: ClientView, freshness: str, *, client: bool = False) -> str:
    return summary_line(
        view.spi,
        [m.status.value for m in view.milestones],
        sum(d.overdue for d in view.dependencies),
        freshness,
        late=sum(1 for m in view.milestones if m.actual is None and (m.days_late or 0) > 0),
        client=client,
    )


def status_reply(
    view: ClientView, *, internal: bool, links: Mapping[str, str], freshness: str
) -> Document:
    attention = tuple(
        milestone_line(m, internal=internal, links=links)
        for m in view.milestones
        if m.status in ATTENTION
    )
    overdue = sum(d.overdue for d in view.dependencies)
    sections = [
        Section(messages.ATTENTION, attention or lines([messages.ALL_ON_TRACK])),
        Section(
            messages.SECTION_NEEDED_INTERNAL if internal else messages.SECTION_NEEDED_CLIENT,
            lines([messages.open_dependencies(len(view.dependencies), overdue)]),
        ),
    ]
    if view.warnings:
        sections.append(
            Section(
                messages.SECTION_WARNINGS,
                tuple(
                    Line.of(f"[{w.kind.value}] {w.message}" if internal else w.message)
                    for w in view.warnings
                ),
            )
        )
    return Document(
        messages.status_title(view.client_name, view.as_of),
        summary(view, freshness, client=not internal),
        tuple(sections),
    )


def milestones_reply(
    view: ClientView, *, internal: bool, links: Mapping[str, str], freshness: str
) -> Document:
    rows = tuple(milestone_line(m, internal=internal, links=links) for m in view.milestones)
    return Document(
        messages.milestones_title(view.client_name, view.as_of),
        summary(view, freshness, client=not internal),
        (Section(messages.SECTION_MILESTONES, rows or lines([messages.NO_MILESTONES_CLIENT])),),
    )


def blockers_reply(
    view: ClientView, *, internal: bool, links: Mapping[str, str], freshness: str
) -> Document:
    names = {m.id: m.name for m in view.milestones}
    rows = tuple(
        dependency_line(d, names, internal=internal, links=links) for d in view.dependencies
    )
    heading = messages.SECTION_NEEDED_INTERNAL if internal else messages.SECTION_NEEDED_CLIENT
    return Document(
        messages.blockers_title(view.client_name, view.as_of),
        summary(view, freshness, client=not internal),
        (Section(heading, rows or lines([messages.NO_BLOCKERS])),),
    )


def digest_preview(doc: DigestDoc) -> Document:
    return Document(doc.title, doc.summary, doc.sections, note=messages.DIGEST_PREVIEW)


def milestone_line(m: ClientMilestone, *, internal: bool, links: Mapping[str, str]) -> Line:
    late = messages.lateness(m.days_late, done=m.actual is not None)
    when = f"delivered {m.actual}" if m.actual else f"forecast {m.forecast or '-'}"
    if late:
        when += f" ({late})"
    planned = messages.missed_planned(m.planned) if m.missed else f"planned {m.planned}"
    spans: list[Span] = [
        f"{m.id} {m.name}" if internal else m.name,
        (
            f" ({m.phase}): {planned}, {when}, "
            f"{messages.tasks_done(m.tickets_done, m.tickets_total)}"
        ),
    ]
    if m.metric is not None:
        spans.append(f"; {metric_text(m.metric)}")
    if internal and m.owner:
        spans.append(f", owner {m.owner}")
    if internal and m.blocked_by:
        spans += ["; blocked by ", *refs(m.blocked_by, links)]
    if m.acceptance:
        spans.append(f" — acceptance: {m.acceptance}")
    if m.note:
        spans.append(f" — note: {m.note}")
    return Line.of(*spans, status=m.status)


def dependency_line(
    d: ClientDependency, names: Mapping[str, str], *, internal: bool, links: Mapping[str, str]
) -> Line:
    when = (f"{d.due} (overdue)" if d.overdue else str(d.due)) if d.due else "no date set"
    who = d.owner or ("unassigned" if internal else "owner to be confirmed")
    spans: list[Span] = [*refs([d.id], links), " "] if internal else []
    spans.append(f"{d.summary} — {who}, due {when}")
    if internal:
        blocked = [f"{b} {names.get(b, '')}".strip() for b in d.blocks]
        spans.append(f", blocks {', '.join(blocked) or 'no milestone'}")
    spans.append(f". {d.impact_statement}")
    return Line.of(*spans)
