"""The one builder of syncbot TOML configurations for tests.

    write_config(path, client("acme", sources=[source("jira-export", path="x/*.json")],
                              milestones=[milestone("1.1", epic="ACME-10")]))

Values are plain Python (str, int, float, bool, dates, lists, dicts as inline tables);
`client(...)` and `milestone(...)` fill in what a test does not care about.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Table = dict[str, Any]


def source(kind: str = "jira-export", **keys: Any) -> Table:
    return {"kind": kind, **keys}


def milestone(
    id: str,
    *,
    name: str | None = None,
    phase: str = "Build",
    planned: dt.date | str = "2026-03-20",
    match: Mapping[str, str] | None = None,
    epic: str | None = None,
    **keys: Any,
) -> Table:
    chosen = dict(match) if match else {"epic": epic or f"EPIC-{id}"}
    return {
        "id": id,
        "name": name or f"Milestone {id}",
        "phase": phase,
        "planned": _date(planned),
        "match": chosen,
        **keys,
    }


def client(
    id: str = "acme",
    *,
    name: str | None = None,
    internal_channel: str = "CINT",
    client_channel: str | None = None,
    timezone: str = "America/Chicago",
    sources: Sequence[Table] = (),
    milestones: Sequence[Table] = (),
    schedule: Mapping[str, Any] | None = None,
    **keys: Any,
) -> Table:
    keys.setdefault("client_review", "off")  # tests of the review flow ask for it
    table: Table = {
        "id": id,
        "name": name or id.title(),
        "internal_channel": internal_channel,
        "client_channel": client_channel or f"C{id.upper()}",
        "timezone": timezone,
        **{k: _date(v) if k == "baseline" else v for k, v in keys.items()},
    }
    for nested in ("people", "escalation"):
        if nested in table:
            table[f"_{nested}"] = table.pop(nested)
    if schedule:
        table["schedule"] = dict(schedule)
    table["sources"] = list(sources) or [source(path=f"{id}/page-*.json")]
    table["milestones"] = list(milestones)
    return table


def config_text(*clients: Table, schedule: Mapping[str, Any] | None = None) -> str:
    out: list[str] = []
    if schedule:
        out += ["[schedule]", *_pairs(schedule), ""]
    for table in clients:
        out.append("[[clients]]")
        tables = ("schedule", "sources", "milestones", "_people", "_escalation")
        nested = {k: v for k, v in table.items() if k in tables}
        out += _pairs({k: v for k, v in table.items() if k not in nested})
        for name in ("_people", "_escalation"):
            if name in nested:
                out += [f"[clients.{name[1:]}]", *_pairs(nested[name])]
        if "schedule" in nested:
            out += ["[clients.schedule]", *_pairs(nested["schedule"])]
        for item in nested.get("sources", []):
            out += ["[[clients.sources]]", *_pairs(item)]
        for item in nested.get("milestones", []):
            out += ["[[clients.milestones]]", *_pairs(item)]
        out.append("")
    return "\n".join(out)


def write_config(path: Path, *clients: Table, schedule: Mapping[str, Any] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_text(*clients, schedule=schedule), encoding="utf-8")
    return path


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _pairs(table: Mapping[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_value(v)}" for k, v in table.items() if v is not None]


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {value!r}")
