"""The TOML configuration (SPEC §3): typed models plus a loader that reports every problem.

Each problem is one line `FILE: KEY: what is wrong`, KEY written like
`clients[0].milestones[2].planned`, so `syncbot check` can print them all at once.
Secrets never live here; see `settings.py`.
"""

from __future__ import annotations

import datetime as dt
import glob
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from syncbot.errors import ConfigError
from syncbot.schedule import Cadence, cron_trigger

SourceKind = Literal["jira", "linear", "jira-export", "linear-export", "mlflow", "mlflow-export"]
METRIC_KINDS = ("mlflow", "mlflow-export")  # sources of milestone metrics, not of tickets
JIRA_MATCH_KEYS = ("epic", "fix_version", "component")
LINEAR_MATCH_KEYS = ("linear_milestone",)
MATCH_KEYS = ("epic", "label", "fix_version", "component", "linear_milestone")
# Dates syncbot can compute with (forecasts add days; the calendar ends at 9999-12-31).
EARLIEST_DATE = dt.date(1971, 1, 1)
LATEST_DATE = dt.date(9000, 12, 31)
MAX_GRACE_MINUTES = 366 * 24 * 60
SECRET_HINT = re.compile(r"(token|secret|password|api_key|apikey|pat)$", re.IGNORECASE)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Schedule(_Model):
    internal_digest_cron: str = "0 9 * * mon"
    client_digest_cron: str = "0 9 * * mon"
    client_digest_every_weeks: int = Field(default=2, ge=1, le=520)  # at most ten years
    sync_every_minutes: int = Field(default=10, ge=1, le=525_600)  # at most a year: no overflow
    grace_minutes: int = Field(default=60, ge=0, le=MAX_GRACE_MINUTES)

    @field_validator("internal_digest_cron", "client_digest_cron")
    @classmethod
    def _crontab(cls, value: str) -> str:
        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"not a 5-field crontab ({exc}): got {value!r}") from exc
        return value


class Source(_Model):
    kind: SourceKind
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]+$")
    project: str | None = None
    jql: str | None = None
    team: str | None = None
    path: str | None = None
    epic_link_field: str | None = None  # Jira Data Center "Epic Link" custom field id

    @property
    def tracker(self) -> str:
        """What the source reads: "jira", "linear" or "mlflow" (live or recorded)."""
        return self.kind.removesuffix("-export")

    @property
    def is_export(self) -> bool:
        return self.kind.endswith("-export")

    @property
    def name(self) -> str:
        """A stable identifier derived from what the source reads, used as its store key."""
        if self.id:
            return self.id
        what = self.path if self.is_export else (self.jql or self.project or self.team)
        return f"{self.kind}:{what}" if what else self.kind


class Match(_Model):
    epic: str | None = None
    label: str | None = None
    fix_version: str | None = None
    component: str | None = None
    linear_milestone: str | None = None

    def selector(self) -> tuple[str, str]:
        for key in MATCH_KEYS:
            value = getattr(self, key)
            if value is not None:
                return key, value
        raise ValueError("empty match")  # prevented by validation


class Metric(_Model):
    """A milestone's acceptance metric, read from MLflow (SPEC §11): the best value of `name`
    among the finished runs of `experiment` must reach `target` (at least it when
    `higher_is_better`, at most it otherwise). `label` is how texts name it ("F1"); the
    metric's name by default."""

    experiment: str = Field(min_length=1)
    name: str = Field(min_length=1)
    target: float = Field(strict=True, allow_inf_nan=False)
    higher_is_better: bool = Field(default=True, strict=True)
    label: str | None = Field(default=None, min_length=1)

    @property
    def shown(self) -> str:
        return self.label or self.name

    def meets(self, value: float) -> bool:
        """Whether `value` reaches the target."""
        return value >= self.target if self.higher_is_better else value <= self.target

    def better(self, value: float, than: float) -> bool:
        """Whether `value` is strictly better than `than`."""
        return value > than if self.higher_is_better else value < than


