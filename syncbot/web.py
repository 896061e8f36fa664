"""What `syncbot run` serves over HTTP: a path router, GET /healthz, GET /metrics, and the
waitress server they run on.

/healthz answers 200 when every source is fresh (`rules.freshness`, the same rule `status`
and digests use) and the scheduler runs (on the leader; a follower's waits), else 503, with
per-source detail and the leadership as JSON. /metrics
is prometheus_client's own WSGI app over syncbot's registry.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

# waitress ships no type information: its server, channel and settings are used untyped.
import waitress.wasyncore  # type: ignore[import-untyped]
from prometheus_client import make_wsgi_app
from waitress.adjustments import Adjustments  # type: ignore[import-untyped]
from waitress.channel import HTTPChannel  # type: ignore[import-untyped]
from waitress.server import TcpWSGIServer  # type: ignore[import-untyped]

from syncbot.domain import SourceHealth
from syncbot.metrics import Metrics

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
MAX_BODY = 1 << 20
_REASONS = {
    200: "200 OK",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    503: "503 Service Unavailable",
}


@dataclass(frozen=True)
class JobInfo:
    id: str
    next_run_time: dt.datetime | None  # None: paused


@dataclass(frozen=True)
class SchedulerInfo:
    state: str  # "running" | "paused" | "stopped"
    jobs: tuple[JobInfo, ...] = ()

    @property
    def running(self) -> bool:
        return self.state == "running"


@dataclass(frozen=True)
class LeaderInfo:
    """Leadership as /healthz shows it: whether this process leads, who does (host:pid:random,
    None when nobody holds the lock), this process's own identity, and why the lock cannot be
    reached, if it cannot."""

    leading: bool
    holder: str | None
    instance: str
    error: str | None = None


def health_document(
    sources: Sequence[tuple[str, SourceHealth]],
    scheduler: SchedulerInfo,
    now: dt.datetime,
    *,
    problems: Iterable[str] = (),
    extra: dict[str, Any] | None = None,
    leader: LeaderInfo | None = None,
) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of GET /healthz; `sources` are (client id, health).

    A follower (`leader.leading` false) is healthy with its scheduler waiting: it serves
    HTTP, and stale sources still show when no daemon leads. Its problem is not reaching the
    lock (the database) at all.
    """
    reasons = list(problems)
    leading = leader is None or leader.leading
    if leading and not scheduler.running:
        reasons.append(f"scheduler is {scheduler.state}")
    if leader is not None and leader.error:
        reasons.append(f"leader lock: {leader.error}")
    reasons += [
        f"{client}/{s.source}: "
        + (
            "never synced successfully"
            if s.last_success is None
            else f"no successful sync for more than {_minutes(s.stale_after)} minutes"
        )
        for client, s in sources
        if s.stale
    ]
    doc: dict[str, Any] = {
        "status": "unhealthy" if reasons else "ok",
        "time": _iso(now),
        "reasons": reasons,
        "sources": [
            {
                "client": client,
                "source": s.source,
                "kind": s.kind,
                "last_success": _iso(s.last_success),
                "last_attempt": _iso(s.last_attempt),
                "last_error": s.last_error,
                "stale": s.stale,
                "stale_after_minutes": _minutes(s.stale_after),
            }
            for client, s in sources
        ],
        "scheduler": {
            "running": scheduler.running,
            "state": scheduler.state,
            "jobs": [{"id": j.id, "next_run_time": _iso(j.next_run_time)} for j in scheduler.jobs],
        },
    }
    if leader is not None:
        doc["leader"] = leader.leading
        doc["leader_id"] = leader.holder
        doc["instance"] = leader.instance
    doc.update(extra or {})
    return (503 if reasons else 200), doc


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat() if at else None


class HealthApp:
    """GET /healthz: `probe()` gives the status and the JSON document."""

    def __init__(self, probe: Callable[[], tuple[int, dict[str, Any]]]) -> None:
        self.probe = probe

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return respond(start_response, 405, {"error": "use GET"})
        try:
            status, doc = self.probe()
        except Exception as exc:  # the health check itself failed: that is unhealthy
            logger.exception("health check failed")
            status, doc = 503, {"status": "unhealthy", "reasons": [f"health check failed: {exc}"]}
        return respond(start_response, status, doc)


class MetricsApp:
    """GET /metrics: prometheus_client's exposition of `metrics.registry`."""

    def __init__(self, metrics: Metrics) -> None:
        self.app = make_wsgi_app(metrics.registry)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return respond(start_response, 405, {"error": "use GET"})
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


