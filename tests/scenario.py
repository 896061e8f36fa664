"""Builders for recorded-response scenarios in the real export formats (SPEC §5, §11).

`leaky_scenario` plants a unique marker string in every internal field of every ticket, and
of the MLflow answers behind a milestone metric (experiment, run ids, names, parameters,
tags), so tests can assert that none reaches a client-facing output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.configs import client, milestone, source, write_config

MARK = "ZZLEAK"
CLIENT_SAFE = ("Dependency summary for the client", "Dana Client-Owner")


def jira_issue(
    key: str,
    *,
    summary: str,
    category: str = "new",
    status: str | None = None,
    created: str = "2026-01-05T10:00:00.000-0600",
    updated: str = "2026-03-01T10:00:00.000-0600",
    **fields: Any,
) -> dict[str, Any]:
    names = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
    body: dict[str, Any] = {
        "summary": summary,
        "status": {"name": status or names[category], "statusCategory": {"key": category}},
        "created": created,
        "updated": updated,
    }
    body.update(fields)
    return {
        "id": str(abs(hash(key)) % 100000),
        "key": key,
        "self": f"https://example.atlassian.net/rest/api/3/issue/{key}",
        "fields": body,
    }


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def write_pages(folder: Path, pages: list[dict[str, Any]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(pages, start=1):
        (folder / f"page-{n}.json").write_text(json.dumps(page), encoding="utf-8")


def leaky_scenario(root: Path) -> Path:
    """A Jira client and a Linear client whose tickets carry markers in every internal field.

    Returns the config path. As of 2026-03-10 both have an overdue client dependency.
    """
    m = MARK
    internal: dict[str, Any] = {
        "labels": [f"{m}-label"],
        "description": adf(f"{m}-adf-description"),
        "comment": {"comments": [{"body": adf(f"{m}-comment")}]},
        "assignee": {"displayName": f"{m}-assignee", "emailAddress": f"{m}-mail@agency.test"},
        "fixVersions": [{"name": f"{m}-version"}],
        "components": [{"name": f"{m}-component"}],
        "project": {"key": "MRK", "name": f"{m}-project"},
    }
    dep_fields: dict[str, Any] = {
        **internal,
        "labels": ["client-dependency", f"{m}-deplabel"],
        "assignee": {"displayName": CLIENT_SAFE[1], "emailAddress": f"{m}-depmail@client.test"},
        "duedate": "2026-03-05",
    }
    issues = [
        jira_issue(
            "MRK-1",
            summary=f"{m}-title-done",
            category="done",
            resolution={"name": "Done"},
            resolutiondate="2026-02-01T12:00:00.000-0600",
            parent={"key": "MRK-100", "fields": {"summary": f"{m}-epic"}},
            **internal,
        ),
        jira_issue(
            "MRK-2",
            summary=f"{m}-title-late",
            category="indeterminate",
            status=f"{m}-status",
            duedate="2026-03-01",
            created="2026-02-15T10:00:00.000-0600",
            parent={"key": "MRK-100"},
            **internal,
        ),
        jira_issue(
            "MRK-3",
            summary=f"{m}-title-blocked",
            parent={"key": "MRK-101"},
            issuelinks=[
                {
                    "type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                    "inwardIssue": {"key": "MRK-9"},
                }
            ],
            **internal,
        ),
        jira_issue(
            "MRK-9",
            summary=CLIENT_SAFE[0],
            category="indeterminate",
            status="Waiting for customer",
            **dep_fields,
        ),
    ]
    write_pages(
        root / "jira",
        [{"issues": issues[:2], "nextPageToken": "t2"}, {"issues": issues[2:], "isLast": True}],
    )
    linear_internal: dict[str, Any] = {
        "description": f"{m}-md-description",
        "url": f"https://linear.app/x/{m}-url",
        "assignee": {"name": f"{m}-lin-assignee", "email": f"{m}-lin@agency.test"},
        "labels": {"nodes": [{"name": f"{m}-lin-label"}]},
        "project": {"id": "p1", "name": f"{m}-lin-project"},
        "estimate": 3,
    }
    nodes = [
        _linear(
            "GLX-1", f"{m}-lin-title", "started", "Phase A", due="2026-03-02", **linear_internal
        ),
        _linear(
            "GLX-3",
            f"{m}-experiment-hypothesis",
            "started",
            "Phase A",
            due="2026-03-05",
            **{
                **linear_internal,
                "labels": {"nodes": [{"name": "experiment"}]},
                "description": f"Tried on {m}-data.\n\nSuccess: {m}-success-criterion",
            },
        ),
        _linear(
            "GLX-2",
            CLIENT_SAFE[0] + " (Linear)",
            "started",
            "Phase B",
            due="2026-03-06",
            **{
                **linear_internal,
                "assignee": {"name": CLIENT_SAFE[1], "email": f"{m}-lindep@client.test"},
                "labels": {"nodes": [{"name": "client-dependency"}]},
                "relations": {
                    "nodes": [
                        {"type": "blocks", "relatedIssue": {"id": "u1", "identifier": "GLX-1"}}
                    ]
                },
            },
        ),
    ]
    write_pages(
        root / "linear",
        [
            {
                "data": {
                    "issues": {
                        "nodes": nodes,
                        "pageInfo": {"hasNextPage": False, "endCursor": None},
                    }
                }
            }
        ],
    )
    write_mlflow(root / "mlflow")
    return write_config(
        root / "syncbot.toml",
        client(
            "mrk",
            name="Marker Corp",
            client_channel="CMRK",
            baseline="2026-01-09",
            sources=[source("jira-export", path="jira/page-*.json")],
            milestones=[
                milestone(
                    "1.1",
                    name="Milestone one",
                    phase="Data Preparation",
                    planned="2026-03-06",
                    owner="Agency PM",
                    epic="MRK-100",
                ),
                milestone(
                    "2.1",
                    name="Milestone two",
                    phase="Deployment",
                    planned="2026-03-20",
                    epic="MRK-101",
                ),
            ],
        ),
        client(
            "glx",
            name="Globex",
            client_channel="CGLX",
            timezone="Europe/London",
            baseline="2026-01-09",
            sources=[
                source("linear-export", path="linear/page-*.json"),
                source("mlflow-export", path="mlflow/*.json"),
            ],
            milestones=[
                milestone(
                    "A",
                    name="Phase A milestone",
                    phase="Model Development",
                    planned="2026-03-09",
                    match={"linear_milestone": "Phase A"},
                    metric={
                        "experiment": f"{m}-experiment",
                        "name": "val_f1",
                        "target": 0.8,
                        "label": "F1",
                    },
                )
            ],
        ),
    )


def mlflow_run(
    run_id: str, value: float | None, *, status: str = "FINISHED", day: int = 2, experiment: str
) -> dict[str, Any]:
    """A run as MLflow's runs/search returns it, markers in everything syncbot must not show."""
    start = 1772445600000 + day * 86400000  # 2026-03-02 10:00 UTC, plus `day` days
    info: dict[str, Any] = {
        "run_uuid": run_id,
        "experiment_id": experiment,
        "run_name": f"{MARK}-run-name-{run_id}",
        "user_id": f"{MARK}-user",
        "status": status,
        "start_time": start,
        "artifact_uri": f"s3://{MARK}-bucket/{run_id}/artifacts",
        "lifecycle_stage": "active",
        "run_id": run_id,
    }
    if status != "RUNNING":
        info["end_time"] = start + 3600000
    metrics = [{"key": f"{MARK}-loss", "value": 0.1, "timestamp": start, "step": 0}]
    if value is not None:
        metrics.append({"key": "val_f1", "value": value, "timestamp": start, "step": 3})
    return {
        "info": info,
        "data": {
            "metrics": metrics,
            "params": [{"key": f"{MARK}-param", "value": f"{MARK}-param-value"}],
            "tags": [{"key": "mlflow.runName", "value": f"{MARK}-run-name-{run_id}"}],
        },
        "inputs": {},
        "outputs": {},
    }