class Milestone(_Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    phase: str = Field(min_length=1)
    planned: dt.date
    owner: str = ""
    acceptance: str = ""
    match: Match
    weight: float = Field(default=1, gt=0)
    after: list[str] = Field(default_factory=list)  # finish-to-start predecessors
    metric: Metric | None = None  # done only once its tickets are done and this target is met

    @field_validator("planned")
    @classmethod
    def _plannable(cls, value: dt.date) -> dt.date:
        return _in_calendar(value)


SLACK_USER = r"^[UW][A-Z0-9]{2,30}$"  # a Slack user id: mentions are made only from these


class Escalation(_Model):
    """A client dependency overdue for more than `after_days` escalates once, to `notify`."""

    after_days: int = Field(default=3, ge=0, le=3650)
    notify: list[str] = Field(default_factory=list)

    @field_validator("notify")
    @classmethod
    def _users(cls, value: list[str]) -> list[str]:
        return _slack_users(value)


def _slack_users(value: list[str]) -> list[str]:
    bad = [v for v in value if not re.fullmatch(SLACK_USER, v)]
    if bad:
        raise ValueError(f"not Slack user ids (U... or W...): {', '.join(map(repr, bad))}")
    return value


class Client(_Model):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1)
    internal_channel: str = Field(min_length=1)
    client_channel: str = Field(min_length=1)
    timezone: str = "UTC"
    client_dependency_labels: list[str] = Field(default_factory=lambda: ["client-dependency"])
    change_order_labels: list[str] = Field(default_factory=lambda: ["change-order"])
    blocked_status_keywords: list[str] = Field(default_factory=lambda: ["blocked", "waiting"])
    excluded_resolutions: list[str] = Field(default_factory=lambda: ["Won't Do", "Duplicate"])
    experiment_labels: list[str] = Field(default_factory=lambda: ["experiment"])
    approvers: list[str] = Field(default_factory=list)
    reviewers: list[str] = Field(default_factory=list)  # may release client-channel posts
    client_review: Literal["required", "off"] = "required"
    people: dict[str, str] = Field(default_factory=dict)  # tracker display name -> Slack id
    escalation: Escalation | None = None
    baseline: dt.date | None = None
    phases: list[str] | None = None  # phase order; default: order of first appearance
    schedule: Schedule | None = None
    sources: list[Source] = Field(min_length=1)
    milestones: list[Milestone] = Field(default_factory=list)

    @field_validator("approvers", "reviewers")
    @classmethod
    def _user_ids(cls, value: list[str]) -> list[str]:
        return _slack_users(value)

    @field_validator("people")
    @classmethod
    def _people(cls, value: dict[str, str]) -> dict[str, str]:
        _slack_users(list(value.values()))
        return value

    @property
    def review_required(self) -> bool:
        """Client-channel posts wait for a reviewer's release (SPEC §8)."""
        return self.client_review == "required"

    def slack_id(self, name: str | None) -> str | None:
        """The Slack user of a tracker display name, from `[clients.people]`."""
        return self.people.get(name) if name else None

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, value: dt.date | None) -> dt.date | None:
        return None if value is None else _in_calendar(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name such as 'America/Chicago')"
            ) from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def ticket_sources(self) -> list[Source]:
        """The sources of tickets (trackers and their recordings)."""
        return [s for s in self.sources if s.kind not in METRIC_KINDS]

    @property
    def metric_source(self) -> Source | None:
        """Where milestone metrics are read: the client's `mlflow` or `mlflow-export` source;
        without one, the MLflow server of SYNCBOT_MLFLOW_URL as soon as a milestone has a
        metric (an implicit `mlflow` source); None when nothing needs one."""
        for source in self.sources:
            if source.kind in METRIC_KINDS:
                return source
        if any(m.metric is not None for m in self.milestones):
            return Source(kind="mlflow")
        return None

    @property
    def all_sources(self) -> list[Source]:
        """Every source whose freshness counts: ticket sources, then the metric source."""
        metric = self.metric_source
        return [*self.ticket_sources, *([metric] if metric is not None else [])]

    def phase_order(self) -> list[str]:
        order = list(self.phases or [])
        for milestone in self.milestones:
            if milestone.phase not in order:
                order.append(milestone.phase)
        return order


