"""Real `syncbot run` processes for tests and the failover benchmark, and fresh PostgreSQL
schemas for them.

`Daemon` starts `syncbot run` through a wrapper that shifts the process's clock by a fixed
offset (time-machine, ticking), so several processes share one fake "now" and a cron fire
comes within seconds. `fresh_schema` makes an empty schema and yields a URL whose
search_path points at it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = """
import datetime as dt, sys, time_machine
shift = dt.timedelta(seconds=float(sys.argv[1]))
time_machine.travel(dt.datetime.now(dt.UTC) + shift, tick=True).start()
from syncbot.cli import main
raise SystemExit(main(["run"]))
"""
T = TypeVar("T")


class TimedOut(AssertionError):
    pass


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; TimedOut after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimedOut(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def shift_to(fake_now: dt.datetime) -> float:
    """The clock offset (seconds) that makes "now" `fake_now` for processes started with it."""
    return (fake_now - dt.datetime.now(dt.UTC)).total_seconds()


class Daemon:
    """One `syncbot run` process; stderr goes to a file (a pipe left unread would fill up)."""

    def __init__(self, name: str, shift: float, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", WRAPPER, repr(shift)],
                env={**env, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.url = wait_for(f"{name} to listen", self._listening)

    def _listening(self) -> str | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.output()}")
        found = re.search(r"^syncbot: listening on (http://\S+)", self.output(), re.MULTILINE)
        return found.group(1) if found else None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict[str, Any]]:
        """The JSON log records (every line but the `listening on` one)."""
        out = []
        for line in self.output().splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def request(
        self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        request = urllib.request.Request(
            self.url + path, data=body, headers=headers or {}, method="POST" if body else "GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def health(self) -> dict[str, Any]:
        _, body = self.request("/healthz")
        doc: dict[str, Any] = json.loads(body)
        return doc

    def leading(self) -> dict[str, Any] | None:
        doc = self.health()
        return doc if doc.get("leader") is True else None

    def following(self) -> dict[str, Any] | None:
        doc = self.health()
        return doc if doc.get("leader") is False and doc.get("leader_id") else None

    def sigterm(self) -> float:
        """SIGTERM; how long the process took to exit (it must exit 0)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        assert code == 0, f"{self.name} exited {code}:\n{self.output()[-3000:]}"
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=20)


@contextlib.contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """An empty PostgreSQL schema on `base` (a database URL); yields the URL that uses it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def environment(**values: str) -> dict[str, str]:
    """The process environment: this one without SYNCBOT_*/SLACK_*, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCBOT_", "SLACK_"))}
    return {**env, **values}
