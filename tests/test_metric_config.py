"""SPEC §11 configuration: a milestone's `metric`, the MLflow sources, `experiment_labels`, and
what `check` and `sync` say when something is missing or wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenario import jira_issue, write_mlflow, write_pages
from support.cli import ok, run, status_json
from support.configs import client, milestone, source, write_config

F1 = {"experiment": "ZZLEAK-experiment", "name": "val_f1", "target": 0.8}


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    write_pages(
        tmp_path / "jira",
        [{"issues": [jira_issue("ACME-1", summary="Train", parent={"key": "EPIC-3.1"})]}],
    )
    write_mlflow(tmp_path / "mlflow")  # F1 0.78 in experiment ZZLEAK-experiment
    return tmp_path


def config(root: Path, metric: Any = F1, *, sources: list[Any] | None = None, **keys: Any) -> Path:
    return write_config(
        root / "syncbot.toml",
        client(
            "acme",
            sources=sources or [source("jira-export", path="jira/page-*.json")],
            milestones=[milestone("1.1"), milestone("3.1", metric=metric)],
            **keys,
        ),
    )


def check(path: Path) -> list[str]:
    result = run(["check", "--config", str(path)])
    assert result.code == 2 and "Traceback" not in result.err
    return result.lines


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (
            {"experiment": "e", "name": "val_f1"},
            "clients[0].milestones[1].metric.target: required key is missing",
        ),
        (
            {**F1, "target": "0.8"},
            "clients[0].milestones[1].metric.target: input should be a valid number: got '0.8'",
        ),
        (
            {**F1, "target": True},
            "clients[0].milestones[1].metric.target: input should be a valid number: got True",
        ),
        (
            {**F1, "higher_is_better": "yes"},
            "clients[0].milestones[1].metric.higher_is_better: input should be a valid boolean",
        ),
        ({**F1, "treshold": 0.8}, "clients[0].milestones[1].metric.treshold: unknown key"),
        ({"name": "val_f1", "target": 0.8}, "metric.experiment: required key is missing"),
        ({**F1, "name": ""}, "metric.name: string should have at least 1 character"),
        ("val_f1", "clients[0].milestones[1].metric: input should be a valid dictionary"),
    ],
)
def test_a_bad_metric_is_one_line_naming_the_key(root: Path, metric: Any, expected: str) -> None:
    path = config(root, metric)
    [line] = check(path)
    assert line.startswith(f"{path}: ") and expected in line


def test_an_infinite_target_is_refused(root: Path) -> None:
    path = config(root)
    path.write_text(path.read_text().replace("target = 0.8", "target = inf"))
    [line] = check(path)
    assert "metric.target: input should be a finite number" in line


def test_a_metric_read_live_needs_the_mlflow_url(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        root / "syncbot.toml",
        client(
            "acme",
            sources=[source("jira-export", path="jira/page-*.json")],
            milestones=[milestone("3.1", metric=F1), milestone("3.2", metric=F1)],
        ),
    )
    assert check(path) == [
        (
            f"{path}: clients[0].milestones[{n}].metric: needs SYNCBOT_MLFLOW_URL in the "
            "environment or .env (the MLflow tracking server), or an mlflow-export source for "
            "this client"
        )
        for n in (0, 1)
    ]
    monkeypatch.setenv("SYNCBOT_MLFLOW_URL", "http://mlflow.test:5000")
    assert "OK (1 client, 2 milestones)" in ok(["check", "--config", str(path)])


def test_a_recorded_mlflow_source_needs_no_url_and_must_answer_every_metric(root: Path) -> None:
    sources = [
        source("jira-export", path="jira/page-*.json"),
        source("mlflow-export", path="mlflow/*.json"),
    ]
    assert "OK" in ok(["check", "--config", str(config(root, sources=sources))])
    path = config(root, {**F1, "experiment": "not-recorded"}, sources=sources)
    [line] = check(path)
    assert line.startswith(f"{path}: clients[0].sources[1]: mlflow-export:mlflow/*.json: ")
    assert "no recorded experiments/get-by-name answer for experiment 'not-recorded'" in line


@pytest.mark.parametrize(
    ("mlflow", "expected"),
    [
        ({"kind": "mlflow-export"}, "sources[1].path: required for kind 'mlflow-export'"),
        ({"kind": "mlflow-export", "path": "none/*.json"}, "no files match 'none/*.json'"),
        (
            {"kind": "mlflow", "path": "mlflow/*.json"},
            "sources[1].path: only for kind 'mlflow-export'",
        ),
        (
            {"kind": "mlflow-export", "path": "mlflow/*.json", "project": "ACME"},
            "sources[1].project: not used by kind 'mlflow-export'",
        ),
    ],
)
def test_mlflow_sources_are_checked(root: Path, mlflow: dict[str, Any], expected: str) -> None:
    path = config(root, sources=[source("jira-export", path="jira/page-*.json"), mlflow])
    assert any(expected in line for line in check(path)), check(path)


def test_one_mlflow_source_per_client(root: Path) -> None:
    path = config(
        root,
        sources=[
            source("jira-export", path="jira/page-*.json"),
            source("mlflow-export", path="mlflow/*.json"),
            source("mlflow"),
        ],
    )
    [line] = check(path)
    assert "clients[0].sources[2]: a client reads its metrics from one MLflow source" in line


def test_without_the_url_sync_fails_only_the_metrics_and_the_trackers_sync(root: Path) -> None:
    path = config(root)
    result = run(["sync", "--config", str(path), "--as-of", "2026-03-10"])
    assert result.code == 2  # the user's to fix, as for a tracker without credentials
    tickets, metrics = result.out.splitlines()[:2]
    assert tickets.startswith("acme/jira-export:jira/page-*.json: fetched 1 tickets")
    assert metrics == "acme/mlflow: FAILED: mlflow: set SYNCBOT_MLFLOW_URL to sync this source"
    doc = status_json(path, "acme", as_of="2026-03-10")
    assert doc["milestones"][1]["tickets_total"] == 1  # the tickets are there
    assert doc["milestones"][1]["metric"] == {
        "name": "val_f1",
        "value": None,  # never read: no value yet
        "target": 0.8,
        "met": False,
        "run": None,
        "at": None,
    }
    assert doc["milestones"][0]["metric"] is None


def test_experiment_labels_are_configurable(root: Path) -> None:
    write_pages(
        root / "jira",
        [
            {
                "issues": [
                    jira_issue(
                        "ACME-7",
                        summary="Hypothesis: embeddings help",
                        labels=["Hypothesis"],
                        duedate="2026-03-01",
                    )
                ]
            }
        ],
    )
    path = write_config(
        root / "syncbot.toml",
        client(
            "acme",
            sources=[source("jira-export", path="jira/page-*.json")],
            milestones=[milestone("1.1")],
            experiment_labels=["hypothesis"],
        ),
    )
    ok(["sync", "--config", str(path)])
    doc = status_json(path, "acme", as_of="2026-03-10")
    [overrun] = [w for w in doc["warnings"] if w["kind"] == "experiment_overrun"]
    assert "'Hypothesis: embeddings help'" in overrun["message"]
    client_doc = status_json(path, "acme", audience="client", as_of="2026-03-10")
    assert "experiment_overrun" not in json.dumps(client_doc)  # internal only
