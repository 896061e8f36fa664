"""Slack messages of the review workflow and the same-day alerts (SPEC §8): alerts with their
"Draft client heads-up" button, drafts (the client message exactly as the client will see it,
plus "Send to client" and "Skip"), the heads-up itself, and drafts once decided.

Everything goes through `render.blocks`, so tracker and config text is escaped; mentions are
`Mention` spans of user ids from the configuration only.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock

from syncbot import messages
from syncbot.domain import Alert
from syncbot.render.blocks import MAX_BLOCKS, document_messages, line_mrkdwn, mrkdwn, spans_mrkdwn
from syncbot.render.doc import Document, Line, Mention, Section, Span, lines
from syncbot.render.views import ClientMilestone, ClientView

SEND, SKIP, HEADSUP = "syncbot_send", "syncbot_skip", "syncbot_headsup"
ACTIONS_ID = "syncbot_review"
Message = dict[str, Any]


def alert_message(
    alert: Alert,
    *,
    client_name: str,
    client_id: str,
    people: Mapping[str, str],
    headsup: bool,
) -> Message:
    """One internal alert: what worsened, old -> new, why, what it pushes, who owns it."""
    spans: list[Span] = [f":rotating_light: {client_name}: "]
    spans.append("; ".join(c.message for c in alert.changes) + ".")
    m, d = alert.milestone, alert.dependency
    if m is not None:
        spans.append(f" Status {messages.STATUS_LABEL[m.status.value].lower()}")
        if m.forecast:
            late = messages.lateness(m.days_late, done=False)
            spans.append(f", forecast {m.forecast.isoformat()}" + (f" ({late})" if late else ""))
        spans.append(f". Why: {m.reason}.")
        if alert.pushes:
            pushed = ", ".join(
                f"{p.id} '{p.name}' (now {p.forecast.isoformat() if p.forecast else '-'})"
                for p in alert.pushes
            )
            spans.append(f" It pushes {pushed}.")
        spans += _owner(m.owner, people)
    if d is not None:
        held = ", ".join(d.blocks) or "no milestone"
        spans.append(f" It holds up {held}. {d.impact_statement}")
        spans += _owner(d.owner, people)
    if alert.mention:
        spans.append(" Escalating to ")
        for n, user in enumerate(alert.mention):
            spans += ([", "] if n else []) + [Mention(user)]
        spans.append(".")
    text = line_mrkdwn(Line.of(*spans), 2900, bullet="")
    blocks: list[Any] = [{"type": "section", "text": mrkdwn(text).to_dict()}]
    if headsup and m is not None:
        button = ButtonElement(
            text=messages.ALERT_HEADSUP,
            action_id=HEADSUP,
            value=f"{client_id}|{m.id}",
        )
        blocks.append(ActionsBlock(block_id="syncbot_alert", elements=[button]).to_dict())
    return {"text": text, "blocks": blocks}


def _owner(name: str | None, people: Mapping[str, str]) -> list[Span]:
    if not name:
        return []
    user = people.get(name)
    return [" Owner: ", Mention(user, name) if user else name, "."]


def draft_messages(client_messages: Sequence[Message], review_id: str, where: str) -> list[Message]:
    """The client's messages exactly as they will be posted, then the review buttons."""
    out = [copy.deepcopy(dict(m)) for m in client_messages]
    note = ContextBlock(elements=[mrkdwn(spans_mrkdwn(messages.draft_note(where)))])
    buttons = ActionsBlock(
        block_id=ACTIONS_ID,
        elements=[
            ButtonElement(
                text=messages.REVIEW_SEND, action_id=SEND, value=review_id, style="primary"
            ),
            ButtonElement(text=messages.REVIEW_SKIP, action_id=SKIP, value=review_id),
        ],
    )
    tail = [note.to_dict(), buttons.to_dict()]
    texts = [i for i, m in enumerate(out) if "file" not in m]  # the chart is a file part
    last = texts[-1] if texts else None
    if last is not None and len(out[last].get("blocks", [])) + len(tail) <= MAX_BLOCKS:
        out[last]["blocks"] = [*out[last].get("blocks", []), *tail]
    else:
        text = spans_mrkdwn(messages.draft_note(where))
        out.insert(0 if last is None else last + 1, {"text": text, "blocks": tail})
    return out


def decided_messages(draft: Sequence[Message], outcome: Sequence[Span]) -> list[Message]:
    """A draft once decided: the same content, its buttons replaced by what happened."""
    text = spans_mrkdwn(*outcome)
    out: list[Message] = []
    marked = False
    for message in draft:
        if "file" in message:
            out.append(dict(message))
            continue
        blocks = [
            b
            for b in message.get("blocks", [])
            if b.get("block_id") != ACTIONS_ID and not _is_draft_note(b)
        ]
        had_buttons = len(blocks) != len(message.get("blocks", []))
        if had_buttons:
            blocks.append(ContextBlock(elements=[mrkdwn(text)]).to_dict())
            marked = True
        out.append({**message, "blocks": blocks})
    if not marked:
        out.append({"text": text, "blocks": [ContextBlock(elements=[mrkdwn(text)]).to_dict()]})
    return out


def _is_draft_note(block: Mapping[str, Any]) -> bool:
    elements = block.get("elements") or []
    return block.get("type") == "context" and any(
        messages.DRAFT_MARK in str(e.get("text", "")) for e in elements if isinstance(e, dict)
    )


def sent_by(user: str, at: dt.datetime) -> list[Span]:
    return [":white_check_mark: Sent to the client by ", Mention(user), f" at {_utc(at)}."]


def skipped_by(user: str, at: dt.datetime) -> list[Span]:
    return [":no_entry_sign: Skipped by ", Mention(user), f" at {_utc(at)}: nothing was sent."]


def superseded(newer: dt.datetime) -> list[Span]:
    return [f":arrows_counterclockwise: Superseded by the draft for {_utc(newer)}: not sent."]


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def headsup_document(view: ClientView, milestone: ClientMilestone) -> Document:
    """The client's view of one change: what moved, why, what it pushes (client-safe)."""
    pushes = _pushes(view, milestone.id)
    rows = []
    if milestone.forecast is not None:
        late = messages.lateness(milestone.days_late, done=False)
        when = f"now expected {milestone.forecast.isoformat()}"
        rows.append(
            f"'{milestone.name}' is {when} instead of {milestone.planned.isoformat()}"
            + (f" ({late})." if late else ".")
        )
    if milestone.missed:
        rows.append(f"It {messages.missed_planned(milestone.planned)}.")
    rows.append(f"Why: {milestone.reason}.")
    for p in pushes:
        when = p.forecast.isoformat() if p.forecast else "-"
        rows.append(f"This moves '{p.name}' to {when} (planned {p.planned.isoformat()}).")
    return Document(
        messages.headsup_title(view.client_name, milestone.name),
        messages.headsup_summary(),
        (Section(messages.SECTION_HEADSUP, lines(rows)),),
    )


def headsup_messages(view: ClientView, milestone: ClientMilestone) -> list[Message]:
    return [m.as_json() for m in document_messages(headsup_document(view, milestone))]


def _pushes(view: ClientView, milestone_id: str) -> list[ClientMilestone]:
    out: list[ClientMilestone] = []
    frontier = [milestone_id]
    while frontier:
        current = frontier.pop(0)
        for m in view.milestones:
            if m.pushed_by == current and m not in out:
                out.append(m)
                frontier.append(m.id)
    return out
