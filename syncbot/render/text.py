"""Plain-text renderings for the terminal: the status view and documents (digests)."""

from __future__ import annotations

from syncbot import messages
from syncbot.render.digest import metric_text
from syncbot.render.doc import DigestDoc, Document
from syncbot.render.views import ClientView, ViewMetric


def status_text(view: ClientView, audience: str) -> str:
    """A status view (either audience) as aligned text. Clients read the schedule performance
    in words and what blocks a milestone by the dependency's summary (its id is opaque)."""
    client = audience == "client"
    if client:
        performance = messages.schedule_performance(view.spi)
    else:
        performance = f"SPI {view.spi:.2f}" if view.spi is not None else "SPI n/a"
    late = sum(1 for m in view.milestones if m.actual is None and (m.days_late or 0) > 0)
    lines = [
        f"{view.client_name} ({view.client_id}) — {audience} status as of "
        f"{view.as_of.isoformat()} · {performance}"
        + (f" · {messages.late_milestones(late)}" if late else "")
        + (" · STALE DATA" if view.stale else ""),
    ]
    where = [messages.current_phase(view.current_phase)] if view.current_phase else []
    upcoming = next((m for m in view.milestones if m.id == view.next_milestone), None)
    if upcoming is not None:
        where.append(messages.coming_next(upcoming.name, upcoming.forecast))
    if where:
        lines.append(" ".join(where))
    lines += ["", "Milestones"]
    summaries = {d.id: d.summary for d in view.dependencies}
    width = max((len(m.name) for m in view.milestones), default=0)
    for m in view.milestones:
        when = f"actual {m.actual}" if m.actual else f"forecast {m.forecast}"
        line = (
            f"  {m.id:<5} {messages.STATUS_LABEL[m.status.value]:<11} {m.name:<{width}}"
            f"  planned {m.planned}  {when:<19}  "
            f"{messages.tasks_done(m.tickets_done, m.tickets_total)}"
        )
        if m.missed:
            line += f"  {messages.missed_planned(m.planned)}"
        late_by = messages.lateness(m.days_late, done=m.actual is not None)
        if late_by:
            line += f"  ({late_by})"
        if m.blocked_by:
            blockers = (
                [f"'{summaries.get(b, b)}'" for b in m.blocked_by] if client else list(m.blocked_by)
            )
            line += f"  blocked by {', '.join(blockers)}"
        if m.pushed_by:
            line += f"  pushed by {m.pushed_by}"
        lines.append(line)
        if m.acceptance:
            lines.append(f"        acceptance: {m.acceptance}")
        if m.metric is not None:
            lines.append(f"        metric: {_metric(m.metric)}")
        if m.note:
            lines.append(f"        note: {m.note}")
    lines += ["", "Client dependencies"]
    if not view.dependencies:
        lines.append("  none open")
    for d in view.dependencies:
        lines.append(
            f"  {d.id}  {d.summary} — owner {d.owner or 'unassigned'}, "
            f"due {d.due or 'not set'}, blocks {', '.join(d.blocks) or '-'}"
        )
        lines.append(f"      {d.impact_statement}")
    lines += ["", "Warnings"]
    lines += [f"  [{w.kind.value}] {w.milestone or '-'}: {w.message}" for w in view.warnings]
    if not view.warnings:
        lines.append("  none")
    return "\n".join(lines)


def _metric(metric: ViewMetric) -> str:
    """The metric and the run it comes from (the run id only in the internal view)."""
    text = metric_text(metric)
    origin = [f"run {metric.run}"] if metric.run else []
    if metric.at is not None:
        origin.append(metric.at.isoformat())
    return f"{text} ({', '.join(origin)})" if origin else text


def digest_text(doc: DigestDoc | Document) -> str:
    out = [doc.title, "=" * len(doc.title), doc.summary]
    for section in doc.sections:
        out += ["", section.heading]
        out += [f"  - {line.plain()}" for line in section.lines]
    return "\n".join(out)
