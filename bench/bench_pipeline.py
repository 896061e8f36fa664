"""Benchmark: sync N recorded Jira tickets into the store and compute status, printing figures;
then draw the milestone trend chart of a 10-milestone, 26-report client (SPEC §9: < 1 s).

Run with `make bench` (N defaults to 20000; `python bench/bench_pipeline.py 50000`). It writes
a synthetic export in the real `search/jql` page format to a temporary folder, so the figures
cover JSON parsing, translation, the SQLite store and the rules end to end. The chart figure
is the median of five draws after a first one (which also pays for importing matplotlib,
shown separately).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.render.trend import Trend, TrendMilestone, TrendPoint
from syncbot.render.views import status_document
from syncbot.rules.state import compute_state
from syncbot.settings import Settings
from syncbot.store import Store

PAGE = 100
MILESTONES = 40


def ticket_fields(i: int, project: str = "BEN", milestones: int = MILESTONES) -> dict[str, Any]:
    """The raw Jira fields of synthetic ticket `i`: a third done, every 500th a client
    dependency, every 97th blocked by ticket 500 of its project, a 200-character description."""
    done = i % 3 == 0
    return {
        "summary": f"Ticket {i}",
        "status": {
            "name": "Done" if done else "In Progress",
            "statusCategory": {"key": "done" if done else "indeterminate"},
        },
        "resolution": {"name": "Done"} if done else None,
        "resolutiondate": "2026-02-10T10:00:00.000-0600" if done else None,
        "created": "2026-01-05T10:00:00.000-0600",
        "updated": f"2026-03-01T10:{i % 60:02d}:00.000-0600",
        "duedate": f"2026-03-{1 + i % 28:02d}",
        "labels": ["client-dependency"] if i % 500 == 0 else ["backend"],
        "parent": {"key": f"{project}-E{i % milestones}"},
        "issuelinks": [{"type": {"name": "Blocks"}, "inwardIssue": {"key": f"{project}-500"}}]
        if i % 97 == 0
        else [],
        "description": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x" * 200}]}],
        },
    }


def write_export(
    folder: Path, n: int, *, project: str = "BEN", milestones: int = MILESTONES
) -> None:
    """N synthetic tickets of `project` as recorded `search/jql` pages of PAGE issues."""
    folder.mkdir(parents=True)
    for page_no, start in enumerate(range(0, n, PAGE), start=1):
        issues = [
            {"key": f"{project}-{i}", "fields": ticket_fields(i, project, milestones)}
            for i in range(start, min(start + PAGE, n))
        ]
        (folder / f"page-{page_no}.json").write_text(json.dumps({"issues": issues}))


def write_config(root: Path) -> Path:
    lines = [
        "[[clients]]",
        'id = "bench"',
        'name = "Bench"',
        'internal_channel = "C1"',
        'client_channel = "C2"',
        'timezone = "UTC"',
        "baseline = 2026-01-09",
        'reviewers = ["U0LEAD"]',
        "[[clients.sources]]",
        'kind = "jira-export"',
        'path = "export/page-*.json"',
    ]
    for m in range(MILESTONES):
        lines += [
            "[[clients.milestones]]",
            f'id = "m{m}"',
            f'name = "Milestone {m}"',
            'phase = "Build"',
            f"planned = 2026-03-{1 + m % 28:02d}",
            f'match = {{ epic = "BEN-E{m}" }}',
        ]
    path = root / "syncbot.toml"
    path.write_text("\n".join(lines))
    return path


def chart_trend(milestones: int = 10, reports: int = 26) -> Trend:
    """A year of fortnightly reports: some milestones slip, some finish, some wait."""
    first = dt.date(2025, 3, 3)
    days = tuple(first + dt.timedelta(weeks=2 * r) for r in range(reports))
    rows = []
    for m in range(milestones):
        planned = first + dt.timedelta(weeks=5 * (m + 1))
        series = []
        for r, day in enumerate(days):
            slip = dt.timedelta(days=(m % 3) * r)
            date, status = planned + slip, ("on_track", "at_risk", "delayed")[m % 3]
            if day >= date:
                date, status = min(date, day), "done"
            series.append(TrendPoint(day, date, status))
        rows.append(
            TrendMilestone(f"{m + 1}.1", f"Milestone {m + 1} of the bench", planned, tuple(series))
        )
    return Trend("bench", "Bench", "client", days, tuple(rows))


def chained(loaded_client: Any, chain: int) -> Any:
    """The same client with its milestones in finish-to-start chains of `chain`."""
    milestones = [
        m.model_copy(update={"after": [f"m{n - 1}"] if n % chain else []})
        for n, m in enumerate(loaded_client.milestones)
    ]
    return loaded_client.model_copy(update={"milestones": milestones})


def rules_figures(app: Syncbot, client: Any, as_of: dt.date) -> None:
    """SPEC §4 v2 predecessors cost: the rules over the same tickets with and without
    10-milestone `after` chains (issue: within 10% of the status time without them)."""
    tickets = app.tickets(client)
    with_chains = chained(client, 10)
    for label, config in (("without chains", client), ("10-milestone chains", with_chains)):
        best = min(
            _timed(lambda c=config: compute_state(c, tickets, as_of=as_of)) for _ in range(5)
        )
        print(f"rules, {label}: {best * 1000:7.1f} ms for {len(tickets)} tickets")


def rules_agency(app: Syncbot, client: Any, as_of: dt.date) -> None:
    """SPEC §4 v2 at an agency's size (issue 10): 40,000 tickets in 50 clients of 800, each
    with 40 milestones in 10-milestone chains or none; rules only, summed over the clients;
    and 25 clients (20,000 tickets) beside it, for the ratio."""
    tickets = app.tickets(client)
    with_chains = chained(client, 10)

    def agency(n: int) -> list[list[Any]]:
        out = []
        for k in range(n):
            start = (k * 400) % len(tickets)
            picked = (tickets[start:] + tickets[:start])[:800]
            out.append([_renamed(t, f"C{k}") for t in picked])
        return out

    figures = {}
    for n in (25, 50):
        clients = agency(n)
        for label, config in (("none", client), ("chains", with_chains)):
            figures[n, label] = min(
                _timed(
                    lambda c=config, cs=clients: [compute_state(c, ts, as_of=as_of) for ts in cs]
                )
                for _ in range(3)
            )
    plain, chains = figures[50, "none"], figures[50, "chains"]
    print(
        f"rules, 50 clients x 800 (40,000 tickets): {plain * 1000:.0f} ms without chains, "
        f"{chains * 1000:.0f} ms with 10-milestone chains ({(chains / plain - 1) * 100:+.0f}%); "
        f"40k / 20k = {chains / figures[25, 'chains']:.2f}"
    )


def _renamed(ticket: Any, prefix: str) -> Any:
    """`ticket` of another client: its key and its links' keys prefixed (epics stay)."""
    return dataclasses.replace(
        ticket,
        key=f"{prefix}-{ticket.key}",
        blocked_by=tuple(f"{prefix}-{k}" for k in ticket.blocked_by),
        blocks=tuple(f"{prefix}-{k}" for k in ticket.blocks),
    )


