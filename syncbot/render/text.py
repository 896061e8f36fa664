"""Plain-text renderings for the terminal: the status view and documents (digests)."""

from __future__ import annotations

from syncbot import messages
from syncbot.render.doc import DigestDoc, Document
from syncbot.render.views import ClientView


def status_text(view: ClientView, audience: str) -> str:
    """A status view (either audience) as aligned text."""
    spi = f"{view.spi:.2f}" if view.spi is not None else "n/a"
    lines = [
        f"{view.client_name} ({view.client_id}) — {audience} status as of "
        f"{view.as_of.isoformat()} · SPI {spi}" + (" · STALE DATA" if view.stale else ""),
        "",
        "Milestones",
    ]
    width = max((len(m.name) for m in view.milestones), default=0)
    for m in view.milestones:
        when = f"actual {m.actual}" if m.actual else f"forecast {m.forecast}"
        line = (
            f"  {m.id:<5} {messages.STATUS_LABEL[m.status.value]:<11} {m.name:<{width}}"
            f"  planned {m.planned}  {when:<19}  "
            f"{messages.tasks_done(m.tickets_done, m.tickets_total)}"
        )
        if m.blocked_by:
            line += f"  blocked by {', '.join(m.blocked_by)}"
        lines.append(line)
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


def digest_text(doc: DigestDoc | Document) -> str:
    out = [doc.title, "=" * len(doc.title), doc.summary]
    for section in doc.sections:
        out += ["", section.heading]
        out += [f"  - {line.plain()}" for line in section.lines]
    return "\n".join(out)
