"""Record the MLflow answers the connector's unit tests replay (tests/connectors/test_mlflow.py).

Run against a real, empty tracking server (the `[mlflow-test]` extra installed):

    mlflow server --backend-store-uri sqlite:////tmp/rec/mlflow.db \
        --default-artifact-root /tmp/rec/artifacts --host 127.0.0.1 --port 5917 &
    python tests/connectors/mlflow_answers/record.py http://127.0.0.1:5917

It logs one experiment with the real MLflow client, then saves the server's answers to the
requests syncbot makes, byte for byte, next to this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from mlflow import MlflowClient
from mlflow.entities import Metric

HERE = Path(__file__).resolve().parent
DAY0 = 1772442000000  # 2026-03-02 09:00 UTC
HOUR = 3600000
RUNS = [  # (val_f1 or None, status, start hour); NaN is logged as MLflow allows
    (0.70, "FINISHED", 0),
    (0.78, "FINISHED", 1),
    (0.82, "FINISHED", 2),
    (0.85, "FINISHED", 3),
    (0.95, "RUNNING", 4),
    (0.99, "FAILED", 5),
    (None, "FINISHED", 6),
    (float("nan"), "FINISHED", 7),
]


def main(url: str) -> None:
    client = MlflowClient(tracking_uri=url)
    experiment = client.create_experiment("claims-triage")
    for value, status, hour in RUNS:
        run = client.create_run(experiment, start_time=DAY0 + hour * HOUR)
        metrics = [Metric("loss", 0.3, DAY0 + hour * HOUR, 0)]
        if value is not None:
            metrics.append(Metric("val_f1", value, DAY0 + hour * HOUR + 1000, 1))
        client.log_batch(run.info.run_id, metrics=metrics)
        if status != "RUNNING":
            client.set_terminated(run.info.run_id, status, end_time=DAY0 + (hour + 1) * HOUR)
    api = "/api/2.0/mlflow/"
    with httpx.Client(base_url=url) as http:
        save(
            "get-by-name",
            http.get(api + "experiments/get-by-name", params={"experiment_name": "claims-triage"}),
        )
        save(
            "get-by-name-missing",
            http.get(api + "experiments/get-by-name", params={"experiment_name": "nope"}),
        )
        body = {
            "experiment_ids": [experiment],
            "filter": "attributes.status = 'FINISHED'",
            "order_by": ["metrics.`val_f1` DESC"],
            "max_results": 2,
        }
        for page in range(1, 10):
            answer = http.post(api + "runs/search", json=body)
            save(f"search-page-{page}", answer)
            token = answer.json().get("next_page_token")
            if not token:
                break
            body["page_token"] = token
        save(
            "search-empty",
            http.post(
                api + "runs/search",
                json={"experiment_ids": [experiment], "filter": "attributes.status = 'KILLED'"},
            ),
        )
        save(
            "search-bad-filter",
            http.post(
                api + "runs/search",
                json={"experiment_ids": [experiment], "filter": "attributes.colour = 'red'"},
            ),
        )


def save(name: str, response: httpx.Response) -> None:
    (HERE / f"{name}.json").write_bytes(response.content)
    print(f"{name}.json: {response.status_code}, {len(response.content)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