def _timed(work: Any) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bench_chart() -> None:
    from syncbot.render import chart

    trend = chart_trend()
    started = time.perf_counter()
    chart.png(trend)
    first = time.perf_counter() - started
    times = []
    for _ in range(5):
        started = time.perf_counter()
        data = chart.png(trend)
        times.append(time.perf_counter() - started)
    median = sorted(times)[len(times) // 2]
    print(
        f"trend chart:  {median:6.2f} s  (10 milestones, 26 reports, {len(data) // 1024} KB PNG; "
        f"first draw with the matplotlib import {first:.2f} s)"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_export(root / "export", n)
        loaded = load_config(write_config(root))
        client = loaded.config.clients[0]
        store = Store(f"sqlite:///{root / 'state.db'}")
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        now = lambda: dt.datetime.now(dt.UTC)  # noqa: E731 - a clock for the composition root
        app = Syncbot(loaded, settings, store, now)
        started = time.perf_counter()
        [report] = app.sync(client.id, as_of=dt.date(2026, 3, 10)).reports
        synced = time.perf_counter() - started
        started = time.perf_counter()
        [report2] = app.sync(client.id, as_of=dt.date(2026, 3, 10)).reports
        resynced = time.perf_counter() - started
        fresh = Syncbot(loaded, settings, store, now)  # status from the store, as the CLI does
        started = time.perf_counter()
        view = fresh.view(client.id, "internal", as_of=dt.date(2026, 3, 10))
        status_document(view, "internal")
        computed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"tickets: {report.fetched} in {report.pages} pages (skipped {report.skipped})")
        print(f"first sync:   {synced:6.2f} s  ({report.fetched / synced:,.0f} tickets/s)")
        print(f"re-sync same: {resynced:6.2f} s  (idempotent: {report2.stored} stored)")
        print(
            f"status:       {computed:6.2f} s  ({len(view.milestones)} milestones, "
            f"{len(view.dependencies)} dependencies)"
        )
        print(f"peak RSS:     {peak_mb:6.0f} MB")
        rules_figures(app, client, dt.date(2026, 3, 10))
        rules_agency(app, client, dt.date(2026, 3, 10))
        store.close()
    bench_chart()


if __name__ == "__main__":
    main()
