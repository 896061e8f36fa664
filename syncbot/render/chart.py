"""The milestone trend analysis chart (SPEC §9) as a PNG, drawn with matplotlib's Agg backend.

Report date across, milestone date up, one line per milestone (its forecast at each report,
its actual date once done), the diagonal where report date = milestone date (a line ends on it
when its milestone is delivered), and each milestone's planned date marked (a hollow diamond
on a dotted line). Each point's status is told twice, by colour and by marker shape, so
the chart reads in greyscale and for colour-blind readers (Okabe-Ito colours).

Every string drawn comes from the `Trend` (built from the audience's `ClientView`) and from
`syncbot.messages`: nothing of a ticket can reach the picture. `drawn_texts` lists the strings
of a drawn chart, for the leak tests.

matplotlib is imported when a chart is drawn, never at import time, so commands without a
chart do not pay for it. Figures are built with the object API (no pyplot state), one at a
time (a lock): the daemon may draw from several threads. Sized to stay legible at Slack's
preview size (about 480 px wide): 8 inches (960 px) wide at 120 dpi, 10-14 pt type.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from syncbot import messages
from syncbot.render.trend import Trend, TrendPoint

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 120
WIDTH_IN = 8.0
LEFT = 0.12  # the plot's left edge (figure fraction): room for the y tick labels
PLOT_WIDTH = 0.76  # and what is right of it holds the line-end labels
TOP_IN = 0.85  # title and subtitle
PLOT_HEIGHT_IN = 3.6
AXIS_IN = 0.625  # x tick labels and axis label under the plot
LEGEND_IN = 0.55  # two rows of legend
KEY_ROW_IN = 0.25  # one row of the milestone key under the legend
BOTTOM_IN = 0.125
NAME_CHARS = 40  # longest milestone name in the key (cut with an ellipsis)
LABEL_GAP_PX = 15  # least vertical distance between two line-end labels

# Status -> (label, colour, marker, marker size). Colour and shape both carry the status.
STATUS_STYLE: dict[str, tuple[str, str, str, float]] = {
    "on_track": (messages.STATUS_LABEL["on_track"], "#009E73", "o", 7.5),
    "at_risk": (messages.STATUS_LABEL["at_risk"], "#E69F00", "^", 8.5),
    "delayed": (messages.STATUS_LABEL["delayed"], "#D55E00", "s", 7.5),
    "done": (messages.STATUS_LABEL["done"], "#0072B2", "*", 11.0),
    "not_started": (messages.STATUS_LABEL["not_started"], "#8C8C8C", "o", 7.0),
}
LINE_COLOUR = "#4D4D4D"
PLANNED_COLOUR = "#222222"
_LOCK = threading.Lock()


def pixel_size(trend: Trend) -> tuple[int, int]:
    """(width, height) of the PNG in pixels."""
    return round(WIDTH_IN * DPI), round(_height(_key_rows(trend)) * DPI)


def file_part(trend: Trend, data: bytes, *, filename: str, title: str) -> dict[str, Any]:
    """The chart as one part of an outbox entry: a Slack file to share after the messages
    (`slack.posting.SlackPoster.upload`). `text` is what a list of parts shows for it."""
    return {
        "text": messages.CHART_FALLBACK,
        "file": {
            "filename": filename,
            "title": title,
            "alt_txt": alt_text(trend),
            "png": base64.b64encode(data).decode("ascii"),
        },
    }


def png(trend: Trend) -> bytes:
    """The chart as PNG bytes (deterministic for the same trend and matplotlib)."""
    with _drawing():
        figure = _figure(trend)
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
        return out.getvalue()


def drawn_texts(trend: Trend) -> list[str]:
    """Every non-empty string of the drawn chart: titles, labels, tick labels, legend, key."""
    from matplotlib.text import Text

    with _drawing():
        figure = _figure(trend)
        figure.canvas.draw()
        found = [t.get_text() for t in figure.findobj(Text)]
        return [text for text in found if isinstance(text, str) and text.strip()]


def alt_text(trend: Trend) -> str:
    reports = trend.reports
    return messages.trend_alt(
        trend.client_name,
        len(reports),
        len(trend.milestones),
        reports[0].isoformat() if reports else "-",
        reports[-1].isoformat() if reports else "-",
    )


@contextmanager
def _drawing() -> Iterator[None]:
    """One figure at a time, mathtext off (a "$" in a name is a dollar sign), and glyphs a
    font lacks drawn as boxes rather than warned about."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(_RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        warnings.filterwarnings("ignore", category=UserWarning, module=r"matplotlib\..*")
        yield


