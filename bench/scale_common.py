"""What the modules of `bench_scale.py` share: sizes, the table, configs, measured
subprocesses, /proc readings and percentiles."""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _extra in (str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)):
    if _extra in sys.path:
        sys.path.remove(_extra)
    sys.path.insert(0, _extra)  # the worktree's syncbot first, whatever the venv points at

from bench_pipeline import MILESTONES  # noqa: E402
from support import configs  # noqa: E402

AS_OF = "2026-03-10"  # the synthetic tickets' "today" (in-process rows and `syncbot sync`)


@dataclass(frozen=True)
class Sizes:
    quick: bool
    clients: int  # the agency: clients x per_client tickets
    per_client: int
    small_per_client: int  # the smaller agency of the alert-cost row
    linear: tuple[int, ...]  # one client's sizes for the linearity row
    concurrency: int
    rounds: int
    naive_tickets: int
    naive_runs: int
    help_runs: int
    page_seconds: float = 1.0

    @classmethod
    def of(cls, quick: bool) -> Sizes:
        if quick:
            return cls(True, 10, 200, 50, (1000, 2000, 4000, 8000), 50, 1, 1000, 1, 5)
        return cls(False, 50, 800, 100, (5000, 10000, 20000, 40000), 50, 3, 5000, 3, 7)


@dataclass
class Row:
    what: str
    measured: str
    goal: str
    met: bool | None = None  # None: no goal to judge, or not measured
    notes: list[str] = field(default_factory=list)
    scaled: bool = False  # the goal is for the full sizes: not judged with --quick


class Table:
    def __init__(self, *, quick: bool = False) -> None:
        self.rows: list[Row] = []
        self.quick = quick

    def add(self, row: Row) -> Row:
        if self.quick and row.scaled:
            row.met, row.goal = None, f"{row.goal} (full sizes only)"
        self.rows.append(row)
        verdict = {True: "meets", False: "MISSES", None: "-"}[row.met]
        print(f"  [{verdict}] {row.what}: {row.measured}  (goal: {row.goal})", flush=True)
        for note in row.notes:
            print(f"           {note}", flush=True)
        return row

    def failed(self, what: str, goal: str, error: str) -> Row:
        return self.add(Row(what, f"NOT MEASURED: {error}", goal, None))

    def render(self) -> str:
        head = ("what", "measured", "goal", "met")
        cells = [
            (r.what, r.measured, r.goal, {True: "yes", False: "NO", None: "-"}[r.met])
            for r in self.rows
        ]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]

        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

        out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(c) for c in cells]
        notes = [f"- {r.what}: {n}" for r in self.rows for n in r.notes]
        if notes:
            out += ["", "notes:", *notes]
        return "\n".join(out)


def log(text: str) -> None:
    """Progress, on stderr: the table goes to stdout."""
    print(f"bench_scale: {text}", file=sys.stderr, flush=True)


# -- configurations -----------------------------------------------------------------------


def milestones(project: str) -> list[dict[str, Any]]:
    return [
        configs.milestone(
            f"m{m}",
            name=f"Milestone {m}",
            planned=f"2026-03-{1 + m % 28:02d}",
            epic=f"{project}-E{m}",
        )
        for m in range(MILESTONES)
    ]


def client_table(n: int, source: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """Client c<n> on project P<n>, channels CI<n> (internal) and CC<n> (client)."""
    return configs.client(
        f"c{n}",
        name=f"Client {n}",
        internal_channel=f"CI{n}",
        client_channel=f"CC{n}",
        timezone="UTC",
        baseline="2026-01-09",
        sources=[source],
        milestones=milestones(f"P{n}"),
        **keys,
    )


def export_config(path: Path, clients: int, folder: str = "export") -> Path:
    """`clients` clients with a jira-export source each, at <folder>/c<n>/page-*.json."""
    tables = [
        client_table(n, configs.source("jira-export", path=f"{folder}/c{n}/page-*.json"))
        for n in range(clients)
    ]
    return configs.write_config(path, *tables, schedule={"sync_every_minutes": 60})


# -- processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    code: int
    wall: float
    cpu: float  # user + system seconds of the child
    peak_mb: float  # its ru_maxrss
    out: str
    err: str


# Linux carries a process's peak RSS across exec: a child forked (or vforked) from this
# process, which holds the generated data, would report at least this process's peak as its
# ru_maxrss. So each measured command is started by a small launcher, which waits for it and
# writes the command's own rusage.
LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as report:
    json.dump({"code": os.waitstatus_to_exitcode(status), "wall": wall,
               "cpu": usage.ru_utime + usage.ru_stime, "maxrss": usage.ru_maxrss}, report)
"""


def run_measured(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Measured:
    """Run a command to its end: its exit code, wall and CPU time and peak RSS (its own
    rusage, through LAUNCHER), and its output."""
    base = Path(cwd or tempfile.gettempdir()) / f".measured-{os.getpid()}-{time.monotonic_ns()}"
    out_path, err_path, report = (base.with_suffix(s) for s in (".out", ".err", ".json"))
    with out_path.open("w") as out, err_path.open("w") as err:
        launcher = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(report), *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
            check=False,
        )
    texts = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    try:
        figures = json.loads(report.read_text())
    except (OSError, ValueError):
        figures = {"code": launcher.returncode, "wall": 0.0, "cpu": 0.0, "maxrss": 0}
    for path in (out_path, err_path, report):
        path.unlink(missing_ok=True)
    return Measured(
        int(figures["code"]),
        float(figures["wall"]),
        float(figures["cpu"]),
        float(figures["maxrss"]) / 1024,
        *texts,
    )


def child_env(**values: str) -> dict[str, str]:
    """This environment without SYNCBOT_*/SLACK_*, the worktree first on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCBOT_", "SLACK_"))}
    return {**env, "PYTHONPATH": str(ROOT), **values}


def syncbot_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "syncbot", *args]


def proc_status(pid: int) -> dict[str, float]:
    """VmHWM / VmRSS / Threads of a live process from /proc/<pid>/status (MB, count)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0]) / 1024
        elif name == "Threads":
            values[name] = int(rest)
    return values


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, *, below: float = 0.05, quiet: float = 2.0, timeout: float = 120) -> bool:
    """Until the process used less than `below` of a CPU for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last, since = proc_cpu(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now_cpu, now = proc_cpu(pid), time.monotonic()
        if now_cpu - last > below * (now - since) and now - since > 0:
            last, since = now_cpu, now
        elif now - since >= quiet:
            return True
    return False


# -- figures --------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"
