"""Milestone metrics end to end against a real MLflow server (tests/servers/tracking.py):
`sync`, `status`, digests, slash replies, `check --live`, and an unreachable server that
leaves the last known value and goes stale like a tracker, never failing the trackers' sync."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from scenario import jira_issue, write_pages
from servers.slack import TOKEN as SLACK_TOKEN
from servers.slack import FakeSlack
from servers.tracking import Experiment, Lab, free_port
from support import configs
from support.cli import ok, run, status_json

from syncbot.app import Syncbot
from syncbot.config import load_config
from syncbot.settings import Settings
from syncbot.store import Store
from syncbot.web import SchedulerInfo, health_document

AS_OF = "2026-03-10"


@pytest.fixture
def experiment(mlflow_lab: Lab, request: pytest.FixtureRequest) -> Experiment:
    return mlflow_lab.experiment(request)


@pytest.fixture
def config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_lab: Lab, experiment: Experiment
) -> Path:
    """Acme: milestone 3.1 with both tickets done, accepted when F1 reaches 0.80 in MLflow."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("SYNCBOT_MLFLOW_URL", mlflow_lab.url)
    monkeypatch.setenv("SYNCBOT_SOURCE_RETRIES", "0")  # an unreachable server fails at once
    done: dict[str, Any] = {
        "category": "done",
        "resolution": {"name": "Done"},
        "parent": {"key": "ACME-5"},
    }
    write_pages(
        tmp_path / "jira",
        [
            {
                "issues": [
                    jira_issue(
                        f"ACME-{n}",
                        summary=f"Model work {n}",
                        resolutiondate=f"2026-03-0{n}T12:00:00.000-0600",
                        **done,
                    )
                    for n in (3, 4)
                ]
            }
        ],
    )
    return configs.write_config(
        tmp_path / "syncbot.toml",
        configs.client(
            "acme",
            sources=[configs.source("jira-export", path="jira/page-*.json")],
            milestones=[
                configs.milestone(
                    "3.1",
                    name="Baseline model trained",
                    phase="Model Development",
                    planned="2026-03-20",
                    acceptance="F1 of at least 0.80 on validation",
                    epic="ACME-5",
                    metric={
                        "experiment": experiment.name,
                        "name": "val_f1",
                        "target": 0.8,
                        "label": "F1",
                    },
                )
            ],
        ),
    )


def sync(config: Path) -> tuple[int, list[str]]:
    result = run(["sync", "--config", str(config), "--as-of", AS_OF])
    assert "Traceback" not in result.err
    return result.code, result.out.splitlines()


def digest(config: Path, audience: str = "internal") -> str:
    args = ["digest", "--config", str(config), "--client", "acme", "--as-of", AS_OF]
    return ok([*args, "--audience", audience])


def app(config: Path) -> Syncbot:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Syncbot(
        load_config(config),
        settings,
        Store(settings.resolved_database_url()),
        lambda: dt.datetime.now(dt.UTC),
    )


def test_status_digests_and_replies_show_the_best_finished_run(
    config: Path, experiment: Experiment
) -> None:
    experiment.run({"val_f1": 0.74}, start=0)
    best = experiment.run({"val_f1": [0.70, 0.78]}, start=27)  # ends 2026-03-03 13:00 UTC
    experiment.run({"val_f1": 0.91}, status="RUNNING", start=30)
    experiment.run({"val_f1": 0.95}, status="FAILED", start=31)

    code, lines = sync(config)

    assert code == 0
    assert lines[0].startswith("acme/jira-export:jira/page-*.json: fetched 2 tickets")
    assert re.match(r"acme/mlflow: fetched 1 metric \(1 pages, 2 requests\) in [\d.]+ s", lines[1])
    [internal] = status_json(config, "acme", as_of=AS_OF)["milestones"]
    assert internal["metric"] == {
        "name": "val_f1",
        "value": 0.78,
        "target": 0.8,
        "met": False,
        "run": best,
        "at": "2026-03-03",
    }
    # Both tickets done, the target not met: not done (SPEC §11), forecast the planned date.
    assert internal["status"] == "on_track" and internal["actual"] is None
    assert internal["tickets_done"] == internal["tickets_total"] == 2
    [client] = status_json(config, "acme", audience="client", as_of=AS_OF)["milestones"]
    assert client["metric"] == {k: v for k, v in internal["metric"].items() if k != "run"}

    for audience in ("internal", "client"):
        text = digest(config, audience)
        assert "Baseline model trained" in text and "F1 0.78 of target 0.80" in text
    client_text = digest(config, "client") + json.dumps(
        status_json(config, "acme", audience="client", as_of=AS_OF)
    )
    assert best not in client_text and experiment.name not in client_text
    assert best in ok(["status", "--config", str(config), "--client", "acme", "--as-of", AS_OF])

    bot = app(config)
    try:
        for audience in ("internal", "client"):
            reply = bot.reply("acme", audience, "milestones")  # type: ignore[arg-type]
            [line] = reply.sections[0].lines
            assert "F1 0.78 of target 0.80" in line.text and best not in line.text
    finally:
        bot.store.close()


