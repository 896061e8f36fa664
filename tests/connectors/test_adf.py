"""Atlassian Document Format (Jira Cloud v3 descriptions) -> plain text: `adf_to_text`."""

from __future__ import annotations

from typing import Any

import pytest

from syncbot.connectors.adf import adf_to_text


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def para(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def text(value: str, *marks: str) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = [{"type": mark} for mark in marks]
    return node


def item(value: str) -> dict[str, Any]:
    return {"type": "listItem", "content": [para(text(value))]}


def test_an_absent_description_is_empty() -> None:
    assert adf_to_text(None) == ""


def test_a_data_center_string_description_is_kept_as_is() -> None:
    assert adf_to_text("Plain *wiki* text\nline two") == "Plain *wiki* text\nline two"


def test_paragraphs_become_lines_and_marks_are_dropped() -> None:
    value = doc(
        para(text("Service account for the "), text("scoring API", "strong"), text(".")),
        para(text("Owner: "), text("client IT", "em", "underline")),
    )

    assert adf_to_text(value) == "Service account for the scoring API.\nOwner: client IT"


def test_a_hard_break_starts_a_new_line() -> None:
    value = doc(para(text("first"), {"type": "hardBreak"}, text("second")))

    assert adf_to_text(value) == "first\nsecond"


def test_headings_list_items_and_code_blocks_each_get_their_own_lines() -> None:
    value = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Access needed")]},
        {"type": "bulletList", "content": [item("VPN"), item("API key")]},
        {"type": "orderedList", "attrs": {"order": 1}, "content": [item("Request"), item("Test")]},
        {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [text("select 1")]},
    )

    assert adf_to_text(value).splitlines() == [
        "Access needed",
        "VPN",
        "API key",
        "Request",
        "Test",
        "select 1",
    ]


def test_inline_nodes_keep_their_visible_text() -> None:
    value = doc(
        para(
            text("Ask "),
            {
                "type": "mention",
                "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5", "text": "@Dana Client"},
            },
            text(" "),
            {"type": "emoji", "attrs": {"shortName": ":warning:", "id": "26a0"}},
            text(" see "),
            {"type": "inlineCard", "attrs": {"url": "https://acme.example/runbook"}},
            text(" "),
            {"type": "status", "attrs": {"text": "IN REVIEW", "color": "blue"}},
        )
    )

    assert adf_to_text(value) == (
        "Ask @Dana Client :warning: see https://acme.example/runbook IN REVIEW"
    )


def test_tables_panels_and_quotes_keep_their_text_one_block_per_line() -> None:
    cell = {"type": "tableCell", "content": [para(text("b"))]}
    header = {"type": "tableHeader", "content": [para(text("a"))]}
    value = doc(
        {"type": "table", "content": [{"type": "tableRow", "content": [header, cell]}]},
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [para(text("Note"))]},
        {"type": "blockquote", "content": [para(text("Quoted"))]},
    )

    assert adf_to_text(value).splitlines() == ["a", "b", "Note", "Quoted"]


def test_blank_lines_and_surrounding_spaces_are_dropped() -> None:
    value = doc(para(), para(text("  padded  ")), {"type": "rule"}, para(text("   ")))

    assert adf_to_text(value) == "padded"


@pytest.mark.parametrize(
    "value",
    [
        doc({"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "x"}}]}),
        {"type": "doc", "version": 1},
        {"type": "doc", "content": [None, 5, "stray"]},
    ],
    ids=["media-only", "no-content", "junk-children"],
)
def test_documents_without_text_flatten_to_nothing(value: dict[str, Any]) -> None:
    assert adf_to_text(value) == ""


def test_a_document_nested_thousands_deep_is_read_without_recursion() -> None:
    """Tracker text is untrusted: a walk that recursed would raise RecursionError here."""
    node: Any = {"type": "text", "text": "still here"}
    for _ in range(20_000):
        node = {"type": "paragraph", "content": [node]}

    assert adf_to_text({"type": "doc", "content": [node]}) == "still here"
