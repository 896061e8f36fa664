"""Connectors: I/O with trackers, one module per tracker, all producing `Ticket`s, and with
MLflow, producing milestone metric readings.

`open_source` (tickets) and `open_metric_source` (metrics) are the one place that maps a
configured source kind to its implementation. They receive value objects (`Connections`, see
`connectors.base`), never the application's settings: building those from the environment
is the application's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from syncbot.config import Client, Source
from syncbot.connectors.base import Connections, MetricSource, TicketSource
from syncbot.errors import SettingsError


def open_source(
    source: Source,
    *,
    client: Client,
    connections: Connections,
    files: Sequence[Path] = (),
    known_epic_link_field: str | None = None,
) -> TicketSource:
    """The `TicketSource` for `source` of `client`.

    `files` are an export source's page files, in page order (`config.export_files`).
    `known_epic_link_field` is the Data Center Epic Link field id a previous fetch of this
    source reported (`FetchResult.epic_link_field`): it spares incremental fetches the
    field-list request.
    Raises SettingsError when the tracker's access is not configured.
    """
    from syncbot.connectors import export, jira, linear

    if source.tracker == "mlflow":
        raise ValueError(f"{source.kind!r} is a source of metrics: use open_metric_source")
    if source.kind == "jira-export":
        return export.jira_export(
            source.name,
            list(files),
            excluded_resolutions=client.excluded_resolutions,
            epic_link_field=source.epic_link_field,
            project=source.project,
        )
    if source.kind == "linear-export":
        return export.linear_export(
            source.name, list(files), project=source.project, team=source.team
        )
    options = connections.options
    if source.kind == "jira":
        if connections.jira is None:
            raise _missing(source, connections)
        return jira.JiraSource(
            source.name,
            access=connections.jira,
            project=source.project,
            jql=source.jql,
            epic_link_field=source.epic_link_field,
            known_epic_link_field=known_epic_link_field,
            excluded_resolutions=client.excluded_resolutions,
            page_size=options.jira_page_size,
            overlap=options.overlap,
            timeout=options.timeout,
            retry=options.retry,
        )
    if connections.linear is None:
        raise _missing(source, connections)
    return linear.LinearSource(
        source.name,
        access=connections.linear,
        team=source.team,
        project=source.project,
        page_size=options.linear_page_size,
        overlap=options.overlap,
        timeout=options.timeout,
        retry=options.retry,
    )


def open_metric_source(
    source: Source, *, connections: Connections, files: Sequence[Path] = ()
) -> MetricSource:
    """The `MetricSource` for a client's `mlflow` or `mlflow-export` source (`files`: the
    export's answer files). Raises SettingsError when SYNCBOT_MLFLOW_URL is not set."""
    from syncbot.connectors import mlflow

    if source.kind == "mlflow-export":
        return mlflow.MlflowExport(source.name, list(files))
    if source.kind != "mlflow":
        raise ValueError(f"{source.kind!r} is not a source of metrics")
    if connections.mlflow is None:
        raise _missing(source, connections)
    options = connections.options
    return mlflow.MlflowSource(
        source.name,
        access=connections.mlflow,
        page_size=options.mlflow_page_size,
        timeout=options.timeout,
        retry=options.retry,
    )


def _missing(source: Source, connections: Connections) -> SettingsError:
    what = connections.missing.get(source.tracker) or f"the {source.tracker} credentials"
    return SettingsError(f"{source.name}: set {what} to sync this source")


def whoami(tracker: str, connections: Connections) -> str:
    """Who `tracker`'s configured credentials sign in as, in one request (`check --live`):
    Jira `myself`, Linear `viewer`. SettingsError without credentials, SourceError (naming
    the setting to fix) when the tracker refuses or cannot be reached."""
    from syncbot.connectors import jira, linear

    timeout = connections.options.timeout
    if tracker == "jira":
        if connections.jira is None:
            raise SettingsError(f"set {connections.missing.get('jira') or 'the Jira settings'}")
        return jira.JiraSource(
            "Jira", access=connections.jira, project="-", timeout=timeout
        ).myself()
    if connections.linear is None:
        raise SettingsError(f"set {connections.missing.get('linear') or 'SYNCBOT_LINEAR_API_KEY'}")
    return linear.LinearSource(
        "Linear", access=connections.linear, team="-", timeout=timeout
    ).viewer()
