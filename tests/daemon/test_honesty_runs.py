"""SPEC §4 honesty rules over a sequence of digests posted by the daemon's jobs to the fake
Slack: each is judged against the last digest *posted* to that audience.

Weekly internal and client digests (Monday 09:00 America/Chicago) for acme, synced from the
recorded Jira pages before each one:

    week 1  2026-03-09  everything on track: nothing to announce
    week 2  2026-03-16  1.1's forecast moved 03-18 -> 03-24; 2.1 went on track -> delayed
                        (skipped at-risk) and started before 'Data Preparation' was signed
                        off (phase gate); two tickets were added to 1.1 after the baseline,
                        one without a change-order label (scope creep)
    week 3  2026-03-23  nothing moved since week 2; 'Data Preparation' signed off by the
                        approver with `/syncbot signoff`: no more phase gate warning
    week 4  2026-03-30  a move shown only in an unposted preview and moved back: not announced
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import time_machine
from daemon_support import APPROVER, MONDAY, WEEK, Clock, Project, digest_key, readable, texts
from servers.slack import FakeSlack

from syncbot import messages
from syncbot.cli import main
from syncbot.daemon import Daemon
from syncbot.slack.commands import Commands, SlashRequest

M11, M21, M31 = "Data pipeline operational", "Model trained", "Model in staging"


@dataclass
class Run:
    project: Project
    slack: FakeSlack
    clock: Clock
    daemon: Daemon

    def week(self, n: int) -> tuple[str, str]:
        """Sync Monday 08:55 and post both digests at 09:00:10 of week `n` (1-based);
        return what this week's internal and client digests said."""
        monday = MONDAY + (n - 1) * WEEK
        self.clock.set(monday - dt.timedelta(minutes=5))
        self.daemon.sync("acme")
        self.clock.set(monday + dt.timedelta(seconds=10))
        for audience in ("internal", "client"):
            [result] = self.daemon.digest("acme", audience)
            assert result.outcome == "posted", result.line()
        digests = [
            readable(m)
            for m in self.slack.posts("CINT")
            if ":internal:" in (digest_key(m) or "")  # the same-day alerts post there too
        ]
        internal, client = digests[-1], texts(self.slack, "CACME")[-1]
        assert len(digests) == n and len(texts(self.slack, "CACME")) == n
        return internal, client


@pytest.fixture
def run(project: Project, slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    project.write_config(client_digest_every_weeks=1)
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", project.db_url)  # for `syncbot digest` previews
    clock = Clock(MONDAY)
    yield Run(project, slack, clock, project.daemon(clock))


def moved(name: str, old: str, new: str) -> str:
    """The announcement's words before its reason (every date change gives one)."""
    text = messages.forecast_moved(name, dt.date.fromisoformat(old), dt.date.fromisoformat(new))
    return text.removesuffix(".") + ":"


def skipped(name: str, old: str, new: str) -> str:
    text = messages.skipped_at_risk(name, dt.date.fromisoformat(old), dt.date.fromisoformat(new))
    return text.removesuffix(".") + ":"


def test_each_honesty_rule_is_judged_against_the_last_posted_digest(run: Run) -> None:
    internal, client = run.week(1)
    for text in (internal, client):
        assert "moved from" not in text and "skipped at-risk" not in text
    assert "phase_gate" not in internal and "scope_creep" not in internal

    run.project.edit("ACME-11", duedate="2026-03-24")
    run.project.edit(
        "ACME-21",
        duedate="2026-04-10",
        status={"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
    )
    run.project.add("ACME-12", "ACME-10", created="2026-03-10T10:00:00.000-0500")
    run.project.add(
        "ACME-13", "ACME-10", created="2026-03-11T10:00:00.000-0500", labels=["change-order"]
    )
    internal, client = run.week(2)

    # Forecast moves, old -> new, in both digests (the client in the same plain words), each
    # with its reason.
    assert moved(M11, "2026-03-18", "2026-03-24") + " remaining work" in client
    assert moved(M11, "2026-03-18", "2026-03-24") in internal
    # On track straight to delayed between two posted digests: called out in both, and that
    # one line is the milestone's only date-change line (no second "moved" line for it).
    jumped = skipped(M21, "2026-03-25", "2026-04-10")
    assert jumped in internal and jumped in client
    assert moved(M21, "2026-03-25", "2026-04-10") not in internal + client
    assert "skipped at-risk" not in (internal + client).replace(jumped, "")  # only 2.1
    # Phase gate and scope creep: internal warnings only.
    gate = messages.phase_gate(M21, "Modelling", "Data Preparation")
    assert f"[phase_gate] {gate}" in internal and gate not in client
    creep = messages.scope_creep(M11, ["ACME-12"], dt.date(2026, 1, 9))
    assert f"[scope_creep] {creep}" in internal
    assert "ACME-13" not in internal  # added under a change order: agreed scope
    assert "scope" not in client and "ACME-" not in client

    reply = Commands(run.daemon.app).handle(
        SlashRequest("/syncbot", "signoff Data Preparation", "CACME", APPROVER)
    )
    assert "signed off by" in reply.messages[0]["text"]
    internal, client = run.week(3)
    # Nothing moved since the week-2 digest: nothing announced, although week 1 differs.
    for text in (internal, client):
        assert "moved from" not in text and "skipped at-risk" not in text
    assert "phase_gate" not in internal  # signed off
    assert f"[scope_creep] {creep}" in internal  # still true, still said

    # Tuesday: 3.1 slips in the tracker and a preview (not posted) shows it; Wednesday it is
    # back. The week-4 digest compares with what week 3 *told*, so there is nothing to say.
    run.project.edit("ACME-31", duedate="2026-04-20")
    tuesday = MONDAY + 3 * WEEK + dt.timedelta(days=1)
    run.clock.set(tuesday)
    run.daemon.sync("acme")
    with time_machine.travel(tuesday, tick=False):
        assert main(["digest", "--config", str(run.project.config), "--client", "acme"]) == 0
    run.project.edit("ACME-31", duedate="2026-04-08")
    internal, client = run.week(4)
    assert f"Forecast for '{M31}'" not in internal + client
    # (1.1 did move: ACME-11, due 03-24, is past due at 03-30. That is announced.)
    assert moved(M11, "2026-03-24", "2026-03-30") in internal


def test_the_preview_in_between_did_show_the_move(
    run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart of week 4 above: an unposted preview does announce the move (relative
    to the last posted digest), so its absence in the posted digest is the rule at work."""
    run.week(1)
    run.project.edit("ACME-31", duedate="2026-04-20")
    tuesday = MONDAY + dt.timedelta(days=1)
    run.clock.set(tuesday)
    run.daemon.sync("acme")
    capsys.readouterr()
    with time_machine.travel(tuesday, tick=False):
        assert main(["digest", "--config", str(run.project.config), "--client", "acme"]) == 0
    # On track (04-08, planned 04-10) to delayed (04-20): the skipped at-risk line says it.
    assert skipped(M31, "2026-04-08", "2026-04-20") in capsys.readouterr().out