def respond(start_response: StartResponse, status: int, doc: Any) -> list[bytes]:
    body = json.dumps(doc, ensure_ascii=False).encode()
    start_response(
        _REASONS.get(status, f"{status} Error"),
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


class Router:
    """A WSGI app that dispatches on the exact path, then on path prefixes (`mount_prefix`,
    longest first: e.g. "/c/" for client pages); 404 (JSON) for anything else."""

    def __init__(self) -> None:
        self._routes: dict[str, WSGIApplication] = {}
        self._prefixes: dict[str, WSGIApplication] = {}

    def mount(self, path: str, app: WSGIApplication) -> None:
        self._routes[path] = app

    def mount_prefix(self, prefix: str, app: WSGIApplication) -> None:
        """Every path starting with `prefix` (which ends with "/") goes to `app`."""
        if not prefix.endswith("/"):
            raise ValueError(f"a mount prefix ends with '/': {prefix!r}")
        self._prefixes[prefix] = app

    @property
    def paths(self) -> list[str]:
        return sorted([*self._routes, *(f"{p}*" for p in self._prefixes)])

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        app = self._routes.get(path)
        if app is None:
            app = next(
                (a for p, a in sorted(self._prefixes.items(), reverse=True) if path.startswith(p)),
                None,
            )
        if app is not None:
            return app(environ, start_response)
        return respond(start_response, 404, {"error": "not found"})


READ_SECONDS = 10.0  # longest a request may take to arrive, headers and body
IDLE_SECONDS = 30  # longest a connection may stay open with nothing to do
CONNECTIONS = 100


class _BoundedChannel(HTTPChannel):  # type: ignore[misc]  # waitress ships no types
    """A waitress channel that notes when the request it is reading began."""

    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        if data and self.request is None:
            self.request_started = time.time()
        handled: bool = super().received(data)
        if self.request is None:
            self.request_started = None
        return handled


class _BoundedServer(TcpWSGIServer):  # type: ignore[misc]  # waitress ships no types
    """waitress with a deadline per request and room kept for new connections (slowloris).

    waitress only closes connections idle for `channel_timeout`; one that trickles a byte
    now and then is never idle. Here a request that has not fully arrived within
    `read_seconds` is dropped, and at the connection limit the connection that has waited
    longest without a complete request makes room for a new one, so genuine requests (Slack,
    /healthz) get through whatever a few hundred half-sent ones do.
    """

    channel_class = _BoundedChannel
    read_seconds = READ_SECONDS

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        started = now - self.read_seconds
        for channel in list(self.active_channels.values()):
            begun = getattr(channel, "request_started", None)
            if begun is not None and begun < started and not channel.requests:
                channel.will_close = True

    def readable(self) -> bool:
        if self.accepting and len(self._map) >= self.adj.connection_limit:
            self._make_room()
        return bool(super().readable())

    def _make_room(self) -> None:
        waiting = [
            c
            for c in self.active_channels.values()
            if not c.requests and not c.will_close and not c.close_when_flushed
        ]
        if waiting:
            oldest = min(
                waiting, key=lambda c: getattr(c, "request_started", None) or c.creation_time
            )
            oldest.will_close = True


class HttpServer:
    """waitress serving a WSGI app on host:port (port 0: any free port, see `.port`)."""

    def __init__(
        self,
        app: WSGIApplication,
        host: str,
        port: int,
        *,
        threads: int = 8,
        read_seconds: float = READ_SECONDS,
        idle_seconds: int = IDLE_SECONDS,
        connections: int = CONNECTIONS,
    ) -> None:
        adj = Adjustments(
            host=host,
            port=port,
            threads=threads,
            ident="syncbot",
            max_request_body_size=MAX_BODY,
            clear_untrusted_proxy_headers=True,
            channel_timeout=idle_seconds,
            cleanup_interval=1,
            connection_limit=connections,
        )
        self._server: Any = _BoundedServer(app, adj=adj, sockinfo=adj.listen[0])
        self._server.read_seconds = read_seconds
        self._running = threading.Event()
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        port = getattr(self._server, "effective_port", None)
        if port is None:  # several sockets (a host name resolving to IPv4 and IPv6)
            port = self._server.effective_listen[0][1]
        return int(port)

    def serve_forever(self) -> None:
        self._stopped.clear()
        self._running.set()
        try:
            self._server.run()
        finally:
            self._running.clear()
            self._stopped.set()

    def close(self, timeout: float = 5.0, *, drain: float = 0.0) -> None:
        """Stop serving. From another thread the serving loop is woken to close everything
        itself (closing its sockets under it would leave it waiting out its poll timeout).
        With `drain`, new connections are refused first and requests already received get
        their answers for up to that many seconds (SIGTERM mid-request answers them)."""
        if self._running.is_set():
            if drain > 0:
                self._drain(drain)
            try:
                self._server.trigger.pull_trigger(self._close_all)
            except OSError:  # the trigger is gone already (the loop is closing): do it here
                self._close_all()
            self._stopped.wait(timeout)
        else:
            self._close_all()

    def _drain(self, seconds: float) -> None:
        try:
            self._server.trigger.pull_trigger(self._stop_accepting)
        except OSError:
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._answering():
            time.sleep(0.02)

    def _stop_accepting(self) -> None:
        self._server.accepting = False
        self._server.del_channel()  # out of the loop: nothing new is accepted
        self._server.socket.close()

    def _answering(self) -> bool:
        """Whether a connection holds a received request not yet answered in full."""
        channels = list((getattr(self._server, "_map", None) or {}).values())
        return any(
            getattr(c, "requests", None) or getattr(c, "total_outbufs_len", 0)
            for c in channels
            if c is not self._server
        )

    def _close_all(self) -> None:
        self._server.close()
        # Open client connections live in the same socket map; close them too so the loop ends.
        waitress.wasyncore.close_all(getattr(self._server, "_map", None) or {})
