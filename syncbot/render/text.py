"""Plain-text renderings for the terminal: the status document and digests."""

from __future__ import annotations

from typing import Any

from syncbot import messages
from syncbot.render.digest import DigestDoc


def status_text(doc: dict[str, Any], client_name: str) -> str:
    """Render a SPEC §6 status document (either audience) as aligned text."""
    spi = f"{doc['spi']:.2f}" if doc["spi"] is not None else "n/a"
    lines = [
        f"{client_name} ({doc['client']}) — {doc['audience']} status as of {doc['as_of']}"
        f" · SPI {spi}" + (" · STALE DATA" if doc["stale"] else ""),
        "",
        "Milestones",
    ]
    width = max((len(m["name"]) for m in doc["milestones"]), default=0)
    for m in doc["milestones"]:
        when = f"actual {m['actual']}" if m["actual"] else f"forecast {m['forecast']}"
        line = (
            f"  {m['id']:<5} {messages.STATUS_LABEL[m['status']]:<11} {m['name']:<{width}}"
            f"  planned {m['planned']}  {when:<19}  {m['tickets_done']}/{m['tickets_total']}"
        )
        if m["blocked_by"]:
            line += f"  blocked by {', '.join(m['blocked_by'])}"
        lines.append(line)
    lines += ["", "Client dependencies"]
    if not doc["dependencies"]:
        lines.append("  none open")
    for d in doc["dependencies"]:
        lines.append(
            f"  {d['id']}  {d['summary']} — owner {d['owner'] or 'unassigned'}, "
            f"due {d['due'] or 'not set'}, blocks {', '.join(d['blocks']) or '-'}"
        )
        lines.append(f"      {d['impact_statement']}")
    lines += ["", "Warnings"]
    lines += [f"  [{w['kind']}] {w['milestone'] or '-'}: {w['message']}" for w in doc["warnings"]]
    if not doc["warnings"]:
        lines.append("  none")
    return "\n".join(lines)


def digest_text(doc: DigestDoc) -> str:
    out = [doc.title, "=" * len(doc.title), doc.summary]
    for section in doc.sections:
        out += ["", section.heading]
        out += [f"  - {line}" for line in section.lines]
    return "\n".join(out)
