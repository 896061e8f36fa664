"""Flatten Atlassian Document Format (Jira Cloud v3 descriptions) to plain text."""

from __future__ import annotations

from typing import Any

_BLOCKS = {"paragraph", "heading", "listItem", "blockquote", "codeBlock", "tableRow", "rule"}


def adf_to_text(node: Any) -> str:
    """Plain text of an ADF document, or of a v2 string description as-is."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node
    parts: list[str] = []
    _walk(node, parts)
    return "\n".join(line.strip() for line in "".join(parts).splitlines() if line.strip())


def _walk(node: Any, out: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, out)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind in ("mention", "emoji", "status"):
        attrs = _attrs(node)
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
    elif kind == "inlineCard":
        out.append(str(_attrs(node).get("url", "")))
    _walk(node.get("content", []), out)
    if kind in _BLOCKS:
        out.append("\n")


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}