class Config(_Model):
    schedule: Schedule = Field(default_factory=Schedule)
    clients: list[Client] = Field(min_length=1)

    def client(self, client_id: str) -> Client:
        for client in self.clients:
            if client.id == client_id:
                return client
        known = ", ".join(c.id for c in self.clients)
        raise ConfigError([f"unknown client {client_id!r} (configured: {known})"])

    def schedule_for(self, client: Client) -> Schedule:
        return client.schedule or self.schedule

    def cadence(self, client: Client, audience: str) -> Cadence:
        """When `audience`'s digest of `client` fires (see `syncbot.schedule`)."""
        schedule = self.schedule_for(client)
        if audience == "internal":
            return Cadence.weekly(schedule.internal_digest_cron, client.tz, baseline=None)
        return Cadence.weekly(
            schedule.client_digest_cron,
            client.tz,
            every_weeks=schedule.client_digest_every_weeks,
            baseline=client.baseline,
        )


def _in_calendar(value: dt.date) -> dt.date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"{value.isoformat()} is outside the dates syncbot plans with "
            f"({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return value


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config plus where it came from (relative paths resolve against it)."""

    path: Path
    config: Config

    def export_files(self, source: Source) -> list[Path]:
        return export_files(self.path, source)


def load_config(path: Path) -> LoadedConfig:
    """Read and validate `path`; raise ConfigError listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                (
                    f"{path}: config file not found (pass --config or set "
                    "SYNCBOT_CONFIG; see config/syncbot.example.toml)"
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read config file: {exc.strerror}"]) from exc
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: config file is not UTF-8 text"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: {_describe_toml_error(text, exc)}"]) from exc
    except RecursionError:
        raise ConfigError([f"{path}: not a syncbot config: values nested too deeply"]) from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([f"{path}: {line}" for line in _describe_validation(exc, raw)]) from exc
    except RecursionError:
        raise ConfigError([f"{path}: not a syncbot config: values nested too deeply"]) from None
    problems = [f"{path}: {p}" for p in _semantic_problems(config, path)]
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(path=path, config=config)


def export_files(config_path: Path, source: Source) -> list[Path]:
    """Files an export source reads, in natural order (page-2 before page-10).

    A relative pattern is tried against the config file's folder, then the working directory.
    """
    assert source.path is not None
    pattern = Path(source.path).expanduser()
    candidates = [pattern] if pattern.is_absolute() else [config_path.parent / pattern, pattern]
    for candidate in candidates:
        matched = [Path(p) for p in glob.glob(str(candidate)) if Path(p).is_file()]
        if matched:
            return sorted(matched, key=_natural_key)
    return []


def _natural_key(path: Path) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _semantic_problems(config: Config, path: Path) -> Iterable[str]:
    """Checks that span several keys: duplicates, match keys vs. source kinds, export paths."""
    yield from _duplicates([c.id for c in config.clients], "clients[{}].id", "client id")
    yield from _channel_problems(config.clients)
    for ci, client in enumerate(config.clients):
        where = f"clients[{ci}]"
        yield from _duplicates(
            [m.id for m in client.milestones], where + ".milestones[{}].id", "milestone id"
        )
        yield from _duplicates(
            [s.name for s in client.sources],
            where + ".sources[{}]",
            "source (same kind and target)",
        )
        trackers = {s.tracker for s in client.sources}
        for si, source in enumerate(client.sources):
            yield from _source_problems(source, f"{where}.sources[{si}]", path)
        yield from _metric_source_problems(client, where)
        for mi, milestone in enumerate(client.milestones):
            key = f"{where}.milestones[{mi}].match"
            chosen = [k for k in MATCH_KEYS if getattr(milestone.match, k) is not None]
            if len(chosen) != 1:
                yield (
                    f"{key}: give exactly one of {', '.join(MATCH_KEYS)}"
                    f" (got {', '.join(chosen) or 'none'})"
                )
                continue
            if chosen[0] in JIRA_MATCH_KEYS and "jira" not in trackers:
                yield f"{key}.{chosen[0]}: matches Jira tickets but this client has no Jira source"
            if chosen[0] in LINEAR_MATCH_KEYS and "linear" not in trackers:
                yield (
                    f"{key}.{chosen[0]}: matches Linear tickets but this client has no "
                    "Linear source"
                )
        yield from _after_problems(client, where)
        if client.client_review == "required" and not client.reviewers:
            yield (
                f'{where}.reviewers: empty while {where}.client_review is "required" (the '
                "default): name the agency people who release client-channel posts, or set "
                'client_review = "off"'
            )
        if client.phases is not None:
            for mi, milestone in enumerate(client.milestones):
                if milestone.phase not in client.phases:
                    yield (
                        f"{where}.milestones[{mi}].phase: {milestone.phase!r} is not in "
                        f"{where}.phases"
                    )


