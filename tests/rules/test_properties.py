"""Invariants of the SPEC §4 rules over random ticket sets, milestones, timezones and dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rule_factories import client, milestone

from syncbot.config import Client
from syncbot.domain import ClientState, Progress, Status, StatusChange, Ticket
from syncbot.rules.state import compute_state

FAST = settings(max_examples=60, deadline=None)
AS_OF_DATES = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))
STATUSES = ["To Do", "In Progress", "Blocked", "Waiting for customer", "In Review"]
MAX_TICKETS = 10
Scenario = tuple[Client, list[Ticket], dt.date]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A client with 1-4 label-matched milestones and up to ten tickets around `as_of`."""
    as_of = draw(AS_OF_DATES)
    offset = st.integers(-30, 30).map(lambda n: as_of + dt.timedelta(days=n))
    # Due dates spread evenly around as-of, so all-overdue and mixed milestones are common.
    near = st.sampled_from(range(-10, 11)).map(lambda n: as_of + dt.timedelta(days=n))
    ids = [str(i) for i in range(draw(st.integers(1, 4)))]
    milestones = [
        milestone(i, planned=draw(offset), weight=draw(st.sampled_from([0.5, 1, 2, 5])))
        for i in ids
    ]
    config = client(
        *milestones,
        timezone=draw(st.sampled_from(["UTC", "America/Chicago", "Asia/Kolkata"])),
        baseline=draw(st.none() | offset),
    )
    keys = [f"ACME-{n}" for n in range(1, draw(st.integers(0, MAX_TICKETS)) + 1)]
    milestone_labels = [f"m-{i}" for i in ids]
    extra_labels = [*milestone_labels, "client-dependency", "change-order"]
    tickets = []
    for key in keys:
        created = dt.datetime.combine(
            as_of - dt.timedelta(days=draw(st.integers(0, 90))),
            dt.time(draw(st.integers(0, 23))),
            tzinfo=dt.UTC,
        )
        progress = draw(st.sampled_from(list(Progress)))
        completed = None
        if progress is Progress.DONE:
            completed = created + dt.timedelta(hours=draw(st.integers(0, 24 * 60)))
        history = tuple(
            StatusChange(created + dt.timedelta(hours=hours), None, status)
            for hours, status in draw(
                st.lists(st.tuples(st.integers(0, 24 * 60), st.sampled_from(STATUSES)), max_size=3)
            )
        )
        # Mostly in one milestone; sometimes in none, or in several.
        home = draw(st.sampled_from([*milestone_labels, None]))
        more = draw(st.lists(st.sampled_from(extra_labels), max_size=2, unique=True))
        labels = tuple(dict.fromkeys([*([home] if home else []), *more]))
        others = [k for k in keys if k != key]
        linked = (
            st.lists(st.sampled_from(others), max_size=2, unique=True) if others else st.just([])
        )
        tickets.append(
            Ticket(
                key=key,
                tracker="jira",
                title=f"Title of {key}",
                status=progress.value,
                progress=progress,
                created=created,
                updated=max([created, *(c.at for c in history), *filter(None, [completed])]),
                completed=completed,
                due=draw(st.none() | near),
                labels=labels,
                blocked_by=tuple(draw(linked)),
                blocks=tuple(draw(linked)),
                history=history,
            )
        )
    return config, tickets, as_of


def state_for(scenario: Scenario, **kwargs: Any) -> ClientState:
    config, tickets, as_of = scenario
    return compute_state(config, tickets, as_of=as_of, **kwargs)


@FAST
@given(scenarios())
def test_open_milestones_forecast_no_earlier_than_as_of_and_have_no_actual(
    scenario: Scenario,
) -> None:
    state = state_for(scenario)
    for m in state.milestones:
        if m.status is not Status.DONE:
            assert m.forecast is not None and m.forecast >= state.as_of, m
            assert m.actual is None, m


@FAST
@given(scenarios())
def test_done_milestones_have_an_actual_date_no_forecast_and_every_ticket_done(
    scenario: Scenario,
) -> None:
    for m in state_for(scenario).milestones:
        if m.status is Status.DONE:
            assert m.actual is not None and m.forecast is None, m
            assert m.tickets_total > 0 and m.tickets_done == m.tickets_total, m


@FAST
@given(scenarios())
def test_status_agrees_with_forecast_against_planned(
    scenario: Scenario,
) -> None:
    for m in state_for(scenario).milestones:
        assert 0 <= m.tickets_done <= m.tickets_total, m
        if m.status is Status.DONE:
            continue
        assert m.forecast is not None
        late = m.forecast - m.planned
        assert (m.status is Status.DELAYED) == (late > dt.timedelta(days=7)), m
        if late > dt.timedelta(0):
            assert m.status in (Status.AT_RISK, Status.DELAYED), m
        if m.status in (Status.ON_TRACK, Status.NOT_STARTED):
            assert m.forecast <= m.planned, m
        if m.status is Status.NOT_STARTED:
            assert m.tickets_total == 0, m


@FAST
@given(scenarios())
def test_spi_is_null_exactly_while_planned_value_is_zero(
    scenario: Scenario,
) -> None:
    state = state_for(scenario)

    assert (state.spi is None) == (state.planned_value == 0)
    assert 0 <= state.earned_value <= 1 and 0 <= state.planned_value <= 1
    if state.spi is not None:
        assert abs(state.spi - state.earned_value / state.planned_value) < 1e-9


@FAST
@given(scenarios())
def test_excluded_tickets_change_nothing(scenario: Scenario) -> None:
    config, tickets, as_of = scenario
    kept = [t for t in tickets if t.progress is not Progress.EXCLUDED]
    history = {m.id: (m.planned, "on_track") for m in config.milestones}

    with_excluded = compute_state(config, tickets, as_of=as_of, reported=history, signed_off=set())
    without = compute_state(config, kept, as_of=as_of, reported=history, signed_off=set())

    assert with_excluded == without


@FAST
@given(scenarios())
def test_dependencies_are_open_labelled_tickets_counting_days_from_blocked_since(
    scenario: Scenario,
) -> None:
    config, tickets, as_of = scenario
    state = state_for(scenario)
    by_key = {t.key: t for t in tickets}
    milestone_ids = [m.id for m in state.milestones]

    for dep in state.dependencies:
        source = by_key[dep.key]
        assert source.is_open and source.has_label(config.client_dependency_labels)
        if dep.blocked_since is None:  # not blocking yet (v2): counts no days
            assert dep.days_blocked == 0
        else:
            assert dep.days_blocked == (as_of - dep.blocked_since).days
            if dep.blocked_since <= as_of:
                assert dep.days_blocked >= 0
        assert list(dep.blocks) == [m for m in milestone_ids if m in dep.blocks]
    expected = {t.key for t in tickets if t.is_open and t.has_label(["client-dependency"])}
    assert {d.key for d in state.dependencies} == expected
    for m in state.milestones:
        assert set(m.blocked_by) == {d.key for d in state.dependencies if m.id in d.blocks}


@FAST
@given(scenarios())
def test_an_open_milestone_never_forecasts_before_its_blockers_allow(
    scenario: Scenario,
) -> None:
    state = state_for(scenario)
    deps = {d.key: d for d in state.dependencies}

    for m in state.milestones:
        if m.status is Status.DONE:
            continue
        assert m.forecast is not None
        for key in m.blocked_by:
            due = deps[key].due
            floor = due if due is not None and due >= state.as_of else state.as_of
            assert m.forecast >= floor + dt.timedelta(days=1), (m, deps[key])
