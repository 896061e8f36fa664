"""The trend chart and the client page as renderers: odd text, a large client, escaping."""

from __future__ import annotations

import datetime as dt
import struct
import time

from syncbot.domain import Status
from syncbot.render import chart
from syncbot.render.digest import client_digest
from syncbot.render.page import PageChart, client_page
from syncbot.render.trend import Trend, TrendMilestone, TrendPoint, trend_document
from syncbot.render.views import ClientMilestone, ClientView

START = dt.date(2026, 1, 5)
ODD = ("Save $5 $ per claim", "<b>bold</b> & co", "数据管道上线", "x" * 300)


def big_trend(milestones: int = 10, reports: int = 26) -> Trend:
    days = tuple(START + dt.timedelta(weeks=w) for w in range(reports))
    statuses = ("on_track", "at_risk", "delayed", "not_started")
    out = []
    for i in range(milestones):
        planned = START + dt.timedelta(weeks=4 + 2 * i)
        series = tuple(
            TrendPoint(
                day,
                planned + dt.timedelta(days=w * (i % 3)),
                "done" if day > planned + dt.timedelta(weeks=6) else statuses[(i + w) % 4],
            )
            for w, day in enumerate(days)
        )
        name = ODD[i] if i < len(ODD) else f"Milestone number {i}"
        out.append(TrendMilestone(f"{i + 1}.0", name, planned, series))
    return Trend("acme", "Acme & <Sons>", "client", days, tuple(out))


def test_a_ten_milestone_26_report_chart_is_drawn_quickly_and_as_sized() -> None:
    value = big_trend()
    chart.png(value)  # the first draw pays for importing matplotlib
    started = time.perf_counter()
    data = chart.png(value)
    seconds = time.perf_counter() - started
    assert seconds < 5  # `make bench` measures the real figure (well under 1 s)
    assert struct.unpack(">II", data[16:24]) == chart.pixel_size(value)
    assert chart.png(value) == data  # deterministic


def test_odd_names_are_drawn_as_written() -> None:
    drawn = chart.drawn_texts(big_trend())
    assert "Save $5 $ per claim" in drawn  # no mathtext
    assert "<b>bold</b> & co" in drawn
    assert "数据管道上线" in drawn  # a glyph the font lacks is a box, never an error
    assert any(text.startswith("x" * 30) and text.endswith("…") for text in drawn)
    assert "Milestone trend — Acme & <Sons>" in drawn


def test_status_is_told_by_marker_shape_as_well_as_colour() -> None:
    markers = [style[2] for style in chart.STATUS_STYLE.values()]
    colours = [style[1] for style in chart.STATUS_STYLE.values()]
    # not_started shares the circle with on_track but is hollow and grey.
    assert len(set(markers)) == len(markers) - 1 and len(set(colours)) == len(colours)
    drawn = chart.drawn_texts(big_trend())
    assert {"On track", "At risk", "Delayed", "Done", "Not started"} <= set(drawn)


def test_no_reports_is_a_chart_saying_so() -> None:
    empty = Trend("acme", "Acme", "client", (), ())
    assert not empty.charted and trend_document(empty)["reports"] == []
    assert any("No reports yet" in text for text in chart.drawn_texts(empty))


def test_the_page_escapes_what_it_shows() -> None:
    milestone = ClientMilestone(
        id="1.1",
        name="<script>alert(1)</script>",
        phase="Build & <Run>",
        planned=dt.date(2026, 3, 6),
        forecast=dt.date(2026, 3, 9),
        actual=None,
        status=Status.AT_RISK,
        owner="",
        tickets_total=2,
        tickets_done=1,
        started=True,
        blocked_by=(),
        waiting_on=(),
        acceptance='"quoted" <img src=x onerror=alert(1)>',
        note="<a href='javascript:x'>note</a>",
        missed=True,
    )
    view = ClientView(
        "acme", "Acme <Corp>", dt.date(2026, 3, 10), None, False, (milestone,), (), ()
    )
    doc = client_digest(view, dt.date(2026, 3, 3))
    html = client_page(
        view,
        doc,
        freshness="",
        chart=PageChart(url=None, alt="", width=960, height=720, note="one report"),
        expires=None,
    )
    assert "<script>" not in html and "<img src=x" not in html and "<a href=" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Acme &lt;Corp&gt;" in html and "▲ At risk" in html
    assert "missed its planned date 2026-03-06" in html
