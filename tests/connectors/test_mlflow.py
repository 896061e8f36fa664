"""The MLflow connector without a server: httpx's MockTransport replays answers recorded from a
real MLflow server (tests/connectors/mlflow_answers/, see record.py there), and the export
source reads the same answers from files."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from syncbot.config import Metric
from syncbot.connectors.base import MlflowAccess
from syncbot.connectors.mlflow import (
    MlflowExport,
    MlflowSource,
    order_by,
    reading,
    search_page,
    to_run,
)
from syncbot.connectors.retry import RetryPolicy
from syncbot.errors import (
    DataError,
    SourceAuthError,
    SourceError,
    SourceQueryError,
    SourceRateLimited,
)

ANSWERS = Path(__file__).parent / "mlflow_answers"
URL = "http://mlflow.test:5000"
DAY0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)  # record.py's runs start from here, hourly
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
F1 = Metric(experiment="claims-triage", name="val_f1", target=0.8)
Handler = Callable[[httpx.Request], httpx.Response | None]  # None: the recording answers


def answer(name: str) -> bytes:
    return (ANSWERS / f"{name}.json").read_bytes()


def pages() -> list[dict[str, Any]]:
    return [json.loads(answer(f"search-page-{n}")) for n in (1, 2, 3)]


class Server:
    """Replays the recorded answers; `override(request)` may answer first."""

    def __init__(self, override: Handler | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.override = override
        tokens = [None, *(p.get("next_page_token") for p in pages())]
        self.by_token = {token: f"search-page-{n}" for n, token in enumerate(tokens[:3], 1)}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.override is not None and (found := self.override(request)) is not None:
            return found
        if request.url.path.endswith("experiments/get-by-name"):
            if request.url.params.get("experiment_name") == "claims-triage":
                return httpx.Response(200, content=answer("get-by-name"))
            return httpx.Response(404, content=answer("get-by-name-missing"))
        body = json.loads(request.content)
        return httpx.Response(200, content=answer(self.by_token[body.get("page_token")]))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]


def source(
    server: Server,
    *,
    url: str = URL,
    token: str | None = None,
    retries: int = 2,
    max_wait: float = 60.0,
    sleeps: list[float] | None = None,
) -> MlflowSource:
    return MlflowSource(
        "mlflow",
        access=MlflowAccess(url, SecretStr(token) if token else None),
        page_size=2,
        retry=RetryPolicy(retries=retries, backoff=1.0, max_wait=max_wait),
        sleep=(sleeps if sleeps is not None else []).append,
        clock=lambda: NOW,
        transport=httpx.MockTransport(server),
    )


# -- translation ------------------------------------------------------------------------------


def test_recorded_runs_translate_with_their_latest_finite_value() -> None:
    runs = [run for page in pages() for raw in search_page(page)[0] if (run := to_run(raw))]
    assert [r.metrics.get("val_f1") for r in runs] == [0.85, 0.82, 0.78, 0.70, None, None]
    assert {r.status for r in runs} == {"FINISHED"} and all(r.experiment_id == "1" for r in runs)
    assert runs[0].started == DAY0 + dt.timedelta(hours=3)  # the 0.85 run started at hour 3
    assert runs[0].ended == DAY0 + dt.timedelta(hours=4)


def test_reading_is_the_best_finished_value_and_the_first_run_to_meet_the_target() -> None:
    runs = [run for page in pages() for raw in search_page(page)[0] if (run := to_run(raw))]
    got = reading(F1, runs)
    assert (got.value, got.run_id) == (0.85, runs[0].run_id)
    assert got.run_at == DAY0 + dt.timedelta(hours=4)
    assert got.met_at == DAY0 + dt.timedelta(hours=3)  # the 0.82 run ended first
    assert (got.experiment, got.name, got.target, got.higher_is_better) == (
        "claims-triage",
        "val_f1",
        0.8,
        True,
    )
    stricter = reading(F1.model_copy(update={"target": 0.9}), runs)
    assert stricter.value == 0.85 and stricter.met_at is None


def test_running_and_failed_runs_never_count_and_ties_keep_the_earliest() -> None:
    def raw(run_id: str, value: Any, status: str, start: int) -> dict[str, Any]:
        return {
            "info": {"run_id": run_id, "status": status, "start_time": start},
            "data": {"metrics": [{"key": "val_f1", "value": value}]},
        }

    runs = [
        to_run(raw("late-tie", 0.8, "FINISHED", 3_000)),
        to_run(raw("early-tie", 0.8, "FINISHED", 1_000)),
        to_run(raw("running", 0.99, "RUNNING", 2_000)),
        to_run(raw("failed", 0.98, "FAILED", 2_000)),
        to_run(raw("killed", 0.97, "KILLED", 2_000)),
        to_run(raw("inf", "Infinity", "FINISHED", 2_000)),
        to_run(raw("bool", True, "FINISHED", 2_000)),
    ]
    got = reading(F1, [r for r in runs if r])
    assert (got.value, got.run_id) == (0.8, "early-tie")
    assert reading(F1, []).value is None
    assert to_run({"info": {"status": "FINISHED"}}) is None  # no run id: unusable
    assert to_run({"info": {"run_uuid": "old", "start_time": "not-a-time"}}) is not None


def test_order_by_puts_the_best_first_and_quotes_the_name() -> None:
    assert order_by(F1) == "metrics.`val_f1` DESC"
    lower = Metric(experiment="e", name="rmse", target=1, higher_is_better=False)
    assert order_by(lower) == "metrics.`rmse` ASC"
    odd = Metric(experiment="e", name="f1 `macro`", target=1)
    assert order_by(odd) == 'metrics."f1 `macro`" DESC'


# -- the live source over the transport ---------------------------------------------------


def test_pages_are_read_with_page_token_while_runs_meet_the_target() -> None:
    server = Server()
    found = source(server).read([("3.1", F1)])

    assert found.readings["3.1"].value == 0.85
    # get-by-name, page 1 (0.85 and 0.82 meet 0.80), page 2 (0.78 misses): stop.
    assert found.requests == 3 and found.pages == 2
    get = server.requests[0]
    assert (get.method, get.url.path) == ("GET", "/api/2.0/mlflow/experiments/get-by-name")
    assert get.url.params["experiment_name"] == "claims-triage"
    first, second = server.bodies()
    assert first == {
        "experiment_ids": ["1"],
        "filter": "attributes.status = 'FINISHED'",
        "order_by": ["metrics.`val_f1` DESC"],
        "max_results": 2,
    }
    assert second == {**first, "page_token": pages()[0]["next_page_token"]}


def test_a_target_not_met_costs_one_search() -> None:
    server = Server()
    found = source(server).read([("3.1", F1.model_copy(update={"target": 0.9}))])
    assert found.readings["3.1"].met_at is None
    assert found.requests == 2 and found.pages == 1


def test_one_experiment_is_looked_up_once_for_several_milestones() -> None:
    server = Server()
    found = source(server).read([("a", F1), ("b", F1.model_copy(update={"target": 0.9}))])
    assert set(found.readings) == {"a", "b"}
    assert sum(r.method == "GET" for r in server.requests) == 1


def test_an_unknown_experiment_is_a_query_error() -> None:
    server = Server()
    with pytest.raises(SourceQueryError) as raised:
        source(server).read([("3.1", F1.model_copy(update={"experiment": "nope"}))])
    message = str(raised.value)
    assert "no experiment named 'nope'" in message and "milestone 3.1" in message
    assert len(server.requests) == 1  # a 404 is not retried


def test_a_deleted_experiment_is_a_query_error() -> None:
    deleted = json.loads(answer("get-by-name"))
    deleted["experiment"]["lifecycle_stage"] = "deleted"
    server = Server(lambda r: httpx.Response(200, json=deleted) if r.method == "GET" else None)
    with pytest.raises(SourceQueryError, match="is deleted"):
        source(server).read([("3.1", F1)])


def test_a_refused_search_is_a_query_error_with_mlflows_reason() -> None:
    server = Server(
        lambda r: (
            httpx.Response(400, content=answer("search-bad-filter")) if r.method == "POST" else None
        )
    )
    with pytest.raises(SourceQueryError) as raised:
        source(server).read([("3.1", F1)])
    assert "MLflow answered 400 INVALID_PARAMETER_VALUE (Invalid attribute key" in str(raised.value)


def test_5xx_is_retried_with_backoff_then_succeeds() -> None:
    failures = [httpx.Response(503, text="upstream down"), httpx.Response(502, text="")]
    server = Server(lambda r: failures.pop(0) if failures and r.method == "POST" else None)
    sleeps: list[float] = []
    found = source(server, sleeps=sleeps).read([("3.1", F1)])
    assert found.readings["3.1"].value == 0.85
    assert sleeps == [1.0, 2.0] and found.requests == 5


def test_429_honours_retry_after_and_refuses_to_wait_too_long() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "7"})]
    server = Server(lambda r: answers.pop(0) if answers else None)
    sleeps: list[float] = []
    assert source(server, sleeps=sleeps).read([("3.1", F1)]).readings["3.1"].value == 0.85
    assert sleeps == [7.0]

    slow = Server(lambda r: httpx.Response(429, headers={"Retry-After": "600"}))
    with pytest.raises(SourceRateLimited, match="wait 600 s"):
        source(slow, max_wait=60).read([("3.1", F1)])
    assert len(slow.requests) == 1


def test_refused_credentials_name_the_setting_and_never_repeat_the_token() -> None:
    server = Server(
        lambda r: httpx.Response(
            401, json={"error_code": "UNAUTHENTICATED", "message": "bad token s3cr3t-t0k3n"}
        )
    )
    with pytest.raises(SourceAuthError) as raised:
        source(server, token="s3cr3t-t0k3n").read([("3.1", F1)])
    message = str(raised.value)
    assert "SYNCBOT_MLFLOW_TOKEN" in message and "s3cr3t-t0k3n" not in message
    assert "***" in message
    assert server.requests[0].headers["Authorization"] == "Bearer s3cr3t-t0k3n"


def test_an_unreachable_server_fails_after_the_retries_without_showing_credentials() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server = Server(refuse)
    sleeps: list[float] = []
    with pytest.raises(SourceError) as raised:
        source(server, url="http://ml:pw@mlflow.test:5000", sleeps=sleeps).read([("3.1", F1)])
    message = str(raised.value)
    assert type(raised.value) is SourceError  # a passing failure: exit 1, not 2
    assert "cannot connect to http://mlflow.test:5000" in message
    assert "SYNCBOT_MLFLOW_URL" in message and "pw" not in message
    assert len(server.requests) == 3 and sleeps == [1.0, 2.0]
    # The URL's user:password are sent as HTTP basic auth.
    assert server.requests[0].headers["Authorization"].startswith("Basic ")


def test_answers_that_are_not_mlflows_fail_with_the_reason() -> None:
    html = Server(lambda r: httpx.Response(200, text="<html>Sign in</html>"))
    with pytest.raises(SourceError, match="the answer was not JSON"):
        source(html, retries=0).read([("3.1", F1)])
    listed = Server(lambda r: httpx.Response(200, json=[1, 2]))
    with pytest.raises(SourceError, match="not an object"):
        source(listed).read([("3.1", F1)])
    assert len(listed.requests) == 1  # the same answer would come back: not retried
    proxy = Server(lambda r: httpx.Response(404, text="Not Found") if r.method == "POST" else None)
    with pytest.raises(SourceError, match="an MLflow server"):
        source(proxy).read([("3.1", F1)])


def test_a_repeated_page_token_stops_paging() -> None:
    page = json.loads(answer("search-page-1"))
    server = Server(lambda r: httpx.Response(200, json=page) if r.method == "POST" else None)
    with pytest.raises(SourceError, match="same next_page_token twice"):
        source(server).read([("3.1", F1)])


def test_a_base_url_with_a_path_prefix_keeps_it() -> None:
    server = Server()
    source(server, url="https://tools.test/mlflow").read([("3.1", F1)])
    assert {r.url.path for r in server.requests} == {
        "/mlflow/api/2.0/mlflow/experiments/get-by-name",
        "/mlflow/api/2.0/mlflow/runs/search",
    }


# -- the export source (the same answers, from files) ---------------------------------------


def export_dir(tmp_path: Path, *names: str) -> list[Path]:
    for name in names:
        (tmp_path / f"{name}.json").write_bytes(answer(name))
    return sorted(tmp_path.glob("*.json"))


def test_recorded_answers_give_the_live_reading(tmp_path: Path) -> None:
    files = export_dir(
        tmp_path, "get-by-name", "search-page-1", "search-page-2", "search-page-3", "search-empty"
    )
    found = MlflowExport("mlflow-export:x", files).read([("3.1", F1)])
    live = source(Server()).read([("3.1", F1)])
    assert found.readings == live.readings
    assert found.pages == 4 and found.requests == 0 and found.notes == []


def test_an_export_without_the_experiment_or_with_a_cut_last_page_says_so(tmp_path: Path) -> None:
    files = export_dir(tmp_path, "get-by-name", "search-page-1")
    found = MlflowExport("x", files).read([("3.1", F1)])
    assert found.readings["3.1"].value == 0.85
    assert found.notes == [
        (
            "search-page-1.json, the last runs/search file, says more runs follow "
            "(next_page_token): judged on the runs recorded"
        )
    ]
    with pytest.raises(DataError, match="no recorded experiments/get-by-name answer for "):
        MlflowExport("x", files).read([("3.1", F1.model_copy(update={"experiment": "other"}))])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"issues": []}', "not an MLflow experiments/get-by-name or runs/search answer"),
        (b'{"experiment": {"name": "claims-triage"}}', "needs experiment_id and name"),
    ],
)
def test_unusable_export_files_are_one_line_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    with pytest.raises(DataError) as raised:
        MlflowExport("x", [bad]).read([("3.1", F1)])
    assert str(raised.value).startswith(str(bad)) and message in str(raised.value)
    with pytest.raises(DataError, match="no export files found"):
        MlflowExport("x", []).read([])


def test_recorded_runs_without_an_id_are_skipped_and_counted(tmp_path: Path) -> None:
    files = export_dir(tmp_path, "get-by-name", "search-page-1")
    (tmp_path / "search-page-2.json").write_text(json.dumps({"runs": [{"info": {}}, "x"]}))
    found = MlflowExport("x", [*files, tmp_path / "search-page-2.json"]).read([("3.1", F1)])
    assert "skipped 2 recorded runs without a run_id" in found.notes
