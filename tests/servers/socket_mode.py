"""A local stand-in for Slack's Socket Mode WebSocket endpoint, on Slack's wire format.

https://api.slack.com/apis/socket-mode: an app calls `apps.connections.open` with its
app-level token and gets a `wss://` URL carrying a ticket; it connects there and Slack
greets it with

    {"type": "hello", "num_connections": 1, "debug_info": {...},
     "connection_info": {"app_id": "A..."}}

then sends envelopes, each to one of the app's connections,

    {"envelope_id": "...", "type": "slash_commands" | "interactive" | "events_api",
     "payload": {...}, "accepts_response_payload": true | false,
     "retry_attempt": 0, "retry_reason": ""}

which the app acknowledges with `{"envelope_id": "...", "payload": {...}}` (the payload, where
`accepts_response_payload` allows it, is the slash command's or view's answer). Before it
rotates a connection Slack sends `{"type": "disconnect", "reason": "refresh_requested"}`; the
app opens a new one with a new `apps.connections.open`.

`FakeSocketMode().start()` serves plain `ws://` on 127.0.0.1 (OS-chosen port), with the
`websockets` package, in a thread of its own running its own asyncio loop. `FakeSlack`'s
`apps.connections.open` hands out `new_url()` (a fresh ticket each time; a ticket works
once, an unknown one gets HTTP 403). A test pushes envelopes with `push` and waits for their
acks with `wait_for_ack` (a condition with a deadline, never a sleep); `disconnect` asks the
client to reconnect, `wait_for_connections` waits for it to have done so.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

APP_ID = "A0SYNCBOT"
WAIT_SECONDS = 20.0  # generous: these waits are conditions, only a failure waits this long
T = TypeVar("T")


@dataclass(frozen=True)
class Ack:
    """What the client sent back for one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None  # None when the ack carried no payload
    connection: int  # which connection (1, 2, ... in the order they were opened) carried it


@dataclass
class _Connection:
    number: int
    websocket: ServerConnection
    open: bool = True


