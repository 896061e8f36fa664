"""Date changes name what really sets the new date, and never blame the client wrongly."""

from __future__ import annotations

import datetime as dt

from syncbot.config import Client
from syncbot.domain import Progress, Ticket
from syncbot.render.digest import DigestDoc, client_digest, internal_digest
from syncbot.render.views import client_view
from syncbot.rules.state import compute_state

AS_OF = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)
CLIENT = Client.model_validate(
    {
        "id": "acme",
        "name": "Acme",
        "internal_channel": "CI",
        "client_channel": "CC",
        "sources": [{"kind": "jira", "project": "ACME"}],
        "milestones": [
            {
                "id": "3.1",
                "name": "Model trained",
                "phase": "Build",
                "planned": "2026-03-20",
                "match": {"epic": "ACME-1"},
            }
        ],
    }
)


def ticket(key: str, due: str | None, **kw: object) -> Ticket:
    values: dict[str, object] = {
        "key": key,
        "tracker": "jira",
        "title": f"title of {key}",
        "status": "In Progress",
        "progress": Progress.IN_PROGRESS,
        "created": NOW - dt.timedelta(days=60),
        "updated": NOW,
        "due": dt.date.fromisoformat(due) if due else None,
        "parent": "ACME-1",
    }
    values.update(kw)
    return Ticket(**values)  # type: ignore[arg-type]


def dependency(due: str) -> Ticket:
    return ticket(
        "ACME-9",
        due,
        parent=None,
        labels=("client-dependency",),
        title="IT opens the firewall",
        blocks=("ACME-2",),
    )


def changes(doc: DigestDoc) -> str:
    [section] = [s for s in doc.sections if s.heading == "Date changes"]
    return "\n".join(line.plain() for line in section.lines)


def digests(tickets: list[Ticket]) -> tuple[str, str]:
    state = compute_state(CLIENT, tickets, as_of=AS_OF)
    since = AS_OF - dt.timedelta(days=7)
    internal = internal_digest(state, since, NOW)
    client = client_digest(client_view(state, lambda key: f"dep-{key[-1]}"), since)
    return changes(internal), changes(client)


def test_a_slip_set_by_work_is_not_blamed_on_the_client() -> None:
    # The dependency alone would allow 03-25; the work itself is due 04-01.
    internal, client = digests([ticket("ACME-2", "2026-04-01"), dependency("2026-03-24")])
    assert "ACME-2 due 2026-04-01" in internal and "ACME-9" not in internal
    assert "IT opens the firewall" not in client
    assert "remaining work is taking longer than planned" in client


def test_a_slip_set_by_the_client_dependency_says_so() -> None:
    # Work due 03-12 (on time); the dependency due 03-30 holds the milestone to 03-31.
    internal, client = digests([ticket("ACME-2", "2026-03-12"), dependency("2026-03-30")])
    assert "now expected 2026-03-31 instead of 2026-03-20" in internal
    assert "waiting on client dependency ACME-9" in internal
    assert "waiting on 'IT opens the firewall'" in client


def test_an_overdue_dependency_does_not_invent_a_slip() -> None:
    # Overdue: it pushes the forecast only to as-of + 1 (03-11), before the planned 03-20.
    internal, client = digests([ticket("ACME-2", "2026-03-12"), dependency("2026-03-05")])
    assert internal == "No forecast dates moved."
    assert "firewall" not in client
