"""Benchmark: sync N recorded Jira tickets into the store and compute status, printing figures.

Run with `make bench` (N defaults to 20000; `python bench/bench_pipeline.py 50000`). It writes
a synthetic export in the real `search/jql` page format to a temporary folder, so the figures
cover JSON parsing, translation, the SQLite store and the rules end to end.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.render.views import status_document
from syncbot.settings import Settings
from syncbot.store import Store

PAGE = 100
MILESTONES = 40


def write_export(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for page_no, start in enumerate(range(0, n, PAGE), start=1):
        issues = []
        for i in range(start, min(start + PAGE, n)):
            done = i % 3 == 0
            fields = {
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
                "parent": {"key": f"BEN-E{i % MILESTONES}"},
                "issuelinks": [{"type": {"name": "Blocks"}, "inwardIssue": {"key": "BEN-500"}}]
                if i % 97 == 0
                else [],
                "description": {
                    "type": "doc",
                    "version": 1,
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "x" * 200}]}
                    ],
                },
            }
            issues.append({"key": f"BEN-{i}", "fields": fields})
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
        [report] = app.sync(client.id).reports
        synced = time.perf_counter() - started
        started = time.perf_counter()
        [report2] = app.sync(client.id).reports
        resynced = time.perf_counter() - started
        started = time.perf_counter()
        state = app.state(client.id, as_of=dt.date(2026, 3, 10))
        status_document(app.view(client.id, "internal", as_of=state.as_of), "internal")
        computed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"tickets: {report.fetched} in {report.pages} pages (skipped {report.skipped})")
        print(f"first sync:   {synced:6.2f} s  ({report.fetched / synced:,.0f} tickets/s)")
        print(f"re-sync same: {resynced:6.2f} s  (idempotent: {report2.stored} stored)")
        print(
            f"status:       {computed:6.2f} s  ({len(state.milestones)} milestones, "
            f"{len(state.dependencies)} dependencies)"
        )
        print(f"peak RSS:     {peak_mb:6.0f} MB")
        store.close()


if __name__ == "__main__":
    main()