def _after_problems(client: Client, where: str) -> Iterable[str]:
    """`after` names milestones of this client, never the milestone itself, and no cycle."""
    ids = {m.id for m in client.milestones}
    graph: dict[str, list[str]] = {}
    for mi, milestone in enumerate(client.milestones):
        key = f"{where}.milestones[{mi}].after"
        for predecessor in milestone.after:
            if predecessor == milestone.id:
                yield f"{key}: milestone {milestone.id!r} cannot come after itself"
            elif predecessor not in ids:
                yield (
                    f"{key}: {predecessor!r} is not a milestone of this client "
                    f"(milestone {milestone.id!r})"
                )
        graph[milestone.id] = [p for p in milestone.after if p in ids and p != milestone.id]
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        cycle = list(exc.args[1]) if len(exc.args) > 1 else []
        shown = " -> ".join(reversed(cycle)) if cycle else "?"
        yield f"{where}.milestones: 'after' forms a cycle: {shown}"


def _metric_source_problems(client: Client, where: str) -> Iterable[str]:
    """At most one source of metrics per client: every milestone metric is read from it."""
    first: int | None = None
    for si, source in enumerate(client.sources):
        if source.kind not in METRIC_KINDS:
            continue
        if first is None:
            first = si
            continue
        yield (
            f"{where}.sources[{si}]: a client reads its metrics from one MLflow source, and "
            f"{where}.sources[{first}] is one already (record every answer under one path)"
        )


def _channel_problems(clients: list[Client]) -> Iterable[str]:
    """A client channel (often Slack Connect, shared with the client's company) must belong to
    exactly one client and never double as an internal channel; internal ones may be shared."""
    for ci, client in enumerate(clients):
        key = f"clients[{ci}].client_channel"
        for oi, other in enumerate(clients):
            if other.internal_channel == client.client_channel:
                whose = "its own" if oi == ci else f"clients[{oi}]'s"
                yield (
                    f"{key}: {client.client_channel!r} is also {whose} internal_channel; "
                    "internal detail would reach the client"
                )
            if oi < ci and other.client_channel == client.client_channel:
                yield (
                    f"{key}: {client.client_channel!r} is also clients[{oi}].client_channel; "
                    "one client would see another's project"
                )


def _source_problems(source: Source, key: str, config_path: Path) -> Iterable[str]:
    if source.kind in METRIC_KINDS:
        yield from _mlflow_source_problems(source, key, config_path)
        return
    if source.is_export:
        if not source.path:
            yield f"{key}.path: required for kind {source.kind!r} (a glob of recorded responses)"
        elif not export_files(config_path, source):
            yield f"{key}.path: no files match {source.path!r}"
        # project (and team, on linear-export) filter the recorded tickets; JQL cannot be
        # evaluated over a recording.
        if source.jql is not None:
            yield f"{key}.jql: not used by kind {source.kind!r} (filter with project); remove it"
        if source.team is not None and source.kind == "jira-export":
            yield f"{key}.team: not used by kind 'jira-export' (Linear only)"
        return
    if source.path is not None:
        yield f"{key}.path: only for the *-export kinds, not {source.kind!r}"
    if source.kind == "jira":
        if not (source.project or source.jql):
            yield f'{key}: kind \'jira\' needs project = "KEY" or jql = "..."'
        if source.team:
            yield f"{key}.team: not used by kind 'jira' (Linear only)"
    else:
        if not (source.project or source.team):
            yield f'{key}: kind \'linear\' needs project = "Name" and/or team = "KEY"'
        if source.jql:
            yield f"{key}.jql: not used by kind 'linear' (Jira only)"


