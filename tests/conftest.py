"""Shared fixtures: hermetic environment, store URLs for every backend, scenario builders."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers.tracking import mlflow_lab  # noqa: F401 (the real MLflow server, once a session)
from sqlalchemy import create_engine, text

from syncbot.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SYNCBOT_*/SLACK_* from the developer's shell, and state files in tmp."""
    for name in list(os.environ):
        if name.startswith(("SYNCBOT_", "SLACK_")) and name not in (
            "SYNCBOT_TEST_POSTGRES_URL",
            "SYNCBOT_TEST_REQUIRE_SHARED",
            "SYNCBOT_TEST_REQUIRE_BROWSER",
            "SYNCBOT_TEST_CHROMIUM",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def postgres_url() -> str | None:
    return os.environ.get("SYNCBOT_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend; PostgreSQL needs SYNCBOT_TEST_POSTGRES_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL not configured: set SYNCBOT_TEST_POSTGRES_URL (.ci/run does)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()
