"""Connectors: I/O with trackers, one module per tracker, all producing `Ticket`s.

`open_source` is the one place that maps a configured source kind to its implementation.
"""

from __future__ import annotations

import datetime as dt

from syncbot.config import Client, LoadedConfig, Source
from syncbot.connectors.base import TicketSource
from syncbot.errors import SettingsError
from syncbot.settings import Settings


def open_source(
    loaded: LoadedConfig, client: Client, source: Source, settings: Settings
) -> TicketSource:
    from syncbot.connectors import export, jira, linear
    from syncbot.connectors.retry import RetryPolicy

    if source.kind == "jira-export":
        return export.jira_export(
            source.name,
            loaded.export_files(source),
            excluded_resolutions=client.excluded_resolutions,
            epic_link_field=source.epic_link_field,
        )
    if source.kind == "linear-export":
        return export.linear_export(source.name, loaded.export_files(source))
    missing = settings.missing_for(source.tracker)
    if missing:
        raise SettingsError(f"{source.name}: set {' and '.join(missing)} to sync this source")
    overlap = dt.timedelta(minutes=settings.sync_overlap_minutes)
    retry = RetryPolicy.from_settings(settings)
    if source.kind == "jira":
        assert settings.jira_url is not None  # checked by missing_for
        return jira.JiraSource(
            source.name,
            url=settings.jira_url,
            # A PAT means Data Center; without one, missing_for made sure of email + token.
            credentials=jira.JiraCredentials(
                email=None if settings.jira_pat else settings.jira_email,
                token=None if settings.jira_pat else settings.jira_token,
                pat=settings.jira_pat,
            ),
            project=source.project,
            jql=source.jql,
            epic_link_field=source.epic_link_field,
            excluded_resolutions=client.excluded_resolutions,
            page_size=settings.jira_page_size,
            overlap=overlap,
            timeout=settings.source_timeout_seconds,
            retry=retry,
        )
    assert settings.linear_api_key is not None  # checked by missing_for
    return linear.LinearSource(
        source.name,
        url=settings.linear_api_url,
        api_key=settings.linear_api_key,
        team=source.team,
        project=source.project,
        page_size=settings.linear_page_size,
        overlap=overlap,
        timeout=settings.source_timeout_seconds,
        retry=retry,
    )
