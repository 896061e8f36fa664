"""`digest --post` inside the repeated autumn hour ends, posts once per wall-clock fire, and
says "already posted" an hour later when the same wall time comes round again (a real
process, so a search that loops would fail on its timeout instead of hanging the suite)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from slack_env import Env

ROOT = Path(__file__).resolve().parents[2]
ARGS = ("digest", "--client", "mrk", "--post", "--audience", "internal")
SCRIPT = (
    "import sys, datetime as dt, time_machine\n"
    "from syncbot.cli import main\n"
    "with time_machine.travel(dt.datetime.fromisoformat(sys.argv[1]), tick=False):\n"
    "    sys.exit(main(sys.argv[2:]))\n"
)


def post(at: dt.datetime) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, at.isoformat(), *ARGS],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("cron", "then"),
    [
        ("30 1 * * *", "already posted"),
        # Every minute: 01:59 CDT was the last new wall-clock minute, a period of its own.
        ("* * * * *", "for period 2026-11-01 01:59 CDT"),
    ],
)
def test_posting_in_the_repeated_hour_ends_and_posts_once(env: Env, cron: str, then: str) -> None:
    text = env.config.read_text()
    env.config.write_text(f'[schedule]\ninternal_digest_cron = "{cron}"\n\n{text}')
    first = dt.datetime(2026, 11, 1, 6, 45, tzinfo=dt.UTC)  # 01:45 CDT, America/Chicago
    second = first + dt.timedelta(hours=1)  # 01:45 CST: the same wall time again
    assert "posted 1 message" in post(first)
    again = post(second)
    assert then in again
    assert len(env.slack.posts("CINT")) == (2 if cron == "* * * * *" else 1)
    assert "already posted" in post(second + dt.timedelta(seconds=10))
