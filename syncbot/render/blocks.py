"""Slack Block Kit rendering of digests and replies with slack_sdk's block models, within limits.

Limits (../shared/slack/BLOCK_KIT_LIMITS.md; docs.slack.dev, mirrored in slack_sdk's
validators): 50 blocks per message, 3000 characters of section text, 150 of header text,
10 context elements. Slack also rejects messages whose blocks add up to roughly 13k characters
(`msg_blocks_too_long`, below the documented per-block limits), so a message carries at most
MAX_MESSAGE_CHARS of block text. Long documents are split into several messages, never
truncated away; a single over-long line is cut with an ellipsis as the last resort.

Ticket keys are linked (`<url|KEY>`) only when the document carries links, which only the
internal digest does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from syncbot.render.digest import DigestDoc, Section

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_MESSAGE_CHARS = 12000
_BADGES = {f"[{label}]": (status, label) for status, label in messages.STATUS_LABEL.items()}


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification / accessibility fallback
    blocks: list[Block]

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


def escape(text: str) -> str:
    """Slack mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def digest_messages(doc: DigestDoc) -> list[SlackMessage]:
    """A digest as one or more Slack messages (split to Slack's limits)."""
    return document_messages(doc.title, doc.summary, doc.sections, links=dict(doc.links))


def document_messages(
    title: str,
    summary: str,
    sections: Sequence[Section],
    *,
    links: Mapping[str, str] | None = None,
    note: str = "",
) -> list[SlackMessage]:
    """Header, summary (context), then one divider plus section blocks per section."""
    linker = _linker(links or {})
    blocks: list[Block] = [HeaderBlock(text=_cut(title, MAX_HEADER_TEXT))]
    context = [t for t in (summary, note) if t]
    if context:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=_cut(escape(t), 2000)) for t in context])
        )
    for section in sections:
        blocks.append(DividerBlock())
        lines = [f"*{escape(section.heading)}*"]
        lines += [f"• {linker(_badge(escape(line)))}" for line in section.lines]
        for chunk in _chunks(lines):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    return _split(title, blocks)


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
            group.insert(
                0, ContextBlock(elements=[MarkdownTextObject(text=escape(_cut(text, 2000)))])
            )
        for block in group:
            block.validate_json()
        out.append(SlackMessage(text=text, blocks=group))
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


def _badge(line: str) -> str:
    """`[At risk] ...` -> `:large_yellow_circle: *At risk* ...` (the text stays readable)."""
    for badge, (status, label) in _BADGES.items():
        if line.startswith(badge):
            return f"{messages.STATUS_EMOJI[status]} *{label}*{line[len(badge) :]}"
    return line


def _linker(links: Mapping[str, str]) -> Callable[[str], str]:
    if not links:
        return str
    keys = sorted(links, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w-])")

    def link(text: str) -> str:
        return pattern.sub(lambda m: f"<{_url(links[m.group(1)])}|{m.group(1)}>", text)

    return link


def _url(url: str) -> str:
    return escape(url).replace("|", "%7C")


def _chunks(lines: list[str]) -> list[str]:
    """Pack lines into texts of at most MAX_SECTION_TEXT characters."""
    out: list[str] = []
    current = ""
    for line in lines:
        line = _cut(line, MAX_SECTION_TEXT)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > MAX_SECTION_TEXT:
            out.append(current)
            current = line
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
