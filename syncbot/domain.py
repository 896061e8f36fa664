"""Plain, frozen domain objects shared by connectors, rules, store and renderers.

Connectors translate tracker payloads into `Ticket`s; rules turn tickets plus configuration
into `ClientState`. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Progress(StrEnum):
    """Where a ticket stands, normalised across trackers."""

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    EXCLUDED = "excluded"  # Linear canceled, Jira resolved as Won't Do / Duplicate


class Status(StrEnum):
    """Milestone status, in the order of increasing concern (not_started aside)."""

    DONE = "done"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    DELAYED = "delayed"
    NOT_STARTED = "not_started"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status transition from a Jira changelog or Linear issue history."""

    at: dt.datetime
    from_status: str | None
    to_status: str


@dataclass(frozen=True, slots=True)  # slots: a 40,000-ticket client is 40,000 of these
class Ticket:
    """A tracker ticket with only the fields the rules need (plus internal display fields).

    `key` is what people type (ACME-12, ENG-42). Datetimes are timezone-aware. `blocked_by`
    and `blocks` hold keys of other tickets linked with Jira "Blocks" / Linear `blocks`.
    """

    key: str
    tracker: str  # "jira" | "linear"
    title: str
    status: str
    progress: Progress
    created: dt.datetime
    updated: dt.datetime
    completed: dt.datetime | None = None
    due: dt.date | None = None
    labels: tuple[str, ...] = ()
    parent: str | None = None  # Jira parent / Epic Link key
    fix_versions: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    linear_milestone: str | None = None  # Linear project milestone name
    project: str | None = None
    assignee_name: str | None = None
    assignee_email: str | None = None
    description: str = ""  # plain text (ADF flattened); internal only
    url: str | None = None
    blocked_by: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    history: tuple[StatusChange, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.progress in (Progress.TODO, Progress.IN_PROGRESS)

    @property
    def is_done(self) -> bool:
        return self.progress is Progress.DONE

    def has_label(self, wanted: Iterable[str]) -> bool:
        """Labels compare case-insensitively: trackers and people disagree on case."""
        mine = {label.casefold() for label in self.labels}
        return any(w.casefold() in mine for w in wanted)


@dataclass(frozen=True)
class MetricReading:
    """What a metric source last said about one milestone's metric (the store keeps the last
    one, so an unreachable MLflow server leaves it).

    It was read for (`experiment`, `name`, `target`, `higher_is_better`): `value` is the best
    value among the experiment's finished runs (None while none logged a usable one), from
    run `run_id`, which ended (else started) at `run_at`; `met_at` is when the first finished
    run that reaches `target` ended, None when none does.
    """

    experiment: str
    name: str
    target: float
    higher_is_better: bool
    value: float | None = None
    run_id: str | None = None
    run_at: dt.datetime | None = None
    met_at: dt.datetime | None = None


@dataclass(frozen=True)
class MetricState:
    """A milestone's metric as the rules judge it at an as-of date (SPEC §11).

    `label` is how texts name it; `at` is the date (client timezone) of the run whose value
    counts, `met_on` the day its target was first met. `run` and `experiment` are internal
    only: the client view keeps name, value, target, met and at.
    """

    name: str
    label: str
    target: float
    higher_is_better: bool
    value: float | None = None
    met: bool = False
    at: dt.date | None = None
    met_on: dt.date | None = None
    run: str | None = None  # internal only
    experiment: str = ""  # internal only


@dataclass(frozen=True)
class MilestoneState:
    """A milestone as computed for one as-of date."""

    id: str
    name: str
    phase: str
    planned: dt.date
    forecast: dt.date | None
    actual: dt.date | None
    status: Status
    owner: str
    weight: float
    tickets_total: int
    tickets_done: int
    blocked_by: tuple[str, ...]  # dependency ticket keys
    late_tickets: tuple[str, ...]  # open tickets past their due date; internal only
    started: bool
    # What sets the forecast date: open ticket keys and/or dependency keys whose dates equal it.
    forecast_set_by_tickets: tuple[str, ...] = ()
    forecast_set_by_dependencies: tuple[str, ...] = ()
    forecast_set_by_blockers: tuple[str, ...] = ()  # internal blocking tickets; internal only
    acceptance: str = ""
    after: tuple[str, ...] = ()  # finish-to-start predecessors (milestone ids)
    pushed_by: str | None = None  # the predecessor whose end sets the forecast
    missed: bool = False  # open, and its planned date is before the as-of date
    days_late: int | None = None  # actual (or forecast) minus planned; negative when early
    note: str | None = None  # the client-facing note (cause and recovery), when set
    reason: str = ""  # why the forecast is where it is, client-safe: note, driver or work
    drifting: bool = False  # late work sets it: it moves a day later each day, nothing new
    metric: MetricState | None = None  # the acceptance metric, when the milestone has one

    @property
    def is_open(self) -> bool:
        return self.status is not Status.DONE

    @property
    def waits_on_metric(self) -> bool:
        """Every ticket is done, and only the metric's target keeps the milestone open."""
        return (
            self.metric is not None
            and not self.metric.met
            and self.tickets_total > 0
            and self.tickets_done == self.tickets_total
        )


@dataclass(frozen=True)
class DependencyState:
    """An open client-side dependency and what it holds up."""

    key: str
    summary: str
    owner: str | None
    owner_email: str | None  # internal only
    due: dt.date | None
    blocked_since: dt.date | None  # None: not blocking yet (open, not overdue, not waiting)
    days_blocked: int
    blocks: tuple[str, ...]  # milestone ids
    impact_statement: str
    overdue: bool
    url: str | None = None


@dataclass(frozen=True)
class ExperimentState:
    """A ticket labelled as an experiment (SPEC §11): a hypothesis (its summary) with a
    timebox from its creation to its due date. Internal only.

    `days_running` counts from its creation to its completion, or to the as-of date while it
    is open; `timebox_days` from creation to the due date (None without one). `overrun`: open
    and past its due date. `success` is the "Success: ..." criterion of its description.
    """

    key: str
    hypothesis: str
    status: str  # the tracker's status name
    progress: Progress
    created: dt.date
    due: dt.date | None
    completed: dt.date | None
    days_running: int
    timebox_days: int | None
    overrun: bool
    success: str | None = None
    owner: str | None = None
    milestone: str | None = None  # the milestone holding the ticket, when one does
    url: str | None = None


class WarningKind(StrEnum):
    SKIPPED_AT_RISK = "skipped_at_risk"
    FORECAST_MOVED = "forecast_moved"
    PHASE_GATE = "phase_gate"
    SCOPE_CREEP = "scope_creep"
    STALE_SOURCE = "stale_source"
    EXPERIMENT_OVERRUN = "experiment_overrun"  # an open experiment past its timebox
    METRIC_REGRESSED = "metric_regressed"  # a done milestone's metric fell below its target


CLIENT_VISIBLE_WARNINGS = frozenset(
    {WarningKind.SKIPPED_AT_RISK, WarningKind.FORECAST_MOVED, WarningKind.STALE_SOURCE}
)


@dataclass(frozen=True)
class Warning:
    """A warning for the delivery team; `client_message` is set only when safe to show a client."""

    kind: WarningKind
    milestone: str | None
    message: str
    client_message: str | None = None
    tickets: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceHealth:
    """One source's freshness (`rules.freshness`): what /healthz, `status` and digests say."""

    source: str
    label: str  # e.g. "Jira", "Linear": safe for clients
    last_success: dt.datetime | None
    stale: bool
    last_error: str | None = None
    kind: str = ""
    last_attempt: dt.datetime | None = None
    stale_after: dt.timedelta = dt.timedelta(minutes=20)


@dataclass(frozen=True)
class ClientState:
    """Everything computed for one client at one as-of date."""

    client_id: str
    client_name: str
    as_of: dt.date
    spi: float | None
    planned_value: float
    earned_value: float
    milestones: tuple[MilestoneState, ...]
    dependencies: tuple[DependencyState, ...]
    warnings: tuple[Warning, ...]
    sources: tuple[SourceHealth, ...] = field(default=())
    current_phase: str | None = None  # the phase of the earliest open milestone
    next_milestone: str | None = None  # the open milestone with the earliest forecast
    experiments: tuple[ExperimentState, ...] = ()  # internal only

    @property
    def stale(self) -> bool:
        return any(s.stale for s in self.sources)


@dataclass(frozen=True)
class Change:
    """One worsening, as `syncbot alerts --format json` lists it."""

    milestone: str | None
    kind: str  # status | missed | forecast | dependency_overdue | escalation
    old: str | None
    new: str | None
    message: str


@dataclass(frozen=True)
class Alert:
    """One internal message: a milestone's (or a dependency's) worsenings of one evaluation."""

    subject: str  # milestone id, or "dep:<key>"
    changes: tuple[Change, ...]
    milestone: MilestoneState | None = None
    dependency: DependencyState | None = None
    pushes: tuple[MilestoneState, ...] = ()  # milestones its slip pushes, down the chain
    mention: tuple[str, ...] = ()  # Slack user ids to mention (escalation.notify)

    @property
    def identity(self) -> str:
        """Stable across processes and restarts: the same change is the same alert."""
        text = "|".join(f"{c.kind}={c.new}" for c in self.changes)
        return hashlib.sha256(f"{self.subject}|{text}".encode()).hexdigest()