# rcParams keys are typed as literals in matplotlib; this table is checked by matplotlib itself.
_RC: Any = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 11,
    "axes.titlesize": 13,
    "axes.labelsize": 11,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "legend.fontsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",
}


def _figure(trend: Trend) -> Figure:
    """Laid out in inches from the top: title, plot, its x axis, the legend, the key."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _key_rows(trend)
    height = _height(rows)
    figure = Figure(figsize=(WIDTH_IN, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)

    def y(inches_from_top: float) -> float:
        return 1 - inches_from_top / height

    figure.text(
        LEFT,
        y(0.12),
        messages.trend_title(trend.client_name),
        fontsize=14,
        fontweight="bold",
        va="top",
        parse_math=False,
    )
    figure.text(
        LEFT,
        y(0.44),
        messages.TREND_SUBTITLE,
        fontsize=10,
        color="#444444",
        va="top",
        parse_math=False,
    )
    axes = figure.add_axes((LEFT, y(TOP_IN + PLOT_HEIGHT_IN), PLOT_WIDTH, PLOT_HEIGHT_IN / height))
    if not trend.reports:
        axes.set_axis_off()
        axes.text(
            0.5,
            0.5,
            messages.TREND_NO_REPORTS,
            ha="center",
            va="center",
            transform=axes.transAxes,
            parse_math=False,
        )
        return figure
    handles = _plot(axes, trend)
    figure.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(LEFT - 0.01, y(TOP_IN + PLOT_HEIGHT_IN + AXIS_IN)),
        frameon=False,
        ncols=4,
        handletextpad=0.4,
        columnspacing=1.2,
        borderaxespad=0,
    )
    _key(figure, trend, rows, y(TOP_IN + PLOT_HEIGHT_IN + AXIS_IN + LEGEND_IN))
    return figure


def _key_rows(trend: Trend) -> int:
    return (len(trend.milestones) + 1) // 2 if trend.reports else 0


def _height(key_rows: int) -> float:
    return TOP_IN + PLOT_HEIGHT_IN + AXIS_IN + LEGEND_IN + KEY_ROW_IN * key_rows + BOTTOM_IN


def _plot(axes: Any, trend: Trend) -> list[Any]:
    """Draw the lines and markers; the legend's handles."""
    import matplotlib.dates as mdates
    from matplotlib.lines import Line2D

    first, last = trend.reports[0], trend.reports[-1]
    span = max((last - first).days, 6)
    pad = dt.timedelta(days=max(1, round(span * 0.04)))
    x_min, x_max = first - pad, last + pad + dt.timedelta(days=max(2, round(span * 0.08)))
    dates = [p.date for m in trend.milestones for p in m.series if p.date]
    dates += [m.planned for m in trend.milestones if m.series]
    y_low = min([*dates, first])
    y_high = max([*dates, first])
    y_pad = dt.timedelta(days=max(2, round((y_high - y_low).days * 0.05)))
    y_min, y_max = y_low - y_pad, y_high + y_pad

    axes.plot(
        [x_min, x_max], [x_min, x_max], color="#9A9A9A", linewidth=1.2, linestyle="--", zorder=1
    )
    ends: list[tuple[dt.date, dt.date, str]] = []
    for m in trend.milestones:
        points = _charted(m.series)
        if not points:
            continue
        start = points[0].report
        axes.plot(
            [start, points[-1].report],
            [m.planned, m.planned],
            color=PLANNED_COLOUR,
            alpha=0.28,
            linewidth=0.9,
            linestyle=":",
            zorder=1,
        )
        axes.plot(
            [start],
            [m.planned],
            marker="D",
            markersize=6.5,
            markerfacecolor="white",
            markeredgecolor=PLANNED_COLOUR,
            markeredgewidth=1.3,
            linestyle="none",
            zorder=3,
        )
        axes.plot(
            [p.report for p in points],
            [p.date for p in points],
            color=LINE_COLOUR,
            linewidth=1.6,
            zorder=2,
        )
        for status, (_, colour, marker, size) in STATUS_STYLE.items():
            mine = [p for p in points if p.status == status]
            if not mine:
                continue
            hollow = status == "not_started"
            axes.plot(
                [p.report for p in mine],
                [p.date for p in mine],
                linestyle="none",
                marker=marker,
                markersize=size,
                markerfacecolor="white" if hollow else colour,
                markeredgecolor=colour if hollow else "#1A1A1A",
                markeredgewidth=1.4 if hollow else 0.6,
                zorder=4,
            )
        end = points[-1]
        assert end.date is not None
        ends.append((end.report, end.date, m.id))

    axes.set_xlim(x_min, x_max)
    axes.set_ylim(y_min, y_max)
    for axis in (axes.xaxis, axes.yaxis):  # matplotlib.dates is untyped: ignores below
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7)  # type: ignore[no-untyped-call]
        axis.set_major_locator(locator)
        formatter = mdates.DateFormatter("%b %d")  # type: ignore[no-untyped-call]
        axis.set_major_formatter(formatter)
    axes.grid(True, color="#E6E6E6", linewidth=0.8, zorder=0)
    axes.set_xlabel(messages.TREND_X_LABEL)
    axes.set_ylabel(messages.TREND_Y_LABEL)
    _end_labels(axes, ends)

    handles = [
        Line2D(
            [],
            [],
            linestyle="none",
            marker=marker,
            markersize=size * 0.9,
            markerfacecolor="white" if status == "not_started" else colour,
            markeredgecolor=colour if status == "not_started" else "#1A1A1A",
            markeredgewidth=1.2 if status == "not_started" else 0.6,
            label=label,
        )
        for status, (label, colour, marker, size) in STATUS_STYLE.items()
        if any(p.status == status for m in trend.milestones for p in m.series)
    ]
    handles.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="D",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor=PLANNED_COLOUR,
            label=messages.TREND_PLANNED,
        )
    )
    handles.append(Line2D([], [], color="#9A9A9A", linestyle="--", label=messages.TREND_DIAGONAL))
    return handles


