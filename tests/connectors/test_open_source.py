"""`open_source`: configured sources to connectors, from value objects only (never `Settings`)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from syncbot.config import Client, Source
from syncbot.connectors import open_source
from syncbot.connectors.base import Connections, FetchOptions, JiraAccess, LinearAccess
from syncbot.connectors.export import ExportSource
from syncbot.connectors.jira import JiraSource
from syncbot.connectors.linear import LinearSource
from syncbot.connectors.retry import RetryPolicy
from syncbot.errors import SettingsError

CLIENT = Client.model_validate(
    {
        "id": "acme",
        "name": "Acme",
        "internal_channel": "CINT",
        "client_channel": "CACME",
        "timezone": "UTC",
        "excluded_resolutions": ["Won't Do"],
        "sources": [{"kind": "jira", "project": "ACME"}],
        "milestones": [],
    }
)
OPTIONS = FetchOptions(
    jira_page_size=7,
    linear_page_size=9,
    overlap=dt.timedelta(minutes=2),
    timeout=3.5,
    retry=RetryPolicy(retries=1, backoff=0.5, max_wait=9),
)


def test_a_jira_source_gets_its_access_and_options() -> None:
    access = JiraAccess("https://jira.test", pat=SecretStr("pat"))
    source = Source(kind="jira", project="ACME", epic_link_field="customfield_1")

    jira = open_source(source, client=CLIENT, connections=Connections(jira=access, options=OPTIONS))

    assert isinstance(jira, JiraSource)
    assert (jira.access, jira.project, jira.epic_link_field) == (access, "ACME", "customfield_1")
    assert (jira.page_size, jira.overlap, jira.timeout, jira.retry) == (
        7,
        dt.timedelta(minutes=2),
        3.5,
        OPTIONS.retry,
    )
    assert jira.excluded_resolutions == ("Won't Do",)


def test_a_linear_source_gets_its_access_and_options() -> None:
    access = LinearAccess("https://linear.test/graphql", SecretStr("key"))
    source = Source(kind="linear", team="ENG")

    linear = open_source(
        source, client=CLIENT, connections=Connections(linear=access, options=OPTIONS)
    )

    assert isinstance(linear, LinearSource)
    assert (linear.url, linear.team, linear.page_size, linear.timeout) == (
        "https://linear.test/graphql",
        "ENG",
        9,
        3.5,
    )


@pytest.mark.parametrize(("kind", "what"), [("jira", "SYNCBOT_JIRA_URL"), ("linear", None)])
def test_a_tracker_without_access_names_what_to_set(kind: str, what: str | None) -> None:
    source = Source(kind=kind, project="ACME")  # type: ignore[arg-type]
    connections = Connections(missing={"jira": "SYNCBOT_JIRA_URL"})

    with pytest.raises(SettingsError) as raised:
        open_source(source, client=CLIENT, connections=connections)

    expected = what or "the linear credentials"
    assert str(raised.value) == f"{kind}:ACME: set {expected} to sync this source"


def test_an_export_source_reads_the_files_it_is_given(tmp_path: Path) -> None:
    page = tmp_path / "page-1.json"
    page.write_text('{"issues": []}', encoding="utf-8")
    source = Source(kind="jira-export", path="*.json")

    export = open_source(source, client=CLIENT, connections=Connections(), files=[page])

    assert isinstance(export, ExportSource) and export.files == [page]


def test_the_connectors_never_import_the_application_settings() -> None:
    """The connectors are library code: they get value objects, not `syncbot.settings`."""
    package = Path(__file__).resolve().parents[2] / "syncbot" / "connectors"
    modules = sorted(f"syncbot.connectors.{p.stem}" for p in package.glob("*.py"))
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name.removesuffix('.__init__'))\n"
        "upward = sorted(m for m in sys.modules if m in {'syncbot.settings', 'syncbot.app',"
        " 'syncbot.store', 'syncbot.cli', 'syncbot.daemon'} or m.startswith(('syncbot.slack',"
        " 'syncbot.render')))\n"
        "print(','.join(upward))\n"
    )

    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert found == ""


# -- the application side: Settings -> value objects ----------------------------------------


def test_connections_from_settings_builds_the_value_objects() -> None:
    from syncbot.app import connections_from_settings
    from syncbot.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        jira_url="https://dc.test",
        jira_email="ignored@dc.test",
        jira_pat=SecretStr("pat"),
        linear_page_size=20,
        source_timeout_seconds=4,
        source_retries=2,
        source_backoff_seconds=0.25,
        source_max_wait_seconds=30,
        sync_overlap_minutes=1,
    )

    connections = connections_from_settings(settings)

    assert connections.jira == JiraAccess("https://dc.test", pat=SecretStr("pat"))  # DC: no email
    assert connections.linear is None
    assert connections.mlflow is None
    assert connections.missing == {
        "linear": "SYNCBOT_LINEAR_API_KEY",
        "mlflow": "SYNCBOT_MLFLOW_URL",
    }
    assert connections.options == FetchOptions(
        jira_page_size=None,
        linear_page_size=20,
        mlflow_page_size=100,
        overlap=dt.timedelta(minutes=1),
        timeout=4,
        retry=RetryPolicy(retries=2, backoff=0.25, max_wait=30),
    )


def test_connections_from_settings_without_jira_credentials_says_what_is_missing() -> None:
    from syncbot.app import connections_from_settings
    from syncbot.settings import Settings

    connections = connections_from_settings(
        Settings(_env_file=None, jira_url="https://x.test")  # type: ignore[call-arg]
    )

    assert connections.jira is None
    assert connections.missing["jira"] == (
        "SYNCBOT_JIRA_EMAIL and SYNCBOT_JIRA_TOKEN (Cloud) or SYNCBOT_JIRA_PAT (Data Center)"
    )
