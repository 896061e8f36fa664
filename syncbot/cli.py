"""Command line (SPEC §2): argparse, printing and exit codes; everything else is the app's.

Exit codes: 0 success; 2 bad input (config, data, settings, arguments: one line per problem);
1 a passing failure (a tracker or the database unreachable). Tracebacks only with --debug.
Each command imports what it needs when it runs, so `syncbot --help` loads almost nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from syncbot import __version__

if TYPE_CHECKING:
    from syncbot.app import Syncbot, SyncReport
    from syncbot.config import LoadedConfig
    from syncbot.connectors.base import Connections, ProgressCallback
    from syncbot.render.doc import DigestDoc
    from syncbot.render.views import Audience
    from syncbot.settings import Settings
    from syncbot.store import Store

logger = logging.getLogger("syncbot")
DEMO_AS_OF = dt.date(2026, 3, 10)
DEFAULT_CONFIG = Path("config/syncbot.toml")
DEMO_STATE = Path(".syncbot") / "demo.sqlite3"
_OPENED: list[Store] = []


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"syncbot: error: {message} (see `syncbot --help`)\n")


def _as_of(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    if not dt.date(1971, 1, 1) <= day <= dt.date(9000, 12, 31):
        raise argparse.ArgumentTypeError(f"{value} is outside 1971-01-01 to 9000-12-31")
    return day


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default: $SYNCBOT_CONFIG, then ./config/syncbot.toml)",
    )
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="verbose logs and tracebacks",
    )
    as_of = _Parser(add_help=False)
    as_of.add_argument(
        "--as-of",
        type=_as_of,
        metavar="YYYY-MM-DD",
        help="pin 'today' (default: today in the client's timezone)",
    )
    view = _Parser(add_help=False)
    view.add_argument("--client", required=True, help="client id from the config")
    view.add_argument(
        "--audience",
        choices=["internal", "client"],
        default=None,
        help="whose view (default internal; `digest --post` without it posts both)",
    )

    parser = _Parser(
        prog="syncbot",
        parents=[common],
        description="Milestones and client dependencies from Jira/Linear, honestly reported.",
    )
    parser.add_argument("--version", action="version", version=f"syncbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    demo = sub.add_parser(
        "demo", parents=[common], help="run the whole pipeline over the bundled demo data"
    )
    demo.add_argument(
        "--as-of",
        type=_as_of,
        default=DEMO_AS_OF,
        metavar="YYYY-MM-DD",
        help=f"the demo's 'today' (default {DEMO_AS_OF})",
    )
    check = sub.add_parser("check", parents=[common], help="validate configuration and secrets")
    check.add_argument(
        "--live",
        action="store_true",
        help="also call each tracker, Slack and MLflow once: credentials work, the bot is in "
        "every configured channel and may post there, every experiment a metric names exists",
    )
    sync = sub.add_parser("sync", parents=[common, as_of], help="pull every source once")
    sync.add_argument("--full", action="store_true", help="force a full reconcile")
    status = sub.add_parser(
        "status", parents=[common, as_of, view], help="current milestone and dependency state"
    )
    status.add_argument("--format", choices=["text", "json"], default="text")
    digest = sub.add_parser("digest", parents=[common, as_of, view], help="render a digest")
    digest.add_argument("--format", choices=["text", "blocks", "json"], default="text")
    digest.add_argument(
        "--post",
        action="store_true",
        help="send it to Slack: internal digest to internal_channel, client digest to "
        "client_channel (or only --audience); once per schedule period",
    )
    digest.add_argument(
        "--correct",
        action="store_true",
        help="with --post: re-render this period's posted digest and update it in place",
    )
    alerts = sub.add_parser(
        "alerts",
        parents=[common, as_of],
        help="the alerts the current state raises against the last alerted state",
    )
    alerts.add_argument("--client", required=True, help="client id from the config")
    alerts.add_argument("--format", choices=["text", "json"], default="text")
    alerts.add_argument(
        "--post", action="store_true", help="send them to the internal channel, once each"
    )
    note = sub.add_parser(
        "note",
        parents=[common],
        help="set or clear a milestone's client-facing note (cause and recovery)",
    )
    note.add_argument("--client", required=True, help="client id from the config")
    note.add_argument("--milestone", required=True, help="milestone id, e.g. 3.1")
    what = note.add_mutually_exclusive_group(required=True)
    what.add_argument("--text", help="the note, written for the client")
    what.add_argument("--clear", action="store_true", help="remove the note")
    trend = sub.add_parser(
        "trend",
        parents=[common, view],
        help="milestone trend analysis over the stored history (SPEC §9)",
    )
    trend.add_argument("--format", choices=["json", "png"], default="json")
    trend.add_argument(
        "--out", type=Path, metavar="FILE", help="write there (png needs it; '-': stdout)"
    )
    trend.add_argument(
        "--as-of",
        type=_as_of,
        metavar="YYYY-MM-DD",
        help="only the reports up to that day (default: all)",
    )
    share = sub.add_parser(
        "share", parents=[common], help="create, list or revoke client page links (SPEC §9)"
    )
    share.add_argument("--client", required=True, help="client id from the config")
    action = share.add_mutually_exclusive_group()
    action.add_argument(
        "--expires-in",
        type=_duration,
        default=None,
        metavar="N[s|m|h|d]",
        help="lifetime of a new link (default 30d)",
    )
    action.add_argument("--list", action="store_true", help="the client's links")
    action.add_argument("--revoke", metavar="TOKEN", help="revoke a link (token, URL or id)")
    action.add_argument("--all", action="store_true", help="revoke every link of the client")
    sub.add_parser(
        "run", parents=[common], help="the daemon (scheduler + HTTP endpoint, client pages)"
    )
    return parser


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_LINK_LIFETIME = dt.timedelta(days=30)
LONGEST_LINK_LIFETIME = dt.timedelta(days=3660)


def _duration(value: str) -> dt.timedelta:
    """`30d`, `12h`, `90m`, `3600s`: a positive number with a unit."""
    text = value.strip().lower()
    number, unit = text[:-1], text[-1:]
    try:
        amount = float(number)
    except ValueError:
        amount = float("nan")
    if unit not in _UNITS or not amount > 0:
        raise argparse.ArgumentTypeError(
            f"not a duration: {value!r} (a positive number with a unit s, m, h or d, e.g. 30d)"
        )
    delta = dt.timedelta(seconds=amount * _UNITS[unit])
    if delta > LONGEST_LINK_LIFETIME:
        raise argparse.ArgumentTypeError(f"{value} is longer than 10 years")
    return delta


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    from syncbot import logs
    from syncbot.errors import ConfigError, StoreUnavailable, SyncbotError

    # Warnings only, without timestamps: the commands' own output is what people read.
    # `run` switches to timestamped INFO logs in SYNCBOT_LOG_FORMAT once settings are read.
    logs.configure(fmt="text", debug=debug, level=logging.WARNING, timestamps=False)
    try:
        return int(COMMANDS[args.command](args))
    except ConfigError as exc:
        if debug:
            raise
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except SyncbotError as exc:
        if debug:
            raise
        print(f"syncbot: error: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, StoreUnavailable) else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `syncbot status | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        while _OPENED:
            _OPENED.pop().close()


def _config_path(args: argparse.Namespace, settings: Settings) -> Path:
    return getattr(args, "config", None) or settings.config or DEFAULT_CONFIG


def _load(args: argparse.Namespace) -> tuple[Settings, LoadedConfig]:
    from syncbot.config import load_config
    from syncbot.settings import load_settings

    settings = load_settings()
    return settings, load_config(_config_path(args, settings))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _app(args: argparse.Namespace, *, settings: Settings | None = None) -> Syncbot:
    from syncbot.app import Syncbot

    loaded_settings, loaded = _load(args)
    settings = settings or loaded_settings
    return Syncbot(loaded, settings, _store(settings.resolved_database_url()), _now)


def _store(url: str) -> Store:
    """A store the command closes when it ends (main's `finally`)."""
    from syncbot.store import Store

    store = Store(url)
    _OPENED.append(store)
    return store


def cmd_check(args: argparse.Namespace) -> int:
    from syncbot.app import connections_from_settings
    from syncbot.connectors import open_source
    from syncbot.errors import DataError

    settings, loaded = _load(args)
    connections = connections_from_settings(settings)
    problems = []
    for ci, client in enumerate(loaded.config.clients):
        for si, source in enumerate(client.sources):
            where = f"{loaded.path}: clients[{ci}].sources[{si}]"
            if source.tracker == "mlflow":
                continue  # _metric_problems
            if source.is_export:
                try:
                    files = loaded.export_files(source)
                    open_source(source, client=client, connections=connections, files=files).fetch(
                        updated_since=None
                    )
                except DataError as exc:
                    problems.append(f"{where}: {exc}")
                continue
            for missing in settings.missing_for(source.tracker):
                problems.append(
                    f"{where}: kind {source.kind!r} needs {missing} in the environment or .env"
                )
        problems += _metric_problems(loaded, ci, settings, connections)
    found: list[str] = []
    if getattr(args, "live", False):
        found = [*_live_check(settings, loaded, connections), *_live_mlflow(loaded, connections)]
        problems += [line for line in found if not line.startswith("live: ")]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    from syncbot.messages import plural

    slack = settings.missing_for("slack")
    clients = plural(len(loaded.config.clients), "client")
    milestones = plural(sum(len(c.milestones) for c in loaded.config.clients), "milestone")
    print(f"{loaded.path}: OK ({clients}, {milestones})")
    for line in found:
        print(line)
    if slack and not found:
        print(f"note: {', '.join(slack)} not set: needed for `digest --post` and `run`")
    return 0


def _live_check(settings: Settings, loaded: LoadedConfig, connections: Connections) -> list[str]:
    """`check --live`: one call per tracker the config reads live (unless its credentials are
    missing, which the static check reports), Slack auth.test and
    conversations.info per channel. Lines starting "live: " say what worked; the others are
    problems, each naming the setting or the config key to fix."""
    from syncbot.connectors import whoami
    from syncbot.errors import SourceError, SyncbotError
    from syncbot.run import slack_access
    from syncbot.slack.probe import check_slack

    out: list[str] = []
    trackers = {
        s.tracker for c in loaded.config.clients for s in c.ticket_sources if not s.is_export
    }
    for tracker in sorted(trackers):
        name = {"jira": "Jira", "linear": "Linear"}[tracker]
        if settings.missing_for(tracker):
            continue  # the line above names what to set
        try:
            out.append(f"live: {name} OK (signed in as {whoami(tracker, connections)})")
        except SourceError as exc:  # already "Jira: Jira answered 401 ...: check ..."
            out.append(str(exc))
        except SyncbotError as exc:
            out.append(f"{name}: {exc}")
    if settings.slack_bot_token is None:
        out.append(
            "Slack: SYNCBOT_SLACK_BOT_TOKEN is not set: put the bot token (xoxb-...) in "
            "the environment or .env"
        )
        return out
    keys: dict[str, list[str]] = {}
    for ci, client in enumerate(loaded.config.clients):
        for key in ("internal_channel", "client_channel"):
            keys.setdefault(getattr(client, key), []).append(f"clients[{ci}].{key}")
    try:
        slack = check_slack(
            slack_access(settings), list(keys), timeout=int(settings.source_timeout_seconds) or 1
        )
    except SyncbotError as exc:
        return [*out, f"Slack: {exc}"]
    out += [f"Slack: {p}" for p in slack.token_problems]
    for channel, problem in slack.channel_problems.items():
        out.append(f"{loaded.path}: {', '.join(keys[channel])}: Slack channel {channel}: {problem}")
    if slack.ok:
        out.append(f"live: Slack OK ({slack.identity}, member of {len(keys)} channel(s))")
    return out


def _metric_problems(
    loaded: LoadedConfig, ci: int, settings: Settings, connections: Connections
) -> list[str]:
    """The milestone metrics of clients[ci]: a recorded MLflow source must answer every
    metric; a live one needs SYNCBOT_MLFLOW_URL (named at each milestone with a metric)."""
    from syncbot.connectors import open_metric_source
    from syncbot.errors import DataError

    client = loaded.config.clients[ci]
    source = client.metric_source
    if source is None:
        return []
    wanted = [(m.id, m.metric) for m in client.milestones if m.metric is not None]
    if source.is_export:
        where = f"{loaded.path}: clients[{ci}].sources[{client.sources.index(source)}]"
        try:
            files = loaded.export_files(source)
            open_metric_source(source, connections=connections, files=files).read(wanted)
        except DataError as exc:
            return [f"{where}: {exc}"]
        return []
    if not settings.missing_for("mlflow"):
        return []
    return [
        (
            f"{loaded.path}: clients[{ci}].milestones[{mi}].metric: needs SYNCBOT_MLFLOW_URL "
            "in the environment or .env (the MLflow tracking server), or an mlflow-export "
            "source for this client"
        )
        for mi, m in enumerate(client.milestones)
        if m.metric is not None
    ]


def _live_mlflow(loaded: LoadedConfig, connections: Connections) -> list[str]:
    """`check --live` for MLflow: each experiment a milestone metric names exists on the
    server of SYNCBOT_MLFLOW_URL (clients with an mlflow-export source read no server).
    Lines starting "live: " say what worked; the others are problems naming the key to fix."""
    from syncbot.connectors import open_metric_source
    from syncbot.connectors.mlflow import MlflowSource
    from syncbot.errors import SourceError, SourceQueryError, SyncbotError

    out: list[str] = []
    checked: dict[str, str | None] = {}  # experiment -> problem (None: it exists)
    for ci, client in enumerate(loaded.config.clients):
        source = client.metric_source
        if source is None or source.is_export or connections.mlflow is None:
            continue
        reader = open_metric_source(source, connections=connections)
        assert isinstance(reader, MlflowSource)
        for mi, milestone in enumerate(client.milestones):
            if milestone.metric is None:
                continue
            name = milestone.metric.experiment
            if name not in checked:
                try:
                    reader.experiment_id(name)
                    checked[name] = None
                except SourceQueryError as exc:
                    checked[name] = exc.detail
                except SourceError as exc:
                    out.append(f"MLflow: {exc.detail}")
                    return out
                except SyncbotError as exc:
                    out.append(f"MLflow: {exc}")
                    return out
            if checked[name] is not None:
                key = f"clients[{ci}].milestones[{mi}].metric.experiment"
                out.append(f"{loaded.path}: {key}: {checked[name]}")
    if checked and all(problem is None for problem in checked.values()):
        n = len(checked)
        out.append(f"live: MLflow OK ({n} experiment{'s' * (n != 1)} found)")
    return out


def cmd_sync(args: argparse.Namespace) -> int:
    return _sync(_app(args), as_of=args.as_of, full=args.full)


def _sync(app: Syncbot, *, as_of: dt.date | None, full: bool = False, quiet: bool = False) -> int:
    reports: list[SyncReport] = []
    notes: list[str] = []
    for client in app.clients:
        result = app.sync(client.id, full=full, as_of=as_of, progress=None if quiet else _progress)
        reports += result.reports
        line = result.matching.line()
        if line:
            notes.append(line)
    if not quiet:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
        for report in reports:
            print(report.line())
        for note in notes:
            print(note)
    failed = [r for r in reports if r.error]
    if quiet:
        for report in failed:
            print(report.line(), file=sys.stderr)
    if failed:
        return 2 if any(r.bad_input for r in failed) else 1
    return 0


def _progress(source: str) -> ProgressCallback | None:
    if not sys.stderr.isatty():
        return None

    def show(tickets: int, pages: int) -> None:
        print(
            f"\r\033[K{source}: {tickets} tickets, {pages} pages",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def _audience(args: argparse.Namespace) -> Audience:
    return "client" if args.audience == "client" else "internal"


def cmd_status(args: argparse.Namespace) -> int:
    from syncbot.render import text
    from syncbot.render.views import status_document

    app = _app(args)
    client = app.client(args.client)
    app.require_data(client.id)
    audience = _audience(args)
    view = app.view(client.id, audience, as_of=args.as_of)
    if args.format == "json":
        print(json.dumps(status_document(view, audience), indent=2, ensure_ascii=False))
    else:
        print(text.status_text(view, audience))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from syncbot.errors import SyncbotError

    if args.correct and not args.post:
        raise SyncbotError("--correct updates a posted digest: use it with --post")
    if args.post:
        return _post_digest(args)
    app = _app(args)
    client = app.client(args.client)
    app.require_data(client.id)
    doc, _ = app.digest(client.id, _audience(args), as_of=args.as_of)
    _print_digest(doc, args.format)
    return 0


def _post_digest(args: argparse.Namespace) -> int:
    """Exit 0 when every digest owed is in Slack (or another run is posting it), 1 when one
    is queued for a retry (Slack unavailable), 2 when Slack refused (fix and re-run)."""
    from syncbot import messages
    from syncbot.run import slack_access
    from syncbot.slack.actions import mark_superseded
    from syncbot.slack.outbox import Outbox, nothing_to_correct
    from syncbot.slack.posting import SlackPoster

    app = _app(args)
    client = app.client(args.client)
    access = slack_access(app.settings)
    outbox = Outbox(
        app.store, SlackPoster.connect(access), clock=_now, backoff=access.retry_backoff
    )
    audiences: list[Audience] = [args.audience] if args.audience else ["internal", "client"]
    results = []
    for audience in audiences:
        if args.correct:
            fix = app.correction(client.id, audience, as_of=args.as_of)
            if fix is None:
                period = app.period(client, audience)
                channel = (
                    client.internal_channel if audience == "internal" else client.client_channel
                )
                results.append(nothing_to_correct(client.id, audience, channel, period))
            else:
                results.append(outbox.correct(fix.entry, fix.messages, fix.snapshot, fix.as_of))
        else:
            results += outbox.send_all(app.queue_digest(client.id, audience, as_of=args.as_of))
    if "client" in audiences and not args.correct:
        mark_superseded(app, client.id, outbox)
    for result in results:
        local = result.local(client.tz)
        print(local.line(), file=sys.stdout if local.ok else sys.stderr)
    if "client" in audiences and app.awaiting_review(client.id):
        print(messages.awaiting_review(client.id, client.internal_channel, client.client_channel))
    if any(r.outcome == "refused" for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1


def _print_digest(doc: DigestDoc, fmt: str) -> None:
    from syncbot.render import blocks, text

    if fmt == "json":
        print(json.dumps(doc.as_json(), indent=2, ensure_ascii=False))
    elif fmt == "blocks":
        messages = [m.as_json() for m in blocks.digest_messages(doc)]
        print(json.dumps({"messages": messages}, indent=2, ensure_ascii=False))
    else:
        print(text.digest_text(doc))


def cmd_trend(args: argparse.Namespace) -> int:
    from syncbot.errors import SyncbotError
    from syncbot.render.trend import trend_document

    if args.format == "png" and args.out is None:
        raise SyncbotError("--format png writes a file: add --out FILE (or --out - for stdout)")
    app = _app(args)
    client = app.client(args.client)
    app.require_data(client.id)
    audience = _audience(args)
    if args.format == "json":
        value = app.trend(client.id, audience, as_of=args.as_of)
        data = (json.dumps(trend_document(value), indent=2, ensure_ascii=False) + "\n").encode()
    else:
        _, data = app.chart(client.id, audience, as_of=args.as_of)
    if args.out is None:
        sys.stdout.write(data.decode())
    elif str(args.out) == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        try:
            args.out.write_bytes(data)
        except OSError as exc:
            raise SyncbotError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(
            f"{args.out}: {args.format} trend of {client.id} ({len(data)} bytes)", file=sys.stderr
        )
    return 0


def cmd_share(args: argparse.Namespace) -> int:
    from syncbot import messages
    from syncbot.errors import SyncbotError

    app = _app(args)
    client = app.client(args.client)
    if args.list:
        now = _now()
        for link in app.shares(client.id):
            if link.revoked_at is not None:
                state = f"revoked {link.revoked_at.astimezone(dt.UTC):%Y-%m-%d %H:%M UTC}"
            elif not link.active(now):
                state = "expired"
            else:
                state = "active"
            used = (
                f"{link.last_used_at.astimezone(dt.UTC):%Y-%m-%d %H:%M UTC}"
                if link.last_used_at
                else "never"
            )
            print(f"{messages.share_row(link.id, link.created_at, link.expires_at, used)}  {state}")
        return 0
    if args.revoke is not None:
        revoked = app.unshare(client.id, args.revoke)
        if revoked is None:
            raise SyncbotError(messages.share_not_found(client.id))
        print(messages.share_revoked(1, client.id))
        return 0
    if args.all:
        print(messages.share_revoked(app.unshare_all(client.id), client.id))
        return 0
    url, link = app.share(client.id, args.expires_in or DEFAULT_LINK_LIFETIME)
    print(url)
    print(messages.share_created(client.id, link.expires_at), file=sys.stderr)
    if not app.settings.public_url:
        print(messages.SHARE_NO_PUBLIC_URL, file=sys.stderr)
    return 0


def find_demo_config() -> Path:
    from syncbot.errors import SyncbotError

    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = base / "config" / "demo" / "syncbot.toml"
        if candidate.is_file():
            return candidate
    raise SyncbotError(
        "demo data not found: run `syncbot demo` from the project folder (it reads config/demo/)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from syncbot.app import Syncbot
    from syncbot.config import load_config
    from syncbot.render import text
    from syncbot.settings import Settings

    config = getattr(args, "config", None) or find_demo_config()
    loaded = load_config(config)
    db = DEMO_STATE.resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)  # the demo always starts from a clean store
    url = f"sqlite:///{db}"
    # The demo is offline by design: no .env, no tracker credentials.
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    app = Syncbot(loaded, settings, _store(url), _now)
    print("Syncing the recorded Jira, Linear and MLflow responses under config/demo/ ...")
    code = _sync(app, as_of=args.as_of)
    if code:
        return code
    for client in app.clients:
        for audience, channel in (
            ("internal", client.internal_channel),
            ("client", client.client_channel),
        ):
            doc, _ = app.digest(client.id, audience, as_of=args.as_of)  # type: ignore[arg-type]
            print(f"\n##### {client.name}: {audience} digest (for Slack channel {channel})\n")
            print(text.digest_text(doc))
    print(f"\nState stored in {_shown(db)} (SQLite; as of {args.as_of}). Try next:")
    prefix = f"SYNCBOT_DATABASE_URL={shlex.quote(url)} {_invocation()}"
    where = f"--config {shlex.quote(_shown(Path(config)))} --as-of {args.as_of}"
    first = app.clients[0].id
    print(f"  {prefix} status --client {first} {where}")
    print(f"  {prefix} status --client {first} --audience client --format json {where}")
    print(f"  {prefix} digest --client {app.clients[-1].id} --format blocks {where}")
    return 0


def _shown(path: Path) -> str:
    """A path relative to the working directory when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path.resolve())


def _invocation() -> str:
    """How to run syncbot again the way it was run now (for commands the demo suggests)."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "syncbot" and script.exists():
        on_path = shutil.which("syncbot")
        if on_path and Path(on_path).resolve() == script.resolve():
            return "syncbot"
        return shlex.quote(_shown(script))
    return f"{shlex.quote(_shown(Path(sys.executable)))} -m syncbot"


def cmd_alerts(args: argparse.Namespace) -> int:
    """A dry run by default: nothing is recorded. With --post, each alert is posted once."""
    app = _app(args)
    client = app.client(args.client)
    app.require_data(client.id)
    if args.post:
        from syncbot.run import slack_access
        from syncbot.slack.outbox import Outbox
        from syncbot.slack.posting import SlackPoster

        access = slack_access(app.settings)
        poster = SlackPoster.connect(access)
        outbox = Outbox(app.store, poster, clock=_now, backoff=access.retry_backoff)
        results = outbox.send_all(app.raise_alerts(client.id, as_of=args.as_of))
        for result in results:
            local = result.local(client.tz)
            print(local.line(), file=sys.stdout if local.ok else sys.stderr)
        if not results:
            print(f"{client.id}: no new alerts")
        return 0 if all(r.ok for r in results) else 1
    found = app.evaluate_alerts(client.id, as_of=args.as_of)
    as_of = args.as_of or app.today(client)
    changes = [change for alert in found.alerts for change in alert.changes]
    if args.format == "json":
        doc = {
            "client": client.id,
            "as_of": as_of.isoformat(),
            "alerts": [
                {
                    "milestone": c.milestone,
                    "kind": c.kind,
                    "old": c.old,
                    "new": c.new,
                    "message": c.message,
                }
                for c in changes
            ],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for c in changes:
            print(f"[{c.kind}] {c.milestone or '-'}: {c.message}")
        if not changes:
            print(f"{client.id}: nothing worsened since the last alerts")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    import getpass

    app = _app(args)
    client = app.client(args.client)
    changed = app.note(
        client.id, args.milestone, None if args.clear else args.text, by=getpass.getuser()
    )
    if args.clear:
        print(f"{client.id}/{args.milestone}: note " + ("cleared" if changed else "was not set"))
    else:
        print(f"{client.id}/{args.milestone}: note set")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from syncbot import logs
    from syncbot.app import Syncbot
    from syncbot.metrics import Metrics
    from syncbot.run import serve
    from syncbot.store import Store

    settings, loaded = _load(args)
    logs.configure(
        fmt=settings.log_format,
        debug=getattr(args, "debug", False),
        level=logging.INFO,
        secrets=logs.secret_values(settings),
    )
    store = Store(settings.resolved_database_url())
    try:
        app = Syncbot(loaded, settings, store, _now, metrics=Metrics())
        return serve(app, settings)
    finally:
        store.close()


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "check": cmd_check,
    "sync": cmd_sync,
    "status": cmd_status,
    "digest": cmd_digest,
    "alerts": cmd_alerts,
    "note": cmd_note,
    "trend": cmd_trend,
    "share": cmd_share,
    "run": cmd_run,
}