class FakeSocketMode:
    def __init__(self, *, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.acks: list[Ack] = []
        self.unexpected: list[str] = []  # client messages that are not acks (a bug to see)
        self.refused: list[str] = []  # handshakes refused (unknown or reused tickets)
        self.envelopes: list[dict[str, Any]] = []  # every envelope pushed, in order
        self._tickets: dict[str, bool] = {}  # ticket -> used
        self._connections: list[_Connection] = []
        self._numbers = itertools.count(1)
        self._state = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Self:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                server = loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start(), which raises it
                failure.append(exc)
                started.set()
                loop.close()
                return
            self._server = server
            self._port = server.sockets[0].getsockname()[1]
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-socket-mode", daemon=True)
        self._thread.start()
        if not started.wait(WAIT_SECONDS):
            raise RuntimeError("the fake Socket Mode server did not start")
        if failure:
            raise failure[0]
        return self

    async def _serve(self) -> Server:
        # No compression (Slack's builtin client offers none); Slack pings, so the server
        # keeps websockets' keepalive pings, which the client answers.
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            compression=None,
            process_request=self._check_ticket,
        )

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None and loop.is_running():

            async def shut() -> None:
                server.close()
                await server.wait_closed()

            try:
                asyncio.run_coroutine_threadsafe(shut(), loop).result(WAIT_SECONDS)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass  # a connection that would not close: the loop stops anyway
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(WAIT_SECONDS)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what apps.connections.open hands out ---------------------------------------------

    def new_url(self) -> str:
        """A URL with a fresh ticket, as `apps.connections.open` returns one."""
        assert self._port is not None, "server not started"
        ticket = uuid.uuid4().hex
        with self._state:
            self._tickets[ticket] = False
        return f"ws://127.0.0.1:{self._port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- what tests do --------------------------------------------------------------------

    def push(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
    ) -> str:
        """Send one envelope on the newest open connection; its envelope_id.
        `accepts_response_payload` defaults to what Slack sends for the kind: true for
        slash commands, false for block_actions."""
        envelope = {
            "envelope_id": envelope_id or str(uuid.uuid4()),
            "payload": payload,
            "type": kind,
            "accepts_response_payload": (
                kind == "slash_commands"
                if accepts_response_payload is None
                else accepts_response_payload
            ),
            "retry_attempt": retry_attempt,
            "retry_reason": "",
        }
        connection = self._newest()
        with self._state:
            self.envelopes.append(envelope)
        self._send(connection, envelope)
        return str(envelope["envelope_id"])

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to move to a new connection, as Slack does before rotating one."""
        self._send(
            self._newest(),
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}},
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = WAIT_SECONDS) -> Ack:
        """Block until the client acked `envelope_id` (a condition, not a sleep loop)."""
        found = self._wait(
            lambda: next((a for a in self.acks if a.envelope_id == envelope_id), None), timeout
        )
        if found is None:
            raise AssertionError(f"no ack for envelope {envelope_id} within {timeout} s")
        return found

    def wait_for_connections(self, count: int, timeout: float = WAIT_SECONDS) -> int:
        """Block until `count` connections have been opened (and greeted) in all and one is
        open; the number of the newest open one."""

        def newest_open() -> int | None:
            if len(self._connections) < count:
                return None
            return next((c.number for c in reversed(self._connections) if c.open), None)

        found = self._wait(newest_open, timeout)
        if found is None:
            raise AssertionError(
                f"{len(self._connections)} Socket Mode connections, not {count}, "
                f"within {timeout} s (refused: {self.refused})"
            )
        return found

    @property
    def connections(self) -> int:
        """How many connections were opened (and greeted) so far."""
        with self._state:
            return len(self._connections)

    @property
    def open_connections(self) -> list[int]:
        with self._state:
            return [c.number for c in self._connections if c.open]

    # -- the server side ------------------------------------------------------------------

    def _check_ticket(self, websocket: ServerConnection, request: Request) -> Response | None:
        """Only a ticket that apps.connections.open issued, and only once."""
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._state:
            if self._tickets.get(ticket) is not False:
                self.refused.append(request.path)
                self._state.notify_all()
                return websocket.respond(HTTPStatus.FORBIDDEN, "invalid ticket\n")
            self._tickets[ticket] = True
        return None

    async def _handle(self, websocket: ServerConnection) -> None:
        with self._state:
            number = next(self._numbers)
            open_now = sum(1 for c in self._connections if c.open) + 1
        await websocket.send(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": open_now,
                    "debug_info": {
                        "host": "applink-fake",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        connection = _Connection(number, websocket)
        with self._state:
            self._connections.append(connection)
            self._state.notify_all()
        try:
            async for raw in websocket:
                self._received(number, raw)
        except ConnectionClosed:
            pass  # the client went away (its close, or a socket closed without one)
        finally:
            with self._state:
                connection.open = False
                self._state.notify_all()

    def _received(self, number: int, raw: str | bytes) -> None:
        text = raw.decode() if isinstance(raw, bytes) else raw
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        with self._state:
            if isinstance(message, dict) and isinstance(message.get("envelope_id"), str):
                payload = message.get("payload")
                self.acks.append(
                    Ack(
                        message["envelope_id"],
                        payload if isinstance(payload, dict) else None,
                        number,
                    )
                )
            else:
                self.unexpected.append(text)
            self._state.notify_all()

    def _newest(self) -> _Connection:
        with self._state:
            for connection in reversed(self._connections):
                if connection.open:
                    return connection
        raise AssertionError("no open Socket Mode connection to send on")

    def _send(self, connection: _Connection, message: dict[str, Any]) -> None:
        loop = self._loop
        assert loop is not None, "server not started"
        future = asyncio.run_coroutine_threadsafe(
            connection.websocket.send(json.dumps(message)), loop
        )
        future.result(WAIT_SECONDS)

    def _wait(self, found: Callable[[], T | None], timeout: float) -> T | None:
        with self._state:
            self._state.wait_for(lambda: found() is not None, timeout)
            return found()
