"""Rows 3-6a of `bench_scale.py`: the store and the rules, in this process, over generated
`jira-export` sources synced by a real `syncbot sync` (whose peak RSS is row 6's first part).

- alert evaluation per sync (issue 11): `Syncbot.evaluate_alerts` and `raise_alerts` on an
  application object that holds the client's tickets, as the daemon's does right after a sync;
- state + both digests (issue 9): on a fresh application object over the store, as a CLI
  process or a restarted daemon answers: `view` and `digest` for both audiences, the digests
  rendered to Block Kit (`render.blocks.digest_messages`, as posted);
- the same for one client at growing sizes (linearity), each size synced by `syncbot sync`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench_pipeline import write_export
from scale_common import (
    AS_OF,
    Measured,
    Row,
    Sizes,
    Table,
    child_env,
    export_config,
    log,
    median,
    ms,
    run_measured,
    syncbot_cmd,
)

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.render.blocks import digest_messages
from syncbot.settings import Settings
from syncbot.store import Store

AUDIENCES = ("internal", "client")
STATE_GOAL = 1.0  # seconds, 40k tickets over 50 clients (issue 9)
LINEAR_GOAL = 10.0  # 40k / 5k for one client
SYNC_RSS_GOAL = 250.0  # MB


@dataclass(frozen=True)
class Synced:
    config: Path
    db_url: str
    clients: list[str]
    tickets: int
    sync: Measured


def write_agency(root: Path, clients: int, per_client: int) -> Path:
    for n in range(clients):
        write_export(root / "export" / f"c{n}", per_client, project=f"P{n}")
    return export_config(root / "syncbot.toml", clients)


def synced(root: Path, clients: int, per_client: int) -> Synced:
    """Generated exports for `clients` x `per_client`, synced by `syncbot sync` (measured)."""
    config = write_agency(root, clients, per_client)
    db_url = f"sqlite:///{root / 'state.db'}"
    env = child_env(SYNCBOT_CONFIG=str(config), SYNCBOT_DATABASE_URL=db_url)
    done = run_measured(syncbot_cmd("sync", "--as-of", AS_OF), env=env, cwd=root)
    if done.code != 0:
        raise RuntimeError(f"syncbot sync exited {done.code}: {done.err.strip()[-500:]}")
    ids = [f"c{n}" for n in range(clients)]
    return Synced(config, db_url, ids, clients * per_client, done)


def open_app(data: Synced) -> Syncbot:
    loaded = load_config(data.config)
    settings = Settings(_env_file=None, database_url=data.db_url)  # type: ignore[call-arg]
    return Syncbot(loaded, settings, Store(data.db_url), lambda: dt.datetime.now(dt.UTC))


def as_of() -> dt.date:
    return dt.date.fromisoformat(AS_OF)


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float


def timed(work: Callable[[], Any]) -> Timed:
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return Timed(time.perf_counter() - wall, time.process_time() - cpu)


def state_and_digests(app: Syncbot, clients: list[str], failures: list[str]) -> None:
    """Per client and audience: the view, the digest, the digest as Block Kit. A digest that
    cannot be rendered is noted in `failures` (the time until then counts) and the rest goes
    on."""
    day = as_of()
    for client_id in clients:
        for audience in AUDIENCES:
            app.view(client_id, audience, as_of=day)
            doc, _ = app.digest(client_id, audience, as_of=day)
            try:
                [m.as_json() for m in digest_messages(doc)]  # Block Kit, as posted
            except Exception as exc:
                failures.append(f"{client_id}/{audience}: {type(exc).__name__}: {exc}")


def through_store(data: Synced, repeats: int, failures: list[str]) -> Timed:
    """Median over fresh application objects (each on a new Store, as a new process has)."""
    runs = []
    for _ in range(repeats):
        app = open_app(data)
        try:
            runs.append(timed(partial(state_and_digests, app, data.clients, failures)))
        finally:
            app.store.close()
        if runs[-1].wall > 8:  # slow enough that one run is the figure
            break
    return Timed(median([r.wall for r in runs]), median([r.cpu for r in runs]))


# -- row 3: alert evaluation cost (issue 11) ----------------------------------------------------


def worsen(recorded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A last-alerted state every milestone and dependency has worsened from since."""
    out: dict[str, dict[str, Any]] = {}
    for subject, data in recorded.items():
        data = dict(data)
        if subject.startswith("dep:"):
            data["overdue"] = False
            data.pop("escalated", None)
        else:
            data["status"] = "on_track"
            if data.get("forecast"):
                earlier = dt.date.fromisoformat(data["forecast"]) - dt.timedelta(days=7)
                data["forecast"] = earlier.isoformat()
            data["missed"] = False
            data["drifting"] = False
        out[subject] = data
    return out


