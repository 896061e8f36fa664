"""A loopback HTTP server for tests: OS-chosen port, a log of every request, switchable faults.

Subclasses implement `handle(request) -> Response`. Faults are queued answers that replace the
normal one for the next `times` matching requests (`times=None`: until `clear_faults()`), so a
test can say "the next two searches get a 429" without touching the tracker logic. `trickle`
sends the normal answer a few bytes a second (status line and headers too, unless
`body_only`), the slow answer that a timeout between bytes never catches. `slow` gives the
normal answer after a delay (a tracker answering about a second per page).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

HANG_SECONDS = 10.0  # a hung request is released at the latest after this, or on stop()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def params(self, name: str) -> list[str]:
        """A multi-valued parameter, repeated and/or comma-separated (Jira accepts both)."""
        return [v.strip() for raw in self.query.get(name, []) for v in raw.split(",") if v.strip()]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float | None = None  # bytes per second, for the `trickle` fault
    trickle_body_only: bool = False

    def wire(self) -> bytes:
        """The whole HTTP/1.1 answer as bytes (one connection, closed after it)."""
        lines = [f"HTTP/1.1 {self.status} {HTTPStatus(self.status).phrase}"]
        headers = {**self.headers, "Content-Length": str(len(self.body)), "Connection": "close"}
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json;charset=UTF-8", **(headers or {})},
        )

    @classmethod
    def text(cls, status: int, text: str, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status, text.encode(), {"Content-Type": "text/plain;charset=UTF-8", **(headers or {})}
        )


HANG = Response(0)  # a fault answer meaning: say nothing until the client gives up


@dataclass
class Fault:
    answer: Callable[[Request], Response]
    times: int | None
    path: str | None  # only requests whose path contains this

    def matches(self, request: Request) -> bool:
        return self.path is None or self.path in request.path


class FakeServer:
    """Base class: `with Server(...) as server:` serves on 127.0.0.1 at `server.url`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.crashes: list[str] = []  # exceptions in handle(): a bug in the fake, not a fault
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server._serve(self)

            do_POST = do_PUT = do_DELETE = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read server.requests instead

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- faults and the request log -------------------------------------------------------

    def fault(
        self,
        answer: Callable[[Request], Response] | Response,
        *,
        times: int | None = 1,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests whose path contains `path` with `answer`."""
        respond = answer if callable(answer) else (lambda _request: answer)
        with self._lock:
            self._faults.append(Fault(respond, times, path))

    def hang(self, *, times: int | None = 1, path: str | None = None) -> None:
        """Accept the request and never answer it: the client's timeout must fire."""
        self.fault(HANG, times=times, path=path)

    def server_error(
        self,
        status: int = 500,
        *,
        times: int | None = 1,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fault(
            Response.text(status, "<html><body>Internal error</body></html>", headers)
            if status != 503
            else Response.text(status, "Service Unavailable", headers),
            times=times,
            path=path,
        )

    def trickle(
        self,
        rate: float = 2.0,
        *,
        times: int | None = 1,
        path: str | None = None,
        body_only: bool = False,
    ) -> None:
        """Send the normal answer at `rate` bytes per second. A client whose timeout applies
        only between bytes waits for all of it (the server gives up after HANG_SECONDS)."""
        self.fault(
            lambda request: replace(
                self.handle(request), trickle=rate, trickle_body_only=body_only
            ),
            times=times,
            path=path,
        )

    def slow(
        self, seconds: float = 1.0, *, times: int | None = None, path: str | None = None
    ) -> None:
        """Give the normal answer after `seconds` (a tracker taking its time over each page;
        until `clear_faults()` by default). Released at once by stop()."""

        def answer(request: Request) -> Response:
            self._release.wait(seconds)
            return self.handle(request)

        self.fault(answer, times=times, path=path)

    def malformed(self, *, times: int | None = 1, path: str | None = None) -> None:
        """A 200 whose JSON body is cut off half-way (a proxy dropping the connection)."""
        self.fault(
            Response(200, b'{"issues": [{"key": "X-1", "fie', {"Content-Type": "application/json"}),
            times=times,
            path=path,
        )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def count(self, path: str | None = None, *, method: str | None = None) -> int:
        """How many requests were made (to paths containing `path`, with `method`)."""
        return len(self.log(path, method=method))

    def log(self, path: str | None = None, *, method: str | None = None) -> list[Request]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (path is None or path in r.path) and (method is None or r.method == method)
            ]

    def wait_for_request(self, path: str | None = None, *, timeout: float = 10.0) -> bool:
        """Wait until a request to a path containing `path` has arrived (a condition, not a
        sleep); False after `timeout` seconds without one."""
        with self._arrived:
            return self._arrived.wait_for(
                lambda: any(path is None or path in r.path for r in self.requests), timeout
            )

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- for subclasses -------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        with self._lock:
            self.requests.append(request)
            self._arrived.notify_all()
            fault = next((f for f in self._faults if f.matches(request)), None)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
        try:
            response = fault.answer(request) if fault else self.handle(request)
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.crashes.append(f"{request.method} {request.path}: {exc!r}")
            response = Response.text(500, f"fake server error: {exc!r}")
        if response is HANG:
            self._release.wait(HANG_SECONDS)
            handler.close_connection = True
            return
        if response.trickle:
            self._trickle(handler, response)
            return
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)

    def _trickle(self, handler: BaseHTTPRequestHandler, response: Response) -> None:
        wire = response.wire()
        sent = 0
        if response.trickle_body_only:
            sent = len(wire) - len(response.body)
        interval = 1 / (response.trickle or 1)
        handler.close_connection = True
        deadline = time.monotonic() + HANG_SECONDS
        try:
            handler.wfile.write(wire[:sent])
            while sent < len(wire) and time.monotonic() < deadline:
                handler.wfile.write(wire[sent : sent + 1])
                handler.wfile.flush()
                sent += 1
                if self._release.wait(interval):
                    return  # the server is stopping
        except OSError:
            return  # the client gave up and closed the connection: what a deadline does
