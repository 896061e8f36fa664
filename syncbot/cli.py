"""Command line (SPEC §2). The only place that reads the clock, prints, and picks exit codes.

Exit codes: 0 success; 2 bad input (config, data, settings, arguments: one line per problem);
1 a passing failure (a tracker unreachable). Tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from syncbot import __version__, logs, messages, service
from syncbot.config import Client, LoadedConfig, load_config
from syncbot.connectors.base import ProgressCallback
from syncbot.errors import ConfigError, SyncbotError
from syncbot.render import blocks, text
from syncbot.render.digest import DigestDoc
from syncbot.render.views import Audience, status_document
from syncbot.settings import Settings, load_settings, state_dir
from syncbot.store import Store

logger = logging.getLogger("syncbot")
DEMO_AS_OF = dt.date(2026, 3, 10)
DEFAULT_CONFIG = Path("config/syncbot.toml")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"syncbot: error: {message} (see `syncbot --help`)\n")


def _as_of(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


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
    sub.add_parser("check", parents=[common], help="validate configuration and secrets")
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
    sub.add_parser("run", parents=[common], help="the daemon (scheduler + HTTP endpoint)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
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
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `syncbot status | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _settings() -> Settings:
    return load_settings()


def _config_path(args: argparse.Namespace, settings: Settings) -> Path:
    return getattr(args, "config", None) or settings.config or DEFAULT_CONFIG


def _load(args: argparse.Namespace) -> tuple[Settings, LoadedConfig]:
    settings = _settings()
    return settings, load_config(_config_path(args, settings))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def cmd_check(args: argparse.Namespace) -> int:
    settings, loaded = _load(args)
    problems = []
    for ci, client in enumerate(loaded.config.clients):
        for si, source in enumerate(client.sources):
            if not source.is_export:
                for missing in settings.missing_for(source.tracker):
                    problems.append(
                        f"{loaded.path}: clients[{ci}].sources[{si}]: kind "
                        f"{source.kind!r} needs {missing} in the environment or .env"
                    )
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    slack = settings.missing_for("slack")
    clients = len(loaded.config.clients)
    milestones = sum(len(c.milestones) for c in loaded.config.clients)
    print(f"{loaded.path}: OK ({clients} clients, {milestones} milestones)")
    if slack:
        print(f"note: {', '.join(slack)} not set: needed for `digest --post` and `run`")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    settings, loaded = _load(args)
    store = Store(settings.resolved_database_url())
    return _sync(loaded, settings, store, as_of=args.as_of, full=args.full)


def _sync(
    loaded: LoadedConfig,
    settings: Settings,
    store: Store,
    *,
    as_of: dt.date | None,
    full: bool = False,
    quiet: bool = False,
) -> int:
    reports = []
    for client in loaded.config.clients:
        reports += service.sync_client(
            loaded,
            client,
            settings,
            store,
            now=_now,
            full=full,
            progress=None if quiet else _progress,
        )
        state = service.client_state(
            loaded, client, store, as_of=as_of or service.today(client, _now()), now=_now()
        )
        service.record_snapshot(store, state, _now())
    if not quiet:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
        for report in reports:
            print(report.line())
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


def _view_state(args: argparse.Namespace) -> tuple[LoadedConfig, Client, Store, Any]:
    settings, loaded = _load(args)
    client = loaded.config.client(args.client)
    store = Store(settings.resolved_database_url())
    now = _now()
    state = service.client_state(
        loaded,
        client,
        store,
        as_of=args.as_of or service.today(client, now),
        now=now,
        audience=_audience(args),
    )
    return loaded, client, store, state


def cmd_status(args: argparse.Namespace) -> int:
    _, client, store, state = _view_state(args)
    doc = status_document(state, _audience(args), service.opaque_for(store, client.id))
    if args.format == "json":
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        print(text.status_text(doc, client.name))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    if args.correct and not args.post:
        raise SyncbotError("--correct updates a posted digest: use it with --post")
    if args.post:
        return _post_digest(args)
    settings, loaded = _load(args)
    client = loaded.config.client(args.client)
    store = Store(settings.resolved_database_url())
    now = _now()
    doc, _ = service.digest_for(
        loaded,
        client,
        store,
        _audience(args),
        as_of=args.as_of or service.today(client, now),
        now=now,
    )
    _print_digest(doc, args.format)
    return 0


def _post_digest(args: argparse.Namespace) -> int:
    """Exit 0 when every digest owed is in Slack (or another run is posting it), 1 when one
    is queued for a retry (Slack unavailable), 2 when Slack refused (fix and re-run)."""
    from syncbot.slack.outbox import Outbox  # Slack libraries load only when posting
    from syncbot.slack.posting import SlackPoster

    settings, loaded = _load(args)
    client = loaded.config.client(args.client)
    store = Store(settings.resolved_database_url())
    outbox = Outbox(
        store,
        SlackPoster.from_settings(settings),
        now=_now,
        backoff=settings.slack_retry_backoff_seconds,
    )
    audiences: list[Audience] = [args.audience] if args.audience else ["internal", "client"]
    results = []
    for audience in audiences:
        if args.correct:
            results.append(outbox.correct(loaded, client, audience, as_of=args.as_of))
        else:
            results += outbox.deliver(loaded, client, audience, as_of=args.as_of)
    for result in results:
        print(result.line(), file=sys.stdout if result.ok else sys.stderr)
    if any(r.outcome == "refused" for r in results):
        return 2
    return 0 if all(r.ok for r in results) else 1


def _print_digest(doc: DigestDoc, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(doc.as_json(), indent=2, ensure_ascii=False))
    elif fmt == "blocks":
        messages = [m.as_json() for m in blocks.digest_messages(doc)]
        print(json.dumps({"messages": messages}, indent=2, ensure_ascii=False))
    else:
        print(text.digest_text(doc))


def find_demo_config() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = base / "config" / "demo" / "syncbot.toml"
        if candidate.is_file():
            return candidate
    raise SyncbotError(
        "demo data not found: run `syncbot demo` from the project folder (it reads config/demo/)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    loaded = load_config(getattr(args, "config", None) or find_demo_config())
    db = state_dir() / "demo.sqlite3"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)  # the demo always starts from a clean store
    store = Store(f"sqlite:///{db}")
    # The demo is offline by design: no .env, no tracker credentials.
    settings = Settings(_env_file=None, database_url=store.url)  # type: ignore[call-arg]
    print("Syncing the recorded Jira and Linear responses under config/demo/ ...")
    code = _sync(loaded, settings, store, as_of=args.as_of)
    if code:
        return code
    now = _now()
    for client in loaded.config.clients:
        audiences: tuple[tuple[Audience, str], ...] = (
            ("internal", client.internal_channel),
            ("client", client.client_channel),
        )
        for audience, channel in audiences:
            doc, _ = service.digest_for(loaded, client, store, audience, as_of=args.as_of, now=now)
            print(f"\n##### {client.name}: {audience} digest (for Slack channel {channel})\n")
            print(text.digest_text(doc))
    print(f"\nState stored in {store.location} (SQLite; as of {args.as_of}).")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The daemon. SIGTERM stops the HTTP server, then the scheduler, which waits up to
    SYNCBOT_SHUTDOWN_SECONDS for running jobs and abandons the rest (safe: see
    `syncbot.daemon`); the exit code is 0."""
    from syncbot.daemon import Daemon  # the daemon's libraries load here
    from syncbot.slack.app import HttpServer, Runtime

    settings, loaded = _load(args)
    logs.configure(
        fmt=settings.log_format,
        debug=getattr(args, "debug", False),
        level=logging.INFO,
        secrets=logs.secret_values(settings),
    )
    store = Store(settings.resolved_database_url())
    try:
        daemon = Daemon(loaded, settings, store, now=_now)
        runtime = Runtime(loaded, settings, store, now=_now, daemon=daemon)
    except BaseException:
        store.close()
        raise
    try:
        server = HttpServer(runtime.router, settings.host, settings.port)
    except OSError as exc:
        runtime.close()
        store.close()
        raise SyncbotError(
            f"run: cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "set SYNCBOT_HOST / SYNCBOT_PORT"
        ) from exc
    stopping = threading.Event()

    def stop_serving() -> None:
        logger.info("SIGTERM: stopping")
        server.close()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # Raising here would be caught by whatever the main thread runs (waitress's loop
        # swallows exceptions from its handlers): close the server from another thread, so
        # that serve_forever() returns and the clean-up below runs.
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=stop_serving, name="syncbot-sigterm", daemon=True).start()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        runtime.start()
        print(
            messages.serving(
                settings.host, server.port, runtime.routes, socket_mode=runtime.socket_mode
            ),
            file=sys.stderr,
            flush=True,
        )
        runtime.start_scheduler()
        if not stopping.is_set():
            server.serve_forever()
    finally:
        try:
            server.close()
            runtime.close()
        finally:
            store.close()
            signal.signal(signal.SIGTERM, previous)
    logger.info("stopped")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "demo": cmd_demo,
    "check": cmd_check,
    "sync": cmd_sync,
    "status": cmd_status,
    "digest": cmd_digest,
    "run": cmd_run,
}