def test_the_day_the_target_is_met_the_milestone_is_done_and_celebrated(
    config: Path, experiment: Experiment
) -> None:
    experiment.run({"val_f1": 0.78}, start=0)
    assert sync(config)[0] == 0
    better = experiment.run({"val_f1": 0.83}, start=24 * 7)  # ends 2026-03-09 10:00 UTC

    assert sync(config)[0] == 0

    [m] = status_json(config, "acme", as_of=AS_OF)["milestones"]
    assert m["status"] == "done" and m["actual"] == "2026-03-09"  # the later of tickets, target
    assert m["metric"]["met"] is True and m["metric"]["run"] == better
    completed = digest(config).split("Completed since")[1].split("In progress")[0]
    assert "Baseline model trained — delivered 2026-03-09" in completed
    assert "F1 0.83 of target 0.80 (target met)" in completed
    assert "F1 0.83 of target 0.80 (target met)" in digest(config, "client")

    # The run is deleted in MLflow: the best finished value falls below the target again,
    # and the milestone is honestly open again (the regression alert's state, SPEC §8).
    experiment.delete(better)
    assert sync(config)[0] == 0
    [m] = status_json(config, "acme", as_of=AS_OF)["milestones"]
    assert m["status"] != "done" and m["metric"]["met"] is False and m["metric"]["value"] == 0.78


def test_an_unreachable_server_keeps_the_last_value_and_goes_stale(
    config: Path, experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment.run({"val_f1": 0.78}, start=0)
    assert sync(config)[0] == 0
    nobody = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SYNCBOT_MLFLOW_URL", nobody)

    code, lines = sync(config)

    # A passing failure, as for a tracker: exit 1; the trackers synced all the same.
    assert code == 1
    assert "FAILED" not in lines[0] and "fetched 2 tickets" in lines[0]
    assert lines[1].startswith(
        f"acme/mlflow: FAILED: MLflow experiments/get-by-name '{experiment.name}'"
    )
    assert f"cannot connect to {nobody}" in lines[1]
    doc = status_json(config, "acme", as_of=AS_OF)
    assert doc["milestones"][0]["metric"]["value"] == 0.78  # the last known value stays
    assert doc["stale"] is False  # one failed read is not news yet

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=25)
    with time_machine.travel(later, tick=False):
        assert sync(config)[0] == 1
        doc = status_json(config, "acme", as_of=AS_OF)
        client_doc = status_json(config, "acme", audience="client", as_of=AS_OF)
        text = digest(config, "client")
        bot = app(config)
        try:
            health = {h.source: h for h in bot.freshness("acme")}
            status, body = health_document(
                [("acme", h) for h in health.values()], SchedulerInfo("running"), later
            )
        finally:
            bot.store.close()
    assert doc["stale"] is True and client_doc["stale"] is True
    assert doc["milestones"][0]["metric"]["value"] == 0.78
    [stale] = [w for w in doc["warnings"] if w["kind"] == "stale_source"]
    assert stale["message"].startswith("MLflow data last refreshed 25 min ago.")
    assert "cannot connect" in stale["message"]  # the delivery team sees why
    [told] = [w for w in client_doc["warnings"] if w["kind"] == "stale_source"]
    assert told["message"] == "MLflow data last refreshed 25 min ago."
    assert "MLflow data last refreshed 25 min ago." in text  # the digests' freshness line
    assert health["mlflow"].stale and not health["jira-export:jira/page-*.json"].stale
    assert status == 503
    assert body["reasons"] == ["acme/mlflow: no successful sync for more than 20 minutes"]
    [source] = [s for s in body["sources"] if s["source"] == "mlflow"]
    assert source["kind"] == "mlflow" and "cannot connect" in source["last_error"]


def test_check_live_finds_each_experiment(
    config: Path, experiment: Experiment, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeSlack() as slack:  # --live asks Slack too: it answers, so MLflow is at issue
        monkeypatch.setenv("SYNCBOT_SLACK_BOT_TOKEN", SLACK_TOKEN)
        monkeypatch.setenv("SYNCBOT_SLACK_API_URL", slack.api_url)
        _check_live(config, experiment)


def _check_live(config: Path, experiment: Experiment) -> None:
    out = ok(["check", "--config", str(config), "--live"])
    assert "live: MLflow OK (1 experiment found)" in out

    config.write_text(config.read_text().replace(experiment.name, "no-such-experiment"))
    assert "OK" in ok(["check", "--config", str(config)])  # without --live: not asked
    result = run(["check", "--config", str(config), "--live"])
    assert result.code == 2
    [line] = result.lines
    assert line.startswith(f"{config}: clients[0].milestones[0].metric.experiment: MLflow at ")
    assert "has no experiment named 'no-such-experiment'" in line
