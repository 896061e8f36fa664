"""The slow tracker of `bench_scale.py`: the fake Jira Cloud of tests/servers/jira.py, seeded
with the synthetic tickets of `bench_pipeline.ticket_fields`, in a process of its own.

A process of its own, so that rendering pages (and the GIL that takes) is not charged to the
requests the benchmark times, nor to the daemon on this 2-core machine more than a real
tracker's network latency would be. `Tracker` is the handle of the benchmark: the URL, a
switch for the per-page delay (`slow`, FakeServer's fault), and what the searches are doing
now (`activity`: per project, the searches in flight and when the last one ended, on the
system-wide monotonic clock), which tells whether a sync is in progress.

`cache=True` keeps each distinct search answer once rendered: the daemon's full syncs ask
the same pages again and again, and the fake need not spend the CPU the benchmark measures
the daemon by. Row 8 (syncbot against a naive script) runs without it, so both pay the same.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

ROOT = Path(__file__).resolve().parents[1]
for extra in (str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")):
    if extra not in sys.path:
        sys.path.insert(0, extra)

from bench_pipeline import MILESTONES, ticket_fields  # noqa: E402
from servers.base import Request, Response  # noqa: E402
from servers.jira import EMAIL, TOKEN, FakeJira, at  # noqa: E402

__all__ = ["EMAIL", "TOKEN", "Tracker"]
_PROJECT = re.compile(r'project\s*=\s*"?([A-Z0-9]+)"?', re.IGNORECASE)


class BenchJira(FakeJira):
    """FakeJira that records search activity per project and can keep rendered answers."""

    def __init__(self, *, cache: bool) -> None:
        super().__init__("cloud", projects=())
        self.cache = cache
        self._answers: dict[str, Response] = {}
        self._activity: dict[str, list[float]] = {}  # project -> [in flight, last end]
        self._busy = threading.Lock()

    def seed(self, projects: Sequence[str], per_project: int) -> None:
        updated = at(2026, 3, 1, 10)
        done = at(2026, 2, 10, 10)
        for n, project in enumerate(projects):
            for i in range(per_project):
                fields = ticket_fields(i, project, MILESTONES)
                history = [(done, "In Progress", "Done")] if i % 3 == 0 else []
                issue = self.add(
                    f"{project}-{i}",
                    updated=updated,
                    category=fields["status"]["statusCategory"]["key"],
                    history=history,
                )
                issue["fields"].update(fields)
                issue["id"] = str(100_000 * (n + 1) + i)  # unique across projects

    def _serve(self, handler: Any) -> None:
        project = None
        if "/search" in handler.path:
            found = _PROJECT.search(unquote_plus(handler.path))
            project = found.group(1).upper() if found else "?"
        if project is None:
            super()._serve(handler)
            return
        with self._busy:
            self._activity.setdefault(project, [0, 0.0])[0] += 1
        try:
            super()._serve(handler)
        finally:
            with self._busy:
                entry = self._activity[project]
                entry[0] -= 1
                entry[1] = time.monotonic()

    def handle(self, request: Request) -> Response:
        if not self.cache or "/search" not in request.path:
            return super().handle(request)
        key = json.dumps([request.method, request.path, sorted(request.query.items())])
        key += request.body.decode("utf-8", "replace")
        answer = self._answers.get(key)
        if answer is None:
            answer = super().handle(request)
            if answer.status == 200:
                self._answers[key] = answer
        return answer

    def activity(self) -> dict[str, tuple[int, float]]:
        with self._busy:
            return {p: (int(v[0]), v[1]) for p, v in self._activity.items()}


def _serve(conn: Connection, projects: list[str], per_project: int, cache: bool) -> None:
    jira = BenchJira(cache=cache)
    jira.seed(projects, per_project)
    jira.start()
    conn.send(jira.url)
    try:
        while True:
            command, *args = conn.recv()
            if command == "slow":
                jira.clear_faults()
                if args[0]:
                    jira.slow(float(args[0]), path="/search")
                conn.send(None)
            elif command == "activity":
                conn.send(jira.activity())
            elif command == "searches":
                conn.send(jira.count("/search"))
            elif command == "crashes":
                conn.send(list(jira.crashes))
            else:
                conn.send(None)
                return
    finally:
        jira.stop()


class Tracker:
    """A BenchJira in a child process (spawned: the parent may already run threads)."""

    def __init__(self, projects: Sequence[str], per_project: int, *, cache: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._lock = threading.Lock()
        self.process = context.Process(
            target=_serve, args=(child, list(projects), per_project, cache), daemon=True
        )
        self.process.start()
        child.close()
        deadline = time.monotonic() + 300
        while not self._conn.poll(0.2):
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the fake Jira did not start (exit {self.process.exitcode})")
        self.url: str = self._conn.recv()

    def _ask(self, *command: Any) -> Any:
        with self._lock:
            self._conn.send(command)
            return self._conn.recv()

    def slow(self, seconds: float | None) -> None:
        """Answer every search page after `seconds` (None: at once)."""
        self._ask("slow", seconds)

    def activity(self) -> dict[str, tuple[int, float]]:
        """Project -> (searches in flight, time.monotonic() the last one ended)."""
        result: dict[str, tuple[int, float]] = self._ask("activity")
        return result

    def syncing(self, quiet: float = 1.5) -> set[str]:
        """Projects a sync is reading now: a search in flight, or one ended < `quiet` s ago
        (the next page of a sync follows its previous one at once)."""
        now = time.monotonic()
        return {p for p, (live, last) in self.activity().items() if live or now - last < quiet}

    def searches(self) -> int:
        result: int = self._ask("searches")
        return result

    def crashes(self) -> list[str]:
        result: list[str] = self._ask("crashes")
        return result

    def close(self) -> None:
        if self.process.is_alive():
            try:
                self._ask("stop")
            except (OSError, EOFError):
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(10)
