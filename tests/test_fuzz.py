"""Fuzzing the inputs a user or a tracker controls (hypothesis): recorded export pages and
configuration values. Whatever they hold, a command exits 0, or 2 with one line per problem;
never a traceback, and a failed sync leaves the store as it was."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario import jira_issue, write_pages
from support.cli import run
from support.configs import client, config_text, milestone, source

from syncbot.store import Store

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["9999-12-31", "0001-01-01T00:00:00.000+0000", "2026-13-45", ""]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = ["summary", "status", "created", "updated", "duedate", "labels", "parent", "issuelinks"]
FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def good_issues() -> list[dict[str, Any]]:
    return [
        jira_issue(f"MRK-{n}", summary=f"task {n}", parent={"key": "MRK-100"}, duedate="2026-03-20")
        for n in range(1, 6)
    ]


def project(root: Path) -> Path:
    write_pages(
        root / "jira",
        [{"issues": good_issues(), "nextPageToken": "p2"}, {"issues": [], "isLast": True}],
    )
    config = root / "syncbot.toml"
    config.write_text(
        config_text(
            client(
                "mrk",
                sources=[source(path="jira/page-*.json")],
                milestones=[milestone("1", epic="MRK-100")],
            )
        )
    )
    return config


def stored(url: str) -> list[dict[str, Any]]:
    store = Store(url)
    try:
        return [
            json.loads(json.dumps(dataclasses.asdict(t), default=str))
            for t in store.tickets.load("mrk", ["jira-export:jira/page-*.json"])
        ]
    finally:
        store.close()


@FAST
@given(
    page=st.one_of(
        JSON,  # anything at all as the second page
        st.builds(  # a page of issues with one field replaced by anything
            lambda field, value, where: {
                "issues": [
                    {**issue, "fields": {**issue["fields"], field: value}} if n == where else issue
                    for n, issue in enumerate(good_issues())
                ],
                "isLast": True,
            },
            st.sampled_from(FIELDS),
            JSON,
            st.integers(0, 4),
        ),
    )
)
def test_any_export_page_syncs_or_fails_in_one_line_keeping_the_store(page: Any) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        root = Path(folder)
        config = project(root)
        url = f"sqlite:///{root / 'state.db'}"
        patch.setenv("SYNCBOT_DATABASE_URL", url)
        assert run(["sync", "--config", str(config)]).code == 0
        before = stored(url)
        (root / "jira" / "page-2.json").write_text(json.dumps(page))
        result = run(["sync", "--config", str(config)])
        assert "Traceback" not in result.err + result.out
        assert result.code in (0, 2), result.out + result.err
        if result.code == 2:
            assert [line for line in result.out.splitlines() if "FAILED" in line]
            assert stored(url) == before
        status = run(
            ["status", "--config", str(config), "--client", "mrk", "--as-of", "2026-03-10"]
        )
        assert status.code == 0 and "Traceback" not in status.err


VALUES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
    | st.lists(st.text(max_size=8), max_size=3)
)
KEYS = {
    "client": ["timezone", "baseline", "client_review", "approvers", "name", "internal_channel"],
    "milestone": ["planned", "weight", "phase", "owner", "after", "match"],
    "schedule": [
        "internal_digest_cron",
        "client_digest_cron",
        "grace_minutes",
        "sync_every_minutes",
        "client_digest_every_weeks",
    ],
}


def toml_value(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "nan" if math.isnan(value) else "inf"  # written as strings by the builder
    return value


@FAST
@given(where=st.sampled_from(sorted(KEYS)), key=st.data(), value=VALUES)
def test_any_config_value_is_accepted_or_refused_in_one_line_per_problem(
    where: str, key: st.DataObject, value: Any
) -> None:
    name = key.draw(st.sampled_from(KEYS[where]))
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        root = Path(folder)
        write_pages(root / "jira", [{"issues": good_issues(), "isLast": True}])
        m = milestone("1", epic="MRK-100")
        c = client("mrk", sources=[source(path="jira/page-*.json")], milestones=[m])
        schedule = None
        if value is not None:
            {"client": c, "milestone": m, "schedule": {}}.get(where, c)
            target = c if where == "client" else m if where == "milestone" else {}
            target[name] = toml_value(value)
            if where == "schedule":
                schedule = target
        config = root / "syncbot.toml"
        try:
            config.write_text(config_text(c, schedule=schedule))
        except TypeError:
            return  # a value TOML cannot write
        patch.setenv("SYNCBOT_DATABASE_URL", f"sqlite:///{root / 'state.db'}")
        checked = run(["check", "--config", str(config)])
        assert "Traceback" not in checked.err and checked.code in (0, 2), checked.err
        if checked.code == 2:
            assert all(line.startswith(str(config)) for line in checked.lines), checked.err
            return
        for args in (["sync"], ["status", "--client", "mrk"], ["digest", "--client", "mrk"]):
            result = run([*args, "--config", str(config)])
            assert "Traceback" not in result.err and result.code in (0, 2), result.err
