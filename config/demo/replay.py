"""Replay the demo week by week and draw its milestone trend chart (`make readme-chart`).

For each Tuesday from 2026-01-13 to the demo's 2026-03-10, `generate.py --as-of` writes the
recorded tracker responses as they stood that evening, and `syncbot sync --as-of` records
that week's report; then `syncbot trend --format png` draws the chart README.md shows. Every
step is the real command line on a throw-away database, as a user would run it.

Run from the repository: python config/demo/replay.py [OUT.png] [CLIENT] [AUDIENCE]
(defaults: docs/demo-trend.png acme client).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FIRST = dt.date(2026, 1, 13)
LAST = dt.date(2026, 3, 10)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "demo-trend.png"
    client = argv[1] if len(argv) > 1 else "acme"
    audience = argv[2] if len(argv) > 2 else "client"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(HERE / "syncbot.toml", work / "syncbot.toml")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SYNCBOT_")},
            "SYNCBOT_DATABASE_URL": f"sqlite:///{work / 'replay.db'}",
        }
        config = str(work / "syncbot.toml")
        day = FIRST
        while day <= LAST:
            subprocess.run(
                [sys.executable, str(HERE / "generate.py"), str(work), "--as-of", str(day)],
                check=True,
            )
            syncbot(["sync", "--config", config, "--as-of", str(day)], env)
            day += dt.timedelta(weeks=1)
        out.parent.mkdir(parents=True, exist_ok=True)
        syncbot(
            [
                "trend",
                "--config",
                config,
                "--client",
                client,
                "--audience",
                audience,
                "--format",
                "png",
                "--out",
                str(out.resolve()),
            ],
            env,
        )
    return 0


def syncbot(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "syncbot", *args], check=True, env=env, stdout=subprocess.DEVNULL
    )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
