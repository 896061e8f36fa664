"""Rows 1, 2, 6b and 8 of `bench_scale.py`: real `syncbot run` / `syncbot sync` processes
against the slow fake Jira (`scale_tracker`) and the fake Slack of tests/servers/slack.py.

**Acks during a sync** (rows 1-2). An agency of `clients` x `per_client` tickets, each client
a live `jira` source (Cloud) on the fake Jira, is first synced by `syncbot sync` at full
speed; `digest --post` drafts client c0's client digest for review. Then every search page
takes `page_seconds`, and `syncbot run` starts (a plain `python -m syncbot run`, no clock
wrapper): its start-up syncs every client at once, with SYNCBOT_FULL_RECONCILE_HOURS=0 so that
every sync re-reads every page. While the requests are sent, a signed Jira webhook (as Jira
sends on an issue update) is posted for each client whose sync has ended, so that the
clients keep syncing: each round is sent while syncs are reading pages, and the rows say
how many clients were syncing. Each round is `concurrency` signed requests released
together by a barrier, timed from the send to the last byte of the answer:

- `/syncbot status` in the clients' internal and client channels, in turn;
- `block_actions` presses on c0's draft: a non-reviewer's "Send to client", then a
  reviewer's concurrent "Send to client" (one posts), then "Skip" (refused: already sent).

Then the webhooks stop, the syncs end, the daemon goes idle, and the same rounds are sent
again ("after the sync"). Last, SIGTERM, and the seconds until the daemon exits.

**Daemon RSS** (row 6b): `syncbot run` on a fresh database over `jira-export` sources (the
agency, then one big client), VmHWM from /proc once every source synced and the process went
idle.

**Naive ratio** (row 8): `syncbot sync` of one project on the fake Jira (fresh database each
run) against a script calling `jira.JIRA(...).search_issues(jql, fields="*all",
expand="changelog", maxResults=False)` on the same server, both whole processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from scale_common import (
    AS_OF,
    ROOT,
    Row,
    Sizes,
    Table,
    child_env,
    client_table,
    log,
    median,
    ms,
    percentile,
    proc_status,
    run_measured,
    syncbot_cmd,
    wait_idle,
)
from scale_tracker import EMAIL, TOKEN, Tracker
from servers.slack import TOKEN as SLACK_TOKEN
from servers.slack import FakeSlack
from slack_sdk.signature import SignatureVerifier
from support import configs
from support.processes import Daemon, wait_for

from syncbot import messages
from syncbot.render.alerts import SEND, SKIP

SIGNING_SECRET = "bench-signing-secret"
WEBHOOK_SECRET = "bench-webhook-secret"
EVENTS = "/slack/events"
REVIEWER = "U0LEAD"
HOME = "T0FAKE"  # the team the fake Slack's auth.test reports
ACK_GOAL = 0.3  # seconds, p99
SLACK_LIMIT = 3.0
RSS_GOAL = 250.0
NAIVE_SCRIPT = """
import sys, jira
client = jira.JIRA(server=sys.argv[1], basic_auth=(sys.argv[2], sys.argv[3]))
issues = client.search_issues(
    sys.argv[4], fields="*all", expand="changelog", maxResults=False
)
print(len(issues))
"""


class RealDaemon(Daemon):
    """`python -m syncbot run`, as deployed (tests' Daemon runs it under a clock wrapper)."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("w") as err:
            self.proc = subprocess.Popen(
                syncbot_cmd("run"),
                env={**env, "PYTHONPATH": str(ROOT)},
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.url = wait_for(f"{name} to listen", self._listening, timeout=120)

    def sources_synced(self) -> bool:
        try:
            doc = self.health()
        except (OSError, ValueError):
            return False
        sources = doc.get("sources") or []
        return bool(sources) and all(s.get("last_success") for s in sources)

    def stop(self, limit: float = 40.0) -> tuple[float | None, int | None]:
        """SIGTERM; (seconds to exit, exit code), or (None, None) and kill -9 after `limit`."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.kill()
            return None, None
        return time.monotonic() - started, code

    def problems(self) -> list[str]:
        """Distinct error-level log messages (and stray tracebacks), most frequent first."""
        found: Counter[str] = Counter()
        for line in self.output().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                if "Traceback" in line or "Error" in line:
                    found[line.strip()[:300]] += 1
                continue
            if isinstance(record, dict) and record.get("level") in ("error", "critical"):
                text = str(record.get("message"))
                exc = str(record.get("exception") or "").strip().splitlines()
                found[(text + (f" [{exc[-1]}]" if exc else ""))[:300]] += 1
        return [f"{n} x {text}" for text, n in found.most_common(6)]


# -- signed Slack requests --------------------------------------------------------------------


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash(text: str, channel: str, response_url: str, user: str = "U0SOMEONE") -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": HOME,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "a-channel",
            "user_id": user,
            "user_name": "someone",
            "command": "/syncbot",
            "text": text,
            "response_url": response_url,
            "trigger_id": f"{time.monotonic_ns()}.{uuid.uuid4().hex[:8]}.abc",
        }
    )


@dataclass(frozen=True)
class Draft:
    channel: str
    ts: str
    value: str


def press(draft: Draft, action: str, user: str, response_url: str) -> str:
    """The form Slack posts for a button press on the draft (block_actions)."""
    payload = {
        "type": "block_actions",
        "team": {"id": HOME, "domain": "fake"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": HOME},
        "api_app_id": "A0SYNCBOT",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": draft.ts,
            "channel_id": draft.channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{time.monotonic_ns()}.{uuid.uuid4().hex[:8]}.abc",
        "channel": {"id": draft.channel, "name": "internal"},
        "message": {"type": "message", "ts": draft.ts, "text": "draft"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "syncbot_review",
                "text": {"type": "plain_text", "text": "button", "emoji": True},
                "value": draft.value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def find_draft(slack: FakeSlack, channel: str) -> Draft | None:
    for message in slack.posts(channel):
        for block in message.blocks:
            if block.get("type") == "actions":
                values = {e.get("action_id"): e.get("value") for e in block["elements"]}
                if SEND in values:
                    return Draft(channel, message.ts, str(values[SEND]))
    return None


@dataclass(frozen=True)
class Sample:
    status: int  # -1: no HTTP answer (the error in `text`)
    seconds: float
    text: str


def fire(url: str, bodies: Sequence[str], timeout: float = 60.0) -> list[Sample]:
    """Send all `bodies` at once (a barrier releases them), each on its own connection."""
    barrier = threading.Barrier(len(bodies))
    samples: list[Sample | None] = [None] * len(bodies)

    def go(k: int) -> None:
        body = bodies[k].encode()
        try:
            barrier.wait(30)
        except threading.BrokenBarrierError:
            pass
        request = urllib.request.Request(url, data=body, headers=signed(bodies[k]))
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, text = answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode("utf-8", "replace")
        except Exception as exc:
            status, text = -1, repr(exc)
        samples[k] = Sample(status, time.perf_counter() - started, text)

    threads = [threading.Thread(target=go, args=(k,), daemon=True) for k in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 40)
    return [s or Sample(-1, timeout, "no answer") for s in samples]


# -- keeping syncs going ----------------------------------------------------------------------


class SyncKeeper:
    """Posts a signed Jira webhook for every project whose sync has ended, so that the
    daemon's clients keep syncing while requests are timed; samples how many are syncing."""

    def __init__(self, tracker: Tracker, daemon_url: str, projects: Sequence[str]) -> None:
        self.tracker = tracker
        self.url = daemon_url + "/webhooks/jira"
        self.projects = list(projects)
        self.poked: dict[str, float] = {}
        self.sent = 0
        self.refused: Counter[int] = Counter()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples: list[int] = []

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def mark(self) -> int:
        """Take a sample now; the samples taken so far (pass to `syncing_since`)."""
        self.sample()
        return len(self.samples) - 1

    def sample(self) -> set[str]:
        busy = self.tracker.syncing()
        self.samples.append(len(busy))
        return busy

    def syncing_since(self, mark: int) -> tuple[int, int]:
        window = self.samples[mark:] or [0]
        return min(window), max(window)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                busy = self.sample()
            except (OSError, EOFError):
                return
            now = time.monotonic()
            for project in self.projects:
                if project in busy or now - self.poked.get(project, 0.0) < 4.0:
                    continue
                self.poked[project] = now
                self._poke(project)

    def _poke(self, project: str) -> None:
        body = json.dumps(
            {
                "timestamp": int(time.time() * 1000),
                "webhookEvent": "jira:issue_updated",
                "issue": {"key": f"{project}-1", "fields": {"project": {"key": project}}},
            }
        ).encode()
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature": f"sha256={digest}",
                "X-Atlassian-Webhook-Identifier": uuid.uuid4().hex,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                answer.read()
            self.sent += 1
        except urllib.error.HTTPError as exc:
            self.refused[exc.code] += 1
        except OSError:
            self.refused[-1] += 1


# -- rows 1 and 2 -------------------------------------------------------------------------------


@dataclass
class Phase:
    samples: list[Sample] = field(default_factory=list)
    syncing: list[tuple[int, int]] = field(default_factory=list)  # (min, max) per round

    def figures(self) -> str:
        seconds = [s.seconds for s in self.samples]
        codes = Counter(s.status for s in self.samples if s.status != 200)
        bad = ", ".join(f"{n} x {c if c != -1 else 'no answer'}" for c, n in sorted(codes.items()))
        over = sum(1 for s in seconds if s > SLACK_LIMIT)
        return (
            f"p50 {ms(percentile(seconds, 50))}, p99 {ms(percentile(seconds, 99))}, "
            f"max {ms(max(seconds))}, {over}/{len(seconds)} over 3 s, "
            f"non-200: {bad or 'none'}"
        )

    def meets(self) -> bool:
        seconds = [s.seconds for s in self.samples]
        return (
            percentile(seconds, 99) < ACK_GOAL
            and all(s <= SLACK_LIMIT for s in seconds)
            and all(s.status == 200 for s in self.samples)
        )

    def kinds(self) -> str:
        """What the slash acks said: the answer itself, 'working on it', or a failure."""
        found: Counter[str] = Counter()
        for s in self.samples:
            if s.status != 200:
                continue
            try:
                text = str(json.loads(s.text).get("text") or "") if s.text else ""
            except ValueError:
                text = s.text
            if not s.text:
                found["empty (button ack)"] += 1
            elif text == messages.SLASH_WORKING:
                found["'working on it' (answer via response_url)"] += 1
            elif text.startswith(messages.SLASH_FAILED[:30]):
                found["'failed'"] += 1
            else:
                found["answer inline"] += 1
        return ", ".join(f"{n} {k}" for k, n in found.most_common())

    def during(self) -> str:
        if not self.syncing:
            return ""
        low = min(a for a, _ in self.syncing)
        high = max(b for _, b in self.syncing)
        return f"clients syncing while the rounds ran: {low}-{high}"


def live_config(root: Path, sizes: Sizes) -> Path:
    tables = []
    for n in range(sizes.clients):
        review: dict[str, Any] = (
            {"client_review": "required", "reviewers": [REVIEWER]} if n == 0 else {}
        )
        tables.append(client_table(n, configs.source("jira", project=f"P{n}"), **review))
    return configs.write_config(root / "syncbot.toml", *tables, schedule={"sync_every_minutes": 60})


def daemon_env(config: Path, db_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    return child_env(
        SYNCBOT_CONFIG=str(config),
        SYNCBOT_DATABASE_URL=db_url,
        SYNCBOT_SLACK_BOT_TOKEN=SLACK_TOKEN,
        SYNCBOT_SLACK_API_URL=slack.api_url,
        SYNCBOT_SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SYNCBOT_HOST="127.0.0.1",
        SYNCBOT_PORT="0",
        SYNCBOT_LOG_FORMAT="json",
        SYNCBOT_SLACK_POST_INTERVAL_SECONDS="0",
        SYNCBOT_SLACK_RETRY_BACKOFF_SECONDS="0",
        **extra,
    )


class Load:
    """The rounds of one phase against one daemon."""

    def __init__(self, daemon: RealDaemon, slack: FakeSlack, sizes: Sizes, draft: Draft) -> None:
        self.daemon = daemon
        self.slack = slack
        self.sizes = sizes
        self.draft = draft
        self.sent = 0  # response_url numbers: unique per request

    def _url(self, channel: str) -> str:
        self.sent += 1
        return self.slack.response_url(channel, self.sent)

    def slash_round(self) -> list[Sample]:
        bodies = []
        for k in range(self.sizes.concurrency):
            n = k % self.sizes.clients
            channel = f"CI{n}" if k % 2 == 0 else f"CC{n}"
            bodies.append(slash("status", channel, self._url(channel)))
        return fire(self.daemon.url + EVENTS, bodies)

    def press_round(self, r: int) -> list[Sample]:
        action, user = [(SEND, "U0SOMEONE"), (SEND, REVIEWER), (SKIP, REVIEWER)][r % 3]
        bodies = [
            press(self.draft, action, user, self._url(self.draft.channel))
            for _ in range(self.sizes.concurrency)
        ]
        return fire(self.daemon.url + EVENTS, bodies)

    def run(
        self, keeper: SyncKeeper | None, kind: str, phase: Phase, check: Callable[[], None]
    ) -> None:
        for r in range(self.sizes.rounds):
            check()
            mark = keeper.mark() if keeper else 0
            samples = self.slash_round() if kind == "slash" else self.press_round(r)
            phase.samples += samples
            if keeper is not None:
                keeper.sample()
                phase.syncing.append(keeper.syncing_since(mark))
            worst = max(s.seconds for s in samples)
            log(f"  {kind} round {r + 1}: slowest {ms(worst)}")


def ack_rows(table: Table, root: Path, sizes: Sizes, slack: FakeSlack) -> None:
    projects = [f"P{n}" for n in range(sizes.clients)]
    log(f"acks: seeding the fake Jira with {sizes.clients} x {sizes.per_client} tickets")
    tracker = Tracker(projects, sizes.per_client, cache=True)
    daemon: RealDaemon | None = None
    keeper: SyncKeeper | None = None
    what_slash = f"/syncbot status ack, {sizes.concurrency} concurrent"
    what_press = f"button ack, {sizes.concurrency} concurrent presses"
    total = sizes.concurrency * sizes.rounds
    try:
        config = live_config(root, sizes)
        db_url = f"sqlite:///{root / 'state.db'}"
        env = daemon_env(
            config,
            db_url,
            slack,
            SYNCBOT_JIRA_URL=tracker.url,
            SYNCBOT_JIRA_EMAIL=EMAIL,
            SYNCBOT_JIRA_TOKEN=TOKEN,
            SYNCBOT_JIRA_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SYNCBOT_FULL_RECONCILE_HOURS="0",
        )
        log("acks: first sync by `syncbot sync` (fast tracker)")
        first = run_measured(syncbot_cmd("sync"), env=env, cwd=root)
        if first.code != 0:
            raise RuntimeError(f"syncbot sync exited {first.code}: {first.err.strip()[-400:]}")
        drafted = run_measured(
            syncbot_cmd("digest", "--client", "c0", "--audience", "client", "--post"),
            env=env,
            cwd=root,
        )
        draft = find_draft(slack, "CI0")
        if draft is None:
            raise RuntimeError(
                f"no draft in CI0 after digest --post (exit {drafted.code}): "
                f"{drafted.err.strip()[-400:]}"
            )
        tracker.slow(sizes.page_seconds)
        log(f"acks: `syncbot run`, every search page now takes {sizes.page_seconds:g} s")
        daemon = RealDaemon("acks", env, root)
        # The daemon runs at most SYNCBOT_SYNC_CONCURRENCY syncs at once (default 4): wait
        # until that many (or 90% of the clients, if fewer) are reading slow pages.
        slots = int(env.get("SYNCBOT_SYNC_CONCURRENCY", "4"))
        ramped = max(1, min(sizes.clients * 9 // 10, slots))

        def started() -> bool:
            return len(tracker.syncing()) >= ramped

        wait_for(f"{ramped} clients' first syncs to read pages", started, 120)
        keeper = SyncKeeper(tracker, daemon.url, projects)
        keeper.start()
        load = Load(daemon, slack, sizes, draft)
        alive = daemon

        def check() -> None:
            if alive.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited {alive.proc.returncode}")

        slash_during, press_during = Phase(), Phase()
        log("acks: during the syncs")
        load.run(keeper, "slash", slash_during, check)
        load.run(keeper, "press", press_during, check)
        keeper.stop()
        log("acks: waiting for the syncs to end and the daemon to go idle")
        quiet_since = time.monotonic()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if tracker.syncing(quiet=2.0):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > 2.0:
                break
            time.sleep(0.5)
        wait_idle(daemon.proc.pid, below=0.1, timeout=60)
        slash_after, press_after = Phase(), Phase()
        log("acks: after the syncs")
        load.run(None, "slash", slash_after, check)
        load.run(None, "press", press_after, check)
        replies = len(slack.wait_for_responses(10**6, timeout=5))
        memory = proc_status(daemon.proc.pid)
        stopped, code = daemon.stop()
        problems = daemon.problems()
        note_sync = (
            f"{sizes.clients} x {sizes.per_client} tickets, live `jira` sources, "
            f"{sizes.page_seconds:g} s per search page, full re-reads; "
            f"{keeper.sent} webhook(s) restarted syncs that had ended"
            + (f" (refused: {dict(keeper.refused)})" if keeper.refused else "")
        )
        table.add(
            Row(
                f"{what_slash}, during a sync",
                f"{slash_during.figures()} ({total} requests)",
                "p99 < 300 ms, none over 3 s, no non-200",
                slash_during.meets(),
                [slash_during.during(), slash_during.kinds(), note_sync],
            )
        )
        table.add(
            Row(
                f"{what_slash}, after the sync",
                f"{slash_after.figures()} ({total} requests)",
                "p99 < 300 ms, none over 3 s, no non-200",
                slash_after.meets(),
                [slash_after.kinds()],
            )
        )
        posted = len(slack.posts("CC0"))
        sends = (
            [f"messages in CC0 after the Sends: {posted} (want the digest once, and its chart)"]
            if sizes.rounds >= 2
            else []
        )
        table.add(
            Row(
                f"{what_press}, during a sync",
                f"{press_during.figures()} ({total} presses)",
                "p99 < 300 ms",
                press_during.meets(),
                [
                    press_during.during(),
                    (
                        "rounds: a non-reviewer's Send, a reviewer's concurrent Send (one posts), "
                        "Skip after it"
                    ),
                    *sends,
                ],
            )
        )
        table.add(
            Row(
                f"{what_press}, after the sync",
                f"{press_after.figures()} ({total} presses)",
                "p99 < 300 ms",
                press_after.meets(),
                [f"response_url answers received over the whole run: {replies}"],
            )
        )
        exit_note = (
            f"SIGTERM: exited {code} after {stopped:.1f} s"
            if stopped is not None
            else "SIGTERM: still running after 40 s, killed"
        )
        table.add(
            Row(
                f"daemon RSS, {sizes.clients} x {sizes.per_client} live, after the load",
                f"VmHWM {memory['VmHWM']:.0f} MB (VmRSS {memory['VmRSS']:.0f} MB, "
                f"{memory['Threads']:.0f} threads)",
                "< 250 MB",
                memory["VmHWM"] < RSS_GOAL,
                [
                    exit_note,
                    (
                        f"first `syncbot sync` of these sources: {first.wall:.1f} s, peak RSS "
                        f"{first.peak_mb:.0f} MB"
                    ),
                    *(f"daemon log: {p}" for p in problems),
                    *(f"fake Jira: {c}" for c in tracker.crashes()[:3]),
                ],
                scaled=True,
            )
        )
    except Exception as exc:
        for what in (what_slash, what_press):
            table.failed(what, "p99 < 300 ms", f"{type(exc).__name__}: {exc}")
        if daemon is not None:
            for p in daemon.problems():
                log(f"daemon log: {p}")
    finally:
        if keeper is not None:
            keeper.stop()
        if daemon is not None:
            daemon.kill()
        tracker.close()


# -- row 6b: daemon RSS -----------------------------------------------------------------------


def daemon_rss_row(
    table: Table,
    root: Path,
    config: Path,
    label: str,
    slack: FakeSlack,
    *,
    slash_channel: str | None = None,
    concurrency: int = 50,
) -> None:
    """A fresh daemon over `config`'s export sources: VmHWM once synced and idle. With
    `slash_channel`, a round of status requests, then SIGTERM while they are answered."""
    root.mkdir(parents=True, exist_ok=True)
    env = daemon_env(config, f"sqlite:///{root / 'daemon.db'}", slack)
    daemon: RealDaemon | None = None
    what = f"daemon RSS, {label}"
    try:
        started = time.monotonic()
        daemon = RealDaemon(f"rss-{root.name}", env, root)
        wait_for("every source's first sync", daemon.sources_synced, timeout=600)
        synced = time.monotonic() - started
        wait_idle(daemon.proc.pid, below=0.1, timeout=120)
        memory = proc_status(daemon.proc.pid)
        notes = [
            (
                f"fresh database, jira-export sources; all synced {synced:.0f} s after the start; "
                f"VmRSS {memory['VmRSS']:.0f} MB, {memory['Threads']:.0f} threads when idle"
            )
        ]
        if slash_channel is not None:
            bodies = [
                slash("status", slash_channel, slack.response_url(slash_channel, 9000 + k))
                for k in range(concurrency)
            ]
            result: list[Sample] = []
            sender = threading.Thread(
                target=lambda: result.extend(fire(daemon.url + EVENTS, bodies, timeout=40)),
                daemon=True,
            )
            sender.start()
            time.sleep(0.5)
            stopped, code = daemon.stop()
            sender.join(60)
            answered = Counter(str(s.status) if s.status != -1 else s.text[:80] for s in result)
            notes.append(
                "SIGTERM 0.5 s into 50 concurrent /syncbot status: "
                + (
                    f"exited {code} after {stopped:.1f} s"
                    if stopped is not None
                    else "still running after 40 s, killed"
                )
                + f"; answers: {dict(answered)}"
            )
        else:
            stopped, code = daemon.stop()
            notes.append(
                f"SIGTERM: exited {code} after {stopped:.1f} s"
                if stopped is not None
                else "SIGTERM: still running after 40 s, killed"
            )
        notes += [f"daemon log: {p}" for p in daemon.problems()]
        table.add(
            Row(
                what,
                f"VmHWM {memory['VmHWM']:.0f} MB",
                "< 250 MB",
                memory["VmHWM"] < RSS_GOAL,
                notes,
                scaled=True,
            )
        )
    except Exception as exc:
        table.failed(what, "< 250 MB", f"{type(exc).__name__}: {exc}")
        if daemon is not None:
            for p in daemon.problems():
                log(f"daemon log: {p}")
    finally:
        if daemon is not None:
            daemon.kill()


# -- row 8: against a naive script --------------------------------------------------------------


def naive_row(table: Table, root: Path, sizes: Sizes) -> None:
    n = sizes.naive_tickets
    what = f"first sync of {n:,} tickets from the fake Jira, syncbot / naive script"
    root.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(["P0"], n, cache=False)
    try:
        config = configs.write_config(
            root / "syncbot.toml", client_table(0, configs.source("jira", project="P0"))
        )
        ours, theirs, lines = [], [], []
        for run in range(sizes.naive_runs):
            env = child_env(
                SYNCBOT_CONFIG=str(config),
                SYNCBOT_DATABASE_URL=f"sqlite:///{root / f'naive-{run}.db'}",
                SYNCBOT_JIRA_URL=tracker.url,
                SYNCBOT_JIRA_EMAIL=EMAIL,
                SYNCBOT_JIRA_TOKEN=TOKEN,
            )
            done = run_measured(syncbot_cmd("sync", "--as-of", AS_OF), env=env, cwd=root)
            if done.code != 0:
                raise RuntimeError(f"syncbot sync exited {done.code}: {done.err[-300:]}")
            ours.append(done)
            lines.append(done.out.strip().splitlines()[-1] if done.out.strip() else "")
            script = run_measured(
                [sys.executable, "-c", NAIVE_SCRIPT, tracker.url, EMAIL, TOKEN, "project = P0"],
                env=child_env(),
                cwd=root,
            )
            if script.code != 0:
                raise RuntimeError(f"the naive script exited {script.code}: {script.err[-300:]}")
            theirs.append(script)
        us = median([m.wall for m in ours])
        them = median([m.wall for m in theirs])
        counted = theirs[-1].out.strip()
        table.add(
            Row(
                what,
                f"{us:.2f} s / {them:.2f} s = {us / them:.2f}",
                "a ratio to show (issue 9)",
                None,
                [
                    (
                        f"whole processes, median of {sizes.naive_runs}; peak RSS "
                        f"{median([m.peak_mb for m in ours]):.0f} MB / "
                        f"{median([m.peak_mb for m in theirs]):.0f} MB; CPU "
                        f"{median([m.cpu for m in ours]):.2f} s / "
                        f"{median([m.cpu for m in theirs]):.2f} s"
                    ),
                    f"syncbot: {lines[-1]}",
                    (
                        f"naive script: {counted} issues; the fake Jira renders both in a "
                        "process of its own, without its cache"
                    ),
                ],
            )
        )
    except Exception as exc:
        table.failed(what, "a ratio to show", f"{type(exc).__name__}: {exc}")
    finally:
        tracker.close()
