"""Benchmark: syncbot at agency scale (issue 9) and the review workflow under load (issue 11).

Run with `make bench`, or `python bench/bench_scale.py [--quick]` (also SYNCBOT_BENCH_QUICK=1:
10 clients x 200 tickets, one client 1k -> 8k, one round per phase). It prints one line per
row as it is measured and the whole table at the end, each figure next to its goal. These are
figures, not tests: nothing here fails, a row that cannot be measured says why, and the exit
code is 0. Absolute times on a shared 2-core machine are noisy; the ratios are measured in
one run.

Rows, in the order measured (modules: scale_live, scale_store, scale_tracker, scale_common):

1. `/syncbot status` ack during a sync and after it, 50 concurrent x 3 rounds, against a real
   `python -m syncbot run` whose clients sync from a fake Jira answering 1 s per page;
2. button (`block_actions`) ack during a sync and after it, same daemon;
3. alert evaluation per sync: `Syncbot.evaluate_alerts` / `raise_alerts` for 50 x 100 and
   50 x 800 (jira-export sources);
4. state + both digests for 50 x 800 through the store;
5. one client at 5k / 10k / 20k / 40k: state + both digests, and 40k / 5k;
6. peak RSS of `syncbot sync` of the 40k source (os.wait4), and VmHWM of daemons: the live
   one of rows 1-2 after its load, 50 x 800 and one 40k client after their first syncs;
7. `syncbot --help` CPU time against `python -c pass`;
8. syncbot's first sync of N tickets from the fake Jira against a naive `jira` script.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import scale_live
import scale_store
from scale_common import (
    ROOT,
    Row,
    Sizes,
    Table,
    child_env,
    log,
    median,
    ms,
    run_measured,
    syncbot_cmd,
)
from servers.slack import FakeSlack

HELP_GOAL = 8.0


def help_row(table: Table, sizes: Sizes, cwd: Path) -> None:
    script = Path(sys.executable).with_name("syncbot")
    command = [str(script), "--help"] if script.exists() else syncbot_cmd("--help")
    env = child_env()
    ours = [run_measured(command, env=env, cwd=cwd) for _ in range(sizes.help_runs)]
    bare = [run_measured([sys.executable, "-c", "pass"], env=env, cwd=cwd) for _ in ours]
    if any(m.code != 0 for m in ours):
        table.failed("`syncbot --help`", "<= 8 x", f"exit {ours[0].code}: {ours[0].err[-200:]}")
        return
    cpu, base = median([m.cpu for m in ours]), median([m.cpu for m in bare])
    ratio = cpu / base if base else float("inf")
    table.add(
        Row(
            "`syncbot --help` CPU time",
            f"{cpu:.2f} s = {ratio:.1f} x `python -c pass` ({base * 1000:.0f} ms)",
            "<= 8 x",
            ratio <= HELP_GOAL,
            [
                (
                    f"user + system CPU of the child (os.wait4), median of {len(ours)}; wall "
                    f"{ms(median([m.wall for m in ours]))} / {ms(median([m.wall for m in bare]))}"
                    f"; `{Path(command[0]).name} {' '.join(command[1:])}`"
                )
            ],
        )
    )


def guarded(table: Table, what: str, goal: str, work: Callable[[], object]) -> None:
    """One row's work; an exception becomes a NOT MEASURED row, never a failed run."""
    try:
        work()
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        table.failed(what, goal, f"{type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one round")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("SYNCBOT_BENCH_QUICK", "") not in ("", "0")
    sizes = Sizes.of(quick)
    agency = f"{sizes.clients} x {sizes.per_client}"
    print(
        f"scale benchmark ({'quick' if quick else 'full'}): agency {agency}, one client "
        f"{' / '.join(f'{n:,}' for n in sizes.linear)}; {os.cpu_count()} CPUs",
        flush=True,
    )
    began = time.monotonic()
    table = Table(quick=quick)
    tmp = Path(tempfile.mkdtemp(prefix="syncbot-bench-"))
    try:
        with FakeSlack() as slack:
            scale_live.ack_rows(table, tmp / "acks", sizes, slack)
            small: list[scale_store.Synced] = []
            big: list[scale_store.Synced] = []

            def small_agency() -> None:
                log(f"alerts: {sizes.clients} x {sizes.small_per_client}")
                small.append(
                    scale_store.synced(tmp / "small", sizes.clients, sizes.small_per_client)
                )
                scale_store.alert_row(table, small[0])

            guarded(table, "alert evaluation per sync (small agency)", "-", small_agency)

            def big_agency() -> None:
                log(f"alerts, state + digests: {agency}")
                big.append(scale_store.synced(tmp / "agency", sizes.clients, sizes.per_client))
                scale_store.alert_row(table, big[0])
                scale_store.state_row(table, big[0], 3)

            guarded(table, f"state + both digests, {agency}", "< 1 s", big_agency)
            guarded(
                table,
                "one client: state + both digests, linearity",
                "40k / 5k <= 10",
                lambda: scale_store.linear_rows(table, tmp / "linear", sizes),
            )
            if big:
                log(f"daemon RSS: {agency} exports")
                scale_live.daemon_rss_row(
                    table, tmp / "rss-agency", big[0].config, f"{agency}, first syncs", slack
                )
            largest = sizes.linear[-1]
            one = tmp / "linear" / f"one-{largest}" / "syncbot.toml"
            if one.exists():
                log(f"daemon RSS: one {largest:,}-ticket client")
                scale_live.daemon_rss_row(
                    table,
                    tmp / "rss-one",
                    one,
                    f"one {largest:,}-ticket client, first sync",
                    slack,
                    slash_channel="CI0",
                    concurrency=sizes.concurrency,
                )
        guarded(table, "`syncbot --help` CPU time", "<= 8 x", lambda: help_row(table, sizes, tmp))
        log(f"naive script: {sizes.naive_tickets:,} tickets")
        scale_live.naive_row(table, tmp / "naive", sizes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print(table.render())
    print(f"\n(bench_scale took {time.monotonic() - began:.0f} s; syncbot from {ROOT})")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