def alert_row(table: Table, data: Synced) -> None:
    day = as_of()
    app = open_app(data)
    n = len(data.clients)
    per = data.tickets // n
    label = f"alert evaluation per sync, {n} clients x {per} tickets"
    try:
        # The first evaluation of a client records its state silently (SPEC §8); it also
        # loads the tickets, which the daemon's application object holds after a sync.
        first = timed(lambda: [app.raise_alerts(c, as_of=day) for c in data.clients])
        runs = [
            timed(lambda: [app.evaluate_alerts(c, as_of=day) for c in data.clients])
            for _ in range(3)
        ]
        evaluate = median([r.wall for r in runs])
        evaluate_cpu = median([r.cpu for r in runs])
        now = dt.datetime.now(dt.UTC)
        for c in data.clients:
            app.store.alerts.record(c, worsen(app.store.alerts.load(c)), now)
        raised: list[int] = []
        worse = timed(
            lambda: raised.extend(len(app.raise_alerts(c, as_of=day)) for c in data.clients)
        )
        steady = timed(lambda: [app.raise_alerts(c, as_of=day) for c in data.clients])
    finally:
        app.store.close()
    table.add(
        Row(
            label,
            f"evaluate_alerts {ms(evaluate / n)}/client, {ms(evaluate)} total "
            f"({ms(evaluate_cpu)} CPU); raise_alerts {ms(steady.wall / n)}/client, "
            f"{ms(steady.wall)} total with nothing new; {ms(worse.wall)} total writing "
            f"{sum(raised)} alerts",
            "measure it (issue 11 sets no figure)",
            None,
            [
                (
                    f"first raise_alerts (loads tickets, records silently): {ms(first.wall)}; "
                    "evaluate_alerts = state + rules against the stored last-alerted state, "
                    "median of 3 passes; raise_alerts adds the outbox rows and the record"
                )
            ],
        )
    )


def render_failures(failures: list[str], prefix: str = "") -> list[str]:
    """One note per distinct failure to render a digest as Block Kit."""
    counted: dict[str, int] = {}
    for failure in failures:
        counted[failure] = counted.get(failure, 0) + 1
    return [f"{prefix}DIGEST NOT RENDERABLE ({n} x): {text}" for text, n in counted.items()]


# -- rows 4, 5, 6a ------------------------------------------------------------------------------


def state_row(table: Table, data: Synced, repeats: int) -> None:
    n = len(data.clients)
    failures: list[str] = []
    cold = through_store(data, repeats, failures)
    app = open_app(data)
    try:
        state_and_digests(app, data.clients, [])  # the tickets loaded, as after a sync
        warm = timed(lambda: state_and_digests(app, data.clients, []))
    finally:
        app.store.close()
    table.add(
        Row(
            f"state + both digests, {data.tickets:,} tickets / {n} clients",
            f"{cold.wall:.2f} s through the store ({cold.cpu:.2f} s CPU); "
            f"{warm.wall:.2f} s on held tickets",
            "< 1 s",
            cold.wall < STATE_GOAL,
            [
                (
                    "per client: view + digest for both audiences, digests rendered to Block "
                    "Kit; a fresh Syncbot and Store per pass (median of up to "
                    f"{repeats}); 'held': the application object that already read them"
                ),
                (
                    f"`syncbot sync` of the {n} sources: {data.sync.wall:.1f} s, peak RSS "
                    f"{data.sync.peak_mb:.0f} MB"
                ),
                *render_failures(failures),
            ],
            scaled=True,
        )
    )


def linear_rows(table: Table, root: Path, sizes: Sizes) -> None:
    times: dict[int, Timed] = {}
    syncs: dict[int, Measured] = {}
    failures: dict[int, list[str]] = {}
    for n in sizes.linear:
        log(f"one client, {n:,} tickets: writing, syncing, timing")
        data = synced(root / f"one-{n}", 1, n)
        syncs[n] = data.sync
        failures[n] = []
        times[n] = through_store(data, 3, failures[n])
    small, large = sizes.linear[0], sizes.linear[-1]
    ratio = times[large].wall / times[small].wall
    shown = " / ".join(f"{k // 1000}k {times[k].wall:.2f} s" for k in sizes.linear)
    table.add(
        Row(
            f"one client, {small:,} -> {large:,} tickets: state + both digests",
            f"{shown}; {large // 1000}k / {small // 1000}k = {ratio:.1f}",
            f"linear: {large // 1000}k / {small // 1000}k <= 10 (8x the tickets)",
            ratio <= LINEAR_GOAL,
            [
                "CPU: " + " / ".join(f"{times[k].cpu:.2f} s" for k in sizes.linear),
                *(
                    note
                    for k in sizes.linear
                    for note in render_failures(failures[k], f"{k // 1000}k: ")
                ),
            ],
            scaled=True,
        )
    )
    peaks = " / ".join(f"{k // 1000}k {syncs[k].peak_mb:.0f} MB" for k in sizes.linear)
    top = syncs[large]
    table.add(
        Row(
            f"peak RSS, `syncbot sync` of a {large:,}-ticket source",
            f"{top.peak_mb:.0f} MB ({top.wall:.1f} s)",
            "< 250 MB",
            top.peak_mb < SYNC_RSS_GOAL,
            [f"a child's own ru_maxrss (os.wait4), jira-export source, SQLite: {peaks}"],
            scaled=True,
        )
    )
