"""Flatten Atlassian Document Format (Jira Cloud v3 descriptions) to plain text."""

from __future__ import annotations

from typing import Any

_BLOCKS = {"paragraph", "heading", "listItem", "blockquote", "codeBlock", "tableRow", "rule"}


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF document, or of a v2 string description as-is.

    The walk keeps its own stack rather than recursing, so a document nested thousands of
    levels deep (tracker text is untrusted) is read like any other.
    """
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    parts: list[str] = []
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if item is _END_OF_BLOCK:
            parts.append("\n")
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            parts.append(_own_text(item))
            if item.get("type") in _BLOCKS:
                stack.append(_END_OF_BLOCK)  # popped after the content below
            stack.append(item.get("content", []))
    return "\n".join(line.strip() for line in "".join(parts).splitlines() if line.strip())


_END_OF_BLOCK = object()


def _own_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status"):
        attrs = _attrs(node)
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind == "inlineCard":
        return str(_attrs(node).get("url", ""))
    return ""


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}
