"""Every sentence syncbot shows people, in one place (tests import these)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

STATUS_LABEL = {
    "done": "Done",
    "on_track": "On track",
    "at_risk": "At risk",
    "delayed": "Delayed",
    "not_started": "Not started",
}
STATUS_EMOJI = {
    "done": ":white_check_mark:",
    "on_track": ":large_green_circle:",
    "at_risk": ":large_yellow_circle:",
    "delayed": ":red_circle:",
    "not_started": ":white_circle:",
}


def plural(n: int, word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in "aeiou" and n != 1:
        return f"{n} {word[:-1]}ies"
    return f"{n} {word}{'' if n == 1 else 's'}"


def tasks_done(done: int, total: int) -> str:
    """The one wording of a milestone's progress, for every audience and surface."""
    return f"{done} of {total} tasks done"


def overdue_dependencies(count: int) -> str:
    return plural(count, "overdue client dependency")


def quoted_list(items: Sequence[str]) -> str:
    quoted = [f"'{item}'" for item in items]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]}"


def impact_statement(
    to_start: Sequence[str],
    to_finish: Sequence[str],
    summary: str,
    *,
    since: dt.date | None,
    days_blocked: int,
    due: dt.date | None,
) -> str:
    """What a client dependency holds up: "We cannot start 'X' ..." while no work on X is
    done, "We cannot finish 'X' ..." once some is; since when it blocks, or when it is
    needed by while it does not block yet."""
    if since is not None:
        tail = f"blocked since {since.isoformat()} ({plural(days_blocked, 'day')})."
    elif due is not None:
        tail = f"needed by {due.isoformat()}."
    else:
        tail = "no date agreed yet."
    held = []
    if to_start:
        held.append(f"start {quoted_list(to_start)}")
    if to_finish:
        held.append(f"finish {quoted_list(to_finish)}")
    if not held:
        return f"'{summary}' is still open — {tail}"
    return f"We cannot {' or '.join(held)} until '{summary}' is resolved — {tail}"


def scope_creep(milestone: str, keys: Sequence[str], baseline: dt.date) -> str:
    return (
        f"{plural(len(keys), 'ticket')} added to '{milestone}' after the "
        f"{baseline.isoformat()} baseline without a change-order label: {', '.join(keys)}"
    )


def forecast_moved(
    milestone: str, old: dt.date | None, new: dt.date | None, reason: str = ""
) -> str:
    text = f"Forecast for '{milestone}' moved from {_d(old)} to {_d(new)} since the last digest"
    return f"{text}: {reason}." if reason else f"{text}."


def skipped_at_risk(
    milestone: str, old: dt.date | None, new: dt.date | None, reason: str = ""
) -> str:
    text = (
        f"'{milestone}' went from on track straight to delayed since the last digest "
        f"(skipped at-risk): forecast {_d(old)} -> {_d(new)}"
    )
    return f"{text}: {reason}." if reason else f"{text}."


def lateness(days_late: int | None, *, done: bool) -> str:
    """ "6 days late", "2 days early", "on time" (delivered) / "" for an open one on time."""
    if days_late is None:
        return ""
    if days_late > 0:
        return f"{plural(days_late, 'day')} late"
    if days_late < 0:
        return f"{plural(-days_late, 'day')} early" if done else ""
    return "on time" if done else ""


def missed_planned(planned: dt.date) -> str:
    return f"missed its planned date {planned.isoformat()}"


def schedule_performance(spi: float | None) -> str:
    """SPI in words, for clients (the bare acronym is never shown to them)."""
    if spi is None:
        return "schedule performance n/a (nothing was planned to be done yet)"
    return f"schedule performance {spi:.2f} ({spi:.0%} of the work planned by now is done)"


def late_milestones(count: int) -> str:
    return f"{plural(count, 'milestone')} late"


def coming_next(name: str, when: dt.date | None) -> str:
    return f"Coming next: '{name}'" + (f", expected {when.isoformat()}." if when else ".")


def current_phase(phase: str) -> str:
    return f"Current phase: {phase}."


def phase_gate(milestone: str, phase: str, previous: str) -> str:
    return f"Work on '{milestone}' ({phase}) started before '{previous}' was signed off."


def unstorable(refused: Sequence[tuple[str, str]]) -> str:
    """The sync summary's note on tickets the store cannot hold."""
    shown = "; ".join(f"{_short(key)}: {why}" for key, why in refused[:3])
    more = "; ..." if len(refused) > 3 else ""
    return f"skipped {plural(len(refused), 'ticket')} the store cannot hold ({shown}{more})"


