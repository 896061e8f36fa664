"""Slack Block Kit rendering of documents with slack_sdk's block models, within Slack's limits.

Limits (../shared/slack/BLOCK_KIT_LIMITS.md; docs.slack.dev, mirrored in slack_sdk's
validators): 50 blocks per message, 3000 characters of section text, 150 of header text,
10 context elements. Slack also rejects messages whose blocks add up to roughly 13k characters
(`msg_blocks_too_long`, below the documented per-block limits), so a message carries at most
MAX_MESSAGE_CHARS of block text. Long documents are split into several messages, never
truncated away; a single over-long line is cut with an ellipsis as the last resort.

Escaping (SPEC §7): every mrkdwn string, block text and the top-level `text` fallback alike,
has `&`, `<` and `>` escaped; syncbot's own links (`<url|KEY>`, from a line's `Ref` spans) are
added after escaping, and a cut for length is made on whole escapes and whole links, never
inside one. Every mrkdwn object is `verbatim`, so Slack does not turn a plain "@channel" or
"#general" written in a tracker into a mention: only syncbot makes mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from syncbot import messages
from syncbot.render.doc import DigestDoc, Document, Line, Mention, Ref, Section, Span

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_TEXT = 2000
MAX_MESSAGE_CHARS = 12000
ELLIPSIS = "…"
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")  # what Slack user ids look like


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification / accessibility fallback, escaped mrkdwn
    blocks: list[Block]

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


def escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def spans_mrkdwn(*spans: Span, limit: int = MAX_SECTION_TEXT) -> str:
    """Spans as one escaped, linked mrkdwn string (a slash reply, a message fallback)."""
    return _fit(spans, limit)


def mrkdwn(text: str) -> MarkdownTextObject:
    """A verbatim mrkdwn object: Slack parses no mentions or channel names in it."""
    return MarkdownTextObject(text=text, verbatim=True)


def fitted(text: str, limit: int) -> str:
    """`text` escaped, cut (with an ellipsis) so that the escaped result fits `limit`."""
    return _fit([text], limit)


def digest_messages(doc: DigestDoc) -> list[SlackMessage]:
    """A digest as one or more Slack messages (split to Slack's limits)."""
    return document_messages(doc.document)


def document_messages(doc: Document) -> list[SlackMessage]:
    """Header, summary (context), then one divider plus section blocks per section."""
    blocks: list[Block] = [HeaderBlock(text=_cut(doc.title, MAX_HEADER_TEXT))]
    context = [t for t in (doc.summary, doc.note) if t]
    if context:
        blocks.append(ContextBlock(elements=[mrkdwn(fitted(t, MAX_CONTEXT_TEXT)) for t in context]))
    for section in doc.sections:
        blocks.append(DividerBlock())
        blocks += section_blocks(section)
    return _split(doc.title, blocks)


def section_blocks(section: Section) -> list[Block]:
    rows = [f"*{fitted(section.heading, 200)}*"]
    rows += [line_mrkdwn(line, MAX_SECTION_TEXT) for line in section.lines]
    return [SectionBlock(text=mrkdwn(chunk)) for chunk in _chunks(rows)]


def line_mrkdwn(line: Line, limit: int, *, bullet: str = "• ") -> str:
    """One line as mrkdwn: bullet, status badge, escaped text and linked keys."""
    badge = ""
    if line.status is not None:
        status = line.status.value
        badge = f"{messages.STATUS_EMOJI[status]} *{messages.STATUS_LABEL[status]}* "
    lead = bullet + badge
    return lead + _fit(line.spans, limit - len(lead))


def _fit(spans: Iterable[Span], limit: int) -> str:
    """Render spans (escaping text, linking refs), cut on span and escape boundaries."""
    pieces: list[str] = []
    size = 0
    for span in spans:
        piece = _render(span)
        if size + len(piece) <= limit:
            pieces.append(piece)
            size += len(piece)
            continue
        if size + len(ELLIPSIS) > limit:  # no room left for the ellipsis: end earlier,
            while pieces and size + len(ELLIPSIS) > limit:  # on whole pieces (never half
                size -= len(pieces.pop())  # a link or an escape)
            pieces.append(ELLIPSIS if size + len(ELLIPSIS) <= limit else "")
            break
        room = limit - size - len(ELLIPSIS)
        text = span if isinstance(span, str) else span.key if isinstance(span, Ref) else ""
        pieces.append(_escaped_prefix(text, room) + ELLIPSIS)
        break
    return "".join(pieces)


def _render(span: Span) -> str:
    if isinstance(span, str):
        return escape(span)
    if isinstance(span, Mention):
        return f"<@{span.user_id}>" if USER_ID.fullmatch(span.user_id) else ""
    if span.url:
        return f"<{_url(span.url)}|{escape(span.key)}>"
    return escape(span.key)


def _escaped_prefix(text: str, room: int) -> str:
    """The longest prefix of `text` whose escaped form fits in `room` characters."""
    out = ""
    for char in text:
        piece = escape(char)
        if len(out) + len(piece) > room:
            break
        out += piece
    return out


def _url(url: str) -> str:
    return escape(url).replace("|", "%7C")


def _split(title: str, blocks: list[Block]) -> list[SlackMessage]:
    groups: list[list[Block]] = []
    size = 0
    for block in blocks:
        weight = _chars(block)
        # Every message after the first starts with a "(part i of n)" context block: room for it.
        reserve = (1, len(title) + 40) if len(groups) > 1 else (0, 0)
        if (
            not groups
            or len(groups[-1]) >= MAX_BLOCKS - reserve[0]
            or size + weight > MAX_MESSAGE_CHARS - reserve[1]
        ):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += weight
    out = []
    for index, group in enumerate(groups, start=1):
        text = title if len(groups) == 1 else f"{title} {messages.continued(index, len(groups))}"
        if index > 1:
            group.insert(0, ContextBlock(elements=[mrkdwn(fitted(text, MAX_CONTEXT_TEXT))]))
        for block in group:
            block.validate_json()
        out.append(SlackMessage(text=fitted(text, MAX_CONTEXT_TEXT), blocks=group))
    return out


def _chars(block: Block) -> int:
    """Characters of text a block carries (what Slack's undocumented total limit counts)."""
    return sum(len(text) for text in _texts(block.to_dict()))


def _texts(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def _chunks(rows: Sequence[str]) -> list[str]:
    """Pack rendered rows (each already within MAX_SECTION_TEXT) into section texts."""
    out: list[str] = []
    current = ""
    for row in rows:
        candidate = f"{current}\n{row}" if current else row
        if len(candidate) > MAX_SECTION_TEXT:
            out.append(current)
            current = row
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _cut(text: str, limit: int) -> str:
    """Plain text (header blocks are plain_text: nothing to escape) cut to `limit`."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def line_message(line: Line) -> dict[str, Any]:
    """A one-section message (an alert): the same escaped mrkdwn as block and fallback text."""
    text = line_mrkdwn(line, MAX_SECTION_TEXT, bullet="")
    return {"text": text, "blocks": [SectionBlock(text=mrkdwn(text)).to_dict()]}
