"""The MLflow connector against a real MLflow tracking server (tests/servers/tracking.py):
runs logged with the real MLflow client, read back over the REST API as syncbot reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers.tracking import DAY0, HOUR, Lab

from syncbot.config import Metric
from syncbot.connectors.base import MlflowAccess
from syncbot.connectors.mlflow import (
    GET_BY_NAME,
    SEARCH,
    MlflowExport,
    MlflowSource,
    Run,
    reading,
    to_run,
)
from syncbot.connectors.retry import RetryPolicy
from syncbot.errors import SourceQueryError

pytestmark = pytest.mark.usefixtures("mlflow_lab")


class Recorder(httpx.BaseTransport):
    """httpx's real transport, remembering each request (what it asked for) and answer."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def searches(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if r.url.path.endswith("runs/search")]


def source(lab: Lab, page_size: int = 100) -> tuple[MlflowSource, Recorder]:
    recorder = Recorder()
    return (
        MlflowSource(
            "mlflow",
            access=MlflowAccess(lab.url),
            page_size=page_size,
            retry=RetryPolicy(retries=0),
            transport=recorder,
        ),
        recorder,
    )


def every_run(lab: Lab, experiment_id: str) -> list[Run]:
    """Every run of an experiment, read over the REST API without a filter."""
    out: list[Run] = []
    body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 1000}
    with httpx.Client(base_url=lab.url) as http:
        while True:
            answer = http.post("/" + SEARCH, json=body).json()
            out += [run for raw in answer.get("runs", []) if (run := to_run(raw))]
            if "next_page_token" not in answer:
                return out
            body["page_token"] = answer["next_page_token"]


def metric(experiment: str, **keys: Any) -> Metric:
    return Metric(experiment=experiment, name=keys.pop("name", "val_f1"), **{"target": 0.8, **keys})


def test_the_best_finished_run_counts_never_a_running_or_failed_one(
    mlflow_lab: Lab, request: pytest.FixtureRequest
) -> None:
    exp = mlflow_lab.experiment(request)
    exp.run({"val_f1": 0.70}, start=0)
    best = exp.run({"val_f1": [0.60, 0.78]}, start=1)  # the latest value logged counts
    exp.run({"val_f1": 0.95}, status="RUNNING", start=2)
    exp.run({"val_f1": 0.99}, status="FAILED", start=3)
    exp.run({"val_f1": 0.97}, status="KILLED", start=4)
    exp.run({"loss": 0.1}, start=5)  # finished, without the metric
    exp.run({"val_f1": float("nan")}, start=6)  # NaN is no value
    mlflow, recorder = source(mlflow_lab)

    found = mlflow.read([("3.1", metric(exp.name))])

    got = found.readings["3.1"]
    assert (got.value, got.run_id, got.met_at) == (0.78, best, None)
    assert got.run_at is not None and int(got.run_at.timestamp() * 1000) == DAY0 + 2 * HOUR
    # Not met: one get-by-name and one search page, whatever the number of runs.
    assert found.requests == 2 and found.pages == 1
    get, search = recorder.requests
    assert get.method == "GET" and get.url.path == "/" + GET_BY_NAME
    assert get.url.params["experiment_name"] == exp.name
    assert search.method == "POST" and search.url.path == "/" + SEARCH
    assert json.loads(search.content) == {
        "experiment_ids": [exp.id],
        "filter": "attributes.status = 'FINISHED'",
        "order_by": ["metrics.`val_f1` DESC"],
        "max_results": 100,
    }


def test_lower_is_better_orders_ascending_and_meets_at_most_the_target(
    mlflow_lab: Lab, request: pytest.FixtureRequest
) -> None:
    exp = mlflow_lab.experiment(request)
    exp.run({"rmse": 0.31}, start=0)
    first_met = exp.run({"rmse": 0.26}, start=1)
    best = exp.run({"rmse": 0.22}, start=2)
    exp.run({"rmse": 0.05}, status="RUNNING", start=3)
    exp.run({"rmse": 0.01}, status="FAILED", start=4)
    mlflow, recorder = source(mlflow_lab)
    lower = metric(exp.name, name="rmse", target=0.27, higher_is_better=False)
    stricter = metric(exp.name, name="rmse", target=0.1, higher_is_better=False)

    found = mlflow.read([("a", lower), ("b", stricter)])

    met, unmet = found.readings["a"], found.readings["b"]
    assert (met.value, met.run_id) == (0.22, best)
    assert met.met_at is not None and int(met.met_at.timestamp() * 1000) == DAY0 + 2 * HOUR
    assert first_met != best  # the 0.26 run met the target first (ended at hour 2)
    assert (unmet.value, unmet.run_id, unmet.met_at) == (0.22, best, None)
    assert [s["order_by"] for s in recorder.searches()] == [["metrics.`rmse` ASC"]] * 2
    # One experiment looked up once for both milestones.
    assert sum(r.url.path.endswith("get-by-name") for r in recorder.requests) == 1


