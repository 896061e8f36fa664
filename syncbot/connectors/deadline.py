"""A total time limit per HTTP request, on top of the libraries' timeouts between bytes.

`requests` (under the `jira` library) and httpx (under gql) time out only while no byte
arrives, so a tracker or a proxy that trickles its answer a few bytes a second holds a sync
for as long as it likes. A `Deadline` bounds each request in total: when it passes, a timer
shuts down the sockets of the client making the request, the blocked read returns at once,
and the request fails with the library's own timeout exception (`DeadlineExceeded`, a
`requests.Timeout`; `HttpxDeadlineExceeded`, an `httpx.ReadTimeout`), which the connectors
retry as a timeout.

Each library gets it through its documented seam: `RequestsAdapter` is a `requests`
`HTTPAdapter` (mounted on the `jira` client's session) whose urllib3 connections report their
sockets as they connect; `HttpxTransport` wraps httpx's `HTTPTransport` and learns its sockets
from httpcore's `trace` extension. Both read the whole body inside the deadline.

An answer that "completes" once its socket was shut down (a reader that takes the end of
the stream for the end of the headers) is refused all the same: it may be cut short.

A shut-down socket left idle in a pool by a request that finished just as its timer fired is
harmless: both pools see it as dropped and connect anew.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection

# The deadline of the request being made on this thread, for connections opened during it.
_ACTIVE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "syncbot_deadline", default=None
)


class DeadlineExceeded(requests.Timeout):
    """A `requests` request ran past its total deadline."""


class HttpxDeadlineExceeded(httpx.ReadTimeout):
    """An httpx request ran past its total deadline."""


class Deadline:
    """At most `seconds` per request made `with deadline.request():`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._lock = threading.Lock()

    def watch(self, sock: Any) -> None:
        """Shut `sock` down should a request of this deadline run out of time."""
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.add(sock)

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        self.expired = False
        timer = threading.Timer(self.seconds, self._expire)
        timer.daemon = True
        token = _ACTIVE.set(self)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            _ACTIVE.reset(token)

    def _expire(self) -> None:
        self.expired = True
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            # The plain socket call also for TLS sockets: it wakes the blocked read without
            # touching the TLS state the reading thread is using.
            with contextlib.suppress(OSError):  # already closed, or never connected
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


# -- requests (Jira) ---------------------------------------------------------------------


class _HTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)


class _HTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watch(self.sock)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


def _watch(sock: Any) -> None:
    deadline = _ACTIVE.get()
    if deadline is not None:
        deadline.watch(sock)


class RequestsAdapter(HTTPAdapter):
    """An `HTTPAdapter` giving every request, body included, at most `seconds` in total."""

    def __init__(self, seconds: float) -> None:
        self.deadline = Deadline(seconds)
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # HTTP(S) proxies; SOCKS pools are their own
            manager.pool_classes_by_scheme = _POOLS
        return manager

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        deadline = self.deadline
        try:
            with deadline.request():
                response = super().send(request, stream, timeout, verify, cert, proxies)
                if not stream:
                    _ = response.content  # the body too, within the deadline
                if deadline.expired:  # shut down mid-answer: what was read may be cut short
                    response.close()
                    raise DeadlineExceeded(
                        f"no complete answer within {deadline.seconds:g} s", request=request
                    )
        except DeadlineExceeded:
            raise
        except requests.RequestException as exc:
            if deadline.expired:
                raise DeadlineExceeded(
                    f"no complete answer within {deadline.seconds:g} s", request=request
                ) from exc
            raise
        return response


def mount(session: requests.Session, seconds: float) -> None:
    """Give every request `session` makes at most `seconds` in total."""
    adapter = RequestsAdapter(seconds)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


# -- httpx (Linear) ------------------------------------------------------------------------


class HttpxTransport(httpx.BaseTransport):
    """httpx's `HTTPTransport`, giving every request, body included, at most `seconds`."""

    def __init__(self, seconds: float, **options: Any) -> None:
        self.deadline = Deadline(seconds)
        self.inner = httpx.HTTPTransport(**options)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = self.deadline
        chained = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                stream = info.get("return_value")
                deadline.watch(stream.get_extra_info("socket") if stream is not None else None)
            if chained is not None:
                chained(event, info)

        request.extensions = {**request.extensions, "trace": trace}
        try:
            with deadline.request():
                response = self.inner.handle_request(request)
                try:
                    response.read()  # the body too, within the deadline
                except BaseException:
                    response.close()
                    raise
                if deadline.expired:  # shut down mid-answer: what was read may be cut short
                    response.close()
                    raise HttpxDeadlineExceeded(
                        f"no complete answer within {deadline.seconds:g} s", request=request
                    )
        except HttpxDeadlineExceeded:
            raise
        except httpx.TransportError as exc:
            if deadline.expired:
                raise HttpxDeadlineExceeded(
                    f"no complete answer within {deadline.seconds:g} s", request=request
                ) from exc
            raise
        return response

    def close(self) -> None:
        self.inner.close()
