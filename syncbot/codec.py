"""JSON encoding of tickets for the store, by pydantic's TypeAdapter over the domain class."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from syncbot.domain import Ticket

_TICKET = TypeAdapter(Ticket)


def ticket_to_json(ticket: Ticket) -> dict[str, Any]:
    data: dict[str, Any] = _TICKET.dump_python(ticket, mode="json")
    return data


def ticket_from_json(data: dict[str, Any]) -> Ticket:
    history = data.get("history")
    if history and isinstance(history[0], list):  # stored by syncbot 0.1: [at, from, to]
        data = {
            **data,
            "history": [{"at": a, "from_status": f, "to_status": t} for a, f, t in history],
        }
    return _TICKET.validate_python(data)