def _charted(series: tuple[TrendPoint, ...]) -> list[TrendPoint]:
    """The points a line is drawn through: dated ones, up to the first report that found
    the milestone done (its line ends there, on or under the diagonal)."""
    out = []
    for point in series:
        if point.date is None:
            continue
        out.append(point)
        if point.status == "done":
            break
    return out


def _end_labels(axes: Any, ends: list[tuple[dt.date, dt.date, str]]) -> None:
    """Each line's milestone id just right of its last point, nudged apart vertically so
    that lines ending on the same date stay readable."""
    import matplotlib.dates as mdates

    if not ends:
        return
    to_px = axes.transData
    placed: list[tuple[float, float, str]] = []
    to_num: Any = mdates.date2num  # untyped in matplotlib
    for report, date, label in ends:
        x, y = to_px.transform((to_num(report), to_num(date)))
        placed.append((x, y, label))
    placed.sort(key=lambda item: item[1])
    ys: list[float] = []
    for _, y, _ in placed:
        ys.append(max(y, ys[-1] + LABEL_GAP_PX) if ys else y)
    back = to_px.inverted()
    for (x, _, label), y in zip(placed, ys, strict=True):
        data_x, data_y = back.transform((x + 9, y))
        axes.text(
            data_x,
            data_y,
            label,
            fontsize=10,
            fontweight="bold",
            color="#1A1A1A",
            va="center",
            ha="left",
            parse_math=False,
            clip_on=False,
            zorder=5,
        )


def _key(figure: Figure, trend: Trend, rows: int, top: float) -> None:
    """Milestone id -> name, two columns under the legend (`top`: figure fraction)."""
    row_height = KEY_ROW_IN / _height(rows)
    for index, m in enumerate(trend.milestones):
        column, row = divmod(index, rows) if rows else (0, 0)
        name = m.name if len(m.name) <= NAME_CHARS else m.name[: NAME_CHARS - 1] + "…"
        y = top - row_height * (row + 0.5)
        x = 0.03 + 0.49 * column
        figure.text(x, y, m.id, fontsize=10, fontweight="bold", va="center", parse_math=False)
        figure.text(x + 0.05, y, name, fontsize=10, va="center", parse_math=False)
