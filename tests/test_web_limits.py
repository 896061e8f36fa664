"""The HTTP server keeps answering while hundreds of connections send their requests a byte at
a time (slowloris): a request must arrive within its deadline, and at the connection limit the
longest-waiting half-sent one makes room for a new connection."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from support.processes import wait_for

from syncbot.web import HEALTH_PATH, HealthApp, HttpServer, Router


@pytest.fixture
def server() -> Iterator[str]:
    router = Router()
    router.mount(HEALTH_PATH, HealthApp(lambda: (200, {"status": "ok"})))
    http = HttpServer(router, "127.0.0.1", 0, read_seconds=1.0, idle_seconds=2, connections=20)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.port}"
    finally:
        http.close()
        thread.join(5)


def test_slow_half_sent_requests_never_shut_out_a_real_one(server: str) -> None:
    port = int(server.rsplit(":", 1)[1])
    stop = threading.Event()
    changed = threading.Condition()
    counts = {"connected": 0, "dropped": 0}

    def note(what: str) -> None:
        with changed:
            counts[what] += 1
            changed.notify_all()

    def trickle() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            note("connected")
            try:
                conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
                while not stop.wait(0.2):  # one header byte every 200 ms, never finishing
                    conn.sendall(b"X")
                    conn.settimeout(0.01)
                    try:
                        if conn.recv(1) == b"":  # the server hung up on it
                            break
                    except TimeoutError:
                        pass
            except OSError:
                pass
            note("dropped")

    attackers = [threading.Thread(target=trickle, daemon=True) for _ in range(99)]
    for attacker in attackers:
        attacker.start()
    try:
        with changed:  # five times the connection limit is open and trickling
            assert changed.wait_for(lambda: counts["connected"] == 99, timeout=20)
        for _ in range(5):  # genuine requests keep getting answered, well within their timeout
            with urllib.request.urlopen(server + HEALTH_PATH, timeout=10) as response:
                assert response.status == 200
                assert json.loads(response.read()) == {"status": "ok"}
        with changed:  # and the half-sent ones are cut off after their deadline, not served
            assert changed.wait_for(lambda: counts["dropped"] >= 50, timeout=20)
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join(10)


def test_stopping_refuses_new_connections_and_answers_the_requests_already_received() -> None:
    """SIGTERM mid-request (issue 9): what was received gets its answer, within the drain."""
    entered, release = threading.Event(), threading.Event()

    def slow(environ: dict[str, object], start_response: Any) -> list[bytes]:
        entered.set()
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"answered"]

    http = HttpServer(slow, "127.0.0.1", 0)
    serving = threading.Thread(target=http.serve_forever, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{http.port}/"
    answers: list[bytes] = []
    asking = threading.Thread(
        target=lambda: answers.append(urllib.request.urlopen(url, timeout=30).read())
    )
    asking.start()
    assert entered.wait(30)
    closing = threading.Thread(target=http.close, kwargs={"drain": 30.0})
    closing.start()

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", http.port), timeout=1).close()
        except OSError:
            return True
        return False

    wait_for("new connections to be refused", refused)
    release.set()
    asking.join(30)
    closing.join(30)
    serving.join(30)
    assert answers == [b"answered"]
    assert not closing.is_alive() and not serving.is_alive()