def _short(text: str, limit: int = 40) -> str:
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def no_data(client_id: str) -> str:
    return f"no data yet for client {client_id}: run `syncbot sync`"


def stale_source(label: str, last_success: dt.datetime | None, now: dt.datetime) -> str:
    if last_success is None:
        return f"{label} data has never been refreshed successfully."
    return f"{label} data last refreshed {ago(now - last_success)} ago."


def ago(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else "none"


# -- digests (syncbot.render.digest) ---------------------------------------------------------

SECTION_WHERE = "Where we are"
SECTION_MILESTONES = "Milestones"
SECTION_IN_PROGRESS = "In progress"
SECTION_NEEDED_INTERNAL = "Needed from the client"
SECTION_NEEDED_CLIENT = "What we need from you"
SECTION_DATE_CHANGES = "Date changes"
SECTION_WARNINGS = "Warnings"
NO_MILESTONES_INTERNAL = "No milestones configured."
NO_MILESTONES_CLIENT = "No milestones yet."
NOTHING_COMPLETED = "No milestones completed in this period."
NOTHING_IN_PROGRESS = "Nothing in progress."
NOTHING_NEEDED_INTERNAL = "Nothing is waiting on the client."
NOTHING_NEEDED_CLIENT = "Nothing is waiting on you right now."
NO_DATE_CHANGES_INTERNAL = "No forecast dates moved."
NO_DATE_CHANGES_CLIENT = "No dates changed."
NO_WARNINGS = "None."
ALL_DELIVERED = "Every milestone is delivered."
SLIP_REASON_UNKNOWN_CLIENT = "remaining work is taking longer than planned"
SLIP_REASON_UNKNOWN_INTERNAL = "open tickets have no due dates and the planned date has passed"


def completed_since(since: dt.date) -> str:
    return f"Completed since {since.isoformat()}"


def internal_digest_title(client: str, as_of: dt.date) -> str:
    return f"{client} — internal digest, {as_of.isoformat()}"


def client_digest_title(client: str, as_of: dt.date) -> str:
    return f"{client} — project update, {as_of.isoformat()}"


def pushed_by(name: str, end: dt.date) -> str:
    return f"pushed by '{name}' (now {end.isoformat()})"


def waiting_on(summaries: Sequence[str]) -> str:
    return f"waiting on {quoted_list(summaries)}"


# -- milestone metrics and experiments (SPEC §11) -------------------------------------------

SECTION_EXPERIMENTS = "Experiments"
NO_EXPERIMENTS_RUNNING = "No experiment is running."


def metric_number(value: float, target: float) -> str:
    """A metric value with the decimals its target is written with, at least two (0.78 of
    0.80; 0.004 of 0.005), at most six."""
    text = repr(float(target))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 6
    return f"{value:.{min(max(decimals, 2), 6)}f}"


def metric_value(
    label: str, value: float | None, target: float, higher_is_better: bool, met: bool
) -> str:
    """The metric beside a milestone: "F1 0.78 of target 0.80"."""
    goal = metric_number(target, target)
    if value is None:
        text = f"{label} not measured yet (target {goal})"
    else:
        text = f"{label} {metric_number(value, target)} of target {goal}"
    notes = [] if higher_is_better else ["lower is better"]
    if met:
        notes.append("target met")
    return f"{text} ({'; '.join(notes)})" if notes else text


def metric_short_of_target(
    label: str, value: float | None, target: float, higher_is_better: bool
) -> str:
    """The reason of a milestone whose tickets are done but whose metric is not there yet."""
    goal = metric_number(target, target)
    direction = "" if higher_is_better else " (lower is better)"
    if value is None:
        return f"waiting for a first {label} result against its target {goal}{direction}"
    return (
        f"waiting for {label} to reach its target {goal}{direction}: "
        f"best so far {metric_number(value, target)}"
    )


def metric_target_met(milestone: str, metric: str, on: dt.date) -> str:
    """The day a milestone's metric first reached its target: celebrated in the next digest."""
    return f"Target reached for '{milestone}': {metric}, first met {on.isoformat()}"


def metric_regressed(milestone: str, metric: str, run: str | None) -> str:
    """Internal: a done milestone whose metric fell below its target."""
    where = f" (best finished run {run})" if run else ""
    return (
        f"'{milestone}' was done, but its metric no longer meets the target: "
        f"{metric}{where}; it is open again"
    )


def experiment_timebox(
    status: str,
    days_running: int,
    timebox_days: int | None,
    created: dt.date,
    due: dt.date | None,
    completed: dt.date | None,
    overrun: bool,
) -> str:
    """Where an experiment stands against its timebox (created -> due date)."""
    box = (
        f"timebox {plural(timebox_days, 'day')} ({created.isoformat()} -> {due.isoformat()})"
        if timebox_days is not None and due is not None
        else f"no timebox (no due date; started {created.isoformat()})"
    )
    if completed is not None:
        return f"{status} {completed.isoformat()} after {plural(days_running, 'day')}; {box}"
    text = f"{status}, day {days_running}" + (
        f" of {timebox_days}" if timebox_days is not None else ""
    )
    if overrun:
        text += ", past its timebox"
    return f"{text}; {box}"


def experiment_overrun(
    hypothesis: str, key: str, days_running: int, timebox_days: int, due: dt.date
) -> str:
    """Internal warning: an open experiment past its timebox. Ends with the key (linked)."""
    return (
        f"Experiment '{hypothesis}' ran past its {timebox_days}-day timebox "
        f"(due {due.isoformat()}, now day {days_running}) without a result: reassess it "
        f"or stop it: {key}"
    )


def continued(part: int, parts: int) -> str:
    return f"(part {part} of {parts})"


# -- Slack errors (syncbot.slack.posting) ----------------------------------------------------

_SLACK_TOKEN_HINT = "check SYNCBOT_SLACK_BOT_TOKEN (the app's bot token, xoxb-...)"
_SLACK_HINTS = {
    "invalid_auth": _SLACK_TOKEN_HINT,
    "not_authed": _SLACK_TOKEN_HINT,
    "token_revoked": _SLACK_TOKEN_HINT,
    "token_expired": _SLACK_TOKEN_HINT,
    "account_inactive": _SLACK_TOKEN_HINT,
    "channel_not_found": "check the channel id in the config and that the bot can see it",
    "not_in_channel": "invite the bot to the channel: /invite @syncbot",
    "is_archived": "the channel is archived: unarchive it or change the channel id in the config",
    "missing_scope": "reinstall the app from config/slack-app-manifest.yaml to grant its scopes",
    "ratelimited": "Slack is rate limiting: the digest stays queued and is retried later",
    "invalid_blocks": "the message broke Slack's Block Kit rules: please report this bug",
    "msg_too_long": "the message broke Slack's length limit: please report this bug",
    "msg_blocks_too_long": "the message broke Slack's length limit: please report this bug",
}


def slack_error_hint(code: str) -> str:
    hint = _SLACK_HINTS.get(code)
    return f" ({hint})" if hint else ""


# -- posting outcomes (syncbot.slack.outbox, printed by `digest --post`) ---------------------


def period_label(period: dt.datetime) -> str:
    return period.strftime("%Y-%m-%d %H:%M %Z").strip()


def delivery_posted(where: str, count: int, channel: str, period: str, ts: str) -> str:
    return f"{where}: posted {plural(count, 'message')} to {channel} for period {period} (ts {ts})"


def delivery_already(where: str, channel: str, period: str, ts: str) -> str:
    return f"{where}: already posted to {channel} for period {period} (ts {ts}); not posting again"


def delivery_recovered(where: str, channel: str, period: str, ts: str) -> str:
    return (
        f"{where}: found in {channel} for period {period} (ts {ts}), posted by an earlier "
        "run that did not record it; recorded, not posted again"
    )


def delivery_busy(where: str, period: str, until: dt.datetime | None) -> str:
    when = f" until {until.astimezone(dt.UTC):%H:%M:%S} UTC" if until else ""
    return f"{where}: period {period} is being posted by another run (claimed{when}); skipped"


def delivery_pending(where: str, channel: str, period: str, error: str) -> str:
    return (
        f"{where}: NOT POSTED to {channel} for period {period}: {error}. It stays queued and "
        "is retried by the next `digest --post` or scheduled run."
    )


def delivery_corrected(where: str, count: int, channel: str, period: str) -> str:
    return f"{where}: updated {plural(count, 'message')} in {channel} for period {period}"


def delivery_nothing_to_correct(where: str, period: str) -> str:
    return f"{where}: nothing posted for period {period} yet, so nothing to correct"


PART_WITHDRAWN = "(This part of the digest was removed in a correction.)"


# -- the /syncbot slash command (syncbot.slack.commands) -------------------------------------

SUBCOMMANDS = (
    ("status", "overall status: schedule, milestones at risk, open client dependencies"),
    ("milestones", "every milestone with planned, forecast and actual dates"),
    ("blockers", "what is waiting on the client, with due dates and impact"),
    ("digest", "preview the next digest for this channel (only you see it)"),
    ("signoff <phase>", "sign off a project phase (approvers only)"),
    (
        "note <milestone> <text>",
        (
            "set a milestone's client-facing note, its cause and recovery (reviewers only, in "
            "the internal channel; `note <milestone> clear` removes it)"
        ),
    ),
    ("help", "this list"),
)


def slash_help(command: str, *, several_clients: bool = False) -> str:
    lines = [f"*{command}* — project status from syncbot"]
    lines += [f"• `{command} {name}` — {what}" for name, what in SUBCOMMANDS]
    if several_clients:
        lines.append(
            f"This channel serves several clients: add the client id, e.g. `{command} status acme`."
        )
    return "\n".join(lines)


def slash_unknown(word: str, command: str) -> str:
    return f"I don't know `{word}`. Try `{command} help`."


NOT_A_PROJECT_CHANNEL = (
    "I only answer in channels set up for a project, and this is not one of them. "
    "Ask your delivery team to add it to syncbot's configuration."
)
SLASH_WORKING = "Working on it — the answer follows in a moment."
SLASH_STOPPING = "syncbot is restarting: nothing was done. Try again in a minute."
SLASH_FAILED = (
    "Sorry, I could not read the project state just now. The delivery team can find the "
    "details in syncbot's log."
)
DIGEST_PREVIEW = "Preview only: this digest has not been posted."


def slash_no_data(client: str) -> str:
    return (
        f"There is no data for {client} yet: syncbot has not synced its trackers. "
        "Ask again in a few minutes."
    )


def slash_which_client(command: str, sub: str, ids: Sequence[str]) -> str:
    return (
        f"This channel serves several clients ({', '.join(ids)}): say which one, "
        f"e.g. `{command} {sub} {ids[0]}`."
    )


def slash_not_served_here(arg: str, ids: Sequence[str]) -> str:
    return f"`{arg}` is not a client served in this channel (here: {', '.join(ids)})."


def status_title(client: str, as_of: dt.date) -> str:
    return f"{client} — status, {as_of.isoformat()}"


def milestones_title(client: str, as_of: dt.date) -> str:
    return f"{client} — milestones, {as_of.isoformat()}"


def blockers_title(client: str, as_of: dt.date) -> str:
    return f"{client} — waiting on the client, {as_of.isoformat()}"


ATTENTION = "Needs attention"


ALL_ON_TRACK = "Every open milestone is on track."
NO_BLOCKERS = "Nothing is waiting on the client right now."


def open_dependencies(count: int, overdue: int) -> str:
    if not count:
        return NO_BLOCKERS
    text = plural(count, "open client dependency")
    return f"{text}, {overdue} overdue" if overdue else text


def signoff_not_approver(client: str) -> str:
    return (
        f"Only the approvers configured for {client} can sign off phases. Ask your delivery "
        "lead if you should be one."
    )


def signoff_unknown_phase(given: str, phases: Sequence[str]) -> str:
    return f"There is no phase called '{given}'. Phases: {quoted_list(phases)}."


def signoff_which_phase(command: str, phases: Sequence[str]) -> str:
    return (
        f"Say which phase to sign off: `{command} signoff <phase>`. Phases: {quoted_list(phases)}."
    )


def signoff_recorded(phase: str, at: dt.date) -> tuple[str, str]:
    """The words around the signer's mention."""
    return f"Phase '{phase}' signed off by ", f" on {at.isoformat()}."


def signoff_already(phase: str, at: dt.date) -> tuple[str, str]:
    return f"Phase '{phase}' was already signed off by ", f" on {at.isoformat()}."


# -- the daemon (syncbot.daemon) -------------------------------------------------------------


def serving(host: str, port: int, routes: Sequence[str], *, socket_mode: bool) -> str:
    """The line `syncbot run` prints once it listens; `routes` like "POST /slack/events"."""
    served = ", ".join(routes) or "no Slack endpoint"
    mode = "; Slack Socket Mode connected" if socket_mode else ""
    return f"syncbot: listening on http://{host}:{port} ({served}){mode}"


def _utc(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def stale_alert(
    client: str,
    label: str,
    source: str,
    last_success: dt.datetime | None,
    now: dt.datetime,
    every_minutes: int,
    error: str | None,
) -> str:
    """Posted once per staleness episode to the internal channel."""
    if last_success is None:
        when = f"{label} data for {client} has never been refreshed successfully"
    else:
        when = (
            f"{label} data for {client} was last refreshed {ago(now - last_success)} ago "
            f"({_utc(last_success)})"
        )
    text = (
        f":warning: {when}: source `{source}` is stale. Digests say so until it recovers; "
        f"syncbot keeps trying every {plural(every_minutes, 'minute')}."
    )
    if error:
        text += f" Last error: {error}"
    return text


def stale_recovered(
    client: str, label: str, source: str, since: dt.datetime | None, refreshed: dt.datetime
) -> str:
    """The short all-clear after a staleness alert."""
    was = f"; the refresh before was {_utc(since)}" if since else ""
    return (
        f":white_check_mark: {label} data for {client} is fresh again (source `{source}` "
        f"refreshed {_utc(refreshed)}{was})."
    )


# -- the milestone trend chart (syncbot.render.chart) and client page (syncbot.render.page) --

TREND_X_LABEL = "Report date"
TREND_Y_LABEL = "Milestone date"
TREND_SUBTITLE = "Forecast at each report (actual once done). Flat: on plan. Rising: slipping."
TREND_PLANNED = "Planned date"
TREND_DIAGONAL = "Report date = milestone date"
TREND_NO_REPORTS = "No reports yet: the chart fills in as syncbot syncs."
TREND_ONE_REPORT = "One report so far: the trend shows from the second one."
CHART_FALLBACK = "Milestone trend chart"


def trend_title(client: str) -> str:
    return f"Milestone trend — {client}"


def trend_alt(client: str, reports: int, milestones: int, first: str, last: str) -> str:
    """The chart's alternative text (Slack's alt_txt, the page's img alt)."""
    return (
        f"Milestone trend chart for {client}: {plural(milestones, 'milestone')} over "
        f"{plural(reports, 'report')} from {first} to {last}; report date across, each "
        "milestone's expected date up, one line per milestone, planned dates marked."
    )


def chart_file_title(client: str, as_of: dt.date) -> str:
    return f"Milestone trend — {client}, {as_of.isoformat()}"


def delivery_chart(line: str) -> str:
    """A delivery line whose entry also carried the trend chart."""
    return f"{line}; with the trend chart"


def delivery_chart_only(where: str, channel: str, period: str) -> str:
    return f"{where}: shared the trend chart in {channel} for period {period}"


CHART_SETTLING = (
    "the trend chart may have been shared by a run that died; waiting for Slack to show it "
    "before sharing it again"
)

PAGE_NOW = "Where the project stands"
PAGE_CURRENT_PHASE = "Current phase"
PAGE_FORECAST_WORD = "forecast"
PAGE_OVERDUE = " (overdue)"
PAGE_NO_DATA = "There is no project data here yet. Please check again later."
NOT_FOUND_TITLE = "Link not valid"
PAGE_NEXT = "Next milestone"
PAGE_NONE = "—"
PAGE_TREND = "Milestone trend"
PAGE_TABLE_CAPTION = "Every milestone: planned, forecast and actual dates, status"
PAGE_COLUMNS = ("Milestone", "Planned", "Forecast", "Actual", "Status")
PAGE_ACCEPTANCE = "Accepted when"
PAGE_NOTE = "Note"
PAGE_NEEDED_BY = "needed by"
PAGE_OWNER = "owner"
PAGE_FOOTER = "This page is private to you. Please don't forward its link."
NOT_FOUND_PAGE = (
    "This link is not valid. It may have expired or been revoked: ask your delivery team for "
    "a new one."
)


def page_title(client: str) -> str:
    return f"{client} — project status"


def page_as_of(as_of: dt.date) -> str:
    return f"As of {as_of.isoformat()}"


def page_missed(planned: dt.date) -> str:
    return f"missed its planned date {planned.isoformat()}"


def page_expires(expires: dt.datetime) -> str:
    return f"This link expires {_utc(expires)}."


# -- `syncbot share` ------------------------------------------------------------------------


def share_created(client: str, expires: dt.datetime) -> str:
    return (
        f"link to {client}'s page, expires {_utc(expires)}; shown once (syncbot keeps only "
        "its hash): revoke it with `syncbot share --client ID --revoke TOKEN`"
    )


SHARE_NO_PUBLIC_URL = (
    "note: SYNCBOT_PUBLIC_URL is not set: put the address where `syncbot run` is reached "
    "(e.g. https://syncbot.example.com) in front of the path above, or set it"
)


def share_row(link_id: str, created: dt.datetime, expires: dt.datetime, last_used: str) -> str:
    return f"{link_id}  created {_utc(created)}  expires {_utc(expires)}  last used {last_used}"


def share_revoked(count: int, client: str) -> str:
    return f"revoked {plural(count, 'link')} of {client}"


def share_not_found(client: str) -> str:
    return f"no such link for client {client} (give the token, its URL, or the id `--list` shows)"


# -- alerts (syncbot.rules.alerts, rendered by syncbot.render.alerts) -------------------------


def status_change(milestone: str, old: str, new: str) -> str:
    return f"'{milestone}' went from {STATUS_LABEL[old].lower()} to {STATUS_LABEL[new].lower()}"


def missed_change(milestone: str, planned: dt.date) -> str:
    return f"'{milestone}' {missed_planned(planned)}"


def forecast_change(milestone: str, old: dt.date, new: dt.date) -> str:
    return (
        f"'{milestone}' is now expected {new.isoformat()} instead of {old.isoformat()} "
        f"({plural((new - old).days, 'day')} later)"
    )


def dependency_overdue_change(summary: str, due: dt.date | None) -> str:
    when = f" (due {due.isoformat()})" if due else ""
    return f"client dependency '{summary}' is overdue{when}"


def escalation_change(summary: str, late: int, after: int) -> str:
    return (
        f"client dependency '{summary}' has been overdue for {plural(late, 'day')} "
        f"(escalation after {plural(after, 'day')})"
    )


ALERT_HEADSUP = "Draft client heads-up"
REVIEW_SEND = "Send to client"
REVIEW_SKIP = "Skip"

DRAFT_MARK = "Draft for the client channel"
SECTION_HEADSUP = "What changed"


def draft_note(where: str) -> str:
    return (
        f"{DRAFT_MARK} ({where}): nothing is sent until a reviewer presses "
        f"{REVIEW_SEND!r}; {REVIEW_SKIP!r} sends nothing."
    )


def headsup_title(client: str, milestone: str) -> str:
    return f"{client} — an update on '{milestone}'"


def headsup_summary() -> str:
    return "We want you to hear this from us today, not at the next project update."


ACTION_UNKNOWN = "I don't know that button."
REVIEW_UNKNOWN = "This draft is no longer known to syncbot: nothing was sent."
REVIEW_NOT_REVIEWER = (
    "Only this client's reviewers, in the agency's own workspace, can send or skip its drafts. "
    "Nothing was changed."
)
REVIEW_NO_TOKEN = "syncbot cannot post right now (no bot token is set): nothing was sent."
REVIEW_NOT_YET = (
    "Slack did not take the post just now: it stays queued and syncbot retries it shortly."
)
REVIEW_SENT = "Sent to the client."
REVIEW_SKIPPED = "Skipped: nothing was sent to the client."


def awaiting_review(client_id: str, internal: str, client_channel: str) -> str:
    return (
        f"{client_id}/client: the draft waits in {internal} for a reviewer; nothing is posted "
        f"to {client_channel} until one presses 'Send to client'"
    )


def correction_decided(client_id: str, state: str) -> str:
    done = {
        "sent": "was sent to the client after review",
        "releasing": "is being sent to the client",
        "skipped": "was skipped by a reviewer",
        "superseded": "was replaced by a newer draft",
    }.get(state, "was decided by a reviewer")
    return (
        f"{client_id}: this period's client digest {done}; a correction would change what "
        "the client reads without review: draft a client heads-up from the alert instead"
    )


REVIEW_SUPERSEDED = "A newer draft replaced this one: its buttons no longer act."
HEADSUP_NOTHING = "There is nothing to tell the client about this milestone right now."
HEADSUP_DRAFTED = "Drafted a heads-up for the client below: review it, then send or skip it."

NOTE_USAGE = "Say which milestone and what to note: `/syncbot note 3.1 <text>` or `note 3.1 clear`."
NOTE_INTERNAL_ONLY = "Notes are set in the agency's internal channel of the client, not here."


def note_not_reviewer(client: str) -> str:
    return f"Only {client}'s reviewers can set the notes its client reads. Nothing was changed."


def note_unknown_milestone(given: str, ids: Sequence[str]) -> str:
    return f"There is no milestone '{given}' (milestones: {', '.join(ids)}). Nothing was changed."


def note_set(milestone: str) -> str:
    return f"Note set on milestone {milestone}: both audiences see it with the milestone."


def note_cleared(milestone: str) -> str:
    return f"Note on milestone {milestone} cleared."
