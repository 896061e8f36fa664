"""The milestone trend analysis (MTA, SPEC §9) as a document: reports and, per milestone, the
date it was expected (or delivered) on at each report.

`trend` combines the recorded history (one state per milestone and as-of day) with a
`ClientView`: milestone ids, names and planned dates come from the view, the allow-listed
picture of the client an audience may see, never from tickets. `trend_document` is the JSON
of `syncbot trend --format json`, field for field; `render.chart` draws the same object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from syncbot.render.views import Audience, ClientView

# What the history says of one milestone on one report day: (forecast or actual, status).
Recorded = Mapping[dt.date, Mapping[str, tuple[dt.date | None, str]]]


@dataclass(frozen=True)
class TrendPoint:
    report: dt.date
    date: dt.date | None  # the forecast, or the actual date once done
    status: str  # a `Status` value


@dataclass(frozen=True)
class TrendMilestone:
    id: str
    name: str
    planned: dt.date
    series: tuple[TrendPoint, ...]


@dataclass(frozen=True)
class Trend:
    client_id: str
    client_name: str
    audience: Audience
    reports: tuple[dt.date, ...]
    milestones: tuple[TrendMilestone, ...]

    @property
    def charted(self) -> bool:
        """Whether a chart says anything: at least two reports (SPEC §9)."""
        return len(self.reports) >= 2


def trend(view: ClientView, recorded: Recorded, audience: Audience) -> Trend:
    """The trend of the view's milestones over the recorded reports, oldest first. A
    milestone has a point on each report day on which it was recorded (existed)."""
    reports = tuple(sorted(recorded))
    milestones = tuple(
        TrendMilestone(
            id=m.id,
            name=m.name,
            planned=m.planned,
            series=tuple(
                TrendPoint(day, *recorded[day][m.id]) for day in reports if m.id in recorded[day]
            ),
        )
        for m in view.milestones
    )
    return Trend(view.client_id, view.client_name, audience, reports, milestones)


def trend_document(value: Trend) -> dict[str, Any]:
    """`syncbot trend --format json` (SPEC §9)."""
    return {
        "client": value.client_id,
        "reports": [day.isoformat() for day in value.reports],
        "milestones": [
            {
                "id": m.id,
                "name": m.name,
                "planned": m.planned.isoformat(),
                "series": [
                    {
                        "report": p.report.isoformat(),
                        "date": p.date.isoformat() if p.date else None,
                        "status": p.status,
                    }
                    for p in m.series
                ],
            }
            for m in value.milestones
        ],
    }
