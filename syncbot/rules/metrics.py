"""Milestone metrics (SPEC §11): a reading judged against the configured target.

The target is the configuration's, read now: a reading taken for another target keeps its
value (met is worked out again) but not its "first met" time, which then falls back to the
date of the run whose value counts. A reading of another experiment or metric name is no
reading at all (the configuration changed since it was taken).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from syncbot.config import Metric
from syncbot.domain import MetricReading, MetricState
from syncbot.rules.dates import local_date


def metric_state(metric: Metric, reading: MetricReading | None, tz: ZoneInfo) -> MetricState:
    """The metric of a milestone from its last known reading (None: never read)."""
    if reading is not None and (reading.experiment, reading.name) != (
        metric.experiment,
        metric.name,
    ):
        reading = None
    value = reading.value if reading is not None else None
    met = value is not None and metric.meets(value)
    at = local_date(reading.run_at, tz) if reading is not None and reading.run_at else None
    met_on = None
    if met and reading is not None:
        same_target = (reading.target, reading.higher_is_better) == (
            metric.target,
            metric.higher_is_better,
        )
        met_on = local_date(reading.met_at, tz) if same_target and reading.met_at else at
    return MetricState(
        name=metric.name,
        label=metric.shown,
        target=metric.target,
        higher_is_better=metric.higher_is_better,
        value=value,
        met=met,
        at=at,
        met_on=met_on,
        run=reading.run_id if reading is not None and value is not None else None,
        experiment=metric.experiment,
    )
