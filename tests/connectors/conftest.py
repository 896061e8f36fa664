"""Connector test fixtures: the public tracker samples and schema in ../shared.

../shared sits next to the checkout (/work/shared beside /work/main); SYNCBOT_TEST_SHARED_DIR
points elsewhere. Tests that need it request `shared_dir`: they skip, with the reason shown, when
it is absent, and fail instead when SYNCBOT_TEST_REQUIRE_SHARED=1 (CI sets it). Both variables
are read at import, before any fixture that makes tests hermetic clears SYNCBOT_*.

A test taking a `jira_sample_issue` or `linear_sample_issue` argument runs once per issue object
found in the samples; the `jira_samples` / `linear_samples` fixtures give them all as (id, issue).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHARED_DIR = Path(
    os.environ.get("SYNCBOT_TEST_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared"
)
REQUIRE_SHARED = os.environ.get("SYNCBOT_TEST_REQUIRE_SHARED") == "1"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared, or a skip (a failure under SYNCBOT_TEST_REQUIRE_SHARED=1) when absent."""
    if SHARED_DIR.is_dir():
        return SHARED_DIR
    reason = f"public samples not found at {SHARED_DIR} (set SYNCBOT_TEST_SHARED_DIR)"
    if REQUIRE_SHARED:
        pytest.fail(f"{reason}; SYNCBOT_TEST_REQUIRE_SHARED=1 requires them", pytrace=False)
    pytest.skip(reason)


def jira_sample_issues(shared: Path) -> Iterator[tuple[str, Any]]:
    """(id, issue) for every issue object in the Jira samples: search pages and issue GETs."""
    for path in sorted((shared / "jira" / "samples").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("issues"), list):
            for index, issue in enumerate(data["issues"]):
                yield f"{path.stem}[{index}]", issue
        elif isinstance(data, dict) and "key" in data:
            yield path.stem, data


def linear_sample_issues(shared: Path) -> Iterator[tuple[str, Any]]:
    """(id, node) for every Issue in the Linear samples: GraphQL pages and Issue webhooks."""
    for path in sorted((shared / "linear" / "samples").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            continue
        inner = data.get("data")
        connection = inner.get("issues") if isinstance(inner, dict) else None
        nodes = connection.get("nodes") if isinstance(connection, dict) else None
        if isinstance(nodes, list):
            for index, node in enumerate(nodes):
                yield f"{path.stem}[{index}]", node
        elif data.get("type") == "Issue" and isinstance(data.get("data"), dict):
            yield path.stem, data["data"]


@pytest.fixture(scope="session")
def jira_samples(shared_dir: Path) -> list[tuple[str, Any]]:
    return list(jira_sample_issues(shared_dir))


@pytest.fixture(scope="session")
def linear_samples(shared_dir: Path) -> list[tuple[str, Any]]:
    return list(linear_sample_issues(shared_dir))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, find in (
        ("jira_sample_issue", jira_sample_issues),
        ("linear_sample_issue", linear_sample_issues),
    ):
        if name not in metafunc.fixturenames:
            continue
        if not SHARED_DIR.is_dir():
            # One placeholder case, so the test requests `shared_dir` and skips or fails.
            metafunc.parametrize(name, [pytest.param(None, id="shared-missing")])
        else:
            found = list(find(SHARED_DIR))
            metafunc.parametrize(name, [issue for _, issue in found], ids=[i for i, _ in found])
