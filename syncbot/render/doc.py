"""Typed documents every renderer shares: a title, a summary and sections of lines.

A `Line` is a sequence of spans: plain text, or a `Ref` to a ticket that the renderer may link
(only internal documents ever hold a `Ref`). A line's milestone status travels as a `Status`
value, so renderers draw their own badge (text "[At risk]", Slack an emoji) without reading
it back out of the text. Text is never escaped here: each renderer escapes for its medium.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from syncbot import messages
from syncbot.domain import Status


@dataclass(frozen=True)
class Ref:
    """A ticket key, linked to `url` where the medium can link."""

    key: str
    url: str | None = None


@dataclass(frozen=True)
class Mention:
    """A Slack user syncbot itself mentions (an id from its configuration or from Slack);
    `name` is what plain text shows instead."""

    user_id: str
    name: str = ""


Span = str | Ref | Mention


@dataclass(frozen=True)
class Line:
    spans: tuple[Span, ...]
    status: Status | None = None

    @classmethod
    def of(cls, *spans: Span | Iterable[Span], status: Status | None = None) -> Line:
        """A line from spans and iterables of spans (e.g. `refs(...)`), adjacent text merged."""
        flat: list[Span] = []
        for part in spans:
            for span in (part,) if isinstance(part, str | Ref | Mention) else part:
                if isinstance(span, str) and flat and isinstance(flat[-1], str):
                    flat[-1] += span
                elif span != "":
                    flat.append(span)
        return cls(tuple(flat), status)

    @property
    def text(self) -> str:
        """The line's words, without its badge."""
        return "".join(_plain(s) for s in self.spans)

    def plain(self) -> str:
        """The line as plain text: "[At risk] ..." when it has a status."""
        if self.status is None:
            return self.text
        return f"[{messages.STATUS_LABEL[self.status.value]}] {self.text}"

    def refs(self) -> tuple[Ref, ...]:
        return tuple(s for s in self.spans if isinstance(s, Ref))


def _plain(span: Span) -> str:
    if isinstance(span, str):
        return span
    if isinstance(span, Ref):
        return span.key
    return span.name or f"@{span.user_id}"


def refs(keys: Iterable[str], links: Mapping[str, str], sep: str = ", ") -> list[Span]:
    """Ticket keys as linkable spans, separated by `sep`."""
    out: list[Span] = []
    for index, key in enumerate(keys):
        if index:
            out.append(sep)
        out.append(Ref(key, links.get(key)))
    return out


def lines(texts: Iterable[str]) -> tuple[Line, ...]:
    return tuple(Line.of(t) for t in texts)


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Document:
    """A titled answer (a slash reply, an alert): what Slack blocks and text render."""

    title: str
    summary: str
    sections: tuple[Section, ...]
    note: str = ""


@dataclass(frozen=True)
class DigestDoc:
    client_id: str
    audience: str
    as_of: dt.date
    since: dt.date
    title: str
    summary: str
    sections: tuple[Section, ...]

    @property
    def document(self) -> Document:
        return Document(self.title, self.summary, self.sections)

    @property
    def links(self) -> dict[str, str]:
        """Ticket key -> URL of every linked key the digest mentions (internal only)."""
        return {
            ref.key: ref.url
            for section in self.sections
            for line in section.lines
            for ref in line.refs()
            if ref.url
        }

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "client": self.client_id,
            "audience": self.audience,
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "title": self.title,
            "summary": self.summary,
            "sections": [
                {"heading": s.heading, "lines": [line.plain() for line in s.lines]}
                for s in self.sections
            ],
        }
        links = self.links
        if links:
            doc["links"] = dict(sorted(links.items()))
        return doc
