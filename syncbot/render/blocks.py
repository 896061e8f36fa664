"""Slack Block Kit rendering of digests with slack_sdk's block models, within Slack's limits.

Limits (docs.slack.dev, mirrored in slack_sdk): 50 blocks per message, 3000 characters of
section text, 150 of header text. Long digests are split into several messages, never
truncated away; a single over-long line is cut with an ellipsis as the last resort.
"""

from __future__ import annotations

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

from syncbot.render.digest import DigestDoc

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150


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
    blocks: list[Block] = [
        HeaderBlock(text=_cut(doc.title, MAX_HEADER_TEXT)),
        ContextBlock(elements=[MarkdownTextObject(text=escape(doc.summary))]),
    ]
    for section in doc.sections:
        blocks.append(DividerBlock())
        for chunk in _chunks(
            [f"*{escape(section.heading)}*"] + [f"• {escape(line)}" for line in section.lines]
        ):
            blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    messages = []
    for start in range(0, len(blocks), MAX_BLOCKS):
        part = blocks[start : start + MAX_BLOCKS]
        suffix = "" if start == 0 else f" (continued, part {start // MAX_BLOCKS + 1})"
        messages.append(SlackMessage(text=doc.title + suffix, blocks=part))
    for message in messages:
        for block in message.blocks:
            block.validate_json()
    return messages


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
