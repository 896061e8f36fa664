"""Connectors: I/O with trackers, one module per tracker, all producing `Ticket`s.

`open_source` is the one place that maps a configured source kind to its implementation.
"""

from __future__ import annotations

from syncbot.config import Client, LoadedConfig, Source
from syncbot.connectors.base import TicketSource
from syncbot.errors import SettingsError
from syncbot.settings import Settings


def open_source(loaded: LoadedConfig, client: Client, source: Source,
                settings: Settings) -> TicketSource:
    from syncbot.connectors import export

    if source.kind == "jira-export":
        return export.jira_export(source.name, loaded.export_files(source),
                                  excluded_resolutions=client.excluded_resolutions,
                                  epic_link_field=source.epic_link_field)
    if source.kind == "linear-export":
        return export.linear_export(source.name, loaded.export_files(source))
    missing = settings.missing_for(source.tracker)
    if missing:
        raise SettingsError(f"{source.name}: set {' and '.join(missing)} to sync this source")
    raise SettingsError(f"{source.name}: live {source.kind} sources are not available yet")
