"""The deployment files, checked offline (CI has no Docker engine and no registry access, so
the image is never built here): the compose file parses with PostgreSQL and two replicas on
it, the systemd unit runs the real console script as a dedicated user, and the Dockerfile's
entrypoint is a command that runs."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def console_scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scripts: dict[str, str] = project["project"]["scripts"]
    return scripts


def runs(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`argv` with its console script resolved to this interpreter's entry point."""
    [name, *args] = argv
    module, _, func = console_scripts()[name].partition(":")
    code = f"import sys; from {module} import {func}; sys.exit({func}())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )


def test_compose_has_postgres_and_two_replicas_sharing_it() -> None:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = doc["services"]
    assert set(services) == {"postgres", "syncbot-a", "syncbot-b"}
    assert services["postgres"]["image"].startswith("postgres:")
    urls = set()
    for name in ("syncbot-a", "syncbot-b"):
        service = services[name]
        assert service["build"] == "." and service["restart"] == "on-failure"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        url = service["environment"]["SYNCBOT_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
        urls.add(url)
    assert len(urls) == 1  # one database: one leader among the replicas
    ports = {p for n in ("syncbot-a", "syncbot-b") for p in services[n]["ports"]}
    assert len(ports) == 2


def test_the_systemd_unit_runs_the_console_script_as_a_dedicated_user() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    unit.read_string((ROOT / "config" / "syncbot.service").read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["User"] not in ("", "root") and service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("/etc/")
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name in console_scripts() and argv[1:] == ["run"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    result = runs([Path(argv[0]).name, *argv[1:], "--help"])
    assert result.returncode == 0, result.stderr
    assert "usage: syncbot run" in result.stdout


def test_the_dockerfile_runs_syncbot_as_a_non_root_user_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = re.sub(r"\\\n\s*", " ", text).splitlines()
    instructions = [line.split(None, 1) for line in lines if line and not line.startswith("#")]
    by: dict[str, list[str]] = {}
    for name, rest in instructions:
        by.setdefault(name.upper(), []).append(rest)
    assert re.fullmatch(r"python:3\.1[1-9]-slim", by["FROM"][0])
    assert by["USER"][-1] not in ("root", "0")
    [health] = by["HEALTHCHECK"]
    assert "/healthz" in health and "SYNCBOT_PORT" in health
    for copy in by["COPY"]:
        *sources, _ = copy.split()
        assert all((ROOT / s).exists() for s in sources), copy
    entrypoint = json.loads(by["ENTRYPOINT"][-1]) + json.loads(by["CMD"][-1])
    assert entrypoint == ["syncbot", "run"]
    result = runs([*entrypoint, "--help"])
    assert result.returncode == 0, result.stderr
    # The healthcheck's own command is valid Python.
    [probe] = re.findall(r'CMD python -c "(.+)"', health)
    compile(probe, "HEALTHCHECK", "exec")


def test_the_slack_manifest_serves_commands_and_buttons_at_one_path_with_the_scopes_used() -> None:
    from urllib.parse import urlparse

    from syncbot.slack.bolt import EVENTS_PATH

    manifest = yaml.safe_load((ROOT / "config" / "slack-app-manifest.yaml").read_text())
    [command] = manifest["features"]["slash_commands"]
    interactivity = manifest["settings"]["interactivity"]
    assert command["command"] == "/syncbot" and interactivity["is_enabled"] is True
    # Slack posts both to one URL, the path bolt listens on (SPEC §7).
    assert urlparse(command["url"]).path == EVENTS_PATH
    assert interactivity["request_url"] == command["url"]
    assert "note <milestone>" in command["usage_hint"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # chat.postMessage/update, the command, history lookups, the chart, check --live.
    assert scopes == {
        "chat:write",
        "commands",
        "channels:history",
        "groups:history",
        "files:write",
        "channels:read",
        "groups:read",
    }
