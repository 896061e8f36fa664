"""Earned value by milestone weight (SPEC §4): PV, EV and SPI = EV / PV."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from syncbot.domain import MilestoneState, Status


@dataclass(frozen=True)
class EarnedValue:
    planned_value: float
    earned_value: float
    spi: float | None  # None while nothing was planned yet (PV = 0)


def earned_value(milestones: Sequence[MilestoneState], as_of: dt.date) -> EarnedValue:
    total = sum(m.weight for m in milestones)
    if total <= 0:
        return EarnedValue(0.0, 0.0, None)
    pv = sum(m.weight for m in milestones if m.planned <= as_of) / total
    ev = sum(m.weight for m in milestones if m.status is Status.DONE) / total
    return EarnedValue(pv, ev, ev / pv if pv > 0 else None)