def write_mlflow(folder: Path) -> None:
    """Recorded MLflow answers for glx's milestone A: F1 0.78 of target 0.80 (a running and a
    failed run score higher and never count)."""
    folder.mkdir(parents=True, exist_ok=True)
    experiment = f"{MARK}-exp-id"
    answer = {
        "experiment": {
            "experiment_id": experiment,
            "name": f"{MARK}-experiment",
            "artifact_location": f"s3://{MARK}-bucket",
            "lifecycle_stage": "active",
            "tags": [{"key": f"{MARK}-tag", "value": f"{MARK}-tag-value"}],
        }
    }
    (folder / "experiment.json").write_text(json.dumps(answer), encoding="utf-8")
    runs = [
        mlflow_run(f"{MARK}-run-running", 0.95, status="RUNNING", day=5, experiment=experiment),
        mlflow_run(f"{MARK}-run-failed", 0.99, status="FAILED", day=4, experiment=experiment),
        mlflow_run(f"{MARK}-run-best", 0.78, day=3, experiment=experiment),
        mlflow_run(f"{MARK}-run-worse", 0.7, day=2, experiment=experiment),
        mlflow_run(f"{MARK}-run-none", None, day=1, experiment=experiment),
    ]
    (folder / "runs.json").write_text(json.dumps({"runs": runs}), encoding="utf-8")


def _linear(
    identifier: str, title: str, state: str, milestone: str, *, due: str | None, **extra: Any
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": f"id-{identifier}",
        "identifier": identifier,
        "title": title,
        "state": {"name": state.title(), "type": state},
        "dueDate": due,
        "createdAt": "2026-01-05T10:00:00.000Z",
        "updatedAt": "2026-03-01T10:00:00.000Z",
        "completedAt": None,
        "canceledAt": None,
        "projectMilestone": {"id": f"ms-{milestone}", "name": milestone, "targetDate": None},
        "relations": {"nodes": []},
        "inverseRelations": {"nodes": []},
    }
    node.update(extra)
    return node
