"""SPEC §11 in every text: "F1 0.78 of target 0.80" beside the milestone for both audiences,
the day a target is first met celebrated in the next digest, and the internal list of
experiments; the client never reads a run id, an experiment or an experiment ticket."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from syncbot import messages
from syncbot.config import Client
from syncbot.domain import ClientState, MetricReading, Progress, Ticket
from syncbot.render import replies
from syncbot.render.blocks import digest_messages
from syncbot.render.digest import client_digest, internal_digest
from syncbot.render.text import digest_text, status_text
from syncbot.render.views import client_view, internal_view
from syncbot.rules.state import compute_state

AS_OF = dt.date(2026, 3, 10)
SINCE = dt.date(2026, 3, 3)
NOW = dt.datetime(2026, 3, 10, 15, tzinfo=dt.UTC)
RUN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def client(**metric: Any) -> Client:
    return Client.model_validate(
        {
            "id": "acme",
            "name": "Acme",
            "internal_channel": "CI",
            "client_channel": "CC",
            "timezone": "UTC",
            "sources": [{"kind": "jira", "project": "ACME"}],
            "milestones": [
                {
                    "id": "3.1",
                    "name": "Model trained",
                    "phase": "Build",
                    "planned": "2026-03-20",
                    "acceptance": "F1 of 0.80 on validation",
                    "match": {"epic": "ACME-1"},
                    "metric": {
                        "experiment": "secret-experiment",
                        "name": "val_f1",
                        "target": 0.8,
                        "label": "F1",
                        **metric,
                    },
                }
            ],
        }
    )


def ticket(key: str, *, done: str | None = None, **kw: Any) -> Ticket:
    values: dict[str, Any] = {
        "key": key,
        "tracker": "jira",
        "title": f"title of {key}",
        "status": "Done" if done else "In Progress",
        "progress": Progress.DONE if done else Progress.IN_PROGRESS,
        "created": NOW - dt.timedelta(days=60),
        "updated": NOW,
        "completed": dt.datetime.fromisoformat(f"{done}T12:00:00+00:00") if done else None,
        "parent": "ACME-1",
    }
    values.update(kw)
    return Ticket(**values)


def reading(value: float, met_on: str | None = None, *, on: str = "2026-03-06") -> MetricReading:
    return MetricReading(
        experiment="secret-experiment",
        name="val_f1",
        target=0.8,
        higher_is_better=True,
        value=value,
        run_id=RUN,
        run_at=dt.datetime.fromisoformat(f"{on}T16:00:00+00:00"),
        met_at=dt.datetime.fromisoformat(f"{met_on}T16:00:00+00:00") if met_on else None,
    )


def state(tickets: list[Ticket], read: MetricReading, c: Client | None = None) -> ClientState:
    return compute_state(c or client(), tickets, as_of=AS_OF, metrics={"3.1": read})


def digests(s: ClientState) -> tuple[str, str]:
    internal = internal_digest(s, SINCE, NOW)
    mine = client_digest(client_view(s, lambda k: "dep-x"), SINCE)
    return digest_text(internal), digest_text(mine)


def section(text: str, heading: str) -> str:
    return text.split(f"\n{heading}")[1].split("\n\n")[0]


@pytest.mark.parametrize(
    ("value", "target", "shown"),
    [
        (0.78, 0.8, "0.78"),
        (0.0042, 0.005, "0.004"),
        (1234.5, 1000.0, "1234.50"),
        (0.8, 0.8, "0.80"),
    ],
)
def test_values_have_the_decimals_of_their_target(value: float, target: float, shown: str) -> None:
    assert messages.metric_number(value, target) == shown


def test_the_metric_stands_beside_its_milestone_for_both_audiences() -> None:
    s = state([ticket("ACME-2")], reading(0.78))
    internal, mine = digests(s)
    for text in (internal, mine):
        [line] = [x for x in section(text, "Milestones").splitlines() if "Model trained" in x]
        assert "; F1 0.78 of target 0.80" in line
    assert RUN not in mine and "secret-experiment" not in mine
    lower = state(
        [ticket("ACME-2")],
        reading(0.004),
        client(name="val_f1", target=0.005, higher_is_better=False, label="missed-urgent rate"),
    )
    assert (
        "missed-urgent rate 0.004 of target 0.005 (lower is better; target met)"
        in digests(lower)[1]
    )


def test_a_target_first_met_in_the_period_is_celebrated_while_work_goes_on() -> None:
    s = state([ticket("ACME-2")], reading(0.83, met_on="2026-03-06"))
    for text in digests(s):
        assert section(text, "Completed since 2026-03-03") == (
            "\n  - Target reached for 'Model trained': F1 0.83 of target 0.80 (target met), "
            "first met 2026-03-06"
        )
    before = state([ticket("ACME-2")], reading(0.83, met_on="2026-03-02"))
    for text in digests(before):
        assert messages.NOTHING_COMPLETED in section(text, "Completed since 2026-03-03")


def test_a_milestone_completed_by_its_metric_says_so_once() -> None:
    s = state([ticket("ACME-2", done="2026-03-04")], reading(0.83, met_on="2026-03-07"))
    [m] = s.milestones
    assert m.actual == dt.date(2026, 3, 7)
    for text in digests(s):
        assert section(text, "Completed since 2026-03-03") == (
            "\n  - Model trained — delivered 2026-03-07 (13 days early): F1 of 0.80 on "
            "validation; F1 0.83 of target 0.80 (target met)"
        )


def test_a_milestone_waiting_on_its_metric_gives_it_as_the_reason() -> None:
    s = state([ticket("ACME-2", done="2026-03-04")], reading(0.78))
    late = compute_state(
        client(),
        [ticket("ACME-2", done="2026-03-04")],
        as_of=dt.date(2026, 3, 25),
        metrics={"3.1": reading(0.78)},
    )
    [m] = late.milestones
    assert m.missed and m.reason == "waiting for F1 to reach its target 0.80: best so far 0.78"
    internal = digest_text(internal_digest(late, SINCE, NOW))
    assert "'Model trained' missed its planned date 2026-03-20" in internal
    assert "best so far 0.78." in section(internal, "Date changes")
    assert s.milestones[0].status.value == "on_track"


def test_status_text_shows_the_run_to_the_delivery_team_only() -> None:
    s = state([ticket("ACME-2")], reading(0.78))
    internal = status_text(internal_view(s), "internal")
    assert f"        metric: F1 0.78 of target 0.80 (run {RUN}, 2026-03-06)" in internal
    mine = status_text(client_view(s, lambda k: "dep-x"), "client")
    assert "        metric: F1 0.78 of target 0.80 (2026-03-06)" in mine and RUN not in mine


def test_slash_replies_show_the_metric_in_both_audiences() -> None:
    s = state([ticket("ACME-2", due=AS_OF - dt.timedelta(days=1))], reading(0.78))
    for view, internal in ((internal_view(s), True), (client_view(s, lambda k: "x"), False)):
        for build in (replies.milestones_reply, replies.status_reply):
            doc = build(view, internal=internal, links={}, freshness="")
            [line] = doc.sections[0].lines
            assert "F1 0.78 of target 0.80" in line.text and RUN not in line.text


def test_experiments_are_listed_internally_only() -> None:
    experiments = [
        ticket(
            "ACME-5",
            labels=("experiment",),
            title="Embeddings beat TF-IDF",
            created=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
            due=dt.date(2026, 3, 13),
            description="Notes.\nSuccess: F1 +0.03 over TF-IDF",
            assignee_name="Elena",
            parent=None,
        ),
        ticket(
            "ACME-6",
            labels=("experiment",),
            title="Carrier thresholds",
            created=dt.datetime(2026, 2, 16, 9, tzinfo=dt.UTC),
            due=dt.date(2026, 2, 27),
            parent=None,
        ),
        ticket(
            "ACME-7",
            labels=("experiment",),
            title="Long finished",
            done="2026-02-20",
            created=dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC),
            parent=None,
        ),
    ]
    s = state([ticket("ACME-2"), *experiments], reading(0.78))
    internal, mine = digests(s)
    assert section(internal, "Experiments").splitlines()[1:] == [
        (
            "  - ACME-6 Carrier thresholds — In Progress, day 22 of 11, past its timebox; "
            "timebox 11 days (2026-02-16 -> 2026-02-27)"
        ),
        (
            "  - ACME-5 Embeddings beat TF-IDF — In Progress, day 8 of 11; timebox 11 days "
            "(2026-03-02 -> 2026-03-13); success: F1 +0.03 over TF-IDF; owner Elena"
        ),
    ]  # ACME-7 finished before the period
    assert "[experiment_overrun] Experiment 'Carrier thresholds' ran past its 11-day" in internal
    for secret in ("Experiments", "Carrier thresholds", "Embeddings", "ACME-6", "TF-IDF"):
        assert secret not in mine
    blocks = json.dumps(
        [m.as_json() for m in digest_messages(client_digest(client_view(s, lambda k: "x"), SINCE))]
    )
    assert "Carrier thresholds" not in blocks and "F1 0.78 of target 0.80" in blocks
    no_experiments = digests(state([ticket("ACME-2")], reading(0.78)))[0]
    assert "\nExperiments" not in no_experiments


def test_metric_text_is_escaped_for_slack() -> None:
    s = state([ticket("ACME-2")], reading(0.78), client(label="F1 <!channel>"))
    blocks = json.dumps([m.as_json() for m in digest_messages(internal_digest(s, SINCE, NOW))])
    assert "F1 &lt;!channel&gt; 0.78 of target 0.80" in blocks and "<!channel>" not in blocks