def _mlflow_source_problems(source: Source, key: str, config_path: Path) -> Iterable[str]:
    """`mlflow` reads SYNCBOT_MLFLOW_URL; `mlflow-export` recorded answers under `path`. The
    experiments to read are named by each milestone's `metric`, not by the source."""
    for name in ("project", "jql", "team", "epic_link_field"):
        if getattr(source, name) is not None:
            yield (
                f"{key}.{name}: not used by kind {source.kind!r} (each milestone's "
                "metric.experiment names what to read); remove it"
            )
    if source.kind == "mlflow":
        if source.path is not None:
            yield f"{key}.path: only for kind 'mlflow-export' (recorded answers), not 'mlflow'"
    elif not source.path:
        yield f"{key}.path: required for kind 'mlflow-export' (a glob of recorded answers)"
    elif not export_files(config_path, source):
        yield f"{key}.path: no files match {source.path!r}"


def _duplicates(values: list[str], key_template: str, what: str) -> Iterable[str]:
    counts = Counter(values)
    seen: set[str] = set()
    for index, value in enumerate(values):
        if counts[value] > 1 and value in seen:
            yield f"{key_template.format(index)}: duplicate {what} {value!r}"
        seen.add(value)


def _describe_validation(exc: ValidationError, raw: Any) -> list[str]:
    lines = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if not (isinstance(p, str) and "[" in p)]
        key = _format_loc(loc)
        kind = error["type"]
        value = error.get("input")
        last = loc[-1] if loc else ""
        if kind == "extra_forbidden":
            message = "unknown key"
            if isinstance(last, str) and SECRET_HINT.search(last):
                message += (
                    "; secrets never go in the config file: set them in the "
                    "environment or .env (SYNCBOT_*)"
                )
            elif len(loc) >= 2 and loc[-2] == "match":
                message += f" (match takes one of: {', '.join(MATCH_KEYS)})"
        elif kind == "missing":
            message = "required key is missing"
        elif kind == "literal_error":
            expected = error.get("ctx", {}).get("expected", "")
            message = f"must be one of {expected}: got {value!r}"
        elif kind.startswith(("date_", "datetime_")):
            message = f"not a valid date (YYYY-MM-DD): got {value!r}"
        elif kind == "string_pattern_mismatch":
            message = f"must match {error.get('ctx', {}).get('pattern')}: got {value!r}"
        elif kind == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = f"{error['msg'].lower()}: got {value!r}"
        lines.append(f"{key}: {message}" if key else message)
    return lines


def _format_loc(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def _describe_toml_error(text: str, exc: tomllib.TOMLDecodeError) -> str:
    """Turn tomllib's "(at line N, column M)" into the dotted key being parsed there."""
    found = re.search(r"at line (\d+)", str(exc))
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    if not found:
        return f"not valid TOML: {reason}"
    lineno = int(found.group(1))
    lines = text.splitlines()
    counters: dict[str, int] = {}
    table = ""
    for line in lines[: lineno - 1]:
        header = _HEADER.match(line)
        if not header:
            continue
        name = header.group(2).replace('"', "").replace(" ", "")
        parts = name.split(".")
        if header.group(1) == "[[":
            counters[name] = counters.get(name, -1) + 1
            for other in list(counters):  # nested arrays restart under a new parent
                if other.startswith(name + "."):
                    del counters[other]
        table = ".".join(
            f"{part}[{counters[prefix]}]"
            if (prefix := ".".join(parts[: i + 1])) in counters
            else part
            for i, part in enumerate(parts)
        )
    current = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    key_match = _KEY.match(current)
    key = ".".join(p for p in (table, key_match.group(1) if key_match else "") if p)
    value = current.split("=", 1)[1].strip() if key_match else current.strip()
    if "date" in reason.lower() or re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        reason = f"not a valid date: {value}"
    where = f"{key}: " if key else ""
    return f"{where}{reason} (line {lineno})"
