"""Where ../shared (public specs and samples) lives, and what a test does without it.

Tests read ../shared at run time and never copy it into the project. Without it they skip
with the reason shown, unless SYNCBOT_TEST_REQUIRE_SHARED=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
LINEAR_SCHEMA = SHARED / "linear" / "schema.graphql"


def shared_file(*parts: str) -> Path | None:
    path = SHARED.joinpath(*parts)
    return path if path.is_file() else None


def require_shared(*parts: str) -> Path:
    """The file under ../shared, or skip (fail with SYNCBOT_TEST_REQUIRE_SHARED=1)."""
    import pytest  # here, so that the servers can run outside pytest

    path = shared_file(*parts)
    if path is None:
        reason = f"{SHARED.joinpath(*parts)} not found (../shared holds the public specs)"
        if os.environ.get("SYNCBOT_TEST_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " and SYNCBOT_TEST_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return path
