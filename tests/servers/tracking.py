"""A real MLflow tracking server for the tests, and runs logged with the real MLflow client.

`mlflow server` (from the `[mlflow-test]` extra) runs once per test session on a free
loopback port, with a SQLite backend store and a local artifact root in a temporary folder;
the fixture waits until `GET /health` answers (MLflow needs several seconds to migrate its
database and start). Without the extra the tests that use it skip, saying why; with
SYNCBOT_TEST_REQUIRE_MLFLOW=1 (`.ci/run` sets it) that is a failure instead. The variable is
read at import, before the fixture that makes tests hermetic clears SYNCBOT_*.

`Lab` logs runs through `mlflow.MlflowClient`: each test makes experiments of its own
(`lab.experiment(...)` names them after the test), so tests share the server, not data.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REQUIRE_MLFLOW = os.environ.get("SYNCBOT_TEST_REQUIRE_MLFLOW") == "1"
START_TIMEOUT = 180.0  # seconds; a cold start (database migrations) takes 5-20 s here
# 2026-03-02 09:00 UTC, the first day the tests' runs start on; runs are spread from there.
DAY0 = 1772442000000
HOUR = 3600000
_NAMES = itertools.count(1)


def free_port() -> int:
    """A loopback port nobody listens on (chosen by the OS)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Lab:
    """The running server: its URL, how long it took to start, and the real MLflow client."""

    url: str
    started_in: float
    log: Path
    client: Any = field(repr=False)  # mlflow.MlflowClient

    def experiment(self, request: pytest.FixtureRequest | str) -> Experiment:
        """A new experiment named after the test (unique within the session)."""
        base = request if isinstance(request, str) else request.node.name
        name = f"{base}-{next(_NAMES)}"
        with _quiet():
            experiment_id = self.client.create_experiment(name)
        return Experiment(self, name, str(experiment_id))


@dataclass
class Experiment:
    lab: Lab
    name: str
    id: str

    def run(
        self,
        metrics: Mapping[str, float | list[float]] | None = None,
        *,
        status: str = "FINISHED",
        start: int = 0,
        hours: float = 1.0,
        params: Mapping[str, str] | None = None,
    ) -> str:
        """Log one run with the real client: it starts `start` hours after DAY0, logs each
        metric's values (the last one is its latest) and, unless RUNNING, ends with `status`
        `hours` later. Returns its run id."""
        from mlflow.entities import Metric, Param

        began = DAY0 + start * HOUR
        ended = began + int(hours * HOUR)
        with _quiet():
            run = self.lab.client.create_run(self.id, start_time=began)
            run_id: str = run.info.run_id
            logged = [
                Metric(key, value, began + step * 1000, step)
                for key, values in (metrics or {}).items()
                for step, value in enumerate(values if isinstance(values, list) else [values])
            ]
            self.lab.client.log_batch(
                run_id,
                metrics=logged,
                params=[Param(k, v) for k, v in (params or {}).items()],
            )
            if status != "RUNNING":
                self.lab.client.set_terminated(run_id, status=status, end_time=ended)
        return run_id

    def delete(self, run_id: str) -> None:
        with _quiet():
            self.lab.client.delete_run(run_id)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's own deprecation notices are not syncbot's (pytest turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _missing(reason: str) -> None:
    if REQUIRE_MLFLOW:
        pytest.fail(f"{reason}; SYNCBOT_TEST_REQUIRE_MLFLOW=1 requires it", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mlflow_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """`mlflow server` on a free loopback port for the whole session."""
    if importlib.util.find_spec("mlflow") is None:
        _missing(
            "the mlflow package is not installed (pip install -e '.[test,mlflow-test]'), "
            "so the tests against a real MLflow server cannot run"
        )
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNCBOT_", "MLFLOW_"))}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",  # no network but loopback
        DO_NOT_TRACK="true",
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false",  # no background job workers: a faster start
    )
    log = root / "server.log"
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "mlflow", "server"),
                *("--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}"),
                *("--default-artifact-root", str(root / "artifacts")),
                *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            ],
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: uvicorn and workers end with it
        )
    patch = pytest.MonkeyPatch()
    try:
        _wait_until_up(proc, url, log)
        elapsed = time.monotonic() - started
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.setenv("DO_NOT_TRACK", "true")
        with _quiet():
            from mlflow import MlflowClient

            client = MlflowClient(tracking_uri=url)
        yield Lab(url, elapsed, log, client)
    finally:
        patch.undo()
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (the server and the workers it started), then
    SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until `GET /health` answers 200: a condition, polled; fail if the server exits."""
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=5) as http:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"mlflow server exited {proc.returncode}:\n{log.read_text()[-3000:]}",
                    pytrace=False,
                )
            with contextlib.suppress(httpx.TransportError):
                if http.get(f"{url}/health").status_code == 200:
                    return
            if time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server did not answer within {START_TIMEOUT:.0f} s:\n"
                    f"{log.read_text()[-3000:]}",
                    pytrace=False,
                )
            time.sleep(0.1)  # between polls of the condition above