def test_runs_that_meet_the_target_are_paged_with_page_token_until_one_misses(
    mlflow_lab: Lab, request: pytest.FixtureRequest
) -> None:
    exp = mlflow_lab.experiment(request)
    meeting = [round(0.81 + n / 100, 2) for n in range(8)]  # 0.81 .. 0.88, all meet 0.80
    ids = {value: exp.run({"val_f1": value}, start=10 - n) for n, value in enumerate(meeting)}
    exp.run({"val_f1": 0.70}, start=0)
    exp.run({"val_f1": 0.65}, start=1)
    exp.run({"val_f1": 0.60}, start=2)
    mlflow, recorder = source(mlflow_lab, page_size=3)

    found = mlflow.read([("3.1", metric(exp.name))])

    got = found.readings["3.1"]
    assert (got.value, got.run_id) == (0.88, ids[0.88])
    # The first run to meet the target is the one that ended first: 0.88 started at hour 3.
    assert got.met_at is not None and int(got.met_at.timestamp() * 1000) == DAY0 + 4 * HOUR
    searches = recorder.searches()
    assert len(searches) == 3 == found.pages  # 3 + 3 + 2 meeting runs, then 0.70 misses
    assert "page_token" not in searches[0]
    assert searches[1]["page_token"] and searches[2]["page_token"] != searches[1]["page_token"]
    # Stopping early never changes the answer: the same reading as over every run.
    assert reading(metric(exp.name), every_run(mlflow_lab, exp.id)) == got


def test_a_deleted_run_no_longer_counts(mlflow_lab: Lab, request: pytest.FixtureRequest) -> None:
    exp = mlflow_lab.experiment(request)
    kept = exp.run({"val_f1": 0.75}, start=0)
    dropped = exp.run({"val_f1": 0.90}, start=1)
    mlflow, _ = source(mlflow_lab)
    assert mlflow.read([("m", metric(exp.name))]).readings["m"].run_id == dropped

    exp.delete(dropped)

    assert mlflow.read([("m", metric(exp.name))]).readings["m"].run_id == kept


def test_an_unknown_experiment_is_a_query_error_naming_it(mlflow_lab: Lab) -> None:
    mlflow, _ = source(mlflow_lab)
    with pytest.raises(SourceQueryError) as raised:
        mlflow.read([("3.1", metric("no-such-experiment"))])
    assert "no experiment named 'no-such-experiment'" in str(raised.value)
    assert "milestone 3.1" in str(raised.value)
    with pytest.raises(SourceQueryError):
        mlflow.experiment_id("no-such-experiment")


def test_an_experiment_without_runs_has_no_value_yet(
    mlflow_lab: Lab, request: pytest.FixtureRequest
) -> None:
    exp = mlflow_lab.experiment(request)
    mlflow, _ = source(mlflow_lab)
    got = mlflow.read([("m", metric(exp.name))]).readings["m"]
    assert (got.value, got.run_id, got.run_at, got.met_at) == (None, None, None, None)


def test_recorded_answers_read_exactly_like_the_live_server(
    mlflow_lab: Lab, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """An mlflow-export of the server's own answers (get-by-name, then every runs/search page
    without a filter) gives the live reading: the export format is the API's."""
    exp = mlflow_lab.experiment(request)
    for n, value in enumerate((0.79, 0.83, 0.81, 0.77)):
        exp.run({"val_f1": value}, start=n)
    exp.run({"val_f1": 0.99}, status="RUNNING", start=5)
    exp.run({"val_f1": 0.98}, status="FAILED", start=6)
    with httpx.Client(base_url=mlflow_lab.url) as http:
        answer = http.get("/" + GET_BY_NAME, params={"experiment_name": exp.name}).json()
        (tmp_path / "experiment.json").write_text(json.dumps(answer))
        body: dict[str, Any] = {"experiment_ids": [exp.id], "max_results": 4}
        for page in range(1, 10):
            answer = http.post("/" + SEARCH, json=body).json()
            (tmp_path / f"runs-{page}.json").write_text(json.dumps(answer))
            if "next_page_token" not in answer:
                break
            body["page_token"] = answer["next_page_token"]
    wanted = [("3.1", metric(exp.name))]
    live, _ = source(mlflow_lab)

    recorded = MlflowExport("mlflow-export", sorted(tmp_path.glob("*.json"))).read(wanted)

    assert recorded.readings == live.read(wanted).readings
    assert recorded.readings["3.1"].value == 0.83 and recorded.pages == 2
    assert recorded.notes == []


def test_the_demo_recordings_have_the_shape_of_the_servers_answers(
    mlflow_lab: Lab, request: pytest.FixtureRequest
) -> None:
    exp = mlflow_lab.experiment(request)
    exp.run({"val_f1": 0.8}, params={"model": "x"})
    with httpx.Client(base_url=mlflow_lab.url) as http:
        real_experiment = http.get("/" + GET_BY_NAME, params={"experiment_name": exp.name}).json()
        real_runs = http.post("/" + SEARCH, json={"experiment_ids": [exp.id]}).json()
    [real] = real_runs["runs"]
    demo = Path(__file__).resolve().parents[2] / "config" / "demo"
    for folder in ("acme-mlflow", "globex-mlflow"):
        recorded = json.loads((demo / folder / "experiment.json").read_text())
        assert set(recorded["experiment"]) <= set(real_experiment["experiment"])
        for page in sorted((demo / folder).glob("runs-page-*.json")):
            for run in json.loads(page.read_text())["runs"]:
                assert set(run) == set(real)
                assert set(run["info"]) <= set(real["info"])
                assert set(run["data"]) <= set(real["data"])
                assert [set(m) for m in run["data"]["metrics"]] == [
                    set(real["data"]["metrics"][0])
                ] * len(run["data"]["metrics"])
