"""The client page (SPEC §9): server-rendered HTML of the client view, from Jinja2 templates
(`render/templates/`) with autoescape on.

The page reads only the allow-listed `ClientView` and the client digest made from it (its
date changes), plus sentences from `syncbot.messages`; no JavaScript; one inline stylesheet,
allowed by its hash in the Content-Security-Policy (`CONTENT_SECURITY_POLICY`), so nothing
else can style, script or frame the page. Narrow screens get one card per milestone instead
of a table row. A status is shown as a word and a symbol, never by colour alone.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from syncbot import messages
from syncbot.render.doc import DigestDoc
from syncbot.render.views import ClientView

STATUS_SYMBOL = {
    "done": "✓",
    "on_track": "●",
    "at_risk": "▲",
    "delayed": "■",
    "not_started": "○",
}
TEMPLATES = resources.files("syncbot.render") / "templates"


@dataclass(frozen=True)
class PageChart:
    """The trend chart's place on the page: its URL (relative to the page) and size, or the
    sentence shown instead while there are fewer than two reports."""

    url: str | None
    alt: str
    width: int
    height: int
    note: str | None = None


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def stylesheet() -> str:
    return (TEMPLATES / "page.css").read_text(encoding="utf-8").strip()


@cache
def content_security_policy() -> str:
    """Nothing but the page's own stylesheet (by hash) and images from the same origin."""
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode()).digest()).decode()
    return (
        "default-src 'none'; "
        f"style-src 'sha256-{digest}'; "
        "img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else messages.PAGE_NONE


def client_page(
    view: ClientView,
    doc: DigestDoc,
    *,
    freshness: str,
    chart: PageChart,
    expires: dt.datetime | None,
) -> str:
    """The page of `view`; `doc` is the client digest of the same view (its date changes)."""
    names = {m.id: m for m in view.milestones}
    upcoming = names.get(view.next_milestone or "")
    changes = next(
        (s.lines for s in doc.sections if s.heading == messages.SECTION_DATE_CHANGES), ()
    )
    return (
        _environment()
        .get_template("page.html")
        .render(
            css=Markup(stylesheet()),
            title=messages.page_title(view.client_name),
            as_of=messages.page_as_of(view.as_of),
            summary=doc.summary,
            freshness=freshness,
            current_phase=view.current_phase,
            next_milestone=(
                f"{upcoming.name} ({messages.PAGE_FORECAST_WORD} {_d(upcoming.forecast)})"
                if upcoming
                else None
            ),
            milestones=[
                {
                    "id": m.id,
                    "name": m.name,
                    "phase": m.phase,
                    "acceptance": m.acceptance,
                    "note": m.note,
                    "planned": _d(m.planned),
                    "forecast": _d(m.forecast) if m.actual is None else messages.PAGE_NONE,
                    "actual": _d(m.actual),
                    "status": m.status.value,
                    "symbol": STATUS_SYMBOL.get(m.status.value, ""),
                    "label": messages.STATUS_LABEL[m.status.value],
                    "missed": messages.page_missed(m.planned) if m.missed else "",
                }
                for m in view.milestones
            ],
            needed=[
                f"{d.summary} — {messages.PAGE_OWNER} {d.owner or messages.PAGE_NONE}, "
                f"{messages.PAGE_NEEDED_BY} {_d(d.due)}"
                f"{messages.PAGE_OVERDUE if d.overdue else ''}. {d.impact_statement}"
                for d in view.dependencies
            ],
            changes=[line.text for line in changes] or [messages.NO_DATE_CHANGES_CLIENT],
            chart=chart.url,
            chart_alt=chart.alt,
            chart_height=chart.height,
            chart_note=chart.note,
            expires=messages.page_expires(expires) if expires else "",
            text={
                "now": messages.PAGE_NOW,
                "current_phase": messages.PAGE_CURRENT_PHASE,
                "next": messages.PAGE_NEXT,
                "none": messages.PAGE_NONE,
                "milestones": messages.SECTION_MILESTONES,
                "caption": messages.PAGE_TABLE_CAPTION,
                "columns": messages.PAGE_COLUMNS,
                "acceptance": messages.PAGE_ACCEPTANCE,
                "note": messages.PAGE_NOTE,
                "no_milestones": messages.NO_MILESTONES_CLIENT,
                "needed": messages.SECTION_NEEDED_CLIENT,
                "nothing_needed": messages.NOTHING_NEEDED_CLIENT,
                "changes": messages.SECTION_DATE_CHANGES,
                "trend": messages.PAGE_TREND,
                "trend_caption": messages.TREND_SUBTITLE,
                "footer": messages.PAGE_FOOTER,
            },
        )
    )


def no_data_page(client_name: str) -> str:
    return (
        _environment()
        .get_template("not_found.html")
        .render(
            css=Markup(stylesheet()),
            title=messages.page_title(client_name),
            message=messages.PAGE_NO_DATA,
        )
    )


def not_found_page() -> str:
    """The one answer to an unknown, expired or revoked link."""
    return (
        _environment()
        .get_template("not_found.html")
        .render(
            css=Markup(stylesheet()),
            title=messages.NOT_FOUND_TITLE,
            message=messages.NOT_FOUND_PAGE,
        )
    )


__all__ = [
    "PageChart",
    "client_page",
    "content_security_policy",
    "no_data_page",
    "not_found_page",
]
