"""JSON encoding of domain objects for the store (tickets and state snapshots)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from syncbot.domain import Progress, StatusChange, Ticket

_DATETIMES = ("created", "updated", "completed")
_TUPLES = ("labels", "fix_versions", "components", "blocked_by", "blocks")


def ticket_to_json(ticket: Ticket) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in Ticket.__dataclass_fields__:
        value = getattr(ticket, name)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif name == "history":
            value = [[c.at.isoformat(), c.from_status, c.to_status] for c in value]
        elif isinstance(value, tuple):
            value = list(value)
        data[name] = value
    return data


def ticket_from_json(data: dict[str, Any]) -> Ticket:
    values = dict(data)
    for name in _DATETIMES:
        if values.get(name):
            values[name] = dt.datetime.fromisoformat(values[name])
    if values.get("due"):
        values["due"] = dt.date.fromisoformat(values["due"])
    for name in _TUPLES:
        values[name] = tuple(values.get(name) or ())
    values["progress"] = Progress(values["progress"])
    values["history"] = tuple(
        StatusChange(dt.datetime.fromisoformat(at), frm, to) for at, frm, to in values["history"]
    )
    known = Ticket.__dataclass_fields__
    return Ticket(**{k: v for k, v in values.items() if k in known})
