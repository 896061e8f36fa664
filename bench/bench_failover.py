"""Benchmark: how long the daemons sharing one PostgreSQL go without a leader.

Run with `make bench` (or `python bench/bench_failover.py [ROUNDS]`, default 5). It starts two
real `syncbot run` processes on a fresh schema, then, ROUNDS times, kills the leader with -9
at a random moment and measures the seconds until the other says it leads (its /healthz,
polled every 50 ms),
restarting the killed one as the new follower; last it measures a SIGTERM handover. The
leader lock is re-checked every SYNCBOT_LEADER_CHECK_SECONDS (default 5), so a kill -9 costs
between a moment and that long, plus the new leader's start. PostgreSQL comes from
SYNCBOT_BENCH_POSTGRES_URL, else SYNCBOT_TEST_POSTGRES_URL, else the local server CI has;
without one it says so and exits 0.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sqlalchemy import create_engine, text  # noqa: E402 - after the path set-up above
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402
from support import configs  # noqa: E402
from support.processes import Daemon, environment, fresh_schema, wait_for  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def project(folder: Path) -> Path:
    export = folder / "acme"
    export.mkdir()
    page = {"issues": [], "isLast": True}
    (export / "page-1.json").write_text(json.dumps(page), encoding="utf-8")
    return configs.write_config(
        folder / "syncbot.toml",
        configs.client("acme", sources=[configs.source(path="acme/page-*.json")]),
    )


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    url = (
        os.environ.get("SYNCBOT_BENCH_POSTGRES_URL")
        or os.environ.get("SYNCBOT_TEST_POSTGRES_URL")
        or DEFAULT_URL
    )
    if not reachable(url):
        print("failover: skipped, no PostgreSQL reachable (set SYNCBOT_BENCH_POSTGRES_URL)")
        return 0
    with tempfile.TemporaryDirectory() as tmp, fresh_schema(url) as schema_url:
        folder = Path(tmp)
        env = environment(
            SYNCBOT_CONFIG=str(project(folder)),
            SYNCBOT_DATABASE_URL=schema_url,
            SYNCBOT_SLACK_SIGNING_SECRET="bench-secret",
            SYNCBOT_HOST="127.0.0.1",
            SYNCBOT_PORT="0",
            SYNCBOT_LOG_FORMAT="json",
            SYNCBOT_SHUTDOWN_SECONDS="1",
        )
        every = float(os.environ.get("SYNCBOT_LEADER_CHECK_SECONDS", "5"))
        leader = Daemon("d0", 0.0, env, folder)
        wait_for("the first leader", leader.leading)
        follower = Daemon("d1", 0.0, env, folder)
        wait_for("the follower", follower.following)
        kills: list[float] = []
        try:
            for n in range(rounds):
                time.sleep(random.uniform(0, every))  # at any moment of the follower's beat
                leader.kill()
                killed = time.monotonic()
                wait_for("the follower to lead", follower.leading, timeout=60)
                kills.append(time.monotonic() - killed)
                leader, follower = follower, Daemon(f"d{n + 2}", 0.0, env, folder)
                wait_for("the new follower", follower.following)
            started = time.monotonic()
            leader.proc.terminate()
            wait_for("the follower to lead after SIGTERM", follower.leading, timeout=60)
            handover = time.monotonic() - started
        finally:
            leader.kill()
            follower.kill()
    shown = " / ".join(f"{s:.1f}" for s in kills)
    print(
        f"failover after kill -9: {shown} s (median {statistics.median(kills):.1f} s, "
        f"max {max(kills):.1f} s; leader lock re-checked every {every:g} s; spec: <= 30 s)"
    )
    print(f"handover after SIGTERM: {handover:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
